"""The axes of the app's charts (the Train view's live loss, the Runs view's overlays, the
Inspect view's memory charts): round ticks, and labels short enough to sit side by side under a
terminal-wide plot.

Ticks fall on 1, 2 or 5 × 10^k; a loss axis keeps a blank row between two labels; an x-axis
writes `1.5k`, `20M`, `3G` (or `30s`, `1.5h` for wall time) and takes fewer ticks when their
labels would touch. The memory charts' axes are logarithmic: characters back on powers of two
(1, 2, 4 … 512), gradients on powers of ten (1, 10⁻¹, 10⁻² …).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

MAX_TICKS = 10  # on either axis: more reads as a ruler, not as a scale
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
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


# -- logarithmic axes (the memory charts) -----------------------------------------------------


def power_ticks(lo: float, hi: float, columns: int, first: int = 0) -> list[int]:
    """Powers of two 2**first … within [2**lo, 2**hi] whose labels fit `columns` cells: every
    one, every other, or every fourth, with at least two blanks between labels."""
    powers = [p for p in range(first, math.floor(hi + 1e-9) + 1) if p >= lo - 1e-9]
    span = max(hi - lo, 1e-9)
    for every in (1, 2, 3, 4, 5):
        picked = powers[::every]
        step = every * (columns - 1) / span  # cells between two picked ticks
        if step >= max((len(str(2**p)) for p in picked), default=1) + 2:
            return picked
    return powers[:1]


def decade_ticks(lo: float, hi: float, rows: int) -> tuple[list[float], list[str]]:
    """Whole powers of ten in [10**lo, 10**hi], at least two rows apart: (log10s, labels)."""
    powers = list(range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1))
    if not powers:
        powers = [round((lo + hi) / 2)]
    every = 1
    while len(powers[::every]) > max(1, rows // 2):
        every += 1
    picked = powers[::-1][::every][::-1]  # the top power always in
    return [float(p) for p in picked], [power_of_ten(p) for p in picked]


def power_of_ten(p: int) -> str:
    """10**p as a label: `1`, `10`, `10⁻³`."""
    return {0: "1", 1: "10"}.get(p, f"10{str(p).translate(SUPERSCRIPT)}")


def _decimals(step: float) -> int:
    return max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 0


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text
