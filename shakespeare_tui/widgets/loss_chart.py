"""The live loss curve: smoothed training loss per logged step, validation loss per epoch.

Points are kept in full but drawn downsampled to a few per column, and redraws are throttled,
so a redraw stays cheap (plotext's cost grows with points) however long the run.
"""

from __future__ import annotations

import math
import time

from textual.reactive import reactive
from textual_plotext import PlotextPlot

LN2 = math.log(2)
SMOOTHING = 0.6  # weight of the running value in the training-loss moving average
POINTS_PER_COLUMN = 2
REDRAW_INTERVAL_S = 0.2  # at most 5 redraws a second


def downsample(points: list[tuple[float, float]], limit: int) -> list[tuple[float, float]]:
    """At most `limit` points: the mean of each of `limit` equal runs of consecutive points."""
    if limit < 1 or len(points) <= limit:
        return list(points)
    out = []
    size = len(points) / limit
    for i in range(limit):
        chunk = points[int(i * size) : max(int((i + 1) * size), int(i * size) + 1)]
        out.append((sum(p[0] for p in chunk) / len(chunk), sum(p[1] for p in chunk) / len(chunk)))
    return out


class LossChart(PlotextPlot):
    """Training and validation loss against the step, in nats or bits per character."""

    bits: reactive[bool] = reactive(False)
    """Show bits/char (loss / ln 2) instead of nats/char."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._train: list[tuple[float, float]] = []  # (step, smoothed loss), nats
        self._val: list[tuple[float, float, int]] = []  # (step, loss, epoch), nats
        self._smoothed: float | None = None
        self._last_draw = 0.0
        self._scheduled = False

    # -- data ------------------------------------------------------------------------------

    def clear(self) -> None:
        self._train, self._val, self._smoothed = [], [], None
        self._schedule()

    def load_history(self, records: tuple[dict, ...] | list[dict]) -> None:
        """Earlier metrics.jsonl records of a resumed run ("step" and "epoch" kinds)."""
        for record in records:
            kind, step = record.get("kind"), record.get("step")
            if not isinstance(step, (int, float)):
                continue
            if kind == "step" and isinstance(record.get("train_loss"), (int, float)):
                self._add_train(step, record["train_loss"])
            elif kind == "epoch" and isinstance(record.get("val_loss"), (int, float)):
                self._val.append((step, float(record["val_loss"]), int(record.get("epoch", 0))))
        self._schedule()

    def add_step(self, step: int, loss: float) -> None:
        self._add_train(step, loss)
        self._schedule()

    def add_epoch(self, step: int, val_loss: float, epoch: int) -> None:
        self._val.append((step, val_loss, epoch))
        self._schedule()

    @property
    def best(self) -> tuple[float, float, int] | None:
        """(step, loss, epoch) of the lowest validation loss of a trained epoch (1 or later).

        Epoch 0 is the untrained model, drawn for reference but never the best.
        """
        trained = [p for p in self._val if p[2] >= 1]
        return min(trained, key=lambda p: p[1]) if trained else None

    @property
    def point_count(self) -> int:
        return len(self._train) + len(self._val)

    def _add_train(self, step: float, loss: float) -> None:
        if not math.isfinite(loss):
            return
        s = self._smoothed
        self._smoothed = loss if s is None else SMOOTHING * s + (1 - SMOOTHING) * loss
        self._train.append((float(step), self._smoothed))

    # -- drawing ---------------------------------------------------------------------------

    def watch_bits(self) -> None:
        self._schedule()

    def on_resize(self) -> None:
        self._schedule()

    def _schedule(self) -> None:
        """Redraw soon, at most every REDRAW_INTERVAL_S."""
        if self._scheduled or not self.is_mounted:
            return
        self._scheduled = True
        wait = max(0.01, REDRAW_INTERVAL_S - (time.monotonic() - self._last_draw))
        self.set_timer(wait, self._redraw)

    def on_mount(self) -> None:
        super().on_mount()
        self._redraw()

    def _redraw(self) -> None:
        self._scheduled = False
        self._last_draw = time.monotonic()
        scale = 1 / LN2 if self.bits else 1.0
        unit = "bits/char" if self.bits else "nats/char"
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("loss")
        plt.xlabel("step")
        plt.ylabel(unit)
        limit = max(8, self.size.width * POINTS_PER_COLUMN)
        train = downsample(self._train, limit)
        if train:
            plt.plot(
                [p[0] for p in train],
                [p[1] * scale for p in train],
                label="train (smoothed)",
                marker="braille",
            )
        if self._val:
            steps = [p[0] for p in self._val]
            plt.plot(
                steps,
                [p[1] * scale for p in self._val],
                label="validation",
                marker="dot",
            )
            best = self.best
            if best is not None:
                plt.scatter(
                    [best[0]], [best[1] * scale], label=f"best (epoch {best[2]})", marker="◆"
                )
        if not train and not self._val:
            plt.xlim(0, 1)
            plt.ylim(0, 1)
        self.refresh()
