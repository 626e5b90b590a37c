"""The neuron finder: features of the text, and units ranked by how well they track each one.

Karpathy, Johnson and Fei-Fei (2015) found cells that count the position in the line, or
switch on inside quotes and brackets. Here each feature is a number per character, computed
from the text alone with numpy, aligned with the replay's rows (row t: after reading
text[t]); a unit's score for a feature is the Pearson correlation, over the text, of its value
(a quantity of core/inspection/replay.py, tanh(c) by default for an LSTM) with the feature.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # for its type alone: replay.py loads torch
    from shakespeare_tui.core.inspection.replay import Replay

# What `correlations` reads: a (steps, units) array, or its consecutive row blocks.
LayerValues = np.ndarray | Iterable[np.ndarray]

# Feature name → what it is, for people. All are floats per character; 0/1 for the yes/no ones.
FEATURES = {
    "line_position": "characters since the line began (0 at its first character)",
    "speaker_line": "inside a speaker's name line, such as 'KING HENRY:' or 'First Lord:'",
    "in_quotes": 'inside double quotes (after an odd number of ")',
    "in_brackets": "inside brackets or parentheses",
    "after_sentence_end": "after . ! or ?, until the next letter or digit",
    "uppercase": "an uppercase letter",
    "whitespace": "a space or a newline",
    "to_newline": "characters until the next newline (0 on the newline)",
}
# char-rnn's format: a speech opens with its speaker's name alone on a line, ending in ':'.
# Names are all capitals ("KING HENRY:") or, after a blank line, up to five words ("First
# Lord:", "Clown:" — the plays have both). Over held-out plays text the bundled model's best
# unit tracks this at |r| 0.93–0.99; with capitals only (half the names) at 0.70.
SPEAKER_LINE = re.compile(
    r"^(?:[A-Z][A-Z0-9 '&.,-]*|(?:\A|(?<=\n\n))[A-Z][\w'&.,-]*(?: [\w'&.,-]+){0,4}):$",
    re.MULTILINE,
)
TOP = 3  # units listed per feature
_BLOCK = 8192  # rows per block when a layer's values are read from float16


def text_features(text: str) -> dict[str, np.ndarray]:
    """Every feature of `FEATURES` for `text`: name → (len(text),) float32."""
    n = len(text)
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    index = np.arange(n)
    newline = points == ord("\n")
    # Character classes through a table of the text's few distinct characters.
    distinct, which = np.unique(points, return_inverse=True)
    chars = [chr(p) for p in distinct]
    upper = np.array([c.isupper() for c in chars], bool)[which]
    alnum = np.array([c.isalnum() for c in chars], bool)[which]
    space = np.array([c.isspace() for c in chars], bool)[which]

    line_start = np.zeros(n, bool)
    line_start[:1] = True
    line_start[1:] = newline[:-1]
    line_position = index - np.maximum.accumulate(np.where(line_start, index, 0))
    next_newline = np.minimum.accumulate(np.where(newline, index, n)[::-1])[::-1]

    speaker = np.zeros(n, bool)
    for match in SPEAKER_LINE.finditer(text):
        speaker[match.start() : match.end()] = True

    in_quotes = np.cumsum(points == ord('"')) % 2 == 1
    # Bracket depth after each character, never below 0: a running sum reflected at zero
    # (S_t - min(0, min_{s<=t} S_s)), so a stray ')' does not leave the rest "inside".
    opens = np.isin(points, [ord(c) for c in "([{"]).astype(np.int64)
    closes = np.isin(points, [ord(c) for c in ")]}"]).astype(np.int64)
    walk = np.cumsum(opens - closes)
    depth = walk - np.minimum(0, np.minimum.accumulate(walk))

    ends = np.isin(points, [ord(c) for c in ".!?"])
    last_end = np.maximum.accumulate(np.where(ends, index, -1))
    last_word = np.maximum.accumulate(np.where(alnum, index, -1))

    features = {
        "line_position": line_position,
        "speaker_line": speaker,
        "in_quotes": in_quotes,
        "in_brackets": depth > 0,
        "after_sentence_end": last_end > last_word,
        "uppercase": upper,
        "whitespace": space,
        "to_newline": next_newline - index,
    }
    return {name: np.asarray(features[name], dtype=np.float32) for name in FEATURES}


def correlations(values: LayerValues, features: np.ndarray) -> np.ndarray:
    """Pearson r of every unit with every feature: (units, n) float32, 0 where either is constant.

    `values` is (steps, units) — an array (float16 is read in blocks, so a long text needs no
    float32 copy of a layer) or an iterable of its consecutive row blocks; `features` is
    (steps, n).
    """
    f = np.asarray(features, dtype=np.float64)
    steps = len(f)
    centred = (f - f.mean(axis=0)).astype(np.float32)  # Σ x (f - f̄) = Σ (x - x̄)(f - f̄)
    blocks: Iterable[np.ndarray] = values
    if isinstance(values, np.ndarray):
        blocks = (values[t0 : t0 + _BLOCK] for t0 in range(0, steps, _BLOCK))
    rows = (np.asarray(block, dtype=np.float32) for block in blocks)
    first = next(rows, None)
    if first is None:
        raise ValueError(f"values have 0 rows, features {steps}")
    shift = first.mean(axis=0)  # sums of (x - shift) with shift ≈ the mean: no cancellation
    cross = np.zeros((first.shape[1], f.shape[1]))
    sums, squares = np.zeros(first.shape[1]), np.zeros(first.shape[1])
    t0 = 0
    for block in itertools.chain([first], rows):
        t1 = t0 + len(block)
        cross += block.T @ centred[t0:t1]
        shifted = block - shift  # not in place: `block` may be the caller's array
        sums += shifted.sum(axis=0, dtype=np.float64)
        squares += np.einsum("ij,ij->j", shifted, shifted)
        t0 = t1
    if t0 != steps:
        raise ValueError(f"values have {t0} rows, features {steps}")
    std_x = np.sqrt(np.maximum(squares / steps - (sums / steps) ** 2, 0.0))
    std_f = f.std(axis=0)
    # A unit that barely moves (below float16's resolution) correlates with nothing.
    ok = (std_x[:, None] > 1e-6) & (std_f[None, :] > 0)
    r = np.divide(cross, steps * np.outer(std_x, std_f), out=np.zeros_like(cross), where=ok)
    clipped: np.ndarray = np.clip(r, -1.0, 1.0)  # (numpy's stub: a ufunc's result is Any)
    return clipped.astype(np.float32)


@dataclass(frozen=True)
class UnitScore:
    """One unit's correlation with one feature."""

    feature: str
    layer: int  # counted from 0
    unit: int  # counted from 0
    r: float  # Pearson r, in [-1, 1]

    def as_dict(self) -> dict[str, int | float]:
        return {"layer": self.layer, "unit": self.unit, "r": round(self.r, 4)}


