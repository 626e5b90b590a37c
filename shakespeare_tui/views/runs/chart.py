"""Many runs' curves on one chart: each run's smoothed training loss (a line) and validations
(markers) in the run's own colour, its best point a diamond, a key naming each run above.

The x-axis is the step, the characters trained on, or the wall time; the y-axis linear or
logarithmic, in nats or bits per character. Curves arrive already smoothed and averaged down
(core/runs/curves.py, in the screen's worker); here each is averaged down to a couple of points
per column and plotted, and the built picture is kept until something it shows changes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from rich.text import Text
from textual.color import Color
from textual.reactive import reactive

from shakespeare_tui.core.runs.curves import X_TITLES, RunCurves, downsample
from shakespeare_tui.core.shown_text import shown
from shakespeare_tui.core.units import in_units, unit_name
from shakespeare_tui.widgets.chart_axes import log_loss_ticks, loss_labels, loss_ticks, x_ticks
from shakespeare_tui.widgets.chart_key import KeyedPlot, blank_figure, faint, key_rows, surface

# Tableau 10: told apart by most eyes, and readable on dark and light surfaces alike.
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
           "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")  # fmt: skip
POINTS_PER_COLUMN = 2  # braille holds two dots a column; more than FEW_RUNS runs get one
FEW_RUNS = 3
KEY_ROWS = 2  # at most, above the plot; runs that do not fit are counted
TRAIN_MARKER, VAL_MARKER, BEST_MARKER = "braille", "●", "◆"
CURVES = ("both", "val", "train")  # which curves are drawn
EMPTY = "space selects runs: their curves are drawn here"
OUTLIERS_FROM = 20  # points, below which every point counts in the loss axis's range


def free_colour(taken: Iterable[int]) -> int:
    """The palette index for a newly selected run: the first one no selected run has, else
    the one fewest have (more runs than colours)."""
    taken = list(taken)
    counts = [taken.count(i) for i in range(len(PALETTE))]
    return counts.index(min(counts))


class ChartRun(NamedTuple):
    name: str
    colour: int  # PALETTE index
    curves: RunCurves | None  # None: not read yet


class RunsChart(KeyedPlot):
    """The overlay of the selected runs' curves."""

    x_axis: reactive[str] = reactive("step")
    """What the x-axis counts: "step", "chars" (characters trained on) or "time" (wall time)."""
    log_y: reactive[bool] = reactive(False)
    """A logarithmic loss axis."""
    bits: reactive[bool] = reactive(False)
    """Losses in bits per character instead of nats."""
    curves: reactive[str] = reactive("both")
    """Which curves are drawn: "both", "val" or "train"."""
    fit_all: reactive[bool] = reactive(False)
    """The loss axis spans every point; else, as TensorBoard's default, the highest 5% (the
    first steps of training, far above the rest) are left out of the range."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.runs: tuple[ChartRun, ...] = ()
        self._prepared: dict[str, tuple] = {}  # run name → (what from, its points)

    def show_runs(self, runs: Sequence[ChartRun]) -> None:
        """Draw these runs; a run without curves yet is named in the key only."""
        runs = tuple(runs)
        if runs == self.runs:
            return
        plotted = [r for r in self.runs if r.curves is not None]
        self.runs = runs
        if plotted != [r for r in runs if r.curves is not None]:
            self._changed()
        else:
            self.refresh()  # the key changed, not the plot: only the key is made again

    watch_x_axis = watch_log_y = watch_bits = watch_curves = watch_fit_all = KeyedPlot._changed

    # -- the plot -----------------------------------------------------------------------

    def _series(self, name: str, curves: RunCurves, limit: int) -> tuple:
        """(train xs, train ys, val xs, val ys, best point or None) of run `name` on the current
        axes and units, averaged down to `limit` points (validations thinned to half that:
        each marker is a real evaluation); kept until the run's curves or the axes change."""
        key = (curves, self.x_axis, self.bits, self.log_y, self.curves, limit)
        kept = self._prepared.get(name)
        if kept is not None and kept[0] == key:
            return kept[1]
        axis, bits, log = self.x_axis, self.bits, self.log_y
        scale = in_units(1.0, bits)

        def points(p, draw: bool) -> tuple[list[float], list[float]]:
            xs = p.xs(axis)
            if not draw or xs is None:
                return [], []
            pairs = [(x, y * scale) for x, y in zip(xs, p.loss, strict=True)
                     if math.isfinite(x) and y > 0]  # fmt: skip
            if log:
                pairs = [(x, math.log10(y)) for x, y in pairs]
            return [x for x, _ in pairs], [y for _, y in pairs]

        tx, ty = points(curves.train, self.curves != "val")
        vx, vy = points(curves.val, self.curves != "train")
        every = max(1, math.ceil(len(vx) / max(1, limit // 2)))
        vx, vy = vx[::-1][::every][::-1], vy[::-1][::every][::-1]  # the last one always in
        best = curves.best if self.curves != "train" else None
        spot = None
        if best is not None and best.x(axis) is not None:
            y = best.loss * scale
            spot = (best.x(axis), math.log10(y) if log else y)
        prepared = (downsample(tx, limit), downsample(ty, limit), vx, vy, spot)
        self._prepared[name] = (key, prepared)
        return prepared

    def _draw(self, width: int, rows: int) -> None:
        plt = self.plt
        blank_figure(plt)
        read = [(r.name, r.colour, r.curves) for r in self.runs if r.curves is not None]
        per_column = POINTS_PER_COLUMN if len(read) <= FEW_RUNS else 1
        limit = max(8, (width - 6) * per_column)  # (the y labels take about 6 columns)
        drawn = [
            (PALETTE[colour % len(PALETTE)], *self._series(name, curves, limit))
            for name, colour, curves in read
        ]
        self._prepared = {name: self._prepared[name] for name, _, _ in read}  # forget the others
        ys = [y for d in drawn for part in (d[2], d[4]) for y in part]
        xmax = max((max(part) for d in drawn for part in (d[1], d[3]) if part), default=0.0)
        lo, hi = _span(ys, self.log_y, self.bits, self.fit_all)
        yticks, ylabels = self._y_ticks(lo, hi, rows - 2)
        plt.ylim(lo, hi)
        plt.yticks(yticks, ylabels)
        columns = max(1, width - max(map(len, ylabels), default=3) - 1)
        xticks, xlabels, scale = x_ticks(xmax or 10, columns, self.x_axis)
        top = max(xmax / scale, xticks[-1] if xticks else 1, 1e-9)
        plt.xlim(0, top)
        plt.xticks(xticks, xlabels)
        for colour, tx, ty, vx, vy, _ in drawn:
            rgb = Color.parse(colour).rgb
            if tx:
                plt.plot([x / scale for x in tx], ty, marker=TRAIN_MARKER, color=rgb)
            if vx:
                plt.scatter([x / scale for x in vx], vy, marker=VAL_MARKER, color=rgb)
        for colour, *_, best in drawn:  # over every curve, so none hides a best point
            if best is not None:
                plt.scatter([best[0] / scale], [best[1]], marker=BEST_MARKER,
                            color=Color.parse(colour).rgb)  # fmt: skip
        if not ys:
            note = EMPTY if not self.runs else "reading…" if not drawn else "nothing to draw yet"
            plt.text(note, top / 2, (lo + hi) / 2, color=faint(self.app, 0.6),
                     background=surface(self.app).rgb, alignment="center")  # fmt: skip

    def _y_ticks(self, lo: float, hi: float, rows: int) -> tuple[list[float], list[str]]:
        if self.log_y:
            return log_loss_ticks(lo, hi, rows)
        ticks = loss_ticks(lo, hi, rows)
        return ticks, loss_labels(ticks)

    # -- the key ------------------------------------------------------------------------

    def _key_lines(self, width: int) -> list[Text]:
        """What the axes are, then each run in its colour with its best loss."""
        scale = "log " if self.log_y else ""
        marks = {
            "both": f"⣀ train ({self._weights()})  {VAL_MARKER} val",
            "val": f"{VAL_MARKER} val",
            "train": f"⣀ train ({self._weights()})",
        }
        head = Text(f"{scale}{unit_name(self.bits)} by {X_TITLES[self.x_axis]}  "
                    f"{marks[self.curves]}  {BEST_MARKER} best", style="dim")  # fmt: skip
        items = [self._key_item(run) for run in self.runs]
        return key_rows(head, items, width, KEY_ROWS, surface(self.app))

    def _weights(self) -> str:
        weights = {run.curves.weight for run in self.runs if run.curves is not None}
        return f"smoothed {weights.pop():g}" if len(weights) == 1 else "smoothed"

    def _key_item(self, run: ChartRun) -> Text:
        curves, words = run.curves, [f"━ {shown(run.name)}"]  # (a name from a folder)
        if curves is None:
            words.append("…")
        elif curves.best is not None:
            words.append(f"{in_units(curves.best.loss, self.bits):.3f}")
        elif not len(curves.train) and not len(curves.val):
            words.append("no data yet")
        if curves is not None and curves.train.xs(self.x_axis) is None:
            words.append("(no batch × window)")
        return Text(" ".join(words), style=f"bold {PALETTE[run.colour % len(PALETTE)]}")


def _span(values: list[float], log: bool, bits: bool, fit_all: bool) -> tuple[float, float]:
    """The loss axis's range: the data's (but its top 5% unless `fit_all`; the lowest point
    is always in), widened to at least 0.2 nats (or 0.01 decades in log)."""
    if not values:
        lo, hi = in_units(1.0, bits), in_units(5.0, bits)
        return (0.0, math.log10(hi)) if log else (lo, hi)
    lo, hi = min(values), max(values)
    if not fit_all and len(values) >= OUTLIERS_FROM:
        hi = sorted(values)[int(0.95 * (len(values) - 1))]
    least = 0.01 if log else in_units(0.2, bits)
    pad = max(0.0, least - (hi - lo)) / 2
    return lo - pad, hi + pad
