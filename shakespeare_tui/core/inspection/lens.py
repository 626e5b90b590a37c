"""The neuron lens's scale: a unit's values as positions on a diverging colour scale.

Karpathy colours text by tanh(c), blue for negative and red for positive. Every quantity is
first put on [-1, 1]: tanh(c), h, g and n already are; a sigmoid gate's [0, 1] is stretched
(0.5, its midpoint, becomes 0); raw c is divided by its largest magnitude in the text. Plain
numbers here, so the app and the command line draw the same colours.
"""

from __future__ import annotations

import numpy as np

from shakespeare_tui.core.cells import SIGMOID_GATES

# ColorBrewer's RdBu: its blue end, its neutral middle, its red end.
NEGATIVE = (33, 102, 172)
MIDDLE = (247, 247, 247)
POSITIVE = (178, 24, 43)
LEVELS = 8  # steps per side when values are quantised (17 colours in all)
_SIGMOIDS = {g for gates in SIGMOID_GATES.values() for g in gates}


def to_scale(quantity: str, values: np.ndarray) -> np.ndarray:
    """`values` of `quantity` as float32 in [-1, 1]."""
    values = np.asarray(values, dtype=np.float32)
    if quantity in _SIGMOIDS:
        values = 2.0 * values - 1.0
    elif quantity == "c":
        peak = float(np.abs(values).max()) if values.size else 0.0
        values = values / peak if peak > 0 else values
    return np.clip(values, -1.0, 1.0)


def quantise(scaled: np.ndarray, levels: int = LEVELS) -> np.ndarray:
    """[-1, 1] to whole levels in [-levels, levels] (int8), so runs of a colour can be drawn
    as one span."""
    levelled: np.ndarray = np.rint(np.asarray(scaled) * levels)  # (numpy's stub: Any)
    return levelled.astype(np.int8)


def colour(x: float) -> tuple[int, int, int]:
    """The RGB colour of a position in [-1, 1]: blue, through near-white, to red."""
    x = max(-1.0, min(1.0, float(x)))
    end = POSITIVE if x > 0 else NEGATIVE
    t = abs(x)
    red, green, blue = (round(m + (e - m) * t) for m, e in zip(MIDDLE, end, strict=True))
    return red, green, blue


def ink(x: float) -> tuple[int, int, int]:
    """A readable text colour on `colour(x)`: dark on the light middle, white on the ends."""
    return (255, 255, 255) if abs(x) > 0.55 else (0, 0, 0)
