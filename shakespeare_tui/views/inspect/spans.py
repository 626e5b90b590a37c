"""The Inspect view's span selection (LSTMVis) and gate saturation plot.

A mixin of InspectScreen: mark a span, get the units of the lens's layer that are on over it
and off just before it (core/inspection/spans.py, in a worker), and the other passages where they fire;
and the scatter of each gate's saturation per unit for the lens's layer (core/inspection/saturation.py).
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.widgets import OptionList, Static, TabbedContent
from textual.widgets.option_list import Option
from textual_plotext import PlotextPlot

from shakespeare_tui.core.inspection.saturation import no_gates
from shakespeare_tui.messages import SpansMatched
from shakespeare_tui.views.inspect.next_char import shown
from shakespeare_tui.views.inspect.text_view import InspectText

SPAN_HINT = "m marks a span's start, m again its end"
GATE_COLOURS = ("red", "green", "blue", "orange")


class SpansAndSaturation:
    """Spans and saturation for InspectScreen (which holds `replay`, `_request`, the lens)."""

    def action_mark(self) -> None:
        if self.replay is None:
            return
        view = self.query_one(InspectText)
        t = view.cursor
        if self._mark_start is None:
            self._mark_start = t
            view.set_mark((t, t + 1))
            self._status("span start marked: move to its end and press m again")
            return
        a, b = sorted((self._mark_start, t))
        self._mark_start = None
        view.set_mark((a, b + 1))
        self._status(f"matching the span {a + 1:,}–{b + 1:,}…")
        self._match(self._request, self.replay, self.lens_layer, self.quantity, (a, b + 1))

    @work(thread=True, exclusive=True, group="inspect-spans", exit_on_error=False)
    def _match(self, request: int, result, layer: int, quantity: str, span: tuple[int, int]):
        from shakespeare_tui.core.inspection.spans import active, match_spans, select_units

        on = active(result, layer, quantity)
        units = select_units(on, *span)
        matches = match_spans(on, units, exclude=span)
        self.post_message(SpansMatched(request, span, units.tolist(), matches))

    def on_spans_matched(self, message: SpansMatched) -> None:
        if message.request != self._request or self.replay is None:
            return
        self.matches = message.matches
        text = self.replay.text
        a, b = message.span
        units = message.units
        listed = ", ".join(map(str, units[:12])) + (" …" if len(units) > 12 else "")
        info = Text(f"{len(units)} units on over ", style="")
        info.append(excerpt(text, a, b), style="bold")
        info.append(f" and off before it: {listed or 'none'}\n" if units else
                    " and off before it: none (mark another span)\n")  # fmt: skip
        info.append(f"{len(message.matches)} other passages where they fire", style="dim")
        self.query_one("#span-info", Static).update(info)
        options = self.query_one("#span-matches", OptionList)
        options.clear_options()
        for match in message.matches:
            line = Text(f"{match.start:>6} ", style="dim")
            line.append(excerpt(text, match.start, match.stop), style="bold")
            line.append(f" {match.selected_on}/{match.selected}", style="dim")
            options.add_option(Option(line))
        if message.matches:
            options.highlighted = 0
        self.query_one(TabbedContent).active = "tab-spans"

    def show_match(self, index: int) -> None:
        """Mark the `index`th matching passage and put the cursor on it."""
        if 0 <= index < len(self.matches):
            match = self.matches[index]
            view = self.query_one(InspectText)
            view.set_mark((match.start, match.stop))
            view.move_to(match.start)
            view.focus()

    # -- saturation -------------------------------------------------------------------------

    def _draw_saturation(self) -> None:
        result = self.replay
        if result is None:
            return
        chart = self.query_one("#saturation", PlotextPlot)
        plt = chart.plt
        plt.clear_data()
        plt.clear_figure()
        reason = no_gates(result.cell)  # a basic RNN: a line instead of an empty plot
        note = self.query_one("#saturation-note", Static)
        note.update(reason)
        note.display, chart.display = bool(reason), not reason
        if reason:
            return
        for (gate, sat), colour in zip(
            result.saturation[self.lens_layer].items(), GATE_COLOURS, strict=False
        ):
            plt.scatter(sat.left.tolist(), sat.right.tolist(), marker="dot", color=colour,
                        label=gate)  # fmt: skip
        plt.xlim(0, 1)
        plt.ylim(0, 1)
        plt.xlabel("left-saturated (< 0.1)")
        plt.ylabel("right (> 0.9)")
        plt.title(f"layer {self.lens_layer}: gate saturation per unit")
        chart.refresh()


def excerpt(text: str, start: int, stop: int, limit: int = 24) -> str:
    """A span of `text` for a list: visible spaces and newlines, at most `limit` characters."""
    piece = text[start:stop]
    if len(piece) > limit:
        piece = piece[: limit - 1] + "…"
    return "«" + "".join(shown(c) for c in piece) + "»"
