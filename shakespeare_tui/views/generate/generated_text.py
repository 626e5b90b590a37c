"""The streamed output: text that grows at the end, optionally coloured by the model's confidence.

A Line API widget (like Textual's `Log`) that word-wraps to its width. It keeps every character
with the probability the model gave it, so colouring can be switched on and off for text that
is already there. Appending costs O(new characters + the length of the last line): only the
last line's wrapped rows are recomputed and refreshed. The confidence colours are fitted to the
theme's background, so they stay readable in light themes too; the border's subtitle is their
legend.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.color import Color
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip

from shakespeare_tui.widgets.text_pane import pane_css, wrap_rows

PROMPT = -1.0  # the probability stored for prompt characters: shown in bold, never coloured

# Confident → surprised: the lowest probability of each band and its colour (on a dark
# background; `band_colours` fits them to the background in use).
BANDS: tuple[tuple[float, str], ...] = (
    (0.80, "#3fb950"),
    (0.60, "#8ccf3f"),
    (0.40, "#c9d636"),
    (0.25, "#e3b341"),
    (0.12, "#f0883e"),
    (0.05, "#f06a3e"),
    (0.00, "#f85149"),
)
MIN_CONTRAST = 4.5  # WCAG AA for body text
_PROMPT_STYLE = Style(bold=True)
# Control characters (a corpus may hold tabs or carriage returns) would upset the layout.
_DISPLAY = {code: "�" for code in range(32) if code != 10} | {9: " ", 13: " "}


def band(probability: float) -> int:
    """The index in BANDS of a probability (-1 for a prompt character)."""
    if probability < 0:
        return -1
    for index, (lowest, _) in enumerate(BANDS):
        if probability >= lowest:
            return index
    return len(BANDS) - 1


def contrast(a: Color, b: Color) -> float:
    """The WCAG contrast ratio of two colours, from 1 (the same) to 21 (black on white)."""
    lighter, darker = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _luminance(color: Color) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = color.rgb
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def band_colours(background: Color, dark: bool) -> tuple[Color, ...]:
    """Each band's colour, darkened on a light background (lightened on a dark one) until it
    reads at MIN_CONTRAST; `dark` stands in for a terminal's own, unknown background."""
    if background.ansi is not None or background.a == 0:
        background = Color(0, 0, 0) if dark else Color(255, 255, 255)
    light = _luminance(background) > 0.18  # nearer white than black, in contrast terms
    colours = []
    for _, hex_colour in BANDS:
        colour = Color.parse(hex_colour)
        for _ in range(40):
            if contrast(colour, background) >= MIN_CONTRAST:
                break
            colour = colour.darken(0.03) if light else colour.lighten(0.03)
        colours.append(colour)
    return tuple(colours)


