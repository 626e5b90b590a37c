"""The counting baseline: an interpolated modified Kneser–Ney character n-gram model.

Trained on a checkpoint's own training text, it predicts each target from its last c
characters (c = 0…8); its loss stops improving after a few characters of context, where the
counts run out — the chart's reminder of what recurrence adds.

Counting is numpy over the whole text, one order at a time: an n-gram is named by a dense id,
`key = id(its first n−1 characters) × V + its last character`, so each order's distinct
n-grams are one `np.unique` of an int64 array (no Python object per n-gram; the 4.3 M
training characters of the bundled plays count in a few seconds). The continuation counts
Kneser–Ney needs (how many distinct characters precede an n-gram) come from the same pass:
the suffix of the n-gram at position i is the (n−1)-gram at i + 1.

The model for c characters of context is order c + 1, with Chen & Goodman's (1998)
modified Kneser–Ney: discounts D1, D2, D3+ per order from its counts of counts, raw counts at
the top order, continuation counts below it, interpolated down to the uniform distribution
over the vocabulary — so a character never seen in training still has a probability.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from shakespeare_tui.core.inspection.memory.events import Ticker

# A context's total, its n-grams seen once, twice and three times or more (one array each,
# indexed by context), and the order's discounts D1, D2, D3+.
_Stats = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[float, float, float]]

ORDER = 9  # the longest n-gram: 8 characters of context
FORMAT_VERSION = 1  # of the counts' cache files; bump when counting changes


@dataclass(frozen=True)
class NgramCurve:
    """The n-gram's mean loss (nats/char) over the targets, for 0, 1, … characters of context."""

    contexts: tuple[int, ...]
    loss: tuple[float, ...]

    @property
    def bits(self) -> tuple[float, ...]:
        return tuple(x / np.log(2) for x in self.loss)

    def effective_context(self, tolerance: float = 0.02) -> int:
        """The fewest characters whose loss is within `tolerance` of the best the n-gram gets:
        where counting stops helping."""
        best = min(self.loss)
        return next(
            c for c, x in zip(self.contexts, self.loss, strict=True) if x <= best * (1 + tolerance)
        )

    def as_dict(self) -> list[dict[str, float]]:
        return [{"context": c, "loss": x} for c, x in zip(self.contexts, self.loss, strict=True)]


@dataclass
class _Order:
    """One order's statistics, and its contexts' sums (filled by `NgramCounts._index`)."""

    keys: np.ndarray  # sorted distinct keys (id of the first n−1 characters × V + the last)
    counts: np.ndarray  # times each n-gram occurs
    continuation: np.ndarray  # distinct characters seen just before it (0 at the top order)
    stats: dict[str, _Stats] = field(default_factory=dict)  # "raw"/"continuation" → its stats


