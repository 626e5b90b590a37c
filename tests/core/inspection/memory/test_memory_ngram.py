"""The n-gram baseline: counts equal a plain count, the 0-character model is the unigram,
probabilities add up, and its counts are cached by corpus checksum and never trusted blindly
(core/inspection/memory/ngram.py, ngram_cache.py)."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from shakespeare_tui.core.inspection.memory import ngram_cache
from shakespeare_tui.core.inspection.memory.ngram import ORDER, NgramCounts, _discounts
from shakespeare_tui.core.text.corpus import load_corpus

TEXT = (
    "Shall I compare thee to a summer's day?\nThou art more lovely and more temperate:\n"
    "Rough winds do shake the darling buds of May,\nAnd summer's lease hath all too short a date;\n"
) * 7 + "Sometime too hot the eye of heaven shines,\n"
# Z never occurs in TEXT: only smoothing gives it a chance; J, K, Q and V help the unigram test.
VOCAB = "".join(sorted(set(TEXT) | set("ZJKQV")))


def encode(text: str) -> np.ndarray:
    return np.array([VOCAB.index(c) for c in text], dtype=np.uint8)


@pytest.fixture(scope="module")
def counted() -> NgramCounts:
    return NgramCounts.count(encode(TEXT), len(VOCAB))


def test_the_counts_equal_a_plain_count_of_every_ngram(counted):
    for n in range(1, ORDER + 1):
        grams = Counter(TEXT[i : i + n] for i in range(len(TEXT) - n + 1))
        level = counted.orders[n - 1]
        found = {
            _decode(counted, n, key): int(c)
            for key, c in zip(level.keys, level.counts, strict=True)
            if c
        }
        assert found == dict(grams), n
        if n < ORDER:  # distinct characters seen just before each n-gram
            preceded = {g: len({TEXT[i - 1] for i in _starts(g) if i > 0}) for g in grams}
            cont = {
                _decode(counted, n, key): int(c)
                for key, c in zip(level.keys, level.continuation, strict=True)
            }
            assert {g: c for g, c in cont.items() if c} == {
                g: c for g, c in preceded.items() if c
            }, n


def _starts(gram: str) -> list[int]:
    return [i for i in range(len(TEXT) - len(gram) + 1) if TEXT.startswith(gram, i)]


def _decode(counted: NgramCounts, n: int, key: int) -> str:
    """An n-gram's characters from its key: key = id of its first n−1 characters × V + last."""
    chars = []
    v = counted.vocab_size
    for order in range(n, 0, -1):
        chars.append(VOCAB[int(key) % v])
        if order > 1:
            key = counted.orders[order - 2].keys[int(key) // v]
    return "".join(reversed(chars))


def test_with_no_context_it_is_the_unigram_model_computed_here():
    """The 0-character n-gram is the unigram distribution: each character's count less its
    modified Kneser–Ney discount, plus the discounted mass spread evenly over the vocabulary
    (Chen & Goodman 1998), computed here from a Counter."""
    train = TEXT[:400] + "Q JJ KKK VVVV\n"  # characters seen once, twice, three and four times
    counted = NgramCounts.count(encode(train), len(VOCAB))
    counts = Counter(train)
    n = [sum(1 for c in counts.values() if c == k) for k in (1, 2, 3, 4)]
    y = n[0] / (n[0] + 2 * n[1])
    d = (1 - 2 * y * n[1] / n[0], 2 - 3 * y * n[2] / n[1], 3 - 4 * y * n[3] / n[2])
    total = len(train)
    leftover = sum(d[min(c, 3) - 1] for c in counts.values())
    text = train + TEXT[400:]
    positions = np.arange(len(train), len(text))

    def p(char: str) -> float:
        c = counts.get(char, 0)
        return (c - d[min(c, 3) - 1] if c else 0.0) / total + leftover / total / len(VOCAB)

    expected = np.mean([-math.log(p(text[t])) for t in positions])
    got = counted.losses(encode(text), positions, context=0).mean()
    assert got == pytest.approx(expected, rel=1e-12)
    assert sum(p(c) for c in VOCAB) == pytest.approx(1.0)


@pytest.mark.parametrize("context", range(ORDER))
def test_every_context_gives_a_distribution_over_the_vocabulary(counted, context):
    codes = encode(TEXT + "Thou art more Zany")
    positions = np.array(
        [50, 200, len(TEXT) + 5, len(codes) - 1]
    )  # each outside the others' contexts
    total = np.zeros(len(positions))
    for code in range(len(VOCAB)):
        probe = codes.copy()
        probe[positions] = code
        total += np.exp(-counted.losses(probe, positions, context))
    assert total == pytest.approx(np.ones(len(positions)), abs=1e-9)


def test_more_context_predicts_a_seen_text_better(counted):
    curve = counted.curve(encode(TEXT), np.arange(ORDER, len(TEXT)))
    assert curve.contexts == tuple(range(ORDER))
    assert all(b < a for a, b in zip(curve.loss, curve.loss[1:], strict=False))
    assert curve.as_dict()[0] == {"context": 0, "loss": curve.loss[0]}
    assert curve.effective_context() == next(
        c for c, x in zip(curve.contexts, curve.loss, strict=True) if x <= 1.02 * min(curve.loss)
    )


def test_a_tiny_text_gets_fixed_discounts():
    assert _discounts(np.array([1, 1, 2])) == (0.5, 1.0, 1.5)
    counted = NgramCounts.count(encode("ab"), len(VOCAB))
    loss = counted.losses(encode("abZ"), np.array([2]), context=8 if ORDER > 8 else ORDER - 1)
    assert np.isfinite(loss).all()


def test_the_arrays_round_trip_and_inconsistent_ones_are_refused(counted):
    arrays = counted.arrays()
    again = NgramCounts.from_arrays(arrays, len(VOCAB), ORDER, counted.chars)
    codes, positions = encode(TEXT), np.arange(20, 300)
    for c in (0, 3, 8):
        assert np.array_equal(
            again.losses(codes, positions, c), counted.losses(codes, positions, c)
        )
    shuffled = dict(arrays, keys3=arrays["keys3"][::-1].copy())
    shorter = dict(arrays, counts4=arrays["counts4"][:-1])
    floats = dict(arrays, counts2=arrays["counts2"].astype(np.float64))
    for bad in (shuffled, shorter, floats):
        with pytest.raises(ValueError):
            NgramCounts.from_arrays(bad, len(VOCAB), ORDER, counted.chars)
    with pytest.raises(ValueError):
        NgramCounts.from_arrays(arrays, len(VOCAB), ORDER, counted.chars + 1)
    with pytest.raises(KeyError):
        NgramCounts.from_arrays(
            {k: v for k, v in arrays.items() if k != "keys9"}, len(VOCAB), ORDER, counted.chars
        )


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "verse.txt"
    path.write_text(TEXT, encoding="utf-8")
    return load_corpus(str(path), tmp_path / "cache")


def test_counts_are_cached_by_corpus_and_read_back(tmp_path, corpus, monkeypatch):
    from shakespeare_tui.core.text.vocab import Vocabulary

    vocab = Vocabulary(VOCAB)
    cache = tmp_path / "cache"
    first = ngram_cache.ngram_counts(corpus, vocab, 0.1, cache)
    files = list((cache / "memory").glob("ngram-*.npz"))
    assert len(files) == 1
    assert first.chars == len(TEXT) - int(len(TEXT) * 0.1)

    def no_counting(*args, **kwargs):
        raise AssertionError("counted again")

    monkeypatch.setattr(NgramCounts, "count", no_counting)
    again = ngram_cache.ngram_counts(corpus, vocab, 0.1, cache)
    codes, positions = encode(TEXT), np.arange(20, 300)
    assert np.array_equal(again.losses(codes, positions, 5), first.losses(codes, positions, 5))
    # another split of the same corpus is another file
    monkeypatch.undo()
    ngram_cache.ngram_counts(corpus, vocab, 0.2, cache)
    assert len(list((cache / "memory").glob("ngram-*.npz"))) == 2


@pytest.mark.parametrize("damage", ["garbage", "truncated", "foreign", "wrong meta"])
def test_a_damaged_cache_file_is_ignored_and_counted_again(tmp_path, corpus, damage):
    from shakespeare_tui.core.text.vocab import Vocabulary

    vocab = Vocabulary(VOCAB)
    cache = tmp_path / "cache"
    good = ngram_cache.ngram_counts(corpus, vocab, 0.1, cache)
    (path,) = (cache / "memory").glob("ngram-*.npz")
    data = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"not an npz file at all")
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "foreign":
        np.savez(path.open("wb"), meta=np.array("{}"), keys1=np.arange(3))
    else:
        arrays = dict(np.load(path))
        arrays["meta"] = np.array('{"version": 1, "vocab_size": 3, "chars": 10}')
        with path.open("wb") as f:
            np.savez(f, **arrays)
    again = ngram_cache.ngram_counts(corpus, vocab, 0.1, cache)
    codes, positions = encode(TEXT), np.arange(20, 300)
    assert np.array_equal(again.losses(codes, positions, 4), good.losses(codes, positions, 4))
    assert ngram_cache._read(path, len(VOCAB), good.chars) is not None  # rewritten whole


def test_an_unwritable_cache_only_costs_the_counting(tmp_path, corpus):
    from shakespeare_tui.core.text.vocab import Vocabulary

    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be")
    counts = ngram_cache.ngram_counts(corpus, Vocabulary(VOCAB), 0.1, blocked)
    assert counts.chars > 0


def test_a_corpus_with_characters_outside_the_vocabulary_is_refused(tmp_path, corpus):
    from shakespeare_tui.core.text.vocab import Vocabulary

    with pytest.raises(ValueError):
        ngram_cache.ngram_counts(corpus, Vocabulary("abc"), 0.1, tmp_path / "cache")
