"""The Memory tab's two charts of a checkpoint's memory (core/inspection/memory/report.py).

- `ContextChart`: the context curve, the loss when the model reads only the last k characters
  against k on a log2 axis (1, 2, 4, … 512), "all" (the whole text before each target) at the
  right end and as a faint line across, and the n-gram baseline with 1 … 8 characters of
  context on the same axis (its 0 is off a log axis; the words beside the chart give it).
- `ConnectivityChart`: the mean connectivity against distance, log-log, and the prediction at
  the cursor's own when the heat has one.

Each chart keeps what it shows and draws it again for its size (ticks that fit, labels that
never touch). The key above each says what the lines and the axes are: plotext draws its
legend over the data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual_plotext import PlotextPlot

from shakespeare_tui.widgets.chart_axes import decade_ticks, loss_labels, loss_ticks, power_ticks
from shakespeare_tui.widgets.chart_key import blank_figure

if TYPE_CHECKING:
    from shakespeare_tui.core.inspection.memory.connectivity import ConnectivityCurve
    from shakespeare_tui.core.inspection.memory.context import ContextCurve
    from shakespeare_tui.core.inspection.memory.ngram import NgramCurve

MODEL_COLOUR = (86, 180, 233)  # sky blue: the checkpoint
NGRAM_COLOUR = (230, 159, 0)  # orange: the counting baseline
CURSOR_COLOUR = (246, 215, 70)  # the heat's brightest: the prediction at the cursor
FAINT_COLOUR = (128, 128, 128)  # the "all" line
ALL_GAP = 1.0  # log2 units between k = 512 and "all" on the x axis


def _rgb(colour: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)


class ContextChart(PlotextPlot):
    """Loss against the characters read (log2), with "all" and the n-gram baseline."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.curve: ContextCurve | None = None
        self.ngram: NgramCurve | None = None
        self.cell = ""

    def show(self, curve: ContextCurve | None, ngram: NgramCurve | None, cell: str) -> None:
        self.curve, self.ngram, self.cell = curve, ngram, cell
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def key(self) -> Text:
        """What the lines and the axes are."""
        text = Text()
        text.append("━ ", style=_rgb(MODEL_COLOUR)).append(self.cell.upper() or "model")
        if self.ngram is not None:
            text.append("  ━ ", style=_rgb(NGRAM_COLOUR)).append("n-gram")
        text.append("  ┄ ", style=_rgb(FAINT_COLOUR)).append("all")
        text.append("\n↑ nats/char · characters read →", style="dim")
        return text

    def _draw(self) -> None:
        plt = self.plt
        blank_figure(plt)
        curve = self.curve
        width, rows = self.size.width, max(2, self.size.height - 2)
        if curve is None or not curve.contexts or width < 8:
            self.refresh()
            return
        xs = [math.log2(k) for k in curve.contexts]
        x_all = xs[-1] + ALL_GAP
        ngram = [(math.log2(c), x) for c, x in zip(self.ngram.contexts, self.ngram.loss,
                                                   strict=True) if c > 0] if self.ngram else []  # fmt: skip
        ys = [*curve.loss, curve.loss_all, *(y for _, y in ngram)]
        lo, hi = min(ys), max(ys)
        pad = max(0.05, (hi - lo) * 0.05)
        lo, hi = lo - pad, hi + pad
        yticks = loss_ticks(lo, hi, rows)
        ylabels = loss_labels(yticks)
        plt.ylim(lo, hi)
        plt.yticks(yticks, ylabels)
        columns = width - max(map(len, ylabels)) - 1
        plt.xlim(xs[0], x_all)
        ticks = power_ticks(xs[0], xs[-1], columns - 4)  # room for "all" at the end
        plt.xticks([float(p) for p in ticks] + [x_all], [str(2**p) for p in ticks] + ["all"])
        plt.horizontal_line(curve.loss_all, color=FAINT_COLOUR)
        if ngram:
            plt.plot([x for x, _ in ngram], [y for _, y in ngram], marker="braille",
                     color=NGRAM_COLOUR)  # fmt: skip
        plt.plot(xs, list(curve.loss), marker="braille", color=MODEL_COLOUR)
        plt.scatter(xs, list(curve.loss), marker="•", color=MODEL_COLOUR)
        plt.scatter([x_all], [curve.loss_all], marker="•", color=MODEL_COLOUR)
        self.refresh()


class ConnectivityChart(PlotextPlot):
    """The mean connectivity against distance (log-log), and the cursor's prediction's."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.curve: ConnectivityCurve | None = None
        self.at_cursor: tuple[float, ...] = ()  # the prediction at the cursor, k = 1 …

    def show(self, curve: ConnectivityCurve | None) -> None:
        self.curve = curve
        self._draw()

    def show_cursor(self, grads: tuple[float, ...]) -> None:
        self.at_cursor = grads
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def key(self) -> Text:
        text = Text()
        if self.curve is not None:
            text.append("━ ", style=_rgb(MODEL_COLOUR))
            text.append(f"mean of {self.curve.targets}  ")
        text.append("━ ", style=_rgb(CURSOR_COLOUR)).append("at the cursor")
        text.append("\n↑ gradient · characters back →", style="dim")
        return text

    def _draw(self) -> None:
        plt = self.plt
        blank_figure(plt)
        width, rows = self.size.width, max(2, self.size.height - 2)
        series = [
            (self._points(grads), colour)
            for grads, colour in (
                (self.curve.grad if self.curve is not None else (), MODEL_COLOUR),
                (self.at_cursor, CURSOR_COLOUR),
            )
        ]
        series = [(points, colour) for points, colour in series if points]
        if not series or width < 8:
            self.refresh()
            return
        xs = [x for points, _ in series for x, _ in points]
        ys = [y for points, _ in series for _, y in points]
        lo, hi = min(ys), max(ys)
        lo, hi = (lo - 0.5, hi + 0.5) if hi - lo < 1 else (lo, hi)
        yticks, ylabels = decade_ticks(lo, hi, rows)
        plt.ylim(lo, hi)
        plt.yticks(yticks, ylabels)
        columns = width - max(map(len, ylabels)) - 1
        right = max(*xs, 2.0)  # a prediction near the text's start has few characters back
        plt.xlim(0, right)
        ticks = power_ticks(0, right, columns, first=0)
        plt.xticks([float(p) for p in ticks], [str(2**p) for p in ticks])
        for points, colour in series:
            plt.plot([x for x, _ in points], [y for _, y in points], marker="braille",
                     color=colour)  # fmt: skip
        self.refresh()

    @staticmethod
    def _points(grads: Sequence[float]) -> list[tuple[float, float]]:
        """(log2 k, log10 grad) for k = 1 …, where the gradient is above zero."""
        return [(math.log2(k), math.log10(g)) for k, g in enumerate(grads, start=1) if g > 0]
