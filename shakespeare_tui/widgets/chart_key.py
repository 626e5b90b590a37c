"""An overlay chart with its key above the plot, and the chart's theme colours.

plotext draws its legend over the data, so the Runs view's charts (the training curves and the
memory curves) write their key above the plot instead: what the axes are, then each run's name
and figure in its colour, wrapped to the width, at most a few rows, the rest counted
("+3 more").
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.app import App
from textual.color import Color
from textual_plotext import PlotextPlot


def key_rows(
    head: Text, items: Sequence[Text], width: int, most: int, surface: Color
) -> list[Text]:
    """`head` then `items`, two blanks apart, wrapped into at most `most` rows of `width`
    cells on the chart's `surface`; items that do not fit are counted at the end."""
    lines: list[Text] = []
    line = head
    for n, item in enumerate(items):
        if line.cell_len + 2 + item.cell_len <= width:
            line = Text("  ").join([line, item]) if line.cell_len else item
            continue
        if len(lines) + 1 >= most:
            more = Text(f"  +{len(items) - n} more", style="dim")
            if line.cell_len + more.cell_len > width:
                line.truncate(max(0, width - more.cell_len))
            line.append_text(more)
            break
        lines.append(line)
        line = item
    lines.append(line)
    for text in lines:
        text.truncate(width, overflow="ellipsis", pad=True)
        text.stylize("on rgb({},{},{})".format(*surface.rgb))
    return lines


def surface(app: App) -> Color:
    """The colour charts are drawn on, in the app's theme."""
    return Color.parse(app.theme_variables.get("surface", "#1e1e1e"))


def faint(app: App, share: float) -> tuple[int, int, int]:
    """The theme's text colour faded `share` of the way into the surface: for baselines and
    notes that must be seen but not compete with the runs' colours."""
    text = Color.parse(app.theme_variables.get("foreground", "#e0e0e0"))
    return text.blend(surface(app), share).rgb


def blank_figure(plt: Any) -> None:
    """Clear a plotext figure for drawing again: no data, no old axes, only the left and
    bottom axes."""
    plt.clear_data()
    plt.clear_figure()
    plt.xaxes(True, False)
    plt.yaxes(True, False)


class KeyedPlot(PlotextPlot):
    """A plot with its key above it (`_key_lines`), built again (`_draw`) only when what it
    shows has changed (`_changed`), its size, or the theme; the key is made on every render."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._generation = 0  # bumped whenever what is plotted changes
        self._plot_built: tuple[tuple[object, ...], Text] | None = None  # (what from, rows)
        self.draw_ms: list[float] = []  # how long each plot took to build

    def _changed(self) -> None:
        self._generation += 1
        self.refresh()

    def on_mount(self) -> None:
        super().on_mount()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._changed())

    def render(self) -> Text:
        """The key, then the plot (built again only when what it shows has changed)."""
        width, height = self.size.width, self.size.height
        key = self._key_lines(width)
        rows = max(1, height - len(key))
        made_from = (self._generation, width, rows, self.app.theme)
        if self._plot_built is None or self._plot_built[0] != made_from:
            start = time.perf_counter()
            self._plot_built = (made_from, self._plot_rows(width, rows))
            self.draw_ms.append(1000 * (time.perf_counter() - start))
        picture = Text("\n").join([*key, self._plot_built[1]])
        picture.no_wrap = True
        return picture

    def _plot_rows(self, width: int, rows: int) -> Text:
        self._draw(width, rows)  # on a blank figure: its size and theme too, so they follow
        self._plot.plotsize(width, rows)
        self._plot._set_size(width, rows)
        self._plot.theme(self._get_plotext_theme_name(self.app.theme))
        return Text.from_ansi(self._plot.build().removesuffix("\n"))

    def _key_lines(self, width: int) -> list[Text]:
        raise NotImplementedError

    def _draw(self, width: int, rows: int) -> None:
        """Draw on `self.plt` for a plot of `width` × `rows` cells."""
        raise NotImplementedError
