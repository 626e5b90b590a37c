"""The Inspect view's Gates tab: how saturated each gate of a layer is, unit by unit.

A scatter per gate of the fraction of steps a unit's gate is left-saturated (< 0.1) against
right-saturated (> 0.9): Karpathy, Johnson and Fei-Fei's figure (the replay counts it with
core/inspection/saturation.py). A basic RNN has no gates: the tab says so instead of plotting nothing.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static, TabPane
from textual_plotext import PlotextPlot

from shakespeare_tui.core.inspection.saturation import no_gates

GATE_COLOURS = ("red", "green", "blue", "orange")


class GatesTab(TabPane):
    """The saturation plot of one layer of a replay."""

    def compose(self) -> ComposeResult:
        note = Static("", id="saturation-note", classes="form-hint")
        note.display = False  # shown for a cell without gates
        yield note
        yield PlotextPlot(id="saturation")

    def draw(self, replay, layer: int) -> None:
        chart = self.query_one("#saturation", PlotextPlot)
        plt = chart.plt
        plt.clear_data()
        plt.clear_figure()
        reason = no_gates(replay.cell)  # a basic RNN: a line instead of an empty plot
        note = self.query_one("#saturation-note", Static)
        note.update(reason)
        note.display, chart.display = bool(reason), not reason
        if reason:
            return
        for (gate, sat), colour in zip(
            replay.saturation[layer].items(), GATE_COLOURS, strict=False
        ):
            plt.scatter(sat.left.tolist(), sat.right.tolist(), marker="dot", color=colour,
                        label=gate)  # fmt: skip
        plt.xlim(0, 1)
        plt.ylim(0, 1)
        plt.xlabel("left-saturated (< 0.1)")
        plt.ylabel("right (> 0.9)")
        plt.title(f"layer {layer}: gate saturation per unit")
        chart.refresh()
