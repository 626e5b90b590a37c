"""The Memory tab's heat: how much the prediction at the cursor depends on each character
before it, drawn as the text's background (Madsen 2019's connectivity,
core/inspection/memory/connectivity.py).

A prediction's gradient norms span many powers of ten, so a character's colour is the
logarithm of its norm relative to the largest of that prediction: the brightest is the
character the prediction depends on most, and the darkest is `DECADES` powers of ten below it,
or less (not at all, as far as the eye can tell). Each prediction is scaled to its own largest,
so a prediction that depends on little shows where it looks, not how much. Characters after the
cursor, and more than the probe's span before it, keep the text's own background.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from rich.style import Style
from rich.text import Text

from shakespeare_tui.views.inspect.next_char import shown

DECADES = 4  # powers of ten from the brightest colour down to the darkest
# Dark to bright: matplotlib's "inferno" at nine points, near black through purple and red to
# pale yellow, which reads as "more" from dark to bright on a dark or a light theme.
HEAT_COLOURS = ("#0d0829", "#2c0b57", "#56106e", "#7f1e6c", "#a82e5f",
                "#cf4446", "#ed6925", "#fb9b06", "#f6d746")  # fmt: skip
LEVELS = len(HEAT_COLOURS)
_INK = ("#d8d8d8",) * 5 + ("#000000",) * 4  # light on the dark colours, dark on the bright
# Index 0: no heat (after the cursor, or beyond the span); 1 … LEVELS: dark to bright.
HEAT_STYLES = (Style(),) + tuple(
    Style(color=ink, bgcolor=colour) for ink, colour in zip(_INK, HEAT_COLOURS, strict=True)
)


def levels(grads: Sequence[float]) -> np.ndarray:
    """Each gradient norm's colour, 1 (dark: DECADES powers of ten below the largest, or less)
    to LEVELS (bright: the largest), on a log scale; int8."""
    values = np.asarray(grads, dtype=np.float64)
    if not len(values):
        return np.zeros(0, np.int8)
    top = float(values.max())
    if not top > 0 or not math.isfinite(top):
        return np.ones(len(values), np.int8)
    with np.errstate(divide="ignore"):
        below = np.log10(np.maximum(values, 0.0) / top)  # 0 at the largest, −inf at 0
    scaled = np.clip(1.0 + below / DECADES, 0.0, 1.0)  # 1 at the largest, 0 DECADES below
    return (1 + np.rint(scaled * (LEVELS - 1))).astype(np.int8)


def heat_shades(length: int, position: int, grads: Sequence[float]) -> np.ndarray:
    """A shade per character of a text of `length` (an index into HEAT_STYLES) for the
    prediction of the character at `position`: grads[k − 1] is how much it depends on the
    character k back (those before the text, in its context, are not drawn)."""
    shades = np.zeros(length, np.int8)
    colours = levels(grads)
    ks = np.arange(1, len(colours) + 1)
    at = position - ks
    inside = (at >= 0) & (at < length)
    shades[at[inside]] = colours[inside]
    return shades


def colour_bar() -> Text:
    """The colours from dark to bright, one cell each."""
    return Text.assemble(*((" ", Style(bgcolor=c)) for c in HEAT_COLOURS))


def legend(char: str) -> Text:
    """What the colours mean, in a sentence with the colour bar in it (the Memory tab's)."""
    return Text.assemble(
        f"How much the prediction of {shown(char)!r} at the cursor depends on each character "
        "before it: dark = not at all ",
        colour_bar(),
        " bright = most; log scale",
    )


def subtitle(narrow: bool = False) -> str:
    """The colour bar with its ends named, in markup, for the text's border."""
    bar = "".join(f"[on {c}] [/]" for c in HEAT_COLOURS)
    if narrow:
        return f"depends on: none {bar} most"
    return f"the cursor's prediction depends on: none {bar} most (log)"
