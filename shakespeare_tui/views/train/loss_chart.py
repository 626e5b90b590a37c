"""The Train view's live loss curve: smoothed training loss per logged step, validation loss per
evaluation.

Evaluations are markers (each one is a single measurement), epoch ends are faint vertical lines
with a tick on the step axis, the key sits on its own line above the plot so it hides no data,
and ticks fall on round values. Points are kept in full but drawn downsampled to a few per
column, and redraws are throttled, so a redraw stays cheap (plotext's cost grows with points)
however long the run.
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

from rich.text import Text
from textual.color import Color
from textual.reactive import reactive
from textual_plotext import PlotextPlot

from shakespeare_tui.core.runs.curves import downsample
from shakespeare_tui.core.units import in_units
from shakespeare_tui.widgets.chart_axes import (
    MAX_TICKS,
    count_label,
    loss_labels,
    loss_ticks,
    nice_steps,
    x_ticks,
)

EMA_WEIGHT = 0.6  # the running value's weight in the training loss's moving average
POINTS_PER_COLUMN = 2
REDRAW_INTERVAL_S = 0.2  # at most 5 redraws a second
MIN_STEPS = 10  # the step axis spans at least 0..MIN_STEPS, so a first point is not alone at -1..1
MIN_LOSS_SPAN = 0.2  # nats: the loss axis of a single point or a flat curve
EMPTY_LOSS = (0.0, 5.0)  # nats: the loss axis before any data (an untrained model is near 4.2)
LINE_GAP = 6  # columns at least between two epoch lines; closer ones are thinned out
TRAIN_MARKER, VAL_MARKER, BEST_MARKER = "braille", "●", "◆"


class ValidationPoint(NamedTuple):
    """One validation loss as the chart marks it."""

    step: float
    loss: float  # nats
    epoch: int  # the epoch it is labelled with (0: the untrained model)
    epoch_end: bool  # it ended an epoch, so the epoch gets a mark on the step axis


# -- pure helpers (unit-tested) ---------------------------------------------------------------


def downsample_points(points: list[tuple[float, float]], limit: int) -> list[tuple[float, float]]:
    """At most `limit` (step, loss) points: the steps and the losses each averaged down by the
    one rule for curves (`core.runs.curves.downsample`), cut at the same places."""
    if limit < 1 or len(points) <= limit:
        return list(points)
    steps = downsample([p[0] for p in points], limit)
    losses = downsample([p[1] for p in points], limit)
    return list(zip(steps, losses, strict=True))


def thinning(gap_columns: float, need: float) -> int:
    """Every how many epochs to mark (1, 2, 5, 10, …) so marks are `need` columns apart."""
    if gap_columns <= 0:
        return 1
    for every in nice_steps(1):
        if every * gap_columns >= need:
            return int(every)
    raise AssertionError("unreachable")  # pragma: no cover


# -- the widget -------------------------------------------------------------------------------


class LossChart(PlotextPlot):
    """Training and validation loss against the step, in nats or bits per character."""

    bits: reactive[bool] = reactive(False)
    """Show bits/char (loss / ln 2) instead of nats/char."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._train: list[tuple[float, float]] = []  # (step, smoothed loss), nats
        self._val: list[ValidationPoint] = []
        self._smoothed: float | None = None
        self._last_draw = 0.0
        self._scheduled = False
        self._key = Text()

    # -- data ------------------------------------------------------------------------------

    def clear(self) -> None:
        self._train, self._val, self._smoothed = [], [], None
        self._schedule()

    def load_history(self, records: tuple[dict, ...] | list[dict]) -> None:
        """Earlier metrics.jsonl records of a resumed run ("step", "epoch" and "eval" kinds).

        An "epoch" record that a budget cut short (`partial`) is an evaluation, not an epoch end;
        an "eval" record ends an epoch only if it says so (`epoch_end`).
        """
        for record in records:
            kind, step = record.get("kind"), record.get("step")
            if not isinstance(step, (int, float)):
                continue
            if kind == "step" and isinstance(record.get("train_loss"), (int, float)):
                self._add_train(step, record["train_loss"])
            elif kind in ("epoch", "eval") and isinstance(record.get("val_loss"), (int, float)):
                end = not record.get("partial") if kind == "epoch" else record.get("epoch_end")
                self._add_eval(step, record["val_loss"], int(record.get("epoch", 0)), bool(end))
        self._schedule()

    def add_step(self, step: int, loss: float) -> None:
        self._add_train(step, loss)
        self._schedule()

    def add_epoch(self, step: int, val_loss: float, epoch: int) -> None:
        """The evaluation that ended `epoch` (epoch 0: the untrained model, before step 1)."""
        self.add_eval(step, val_loss, epoch, epoch_end=True)

    def add_eval(self, step: int, val_loss: float, epoch: int, epoch_end: bool = False) -> None:
        """One validation measurement; `epoch_end` also marks the end of `epoch` on the axis."""
        self._add_eval(step, val_loss, epoch, epoch_end)
        self._schedule()

    @property
    def best(self) -> tuple[float, float, int] | None:
        """(step, loss, epoch) of the lowest validation loss of a trained epoch (1 or later).

        Epoch 0 is the untrained model, drawn for reference but never the best.
        """
        best = self._best()
        return None if best is None else (best.step, best.loss, best.epoch)

    def _best(self) -> ValidationPoint | None:
        trained = [p for p in self._val if p.epoch >= 1]
        return min(trained, key=lambda p: p.loss) if trained else None

    @property
    def point_count(self) -> int:
        return len(self._train) + len(self._val)

    @property
    def epoch_ends(self) -> list[tuple[float, int]]:
        """(step, epoch) of every epoch end so far (the untrained epoch 0 is none)."""
        return [(p.step, p.epoch) for p in self._val if p.epoch_end and p.epoch >= 1]

    def _add_train(self, step: float, loss: float) -> None:
        if not math.isfinite(loss):
            return
        s = self._smoothed
        self._smoothed = loss if s is None else EMA_WEIGHT * s + (1 - EMA_WEIGHT) * loss
        self._train.append((float(step), self._smoothed))

    def _add_eval(self, step: float, loss: float, epoch: int, epoch_end: bool) -> None:
        if math.isfinite(loss):
            self._val.append(ValidationPoint(float(step), float(loss), epoch, epoch_end))

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
        # The series colours come from the theme, so a new theme needs a new figure.
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._schedule())
        self._redraw()

    def render(self) -> Text:
        """The key line, then the plot in the rows below it."""
        # PlotextPlot.render sizes the figure to the whole widget; this keeps a row for the key.
        width, height = self.size.width, max(1, self.size.height - 1)
        self._plot.plotsize(width, height)
        self._plot._set_size(width, height)
        self._plot.theme(self._get_plotext_theme_name(self.app.theme))
        chart = Text("\n").join([self._key, Text.from_ansi(self._plot.build().removesuffix("\n"))])
        chart.no_wrap = True
        return chart

    def _colours(self) -> dict[str, tuple[int, int, int]]:
        theme = self.app.theme_variables
        surface = Color.parse(theme.get("surface", "#1e1e1e"))
        faint = Color.parse(theme.get("foreground", "#e0e0e0")).blend(surface, 0.7)
        pick = {"train": "primary", "val": "accent", "best": "success"}
        colours = {name: Color.parse(theme.get(var, "#888888")).rgb for name, var in pick.items()}
        return {**colours, "faint": faint.rgb, "surface": surface.rgb}

    def _redraw(self) -> None:
        self._scheduled = False
        self._last_draw = time.monotonic()
        scale = in_units(1.0, self.bits)
        colours = self._colours()
        width, rows = self.size.width, max(1, self.size.height - 3)  # key, axis, tick labels
        train = downsample_points(self._train, max(8, width * POINTS_PER_COLUMN))
        train = [(x, y * scale) for x, y in train]
        val = [p._replace(loss=p.loss * scale) for p in self._val]
        best = self._best()

        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.xaxes(True, False)  # no frame above or right of the data: every row is data
        plt.yaxes(True, False)

        lo, hi = self._loss_range([y for _, y in train] + [p.loss for p in val], scale)
        yticks = loss_ticks(lo, hi, rows)
        ylabels = loss_labels(yticks)
        plt.ylim(lo, hi)
        plt.yticks(yticks, ylabels)

        steps = [x for x, _ in train] + [p.step for p in val]
        xmax = max([MIN_STEPS, *steps])
        columns = max(1, width - max(map(len, ylabels)) - 1)
        plt.xlim(0, xmax)
        plt.xticks(*x_ticks(xmax, columns)[:2])

        # Epoch lines first: the data is drawn over them.
        self._draw_epochs(xmax, columns, lo, hi, rows, train, val, colours)
        if train:
            xs, ys = zip(*train, strict=True)
            plt.plot(xs, ys, marker=TRAIN_MARKER, color=colours["train"])
        if val:
            val_xs, val_ys = [p.step for p in val], [p.loss for p in val]
            plt.scatter(val_xs, val_ys, marker=VAL_MARKER, color=colours["val"])
        if best is not None:
            plt.scatter([best.step], [best.loss * scale], marker=BEST_MARKER, color=colours["best"])
        if not train and not val:
            plt.text("no data yet", xmax / 2, (lo + hi) / 2, **_faint_text(colours))
        self._key = self._key_line(width, best, scale, colours)
        self.refresh()

    @staticmethod
    def _loss_range(values: list[float], scale: float) -> tuple[float, float]:
        if not values:
            return EMPTY_LOSS[0] * scale, EMPTY_LOSS[1] * scale
        lo, hi = min(values), max(values)
        pad = max(0.0, MIN_LOSS_SPAN * scale - (hi - lo)) / 2
        return lo - pad, hi + pad

    def _draw_epochs(self, xmax, columns, lo, hi, rows, train, val, colours) -> None:
        """A faint line at each epoch end (thinned when close), named `eN` in the top row
        wherever that row holds no data there."""
        ends = self.epoch_ends
        if not ends:
            return
        per_step = columns / xmax
        # Marks every `every` epochs (1, 2, 5, 10, …), at most MAX_TICKS of them: close lines
        # read as bars, not marks, and each line's colour changes cost the redraw on every row.
        every = 1
        if len(ends) > 1:
            gap = (ends[-1][0] - ends[0][0]) / (len(ends) - 1) * per_step
            need = max(LINE_GAP, len(f"e{ends[-1][1]}") + 2, columns / MAX_TICKS)
            every = thinning(gap, need)
        top = hi - (hi - lo) / max(rows, 1) * 1.5  # a value this high may reach the top row
        for step, epoch in ends:
            if epoch % every:
                continue
            self.plt.vertical_line(step, color=colours["faint"])
            label = f"e{epoch}"
            half = (len(label) / 2 + 1) / per_step  # the label's half-width, in steps
            if not half <= step <= xmax - half or _reaches(train, val, step, half, top):
                continue
            self.plt.text(label, step, hi, **_faint_text(colours))

    def _key_line(self, width: int, best: ValidationPoint | None, scale: float, colours) -> Text:
        """What each mark means, in the longest wording that fits `width` (never wrapped)."""
        unit = "bits/char" if self.bits else "nats/char"
        best_long = best_short = ""
        if best is not None:
            loss = f"{best.loss * scale:.2f}"
            if best.epoch_end:
                best_long, best_short = f"(epoch {best.epoch})", f"e{best.epoch}"
            else:
                best_long, best_short = f"(step {best.step:,.0f})", f"@{count_label(best.step, 1)}"
            best_long, best_short = f"best {loss} {best_long}", f"best {loss} {best_short}"
        variants = (
            (f"{unit}, by step", "train (smoothed)", "validation", best_long, "  "),
            (unit, "train", "validation", best_long, "  "),
            (unit, "train", "val", best_short, "  "),
            (unit.split("/")[0], "train", "val", best_short, " "),
            (unit.split("/")[0], "train", "val", best_short.removeprefix("best "), " "),
        )
        for unit_text, train, val, best_text, gap in variants:
            parts = [(unit_text, "dim"), (f"⣀ {train}", colours["train"])]
            parts.append((f"{VAL_MARKER} {val}", colours["val"]))
            if best_text:
                parts.append((f"{BEST_MARKER} {best_text}", colours["best"]))
            key = Text(gap).join(Text(t, style=_style(c)) for t, c in parts)
            if key.cell_len <= width:
                break
        key.truncate(width, overflow="ellipsis", pad=True)
        key.stylize(f"on {_style(colours['surface'])}")  # one surface with the plot below
        return key


def _style(colour) -> str:
    return colour if isinstance(colour, str) else "rgb({},{},{})".format(*colour)


def _faint_text(colours) -> dict:
    """plotext text options for a note in the plot: faint, on the canvas, centred."""
    return {"color": colours["faint"], "background": colours["surface"], "alignment": "center"}


def _reaches(train, val, step, half, top) -> bool:
    """Whether any drawn data at steps within `half` of `step` is at or above `top`."""
    lo, hi = step - half, step + half
    for (x1, y1), (x2, y2) in zip(train, train[1:], strict=False):
        if x2 >= lo and x1 <= hi and max(y1, y2) >= top:
            return True
    if len(train) == 1 and lo <= train[0][0] <= hi and train[0][1] >= top:
        return True
    return any(lo <= p.step <= hi and p.loss >= top for p in val)
