"""The Inspect view's Spans tab: LSTMVis's selection over a marked span.

`match` takes a span of the text, finds the units of the lens's layer that are on over it and
off just before it, and the other passages where they fire (core/inspection/spans.py, in a
worker); the tab lists them. Enter on a passage posts `SpanTab.MatchChosen` (the text view marks
it); a new answer posts `SpanTab.Matched` (the screen brings the tab forward).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import OptionList, Static, TabPane
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from shakespeare_tui.core.errors import one_line
from shakespeare_tui.core.inspection.spans import SpanMatch, active, match_spans, select_units
from shakespeare_tui.messages import SpansMatched
from shakespeare_tui.views.inspect.next_char import shown
from shakespeare_tui.views.inspect.status_line import StatusLine

if TYPE_CHECKING:
    from shakespeare_tui.core.inspection.replay import Replay

SPAN_HINT = "m marks a span's start, m again its end"


class SpanTab(TabPane):
    """What the last marked span selected: its units, and the passages where they fire."""

    class Matched(Message):
        """The tab lists a new answer: over `span` (start, stop), `units` units were on, and
        they fire over `passages` other passages."""

        def __init__(self, span: tuple[int, int], units: int, passages: int) -> None:
            super().__init__()
            self.span, self.units, self.passages = span, units, passages

    class MatchChosen(Message):
        """The person chose a passage (a `core.spans.SpanMatch`): mark it in the text."""

        def __init__(self, match: SpanMatch) -> None:
            super().__init__()
            self.match = match

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(title, id=id)
        self.matches: list[SpanMatch] = []  # the SpanMatch of each option, best first
        self._text = ""  # the text the matches are in
        self._asked = 0  # bumped per question; an answer to an older one is dropped

    def compose(self) -> ComposeResult:
        yield Static(SPAN_HINT, id="span-info")
        yield OptionList(id="span-matches")

    def match(self, replay: Replay, layer: int, quantity: str, span: tuple[int, int]) -> None:
        """Select the units of `layer` on over `span` (start, stop) of `replay`'s text."""
        self._asked += 1
        self._text = replay.text
        self._select(self._asked, replay, layer, quantity, span)

    def forget(self) -> None:
        """Drop the answer being worked on: the text it is about is being replaced."""
        self._asked += 1

    def reset(self) -> None:
        """Nothing matched yet, for a new text."""
        self.forget()
        self.matches = []
        self.query_one(OptionList).clear_options()
        self.query_one("#span-info", Static).update(SPAN_HINT)

    @work(thread=True, exclusive=True, group="inspect-spans", exit_on_error=False)
    def _select(
        self, asked: int, replay: Replay, layer: int, quantity: str, span: tuple[int, int]
    ) -> None:
        firing = active(replay, layer, quantity)
        units = select_units(firing, *span)
        matches = match_spans(firing, units, exclude=span)
        self.post_message(SpansMatched(asked, span, units.tolist(), matches))

    def on_spans_matched(self, message: SpansMatched) -> None:
        if message.request != self._asked:
            return
        self.matches = message.matches
        text = self._text
        a, b = message.span
        units = message.units
        listed = ", ".join(map(str, units[:12])) + (" …" if len(units) > 12 else "")
        info = Text(f"{len(units)} units on over ", style="")
        info.append(excerpt(text, a, b), style="bold")
        info.append(f" and off before it: {listed or 'none'}\n" if units else
                    " and off before it: none (mark another span)\n")  # fmt: skip
        info.append(f"{len(message.matches)} other passages where they fire", style="dim")
        self.query_one("#span-info", Static).update(info)
        options = self.query_one(OptionList)
        options.clear_options()
        for match in message.matches:
            line = Text(f"{match.start:>6} ", style="dim")
            line.append(excerpt(text, match.start, match.stop), style="bold")
            line.append(f" {match.selected_on}/{match.selected}", style="dim")
            options.add_option(Option(line))
        if message.matches:
            options.highlighted = 0
        self.post_message(self.Matched(message.span, len(units), len(message.matches)))

    @on(OptionList.OptionSelected)
    def _passage_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if 0 <= event.option_index < len(self.matches):
            self.post_message(self.MatchChosen(self.matches[event.option_index]))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        error = event.worker.error
        if event.state == WorkerState.ERROR and error is not None:
            self.post_message(StatusLine.Say(f"cannot match the span: {one_line(error)}"))


def excerpt(text: str, start: int, stop: int, limit: int = 24) -> str:
    """A span of `text` for a list: visible spaces and newlines, at most `limit` characters."""
    piece = text[start:stop]
    if len(piece) > limit:
        piece = piece[: limit - 1] + "…"
    return "«" + "".join(shown(c) for c in piece) + "»"