def rank_units(
    layer_values: Iterable[LayerValues], features: dict[str, np.ndarray], top: int = TOP
) -> dict[str, list[UnitScore]]:
    """The `top` units per feature by |r|, over every layer, highest first.

    `layer_values` is an iterable with one entry per layer, each what `correlations` takes.
    A feature that is constant over the text ranks no units.
    """
    names = list(features)
    matrix = np.stack([features[n] for n in names], axis=1)
    constant = matrix.std(axis=0) == 0
    scores: list[np.ndarray] = []
    for values in layer_values:
        scores.append(correlations(values, matrix))
    stacked = np.stack(scores)  # (layers, units, features)
    units = stacked.shape[1]
    result: dict[str, list[UnitScore]] = {}
    for j, name in enumerate(names):
        if constant[j]:
            result[name] = []
            continue
        flat = stacked[:, :, j].ravel()
        k = min(top, len(flat))
        best = np.argpartition(-np.abs(flat), k - 1)[:k]
        best = best[np.argsort(-np.abs(flat[best]), kind="stable")]
        result[name] = [
            UnitScore(name, int(i // units), int(i % units), float(flat[i])) for i in best
        ]
    return result


def find_units(
    replay: Replay, quantity: str | None = None, top: int = TOP
) -> dict[str, list[UnitScore]]:
    """The finder over a replay: `rank_units` of one quantity (default: the cell's usual one)
    of every layer against every feature of the replayed text."""
    from shakespeare_tui.core.inspection.replay import DEFAULT_QUANTITY

    quantity = quantity or DEFAULT_QUANTITY[replay.cell]
    features = text_features(replay.text)

    layers = (replay.blocks(layer, quantity) for layer in range(replay.layers))
    return rank_units(layers, features, top)
