"""What the app's two long-text panes share (the Generate view's output, the Inspect view's
text): the rule that wraps a text into rows, and their look.

Both are Line API widgets that draw only the rows on screen, so a row must be a slice of the
text: no character dropped or added, and a column on a row is a position in the text.
"""

from __future__ import annotations


def wrap_rows(text: str, width: int) -> list[int]:
    """Where each row starts: a row ends after a newline, or after the last space that leaves
    it at most `width` characters (its newline included, so the ↵ is on screen), or after
    `width` characters when no space does (a word longer than the row)."""
    width = max(1, width)
    starts: list[int] = []
    pos, length = 0, len(text)
    while pos < length or not starts:
        starts.append(pos)
        limit = pos + width
        newline = text.find("\n", pos, limit)
        if newline >= 0:
            pos = newline + 1
        elif limit >= length:
            break
        else:
            space = max(text.rfind(" ", pos, limit), text.rfind("\t", pos, limit))
            pos = space + 1 if space >= pos else limit
        if pos >= length:
            break
    return starts


def pane_css(widget: str) -> str:
    """The text panes' style, for the widget class named `widget`: the theme's surface, a
    vertical scrollbar only (rows are wrapped, never scrolled sideways), a tint when focused."""
    return f"""
    {widget} {{
        background: $surface;
        color: $text;
        overflow-x: hidden;
        overflow-y: scroll;
        &:focus {{
            background-tint: $foreground 5%;
        }}
    }}
    """
