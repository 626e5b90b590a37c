"""The Runs view's selection and chart keys: which runs the chart overlays (each in a colour
of its own while it stays selected), and how it draws them — smoothing, x-axis, log scale,
units, which curves, the loss axis's range — with the line under the chart saying so."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from shakespeare_tui.core.runs.curves import SMOOTHING_WEIGHTS, X_AXES, X_TITLES
from shakespeare_tui.views.runs.chart import CURVES, ChartRun, RunsChart, free_colour

TOP = 10  # runs `a` selects
CURVE_NAMES = {"both": "train+val", "val": "val only", "train": "train only"}


class ChartKeys:
    """A mixin of RunsScreen (which has `selected`, `curves`, `shown`, `settings`)."""

    def _select(self, names: list[str], on: bool) -> None:
        for name in names:
            if on and name not in self.selected:
                self.selected[name] = free_colour(self.selected.values())
            elif not on:
                self.selected.pop(name, None)
                self.curves.pop(name, None)
        self._show_rows()
        self._show_controls()
        # The table's marks answer the key in this frame; the chart (a plot of ten runs is
        # tens of milliseconds) and the worker (it reads a newly selected run's file whole,
        # sharing the GIL) come after it.
        self.call_after_refresh(self._show_chart)
        self.call_after_refresh(self._request_refresh)

    def action_toggle_select(self) -> None:
        row = self.highlighted
        if row is None:
            return
        if row.path is None:
            self._tell("the bundled checkpoint has no training history to draw", "warning")
            return
        self._select([row.name], row.name not in self.selected)

    def action_select_top(self) -> None:
        self._select([r.name for r in self.shown if r.path is not None][:TOP], True)

    def action_clear_selection(self) -> None:
        self._select(list(self.selected), False)

    def _show_chart(self) -> None:
        runs = [ChartRun(n, c, self.curves.get(n)) for n, c in self.selected.items()]
        self.query_one(RunsChart).show_runs(runs)
        self._show_controls()

    def _show_controls(self) -> None:
        """The chart's settings, each after its key; shorter words under 100 columns."""
        chart, narrow = self.query_one(RunsChart), self.size.width < 100
        fit = ("fit all" if chart.fit_all else "fit 95%") if narrow else (
            "all points" if chart.fit_all else "top 5% out")  # fmt: skip
        curves = chart.curves if narrow else CURVE_NAMES[chart.curves]
        parts = [("[ ]", f"{'smooth' if narrow else 'smoothing'} {self.settings.smoothing:g}"),
                 ("x", chart.x_axis if narrow else X_TITLES[chart.x_axis]),
                 ("l", "log" if chart.log_y else "linear"), ("z", fit),
                 ("b", "bits" if chart.bits else "nats"), ("v", curves)]  # fmt: skip
        text = Text()
        for key, value in parts:
            text.append(f"{key} ", style="bold")
            text.append(value + ("  " if narrow else "   "))
        n = len(self.selected)
        text.append(f"{n} selected" if n else "space selects runs to compare", style="dim")
        self.query_one("#runs-controls", Static).update(text, layout=False)

    def action_smoothing(self, direction: int) -> None:
        weights = SMOOTHING_WEIGHTS
        now = min(range(len(weights)), key=lambda i: abs(weights[i] - self.settings.smoothing))
        self.settings.smoothing = weights[max(0, min(len(weights) - 1, now + direction))]
        self._show_controls()
        self.call_after_refresh(self._request_refresh)  # the worker smooths the curves again

    def action_next_x_axis(self) -> None:
        chart = self.query_one(RunsChart)
        chart.x_axis = self.settings.x_axis = X_AXES[(X_AXES.index(chart.x_axis) + 1) % 3]
        self._show_controls()

    def action_toggle_log(self) -> None:
        chart = self.query_one(RunsChart)
        chart.log_y = self.settings.log_y = not chart.log_y
        self._show_controls()

    def action_toggle_fit(self) -> None:
        chart = self.query_one(RunsChart)
        chart.fit_all = not chart.fit_all
        self._show_controls()

    def action_toggle_bits(self) -> None:
        chart = self.query_one(RunsChart)
        chart.bits = not chart.bits
        self._show_controls()
        self._show_panel()

    def action_next_curves(self) -> None:
        chart = self.query_one(RunsChart)
        chart.curves = CURVES[(CURVES.index(chart.curves) + 1) % len(CURVES)]
        self._show_controls()