@dataclass
class NgramCounts:
    """Every n-gram of a text up to `order`, counted; `losses` scores targets with them."""

    vocab_size: int
    orders: list[_Order]  # orders[n - 1] holds the n-grams
    chars: int  # of the text counted

    @property
    def order(self) -> int:
        return len(self.orders)

    @classmethod
    def count(
        cls, codes: np.ndarray, vocab_size: int, order: int = ORDER, ticker: Ticker | None = None
    ) -> NgramCounts:
        """Count `codes` (a 1-D array of character codes below `vocab_size`)."""
        codes = np.ascontiguousarray(codes, dtype=np.int64)
        v = int(vocab_size)
        unigrams = np.bincount(codes, minlength=v).astype(np.int64)
        orders = [_Order(np.arange(v, dtype=np.int64), unigrams, np.zeros(v, np.int64))]
        ids = codes  # at each position, the id of the n-gram starting there
        for n in range(2, order + 1):
            if len(ids) < 2:
                empty = np.zeros(0, np.int64)
                orders.append(_Order(empty, empty, empty))
                continue
            keys, first, inverse, counts = _group(ids[:-1] * v + codes[n - 1 :])
            # The (n-1)-gram ending each n-gram starts one position later: each distinct
            # n-gram adds one distinct preceding character to that suffix's continuation.
            below = orders[-1]
            below.continuation = np.bincount(ids[first + 1], minlength=len(below.keys))
            orders.append(_Order(keys, counts.astype(np.int64), np.zeros(len(keys), np.int64)))
            ids = inverse
            if ticker is not None:
                ticker.advance(1)
        model = cls(vocab_size=v, orders=orders, chars=len(codes))
        model._index()
        return model

    def _index(self) -> None:
        """Per order and kind of count: each context's total, its n-grams seen once, twice and
        three times or more, and the order's discounts."""
        v = self.vocab_size
        for n, level in enumerate(self.orders, start=1):
            contexts = 1 if n == 1 else len(self.orders[n - 2].keys)
            prefix = np.zeros(len(level.keys), np.int64) if n == 1 else level.keys // v
            for kind, counts in (("raw", level.counts), ("continuation", level.continuation)):
                total, once, twice, more = (
                    np.bincount(prefix, weights=weights, minlength=contexts)
                    for weights in (
                        counts,
                        counts == 1,
                        counts == 2,
                        counts >= 3,
                    )
                )
                level.stats[kind] = (total, once, twice, more, _discounts(counts))

    def losses(self, codes: np.ndarray, positions: np.ndarray, context: int) -> np.ndarray:
        """−log p(codes[t] | the `context` characters before t) in nats, per position t."""
        if not 0 <= context < self.order:
            raise ValueError(f"context must be in 0..{self.order - 1}")
        codes = np.asarray(codes, dtype=np.int64)
        positions = np.asarray(positions, dtype=np.int64)
        v = self.vocab_size
        p: np.ndarray = np.full(len(positions), 1.0 / v)
        for n in range(1, context + 2):
            level = self.orders[n - 1]
            if not len(level.keys):  # a text shorter than n: nothing more to learn
                break
            kind = "raw" if n == context + 1 else "continuation"
            total, n1, n2, n3, (d1, d2, d3) = level.stats[kind]
            counts = level.counts if kind == "raw" else level.continuation
            start = positions - n + 1
            inside = start >= 0  # a target nearer the text's start has a shorter context
            context_id = np.where(inside, self._ids(codes, np.maximum(start, 0), n - 1), -1)
            gram = np.where(inside, self._ids(codes, np.maximum(start, 0), n), -1)
            seen = context_id >= 0
            s = np.where(seen, total[np.maximum(context_id, 0)], 0.0)
            known = seen & (s > 0)
            c = np.where(gram >= 0, counts[np.maximum(gram, 0)], 0).astype(np.float64)
            discount = np.select([c >= 3, c == 2, c == 1], [d3, d2, d1], 0.0)
            cid = np.maximum(context_id, 0)
            back = d1 * n1[cid] + d2 * n2[cid] + d3 * n3[cid]
            with np.errstate(divide="ignore", invalid="ignore"):
                mixed = (np.maximum(c - discount, 0.0) + back * p) / s
            p = np.where(known, mixed, p)
        nats: np.ndarray = -np.log(p)  # numpy's stub: a ufunc of an array is Any
        return nats

    def _ids(self, codes: np.ndarray, start: np.ndarray, length: int) -> np.ndarray:
        """The dense id of codes[s : s + length] for each start s (0 for the empty string),
        −1 where that string never occurs in the counted text."""
        if length == 0:
            return np.zeros(len(start), np.int64)
        ids: np.ndarray = codes[start].copy()  # numpy's stub: an array indexed by one is Any
        for n in range(2, length + 1):
            keys = self.orders[n - 1].keys
            if not len(keys):
                return np.full(len(start), -1, np.int64)
            wanted = np.where(ids >= 0, ids * self.vocab_size + codes[start + n - 1], -1)
            at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
            ids = np.where((ids >= 0) & (keys[at] == wanted), at, -1)
        return ids

    def curve(
        self, codes: np.ndarray, positions: np.ndarray, ticker: Ticker | None = None
    ) -> NgramCurve:
        """The mean loss over `positions` for every context 0…order−1."""
        contexts = tuple(range(self.order))
        loss = []
        for c in contexts:
            loss.append(float(self.losses(codes, positions, c).mean()))
            if ticker is not None:
                ticker.advance(1)
        return NgramCurve(contexts=contexts, loss=tuple(loss))

    # ---------------------------------------------------------------- the cache's arrays

    def arrays(self) -> dict[str, np.ndarray]:
        """What a cache file holds: each order's keys, counts and continuation counts."""
        out = {}
        for n, level in enumerate(self.orders, start=1):
            width = np.uint32 if (level.keys.max(initial=0) < 2**32) else np.int64
            out[f"keys{n}"] = level.keys.astype(width)
            out[f"counts{n}"] = level.counts.astype(np.uint32)
            out[f"continuation{n}"] = level.continuation.astype(np.uint32)
        return out

    @classmethod
    def from_arrays(
        cls, arrays: Mapping[str, np.ndarray], vocab_size: int, order: int, chars: int
    ) -> NgramCounts:
        """The counts back from `arrays()`; ValueError unless every order is there and consistent."""
        orders = []
        previous = 1
        for n in range(1, order + 1):
            keys, counts, cont = (
                np.asarray(arrays[f"{name}{n}"]) for name in ("keys", "counts", "continuation")
            )
            if not (
                keys.ndim == counts.ndim == cont.ndim == 1 and len(keys) == len(counts) == len(cont)
            ):
                raise ValueError(f"order {n}: arrays of different shapes")
            for array in (keys, counts, cont):
                if array.dtype.kind not in "iu":
                    raise ValueError(f"order {n}: not integers")
            keys = keys.astype(np.int64)
            if n == 1 and len(keys) != vocab_size:
                raise ValueError("unigrams do not match the vocabulary")
            if len(keys) and (
                np.any(np.diff(keys) <= 0) or keys[0] < 0 or keys[-1] >= previous * vocab_size
            ):
                raise ValueError(f"order {n}: keys out of order or range")
            if n == 1 and int(counts.sum()) != chars:
                raise ValueError("unigram counts do not add up to the text")
            orders.append(_Order(keys, counts.astype(np.int64), cont.astype(np.int64)))
            previous = max(len(keys), 1)
        model = cls(vocab_size=vocab_size, orders=orders, chars=chars)
        model._index()
        return model


