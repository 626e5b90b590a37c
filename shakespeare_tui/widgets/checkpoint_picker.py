"""The checkpoint picker: shows what `core.runs.checkpoints.scan_checkpoints` found, one entry
a line.

The picker only shows entries and remembers which one is highlighted; scanning happens in the
Generate view's worker.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from shakespeare_tui.core.runs.checkpoints import CheckpointEntry


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

    def show_entries(self, entries: list[CheckpointEntry], select: str | None) -> None:
        """Replace the list, highlighting the entry whose key is `select`."""
        self.entries = list(entries)
        self.clear_options()
        if not entries:
            self.add_option(
                Option("no checkpoints yet: train a model in the Train view", disabled=True)
            )
            return
        self.add_options(
            [Option(self._prompt(entry), id=f"ckpt-{i}") for i, entry in enumerate(entries)]
        )
        keys = [e.key for e in entries]
        if select in keys:
            self.highlighted = keys.index(select)

    @staticmethod
    def _prompt(entry: CheckpointEntry) -> Text:
        text = Text(entry.title, style="bold")
        text.append("\n")
        text.append(entry.details, style="dim" if entry.ok else "bold red")
        if entry.date:
            text.append(f"\n{entry.date}", style="dim")
        return text

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
