"""The inspected text: every character on a background colour, a cursor, a marked span.

A Line API widget: the text is wrapped once per width, at a space where the word after it fits
on the next row (a word longer than a row is cut), and no character is dropped or added, so each
row is a slice of the text and a column on it is a position; `render_line` draws only the rows
on screen, one segment per run of equal style.
What colours a character is one small integer per character (`shades`, an int8 array the view
computes once per unit, quantity or mode change) indexing a tuple of styles (`palette`), so
moving the cursor or switching the unit repaints a screenful of rows, never the whole text.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from shakespeare_tui.widgets.text_pane import pane_css, wrap_rows

# Control characters would upset the layout; a newline shows as a faint ↵ so it can be a cursor.
_DISPLAY = {code: "�" for code in range(32)} | {9: " ", 13: " ", 10: "↵"}
_NEWLINE_STYLE = Style(dim=True)


class InspectText(ScrollView, can_focus=True):
    """Text with a cursor; `set_text`, `set_shades`, `cursor` and `mark` drive it."""

    DEFAULT_CSS = pane_css("InspectText")

    BINDINGS = [
        Binding("left", "move(-1)", "Left", show=False),
        Binding("right", "move(1)", "Right", show=False),
        Binding("up", "move_row(-1)", "Up", show=False),
        Binding("down", "move_row(1)", "Down", show=False),
        Binding("ctrl+left", "word(-1)", "Word left", show=False),
        Binding("ctrl+right", "word(1)", "Word right", show=False),
        Binding("home", "line_edge(-1)", "Line start", show=False),
        Binding("end", "line_edge(1)", "Line end", show=False),
        Binding("ctrl+home", "jump(0)", "Text start", show=False),
        Binding("ctrl+end", "jump(-1)", "Text end", show=False),
        Binding("pageup", "move_row(-20)", "Page up", show=False),
        Binding("pagedown", "move_row(20)", "Page down", show=False),
    ]

    cursor: reactive[int] = reactive(0, init=False)
    """The character the cursor is on (an index into the text)."""

    class CursorMoved(Message):
        """The cursor of `view` is now on character `position`."""

        def __init__(self, view: InspectText, position: int) -> None:
            super().__init__()
            self.view = view
            self.position = position

        @property
        def control(self) -> InspectText:
            """The view whose cursor moved (so a handler can name it: `@on(..., "#id")`)."""
            return self.view

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.text = ""
        self._display = ""
        self._starts: list[int] = [0]
        self._width = 0
        self.shades: np.ndarray = np.zeros(0, np.int8)
        self.palette: tuple[Style, ...] = (Style(),)
        self.mark: tuple[int, int] | None = None  # a span [start, stop) shown underlined
        self.forks: frozenset[int] = frozenset()  # where other branches leave this text
        self.fork_style = Style(reverse=True, bold=True)
        self.cursor_style = Style(color="black", bgcolor="#ffd000", bold=True, underline=True)
        self.mark_style = Style(underline=True, bold=True)

    # -- what is shown ------------------------------------------------------------------

    def set_text(self, text: str) -> None:
        self.text = text
        self._display = text.translate(_DISPLAY)
        self.shades = np.zeros(len(text), np.int8)
        self.mark = None
        self.forks = frozenset()
        self._width = 0
        self._rewrap()
        self.set_reactive(InspectText.cursor, 0)
        self.scroll_home(animate=False, immediate=True)
        self.refresh()

    def append(self, chars: str) -> None:
        """Add characters at the end (a branch growing), keeping the cursor and the scroll."""
        self.text += chars
        self._display += chars.translate(_DISPLAY)
        self._width = 0
        self._rewrap()
        self.refresh()

    def set_forks(self, positions: Iterable[int]) -> None:
        self.forks = frozenset(positions)
        self.refresh()

    def set_shades(self, shades: np.ndarray, palette: tuple[Style, ...]) -> None:
        """Colour character t with `palette[shades[t]]`; repaints the rows on screen."""
        self.shades, self.palette = shades, palette
        self.refresh()

    def set_mark(self, span: tuple[int, int] | None) -> None:
        self.mark = span
        self.refresh()

    def _rewrap(self) -> None:
        width = max(1, self.scrollable_content_region.width)
        if width == self._width:
            return
        self._width = width
        self._starts = wrap_rows(self.text, width)
        self.virtual_size = Size(width, len(self._starts))

    def on_resize(self) -> None:
        self._rewrap()
        self._scroll_to_cursor()  # its row moved when the rows were wrapped again
        self.refresh()

    def row_of(self, position: int) -> int:
        return max(0, bisect.bisect_right(self._starts, position) - 1)

    def _row_span(self, row: int) -> tuple[int, int]:
        start = self._starts[row]
        stop = self._starts[row + 1] if row + 1 < len(self._starts) else len(self.text)
        return start, stop

    def render_line(self, y: int) -> Strip:
        row = round(self.scroll_offset.y) + y
        if row >= len(self._starts) or not self.text:
            return Strip.blank(self.size.width, self.rich_style)
        start, stop = self._row_span(row)
        base, palette, display = self.rich_style, self.palette, self._display
        shades = self.shades[start:stop].tolist()
        shades += [0] * (stop - start - len(shades))
        mark = self.mark or (-1, -1)
        forks = self.forks
        segments: list[Segment] = []
        run_start, run_key = start, None
        # A run is characters of one style; spaces and the newline get runs of their own, so
        # an SVG screenshot (which draws a run as one text element) keeps their positions.
        for t in range(start, stop + 1):
            if t < stop:
                char = display[t]
                key = (shades[t - start], t == self.cursor, mark[0] <= t < mark[1],
                       char == " " or char == "↵", t in forks)  # fmt: skip
                if key == run_key and char != "↵":
                    continue
            if run_key is not None:
                shade, at_cursor, marked, blank, fork = run_key
                style = base + palette[shade] if shade < len(palette) else base
                if blank and display[run_start] == "↵" and not at_cursor:
                    style += _NEWLINE_STYLE
                if marked:
                    style += self.mark_style
                if fork:
                    style += self.fork_style
                if at_cursor:
                    style += self.cursor_style
                segments.append(Segment(display[run_start:t], style))
            if t < stop:
                run_start, run_key = t, key
        return Strip(segments).extend_cell_length(self.size.width, base)

    # -- the cursor ------------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        for position in (old, new):
            self._refresh_row(self.row_of(position))
        self._scroll_to_cursor()
        self.post_message(self.CursorMoved(self, new))

    def _refresh_row(self, row: int) -> None:
        y = row - round(self.scroll_offset.y)
        if 0 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def _scroll_to_cursor(self) -> None:
        row = self.row_of(self.cursor)
        top = round(self.scroll_offset.y)
        height = max(1, self.scrollable_content_region.height)
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True)

    def move_to(self, position: int) -> None:
        if self.text:
            self.cursor = max(0, min(len(self.text) - 1, position))

    def action_move(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def action_move_row(self, delta: int) -> None:
        row = self.row_of(self.cursor)
        column = self.cursor - self._starts[row]
        target = max(0, min(len(self._starts) - 1, row + delta))
        start, stop = self._row_span(target)
        self.move_to(min(start + column, max(start, stop - 1)))

    def action_word(self, direction: int) -> None:
        """To the start of the next word, or of this or the previous one."""
        text, t = self.text, self.cursor
        if direction > 0:
            while t < len(text) - 1 and text[t].isalnum():
                t += 1
            while t < len(text) - 1 and not text[t].isalnum():
                t += 1
        else:
            t -= 1
            while t > 0 and not text[t].isalnum():
                t -= 1
            while t > 0 and text[t - 1].isalnum():
                t -= 1
        self.move_to(t)

    def action_line_edge(self, direction: int) -> None:
        """To the first character of the text's line, or to its newline."""
        text, t = self.text, self.cursor
        if direction < 0:
            self.move_to(text.rfind("\n", 0, t) + 1)
        else:
            newline = text.find("\n", t)
            self.move_to(newline if newline >= 0 else len(text) - 1)

    def action_jump(self, position: int) -> None:
        self.move_to(position if position >= 0 else len(self.text) - 1)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or not self.text:
            return
        row = round(self.scroll_offset.y) + offset.y
        if row >= len(self._starts):
            return
        start, stop = self._row_span(row)
        self.move_to(min(start + offset.x, stop - 1))
        self.focus()