def _group(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """np.unique(keys, return_index, return_inverse, return_counts), 3x faster: one plain
    sort of each key with its position in its low bits, where argsort would sort indices."""
    bits = max(1, int(len(keys)).bit_length())
    if len(keys) == 0 or int(keys.max()) >= 2 ** (62 - bits):
        return np.unique(keys, return_index=True, return_inverse=True, return_counts=True)
    packed = np.sort((keys << bits) | np.arange(len(keys), dtype=np.int64))
    sorted_keys, order = packed >> bits, packed & ((1 << bits) - 1)
    new = np.empty(len(keys), dtype=bool)
    new[0] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, len(keys)))
    inverse = np.empty(len(keys), dtype=np.int64)
    inverse[order] = np.repeat(np.arange(len(starts), dtype=np.int64), counts)
    return sorted_keys[starts], order[starts], inverse, counts


def _discounts(counts: np.ndarray) -> tuple[float, float, float]:
    """Chen & Goodman's D1, D2, D3+ from the counts of counts; fixed ones when a count of
    counts is missing (a tiny text)."""
    n1, n2, n3, n4 = (int(np.count_nonzero(counts == k)) for k in (1, 2, 3, 4))
    if min(n1, n2, n3, n4) == 0:
        return 0.5, 1.0, 1.5
    y = n1 / (n1 + 2 * n2)
    found = (1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3)
    fallback = (0.5, 1.0, 1.5)
    d1, d2, d3 = (
        d if 0 < d <= k + 1 else f for k, (d, f) in enumerate(zip(found, fallback, strict=True))
    )
    return d1, d2, d3
