"""LSTMVis's span selection and matching, on planted activations where the answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from shakespeare_tui.core.inspection.spans import (
    THRESHOLD,
    active,
    at_least,
    match_spans,
    select_units,
)

STEPS, UNITS = 400, 30
PATTERN = [3, 5, 9]  # the units a planted passage lights up


def planted() -> np.ndarray:
    """Sparse noise, and PATTERN on over [100, 110), [200, 208) and [300, 306)."""
    rng = np.random.default_rng(0)
    on = rng.random((STEPS, UNITS)) < 0.05
    for a, b in ((100, 110), (200, 208), (300, 306)):
        on[a - 1, PATTERN] = False
        on[a:b, PATTERN] = True
    on[149, PATTERN] = False
    on[150:160, [3, 5]] = True  # two of the three only
    on[150:160, 9] = False
    on[250:270, PATTERN + [20, 21]] = True  # the pattern, and other units with it
    on[249, PATTERN + [20, 21]] = False
    return on


def test_selection_takes_units_on_over_the_span_and_off_before_it():
    on = planted()
    on[104, 12] = True  # on inside only: not selected
    on[99:110, 14] = True  # on before the span too: not selected
    selected = select_units(on, 100, 110)
    assert selected.tolist() == PATTERN
    assert 14 in select_units(on, 100, 110, before=0)
    with pytest.raises(ValueError):
        select_units(on, 10, 10)


def test_matching_finds_the_planted_passages_best_first():
    on = planted()
    units = select_units(on, 100, 110)
    matches = match_spans(on, units, exclude=(100, 110))
    spans = [(m.start, m.stop) for m in matches]
    # All three on and nothing else: the longer first; then with other units; then two of three.
    assert spans[:2] == [(200, 208), (300, 306)]
    assert matches[0].selected_on == 3 and matches[0].others_on == 0
    assert matches[0].jaccard == 1.0 and matches[0].length == 8
    with_others = next(m for m in matches if m.start == 250)
    assert with_others.selected_on == 3 and with_others.others_on >= 2
    partial = next(m for m in matches if m.start == 150)
    assert partial.selected_on == 2
    assert spans.index((250, 270)) < spans.index((150, 160))
    # The query itself and overlapping duplicates are left out; every passage appears once.
    assert all(b <= 100 or a >= 110 for a, b in spans)
    ordered = sorted(spans)
    assert all(b1 <= a2 for (_, b1), (a2, _) in zip(ordered, ordered[1:], strict=False))
    assert len(match_spans(on, units, limit=2)) == 2
    assert match_spans(on, []) == []


def test_active_compares_the_stored_cell_state_with_atanh_of_the_threshold():
    class Replay:  # what `active` reads of a replay
        cell = "lstm"
        stored = [{"c": np.array([[0.0, 0.31, 0.32, 2.0]], dtype=np.float16)}]

    got = active(Replay(), 0)
    np.testing.assert_array_equal(got, np.tanh(Replay.stored[0]["c"]) >= THRESHOLD)
    assert got.tolist() == [[False, True, True, True]]


@pytest.mark.parametrize("threshold", [0.3, float(np.arctanh(0.3)), 1e-4, 2.0, 0.0, -0.5])
def test_the_float16_comparison_shortcut_equals_plain_comparison(threshold):
    rng = np.random.default_rng(3)
    values = (rng.normal(size=(500, 40)) * 2).astype(np.float16)
    values[0, :3] = [np.float16(threshold), -0.0, 0.0]
    np.testing.assert_array_equal(at_least(values, threshold), values >= threshold)
