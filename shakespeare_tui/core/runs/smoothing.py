"""Smoothing a noisy training curve as TensorBoard's scalar dashboard does.

An exponential moving average started at 0 and divided by 1 - w**n (n: the finite values so
far), which removes the pull towards 0 at the start, so the first smoothed point is the first
value. A value that is NaN or infinite is passed through and not counted; a constant series is
returned as it is (TensorBoard does both: #786, floating-point drift on flat lines).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

MAX_WEIGHT = 0.999  # TensorBoard's slider stops here; at 1 the average would never move


def smooth(values: Iterable[float], weight: float) -> list[float]:
    """`values` smoothed with `weight` in [0, 1] (0: as they are; out of range: clamped)."""
    values = list(values)
    if not values or all(v == values[0] for v in values):
        return values
    weight = min(max(weight, 0.0), 1.0) if math.isfinite(weight) else 0.0
    last, counted, out = 0.0, 0, []
    for value in values:
        if not math.isfinite(value):
            out.append(value)
            continue
        last = last * weight + (1 - weight) * value
        counted += 1
        debias = 1.0 if weight == 1 else 1 - weight**counted
        out.append(last / debias)
    return out
