"""The Inspect view's Gates tab: how saturated each gate of a layer is, unit by unit.

A scatter per gate of the fraction of steps a unit's gate is left-saturated (< 0.1) against
right-saturated (> 0.9): Karpathy, Johnson and Fei-Fei's figure (the replay counts it with
core/inspection/saturation.py). A basic RNN has no gates: the tab says so instead of plotting nothing.
The gates' colours and the y axis are named in a line above the plot: plotext draws its legend
over the top-left corner, where the forget gate's right-saturated units are, and its y label
at the bottom left, where it reads as the x axis's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static, TabPane
from textual_plotext import PlotextPlot

from shakespeare_tui.core.inspection.saturation import no_gates

if TYPE_CHECKING:
    from shakespeare_tui.core.inspection.replay import Replay

GATE_COLOURS = ("red", "green", "blue", "orange")  # plotext's names, which Rich reads too
GATE_NAMES = {"i": "input", "f": "forget", "o": "output", "r": "reset", "z": "update"}
Y_AXIS = "↑ share > 0.9 (right-saturated)"  # of the steps; x: the share < 0.1
X_AXIS = "share < 0.1 (left-saturated) →"


class GatesTab(TabPane):
    """The saturation plot of one layer of a replay. On a short terminal the plot has no title
    (the layer leads the legend instead), so a few more rows of it show."""

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(title, id=id)
        self._drawn: tuple[Replay, int] | None = (
            None  # (replay, layer) of the plot, to draw it on a resize
        )

    def compose(self) -> ComposeResult:
        note = Static("", id="saturation-note", classes="form-hint")
        note.display = False  # shown for a cell without gates
        yield note
        yield Static("", id="saturation-key")
        yield PlotextPlot(id="saturation")

    def on_resize(self) -> None:
        if self._drawn is not None:
            self.draw(*self._drawn)

    def draw(self, replay: Replay, layer: int) -> None:
        self._drawn = (replay, layer)
        chart = self.query_one("#saturation", PlotextPlot)
        plt = chart.plt
        plt.clear_data()
        plt.clear_figure()
        reason = no_gates(replay.cell)  # a basic RNN: a line instead of an empty plot
        note = self.query_one("#saturation-note", Static)
        note.update(reason)
        key = self.query_one("#saturation-key", Static)
        note.display, chart.display, key.display = bool(reason), not reason, not reason
        if reason:
            return
        short = self.screen.has_class("-short")
        legend = Text(f"L{layer} " if short else "")
        for (gate, sat), colour in zip(
            replay.saturation[layer].items(), GATE_COLOURS, strict=False
        ):
            plt.scatter(sat.left.tolist(), sat.right.tolist(), marker="dot", color=colour)
            legend.append("● ", style=colour).append(f"{gate} {GATE_NAMES.get(gate, '')}  ")
        legend.rstrip()
        key.update(Text.assemble(legend, "\n", (Y_AXIS, "dim")))
        plt.xlim(0, 1)
        plt.ylim(0, 1)
        plt.xlabel(X_AXIS)
        if not short:
            plt.title(f"layer {layer}: gate saturation per unit")
        chart.refresh()
