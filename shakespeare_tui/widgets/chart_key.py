"""The key above an overlay chart, and the chart's theme colours.

plotext draws its legend over the data, so the Runs view's charts (the training curves and the
memory curves) write their key above the plot instead: what the axes are, then each run's name
and figure in its colour, wrapped to the width, at most a few rows, the rest counted
("+3 more").
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import App
from textual.color import Color


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
