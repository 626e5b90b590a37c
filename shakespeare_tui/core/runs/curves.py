"""A run's curves as a chart of many runs draws them: the training loss smoothed as TensorBoard
does (core/runs/smoothing.py), every validation, and the best one, each against the step, the
characters trained on and the wall time.

A long run has tens of thousands of step records; a chart column holds a couple of points. So
the smoothed curve (smoothed whole, then) is averaged down to at most `limit` points here, off
the UI thread, and the chart averages that down to its width when it draws.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from shakespeare_tui.core.runs.metrics_tail import Series
from shakespeare_tui.core.runs.smoothing import smooth

X_AXES = ("step", "chars", "time")  # what a chart can put on its x-axis
X_TITLES = {"step": "step", "chars": "characters seen", "time": "wall time"}
SMOOTHING_WEIGHTS = (0.0, 0.6, 0.8, 0.9, 0.95, 0.99)  # the chart's control, TensorBoard's range
MAX_POINTS = 1000  # per curve, before the chart averages it down to its width


@dataclass(frozen=True)
class Points:
    """A curve: for each point its step, characters seen (None for the whole curve when the
    run's batch and window are unknown), wall time in seconds (NaN where not recorded), and
    loss in nats per character."""

    step: tuple[float, ...] = ()
    chars: tuple[float, ...] | None = None
    time: tuple[float, ...] = ()
    loss: tuple[float, ...] = ()

    def __len__(self) -> int:
        return len(self.loss)

    def xs(self, axis: str) -> tuple[float, ...] | None:
        """The x values on `axis` ("step", "chars" or "time"); None where the run cannot say."""
        return {"step": self.step, "chars": self.chars, "time": self.time}[axis]


class Best(NamedTuple):
    """The evaluation with the best validation loss: where to mark it."""

    step: float
    chars: float | None
    time: float  # NaN if not recorded
    loss: float  # nats

    def x(self, axis: str) -> float | None:
        value = {"step": self.step, "chars": self.chars, "time": self.time}[axis]
        return None if value is None or not math.isfinite(value) else value


@dataclass(frozen=True)
class RunCurves:
    train: Points  # the smoothed training loss, averaged down to at most `limit` points
    val: Points  # each validation (averaged down only past `limit` of them)
    best: Best | None
    weight: float  # the smoothing weight the training curve was made with
    steps: int  # step records read: a curve made from more of the file is newer


def run_curves(
    series: Series, weight: float, best_step: int | None = None, limit: int = MAX_POINTS
) -> RunCurves:
    """The curves of `series`, the training loss smoothed with `weight`; the best point is the
    evaluation at `best_step` (the table's: RunProgress decides what counts as best), lowest
    if several evaluations share that step."""
    per_step = series.chars_per_step
    losses = series.train_loss
    keep = [i for i, loss in enumerate(losses) if math.isfinite(loss)]
    steps = [float(series.steps[i]) for i in keep]
    train = _points(
        steps,
        [float(series.elapsed_s[i]) for i in keep],
        smooth([losses[i] for i in keep], weight),
        per_step,
        limit,
    )
    val = _points(
        [float(s) for s in series.eval_steps],
        list(series.eval_elapsed_s),
        list(series.val_loss),
        per_step,
        limit,
    )
    best = None
    if best_step is not None:
        found = [i for i, s in enumerate(series.eval_steps) if s == best_step]
        if found:
            i = min(found, key=lambda i: series.val_loss[i])
            chars = float(best_step * per_step) if per_step else None
            best = Best(float(best_step), chars, series.eval_elapsed_s[i], series.val_loss[i])
    return RunCurves(train, val, best, weight, len(series.steps))


def _points(
    steps: Sequence[float],
    times: Sequence[float],
    losses: Sequence[float],
    per_step: int | None,
    limit: int,
) -> Points:
    steps, times, losses = (downsample(v, limit) for v in (steps, times, losses))
    chars = tuple(s * per_step for s in steps) if per_step else None
    return Points(tuple(steps), chars, tuple(times), tuple(losses))


def downsample(values: Sequence[float], limit: int) -> list[float]:
    """At most `limit` values: the mean of each of `limit` equal runs of consecutive values
    (NaNs left out of a mean; a run of NaNs only is NaN). Two sequences of one length are cut
    at the same places, so their i-th values still belong together."""
    n = len(values)
    if limit < 1 or n <= limit:
        return list(values)
    out = []
    size = n / limit
    for i in range(limit):
        start = int(i * size)
        chunk = values[start : max(int((i + 1) * size), start + 1)]
        finite = [v for v in chunk if math.isfinite(v)]
        out.append(sum(finite) / len(finite) if finite else math.nan)
    return out
