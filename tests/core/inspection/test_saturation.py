"""Gate saturation fractions, exact on a known array."""

from __future__ import annotations

import numpy as np

from shakespeare_tui.core.inspection.saturation import (
    Saturation,
    gate_saturation,
    saturation_counts,
)


def test_fractions_are_exact_on_a_known_array():
    gate = np.array(
        [
            [0.05, 0.5, 0.95, 0.1],
            [0.00, 0.5, 0.91, 0.9],
            [0.50, 0.5, 0.20, 0.09],
            [0.99, 0.5, 0.99, 0.91],
        ],
        dtype=np.float32,
    )
    got = gate_saturation(gate)
    # 0.1 and 0.9 themselves are neither: "below 0.1", "above 0.9".
    np.testing.assert_array_equal(got.left, [0.5, 0.0, 0.0, 0.25])
    np.testing.assert_array_equal(got.right, [0.25, 0.0, 0.75, 0.25])
    assert got.steps == 4 and got.left.dtype == np.float32


def test_counts_add_up_block_by_block():
    rng = np.random.default_rng(0)
    gate = rng.random((1000, 7)).astype(np.float16)
    whole = saturation_counts(gate)
    parts = [saturation_counts(gate[i : i + 300]) for i in range(0, 1000, 300)]
    left = sum(p[0] for p in parts)
    right = sum(p[1] for p in parts)
    np.testing.assert_array_equal(left, whole[0])
    np.testing.assert_array_equal(right, whole[1])
    summed = Saturation.from_counts(left, right, 1000)
    np.testing.assert_allclose(summed.left, gate_saturation(gate).left)
    assert Saturation.from_counts(left, right, 0).left.sum() == 0  # no steps, no division


def test_a_cell_without_gates_says_so_in_one_line():
    from shakespeare_tui.core.inspection.saturation import no_gates

    assert no_gates("lstm") == no_gates("gru") == ""
    assert no_gates("rnn") == "a basic RNN has no gates: gate saturation is for an LSTM or a GRU"
