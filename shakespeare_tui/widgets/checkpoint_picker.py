"""The checkpoint picker: shows the checkpoints the app's listing found (core/runs/listing.py),
one entry a few lines.

The picker only shows entries and remembers which one is highlighted; the app's shared listing
reads them in its worker (shared_listing.py). An entry is its name and, below it, its figures
and date, or why it cannot be used in one line.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from shakespeare_tui.core.runs.checkpoints import CheckpointEntry
from shakespeare_tui.core.shown_text import shown


def unreadable(entry: CheckpointEntry) -> str:
    """Why `entry` cannot be used, in one line that names it once."""
    error = " ".join(str(entry.info.error or "").split())
    name = Path(entry.path).name
    if entry.title == name or error.startswith(entry.title):
        return shown(error)
    return shown(f"{entry.title} is unreadable: {error}")


class CheckpointPicker(OptionList):
    """An OptionList of CheckpointEntry; the highlighted entry is the chosen checkpoint."""

    DEFAULT_CSS = """
    CheckpointPicker > .option-list--option {
        padding: 0 1;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(Option("scanning checkpoints…", disabled=True), name=name, id=id)
        self.entries: list[CheckpointEntry] = []
        self._shown: list[tuple[str, str, str, str]] | None = None  # what the options say

    def show_entries(self, entries: list[CheckpointEntry], select: str | None) -> None:
        """Replace the list, highlighting the entry whose key is `select`; a list that says
        what it already says is left as it is (its scroll and highlight too)."""
        self.entries = list(entries)
        shown_now = [(e.key, e.title, e.details, e.date) for e in entries]
        keys = [e.key for e in entries]
        if shown_now == self._shown:
            if select in keys and self.highlighted != keys.index(select):
                self.highlighted = keys.index(select)
            return
        self._shown = shown_now
        scroll_y = self.scroll_y
        self.clear_options()
        if not entries:
            self.add_option(
                Option("no checkpoints yet: train a model in the Train view", disabled=True)
            )
            return
        self.add_options(
            [Option(self._prompt(entry), id=f"ckpt-{i}") for i, entry in enumerate(entries)]
        )
        self.scroll_to(y=scroll_y, animate=False, immediate=True)
        if select in keys:
            self.highlighted = keys.index(select)

    def on_resize(self) -> None:
        """The reasons of unusable entries are cut to the new width."""
        for index, entry in enumerate(self.entries):
            if not entry.ok:
                self.replace_option_prompt_at_index(index, self._prompt(entry))

    def _prompt(self, entry: CheckpointEntry) -> Text:
        # Names come from files anyone may have written: control characters are escaped.
        title = Text(shown(entry.title), style="bold")
        if entry.ok:
            details = Text(shown(entry.details), style="dim")
            date = [Text(entry.date, style="dim")] if entry.date else []
            return Text("\n").join((title, details, *date))
        # Its name and why, each one line cut to the width with "…" (the list is redrawn when
        # that changes): a reason wrapped over several lines hid the entries below it. The
        # status line and `g` say it whole; italic reads on the highlight bar too, where red
        # did not.
        why = Text(shown(entry.details), style="italic")
        width = self.scrollable_content_region.width - 2  # (the option's padding)
        if width > 1:
            for line in (title, why):
                line.truncate(width, overflow="ellipsis")
        return Text("\n").join((title, why))

    @property
    def selected_entry(self) -> CheckpointEntry | None:
        index = self.highlighted
        if index is None or not self.entries or index >= len(self.entries):
            return None
        return self.entries[index]

    def entry_at(self, index: int | None) -> CheckpointEntry | None:
        if index is None or not 0 <= index < len(self.entries):
            return None
        return self.entries[index]
