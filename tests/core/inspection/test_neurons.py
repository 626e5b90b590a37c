"""The neuron finder: features computed from the text, and correlation rankings that find a
planted unit in synthetic activations and the known cells of the bundled checkpoint."""

from __future__ import annotations

import numpy as np
import pytest

from shakespeare_tui.core.inspection.neurons import (
    FEATURES,
    correlations,
    find_units,
    rank_units,
    text_features,
)

TEXT = 'KING HENRY:\nSay "go (now)." Then\n\nFirst Lord:\nAy!\n'


def feature(name: str, text: str = TEXT) -> list[float]:
    return text_features(text)[name].tolist()


def marks(text: str, spans: list[tuple[int, int]]) -> list[float]:
    out = [0.0] * len(text)
    for a, b in spans:
        out[a:b] = [1.0] * (b - a)
    return out


def test_every_feature_is_one_float32_per_character():
    features = text_features(TEXT)
    assert list(features) == list(FEATURES)
    for values in features.values():
        assert values.dtype == np.float32 and values.shape == (len(TEXT),)


def test_line_position_and_distance_to_the_newline():
    text = "ab\ncde\n\nf"
    assert feature("line_position", text) == [0, 1, 2, 0, 1, 2, 3, 0, 0]
    assert feature("to_newline", text) == [2, 1, 0, 3, 2, 1, 0, 0, 1]  # the last: to the end


def test_speaker_lines_in_capitals_or_after_a_blank_line():
    # "KING HENRY:" in capitals; "First Lord:" after a blank line; the verse line's colon is not.
    text = "KING HENRY:\nO, say:\n\nFirst Lord:\nAy.\nHe said:\n"
    first, lord = text.index("KING"), text.index("First")
    assert feature("speaker_line", text) == marks(text, [(first, first + 11), (lord, lord + 11)])


def test_quotes_brackets_sentence_ends_and_classes():
    text = 'a "b" (c [d]) e.) f? "g'
    quotes = marks(text, [(2, 4), (text.rindex('"'), len(text))])
    assert feature("in_quotes", text) == quotes
    # Inside from the opening bracket to before the closing one; a stray ")" changes nothing.
    assert feature("in_brackets", text) == marks(text, [(6, 12)])
    end = text.index(".")
    q = text.index("?")
    assert feature("after_sentence_end", text) == marks(text, [(end, end + 3), (q, q + 3)])
    assert feature("uppercase", "aB C\n") == [0, 1, 0, 1, 0]
    assert feature("whitespace", "aB C\n") == [0, 0, 1, 0, 1]


def test_correlations_match_numpy_and_constant_columns_give_zero():
    rng = np.random.default_rng(1)
    values = rng.normal(size=(5000, 6)).astype(np.float16)
    features = np.stack([rng.normal(size=5000), np.ones(5000)], axis=1)
    values[:, 2] = 0.5  # a unit that never moves
    before = values.copy()
    got = correlations(values, features)
    np.testing.assert_array_equal(values, before)  # the caller's array is left alone
    as32 = values.astype(np.float32)
    np.testing.assert_allclose(correlations(as32, features), got, atol=1e-6)
    np.testing.assert_array_equal(as32, before.astype(np.float32))
    for unit in (0, 1, 3, 4, 5):
        want = np.corrcoef(values[:, unit].astype(np.float64), features[:, 0])[0, 1]
        assert got[unit, 0] == pytest.approx(want, abs=1e-5)
    assert (got[:, 1] == 0).all() and got[2, 0] == 0
    blocks = [values[i : i + 999] for i in range(0, 5000, 999)]
    np.testing.assert_allclose(correlations(iter(blocks), features), got, atol=1e-6)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's mean of no rows
def test_correlations_of_no_rows_say_so():
    """No values at all (an empty text, or blocks that never come) is the one ValueError the
    function raises for rows that do not fit, not a TypeError from its sums."""
    for features in (np.zeros((0, 2)), np.zeros((3, 2))):
        with pytest.raises(ValueError, match="values have 0 rows"):
            correlations(iter([]), features)
        with pytest.raises(ValueError, match="values have 0 rows"):
            correlations(np.zeros((0, 4), np.float16), features)


def test_ranking_finds_a_planted_unit_in_every_layer():
    rng = np.random.default_rng(2)
    steps = 4000
    features = {"signal": rng.normal(size=steps).astype(np.float32), "flat": np.zeros(steps)}
    layers = [rng.normal(size=(steps, 50)).astype(np.float32) for _ in range(2)]
    layers[1][:, 17] = -features["signal"] + 0.3 * rng.normal(size=steps)  # r ≈ -0.96
    layers[0][:, 4] = features["signal"] + 1.0 * rng.normal(size=steps)  # r ≈ +0.71
    ranked = rank_units(layers, features, top=3)
    best, second, third = ranked["signal"]
    assert (best.layer, best.unit) == (1, 17) and best.r == pytest.approx(-0.958, abs=0.01)
    assert (second.layer, second.unit) == (0, 4) and second.r == pytest.approx(0.707, abs=0.02)
    assert abs(third.r) < 0.1
    assert ranked["flat"] == []  # a feature constant over the text ranks nothing
    assert best.as_dict() == {"layer": 1, "unit": 17, "r": round(best.r, 4)}


@pytest.fixture(scope="module")
def bundled_replay():
    """The bundled checkpoint over the last 10,000 characters of its own held-out text."""
    import torch

    from shakespeare_tui.core.inspection.replay import replay
    from shakespeare_tui.core.model.checkpoint import load_checkpoint
    from shakespeare_tui.core.runs.folders import bundled_checkpoint
    from shakespeare_tui.core.text.corpus import build_plays_text

    checkpoint = load_checkpoint(bundled_checkpoint())
    text = build_plays_text()[-10_000:]  # inside the last 10% the model never trained on
    # One thread: in a test process OpenMP threads spin, and on a busy machine two spinning
    # threads made this replay 6x slower than one.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return replay(checkpoint.model, checkpoint.vocab, text)
    finally:
        torch.set_num_threads(threads)


def test_the_finder_finds_the_bundled_models_line_and_speaker_cells(bundled_replay):
    found = find_units(bundled_replay)
    for name in ("line_position", "speaker_line"):
        scores = found[name]
        assert len(scores) == 3
        assert abs(scores[0].r) >= 0.7, scores
        assert [abs(s.r) for s in scores] == sorted((abs(s.r) for s in scores), reverse=True)
    # The hidden output carries them too, more weakly than the cell state.
    assert abs(find_units(bundled_replay, quantity="h")["line_position"][0].r) >= 0.5
