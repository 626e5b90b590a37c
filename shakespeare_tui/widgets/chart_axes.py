"""The axes of the app's two charts (the Train view's live loss, the Runs view's overlay): round
ticks, and labels short enough to sit side by side under a terminal-wide plot.

Ticks fall on 1, 2 or 5 × 10^k; a loss axis keeps a blank row between two labels; an x-axis
writes `1.5k`, `20M`, `3G` (or `30s`, `1.5h` for wall time) and takes fewer ticks when their
labels would touch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

MAX_TICKS = 10  # on either axis: more reads as a ruler, not as a scale
X_AXIS_UNITS = {"step": "whole", "chars": "whole", "time": "seconds"}  # what each x-axis counts


def nice_steps(smallest: float) -> Iterator[float]:
    """1, 2, 5 × 10^k from the one at or below `smallest` upwards, forever."""
    k = math.floor(math.log10(smallest)) if smallest > 0 else 0
    while True:
        for m in (1, 2, 5):
            yield m * 10.0**k
        k += 1


def nice_ticks(lo: float, hi: float, min_step: float) -> list[float]:
    """The multiples of the smallest 1-2-5 step at least `min_step` that lie in [lo, hi]."""
    step = next(s for s in nice_steps(min_step) if s >= min_step * (1 - 1e-9))
    first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    return [round(i * step, 12) for i in range(first, last + 1)]


# -- the loss axis --------------------------------------------------------------------------


def loss_ticks(lo: float, hi: float, rows: int) -> list[float]:
    """Round loss ticks at least two rows apart (so a blank row parts any two labels), at most
    MAX_TICKS of them."""
    span = hi - lo
    if span <= 0:
        return [lo]
    ticks = nice_ticks(lo, hi, max(2 * span / max(1, rows - 1), span / MAX_TICKS))
    if ticks:
        return ticks
    # A step too coarse for any tick inside: one round value near the middle, finer-grained.
    middle = (lo + hi) / 2
    step = next(s for s in nice_steps(span) if s >= span * (1 - 1e-9)) / 10
    return [round(round(middle / step) * step, 12)]


def loss_labels(ticks: list[float]) -> list[str]:
    """`2.0 2.5 3.0`: one decimal at least, more only where the step needs it."""
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    digits = max(1, _decimals(step))
    return [f"{t:.{digits}f}" for t in ticks]


def log_loss_ticks(lo: float, hi: float, rows: int) -> tuple[list[float], list[str]]:
    """(ticks, labels) of a logarithmic loss axis from 10**lo to 10**hi: round losses, placed
    at their logarithms, two rows apart at least."""
    real_lo, real_hi = 10**lo, 10**hi
    values = loss_ticks(real_lo, real_hi, max(2, rows))
    for extra in (x * 10.0**k for k in range(-2, 3) for x in (1, 2, 3, 5)):
        if real_lo <= extra <= real_hi and len(values) < 3:
            values = sorted({*values, extra})
    placed, last = [], -math.inf
    gap = 2 * (hi - lo) / max(1, rows)
    for v in values:
        if math.log10(v) - last >= gap:
            placed.append(v)
            last = math.log10(v)
    labels = loss_labels(placed) if len(placed) > 1 else [f"{v:g}" for v in placed]
    return [math.log10(v) for v in placed], labels


# -- the x-axis -----------------------------------------------------------------------------


def count_label(value: float, step: float, suffix: str = "") -> str:
    """A tick `step` apart from the next, written short: `800`, `1.5k`, `20M`, `3G` (as many
    decimals as the step needs); with a unit `suffix` (time), `30s`, `1.5h`."""
    for unit, letter in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= unit and not suffix:
            return _trim(f"{value / unit:.{_decimals(step / unit)}f}") + letter
    return _trim(f"{value:.{_decimals(step)}f}") + suffix


def x_ticks(xmax: float, columns: int, axis: str = "step") -> tuple[list[float], list[str], float]:
    """(ticks, labels, scale) for an x-axis from 0 to `xmax` counting `axis` ("step", "chars"
    or "time"): values are divided by `scale` before plotting (wall time in s, min or h), the
    ticks of a count are whole, and the labels fit `columns` with room between them."""
    scale, suffix = 1.0, ""
    if X_AXIS_UNITS[axis] == "seconds":
        scale, suffix = next((s, u) for s, u in ((1, "s"), (60, "m"), (3600, "h"))
                             if xmax / s < 120 or u == "h")  # fmt: skip
    top = max(xmax / scale, 1e-9)
    for step in nice_steps(top / MAX_TICKS):
        if X_AXIS_UNITS[axis] == "whole" and step < 1:
            continue  # steps and characters are whole numbers
        ticks = nice_ticks(0, top, step)
        labels = [count_label(t, step, suffix) for t in ticks]
        if len(ticks) <= MAX_TICKS and len(ticks) * (max(map(len, labels)) + 3) <= columns:
            return ticks, labels, scale
        if len(ticks) <= 2:
            return ticks[:1], labels[:1], scale
    raise AssertionError("unreachable")  # pragma: no cover


def _decimals(step: float) -> int:
    return max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 0


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text