class GeneratedText(ScrollView, can_focus=True):
    """Generated characters with their probabilities; `append` streams, `clear` starts over."""

    DEFAULT_CSS = pane_css("GeneratedText")

    colour_by_probability: reactive[bool] = reactive(False)
    """Colour each generated character by the probability the model gave it."""

    def __init__(
        self,
        *,
        colour_by_probability: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._lines: list[str] = [""]
        self._probs: list[array] = [array("f")]
        self._rows: list[tuple[int, int, int]] = []  # (line, start, end) per visual row
        self._rows_of_last = 0  # how many of the rows belong to the last line
        self._wrap_width = 0
        self._chars = 0
        self._cache: LRUCache[int, Strip] = LRUCache(1024)
        # The style of each band (-1: the prompt) over the widget's style, and what it is for.
        self._band_styles: tuple[tuple | None, dict[int, Style]] = (None, {})
        self.set_reactive(GeneratedText.colour_by_probability, colour_by_probability)

    # -- contents -----------------------------------------------------------------------

    @property
    def text(self) -> str:
        """Everything shown, prompt included."""
        return "\n".join(self._lines)

    @property
    def probabilities(self) -> list[float]:
        """One value per character of `text` except newlines; PROMPT for the prompt's."""
        return [p for probs in self._probs for p in probs]

    def __len__(self) -> int:
        return self._chars

    def clear(self) -> None:
        self._lines, self._probs = [""], [array("f")]
        self._chars = 0
        self._rewrap_all()
        self.scroll_home(animate=False, immediate=True)

    def append(self, chars: str, probabilities: Sequence[float] | None = None) -> None:
        """Add characters at the end; `probabilities` has one per character (None = prompt)."""
        if not chars:
            return
        if probabilities is None:
            probabilities = [PROMPT] * len(chars)
        if len(probabilities) != len(chars):
            raise ValueError("append needs one probability per character")
        at_end = self.is_vertical_scroll_end
        first_changed = len(self._lines) - 1
        pos = 0
        for piece in chars.split("\n"):
            end = pos + len(piece)
            self._lines[-1] += piece.translate(_DISPLAY)
            self._probs[-1].extend(probabilities[pos:end])
            if end < len(chars):  # a newline followed
                self._lines.append("")
                self._probs.append(array("f"))
            pos = end + 1
        self._chars += len(chars)
        self._rewrap_from(first_changed)
        if at_end:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    # -- layout -------------------------------------------------------------------------

    def _width(self) -> int:
        """The wrap width: 0 (no wrapping yet) until the widget has a size."""
        return self.scrollable_content_region.width

    def _rewrap_all(self) -> None:
        self._wrap_width = self._width()
        self._rows = []
        self._rows_of_last = 0
        self._cache.clear()
        self._rewrap_from(0, start_row=0)
        self.refresh()

    def _rewrap_from(self, first_line: int, start_row: int | None = None) -> None:
        """Recompute the rows of lines from `first_line` (the last line, or 0) to the end."""
        if start_row is None:
            start_row = len(self._rows) - self._rows_of_last
        del self._rows[start_row:]
        width = self._wrap_width
        count = 0
        for index in range(first_line, len(self._lines)):
            line = self._lines[index]
            starts = wrap_rows(line, width) if width >= 1 else [0]
            ends = starts[1:] + [len(line)]
            count = len(starts)
            self._rows.extend((index, s, e) for s, e in zip(starts, ends, strict=True))
        self._rows_of_last = count
        for row in range(start_row, len(self._rows)):
            self._cache.discard(row)
        self._set_virtual_size(Size(max(width, 1), len(self._rows)))
        self.refresh_lines(start_row, len(self._rows) - start_row)

    def _set_virtual_size(self, size: Size) -> None:
        """Grow the scrollable area without laying out the whole screen.

        Assigning `virtual_size` lays out every widget on the screen, once per streamed chunk,
        while the sampler waits for the GIL. The vertical scrollbar is always there
        (overflow-y: scroll), so only it changes: update it as `ScrollView._size_updated`
        does when it needs no layout.
        """
        if size != self.virtual_size:
            self.set_reactive(GeneratedText.virtual_size, size)
            self._scroll_update(size)

    def on_resize(self) -> None:
        if self._width() != self._wrap_width:
            self._rewrap_all()

    def on_mount(self) -> None:
        self._show_legend()
        # A new theme is a new background: the colours and their legend follow it.
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._show_legend())

    def watch_colour_by_probability(self) -> None:
        self._cache.clear()
        self._show_legend()
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    # -- colours ------------------------------------------------------------------------

    def colours(self) -> tuple[Color, ...]:
        """The confidence colours on this widget's background, confident first."""
        return band_colours(self.background_colors[1], self.app.current_theme.dark)

    def legend(self) -> str:
        """Markup for the colour scale, "" when colouring is off."""
        if not self.colour_by_probability:
            return ""
        blocks = "".join(f"[{colour.hex}]█[/]" for colour in self.colours())
        return f"confident {blocks} surprised"

    def _show_legend(self) -> None:
        self.border_subtitle = self.legend()

    def _styles(self, base: Style) -> dict[int, Style]:
        """Each band's style over `base`, made once per base style and theme."""
        key = (base, self.colour_by_probability, self.app.current_theme.name)
        if self._band_styles[0] != key:
            styles = {-1: base + _PROMPT_STYLE}
            colours = self.colours() if self.colour_by_probability else ()
            for kind in range(len(BANDS)):
                colour = colours[kind].rich_color if colours else None
                styles[kind] = base + Style(color=colour) if colour else base
            self._band_styles = (key, styles)
        return self._band_styles[1]

    # -- rendering ----------------------------------------------------------------------

    # -- selection (mouse select, then ctrl+c copies): rows are the wrapped lines ----------

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        rows = "\n".join(self._lines[i][start:end] for i, start, end in self._rows)
        return selection.extract(rows), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self._cache.clear()
        self.refresh()

    def render_line(self, y: int) -> Strip:
        _, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if row >= len(self._rows):
            return Strip.blank(width, base)
        selection = self.text_selection
        strip = self._cache.get(row) if selection is None else None
        if strip is None:
            strip = self._render_row(row, base)
            if selection is not None and (span := selection.get_span(row)) is not None:
                start, end = span
                end = strip.cell_length if end == -1 else end
                style = self.screen.get_component_rich_style("screen--selection")
                strip = Strip.join(
                    [
                        strip.crop(0, start),
                        _over(strip.crop(start, end), style),
                        strip.crop(end, strip.cell_length),
                    ]
                )
            else:
                self._cache[row] = strip
        return strip.crop_extend(0, width, base).apply_offsets(0, row)

    def _render_row(self, row: int, base: Style) -> Strip:
        index, start, end = self._rows[row]
        text = self._lines[index][start:end]
        probs = self._probs[index][start:end]
        colour = self.colour_by_probability
        styles = self._styles(base)
        segments = []
        run_start, run_band = 0, None  # the band of the characters from run_start on
        for offset, probability in enumerate(probs):
            kind = band(probability) if colour else (-1 if probability < 0 else 0)
            if run_band is not None and kind != run_band:
                segments.append(Segment(text[run_start:offset], styles[run_band]))
                run_start = offset
            run_band = kind
        if run_band is not None:  # (some text: a probability per character)
            segments.append(Segment(text[run_start:], styles[run_band]))
        return Strip(segments, len(text))


def _over(strip: Strip, style: Style) -> Strip:
    """`strip` with `style` on top of its own styles (the selection wins over the colours)."""
    return Strip(Segment.apply_style(list(strip), post_style=style), strip.cell_length)
