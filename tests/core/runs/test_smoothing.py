"""TensorBoard's smoothing (an exponential moving average with bias correction), on numbers
worked out by hand."""

from __future__ import annotations

import math

import pytest

from shakespeare_tui.core.runs.smoothing import smooth


def test_known_numbers():
    # last: 0.5, 1.25, 2.125; divided by 1 - 0.5**n: 0.5, 0.75, 0.875
    assert smooth([1, 2, 3], 0.5) == pytest.approx([1.0, 5 / 3, 17 / 7])
    # w 0.9: last 0.1·4 = 0.4 → /0.1 = 4; 0.36 + 0.2 = 0.56 → /0.19
    assert smooth([4, 2], 0.9) == pytest.approx([4.0, 0.56 / 0.19])


def test_no_smoothing_and_a_flat_line():
    assert smooth([3, 1, 2], 0) == [3, 1, 2]
    assert smooth([0.1] * 5, 0.9) == [0.1] * 5  # exactly: no drift on a flat line
    assert smooth([], 0.6) == []


def test_non_finite_values_pass_through_and_are_not_counted():
    out = smooth([1, float("nan"), 3, float("inf")], 0.5)
    assert out[0] == 1.0 and math.isnan(out[1]) and out[3] == float("inf")
    # 3 is the second finite value: last 0.25 + 1.5 = 1.75, divided by 1 - 0.25
    assert out[2] == pytest.approx(1.75 / 0.75)


def test_weights_out_of_range_are_clamped():
    assert smooth([1, 2], -1) == [1, 2]
    assert smooth([1, 2], float("nan")) == [1, 2]
    assert smooth([1, 2], 5) == [0.0, 0.0]  # weight 1, as TensorBoard: the average never moves
