"""The Inspect view's status line: where the cursor is, what is being worked on, what failed.

Every part of the view has something to say there (the finder failed, a branch is growing), but
only the screen holds the line: a part posts `StatusLine.Say`, which bubbles up to the screen.
"""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import Static


class StatusLine(Static):
    """One line of plain text (never markup: it quotes what people typed); a line longer than
    the terminal ends in "…", so it is seen to go on."""

    DEFAULT_CSS = """
    StatusLine {
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    class Say(Message):
        """Put `text` on the view's status line."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def say(self, text: str) -> None:
        self.update(Text(text))
