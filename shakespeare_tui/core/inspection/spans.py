"""LSTMVis's selection: the units on over a span and off just before it, and the other
passages where the same units fire together.

After Strobelt et al., "LSTMVis" (HendrikStrobelt/LSTMVis, `query_similar_activations`): a
unit is "on" at a step when its value is at least a threshold (0.3 on tanh(c) by default).
Candidates are the maximal runs where at least m of the selected units are on, for m from all
of them downwards, until enough are found; each candidate is then scored over every unit of
the layer: how many selected units are on over the whole run and off just before it, and how
many other units do the same. Matches rank by the most selected units, then the fewest others
(LSTMVis's smallest union), then the longest run. Unlike LSTMVis, a match that overlaps a
better one (or the query itself) is left out, so every passage is listed once.

Everything works on a boolean (steps, units) array of which units are on; `active` builds it
from a replay without a float32 copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # for its type alone: replay.py loads torch
    from shakespeare_tui.core.inspection.replay import Replay

THRESHOLD = 0.3  # LSTMVis's default, on tanh(c)
BEFORE = 1  # steps just before the span where the units must be off
MIN_LENGTH = 2  # shortest run considered (LSTMVis's cut-off)
MAX_CANDIDATES = 1000  # runs scored per query (LSTMVis's "fast" mode)
LIMIT = 20  # matches returned


def active(
    replay: Replay, layer: int, quantity: str | None = None, threshold: float = THRESHOLD
) -> np.ndarray:
    """(chars, hidden) bool: which units of `layer` are on (value >= threshold) at each step.

    On tanh(c) it compares the stored c with atanh(threshold), as LSTMVis does, so no tanh
    and no float32 copy is made.
    """
    from shakespeare_tui.core.inspection.replay import DEFAULT_QUANTITY

    quantity = quantity or DEFAULT_QUANTITY[replay.cell]
    stored = replay.stored[layer]
    if quantity == "tanh_c":
        if not -1.0 < threshold < 1.0:
            return np.full(stored["c"].shape, threshold <= -1.0)
        return at_least(stored["c"], float(np.arctanh(threshold)))
    if quantity in stored:
        return at_least(stored[quantity], threshold)
    return np.vstack([block >= threshold for block in replay.blocks(layer, quantity)])


def at_least(values: np.ndarray, threshold: float) -> np.ndarray:
    """values >= threshold, fast for float16 (numpy emulates float16 comparisons, ~10x slower).

    For a positive threshold, a float16 is at least it exactly when its bits, read as a signed
    16-bit integer, are at least the threshold's (rounded up to a float16): positive floats
    sort like their bit patterns, and negative ones read as negative integers (a NaN, which
    states never hold, would count as on).
    """
    if values.dtype != np.float16 or not threshold > 0 or threshold > 65504:
        return values >= threshold
    limit = np.float16(threshold)
    if float(limit) < threshold:
        limit = np.nextafter(limit, np.float16(np.inf))
    return values.view(np.int16) >= limit.view(np.int16)


def select_units(on: np.ndarray, start: int, stop: int, before: int = BEFORE) -> np.ndarray:
    """The units on at every step of [start, stop) and off at the `before` steps before it
    (as many as exist): sorted int64 indices."""
    if not 0 <= start < stop <= len(on):
        raise ValueError(f"span [{start}, {stop}) is not inside the text's {len(on)} steps")
    chosen = on[start:stop].all(axis=0)
    if before > 0 and start > 0:
        chosen &= ~on[max(0, start - before) : start].any(axis=0)
    return np.flatnonzero(chosen)


@dataclass(frozen=True)
class SpanMatch:
    """A passage where selected units fire together."""

    start: int
    stop: int  # exclusive
    selected_on: int  # selected units on over the whole passage and off just before it
    others_on: int  # units not selected that do the same
    selected: int  # how many units were selected

    @property
    def length(self) -> int:
        return self.stop - self.start

    @property
    def jaccard(self) -> float:
        """|selected ∩ on| / |selected ∪ on|: 1 when exactly the selected units fire."""
        union = self.selected + self.others_on
        return self.selected_on / union if union else 0.0


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, stops) of the maximal runs of True."""
    edges = np.diff(np.concatenate([[0], mask.view(np.int8), [0]]))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def match_spans(
    on: np.ndarray,
    units: Sequence[int] | np.ndarray,
    *,
    before: int = BEFORE,
    limit: int = LIMIT,
    min_length: int = MIN_LENGTH,
    exclude: tuple[int, int] | None = None,
) -> list[SpanMatch]:
    """Passages where the `units` fire together, best first (see the module docstring).

    `exclude` (the query span, usually) drops every match overlapping it.
    """
    units = np.asarray(units, dtype=np.int64)
    if len(units) == 0:
        return []
    on = np.asarray(on, dtype=bool)
    count = on[:, units].sum(axis=1)
    candidates: dict[tuple[int, int], None] = {}
    for m in range(len(units), 0, -1):
        starts, stops = _runs(count >= m)
        long = stops - starts >= min_length
        runs = zip(starts[long].tolist(), stops[long].tolist(), strict=True)
        candidates.update(dict.fromkeys(runs))
        if len(candidates) >= MAX_CANDIDATES:
            break
    selected = np.zeros(on.shape[1], bool)
    selected[units] = True
    scored = []
    for start, stop in list(candidates)[:MAX_CANDIDATES]:
        firing = np.asarray(on[start:stop].all(axis=0))  # per unit (numpy's stub: or one)
        if before > 0 and start > 0:
            firing &= ~on[max(0, start - before) : start].any(axis=0)
        hits = int(firing[selected].sum())
        if hits:
            scored.append(SpanMatch(start, stop, hits, int(firing.sum()) - hits, len(units)))
    scored.sort(key=lambda s: (-s.selected_on, s.others_on, -s.length, s.start))
    taken: list[SpanMatch] = []
    blocked = [exclude] if exclude is not None else []
    for match in scored:
        if any(match.start < b and a < match.stop for a, b in blocked):
            continue
        taken.append(match)
        blocked.append((match.start, match.stop))
        if len(taken) == limit:
            break
    return taken
