"""The checkpoint picker: every run's best and last checkpoints, and the bundled one.

`scan_checkpoints` reads the files (it imports torch: call it from a worker thread); the
`CheckpointPicker` only shows what it found and remembers which entry is highlighted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from shakespeare_tui.core.runs import BUNDLED, bundled_checkpoint, list_runs

if TYPE_CHECKING:
    from shakespeare_tui.core.checkpoint import CheckpointInfo
    from shakespeare_tui.core.paths import Paths


BEST, LAST = "best", "last"  # an entry's kind, beside BUNDLED


@dataclass(frozen=True)
class CheckpointEntry:
    """One line of the picker."""

    key: str  # what settings remember: the file's path, or "bundled"
    path: str  # the file to load
    title: str  # e.g. "20261128-120000-cpu · best" or "bundled (pretrained)"
    info: CheckpointInfo  # read_info's answer: ok=False with the reason for a bad file
    kind: str = BEST  # "best", "last" or "bundled"
    training: bool = False  # the run is being trained now

    @property
    def ok(self) -> bool:
        return self.info.ok

    @property
    def details(self) -> str:
        """What the picker shows under the title: the numbers, or why the file is unusable."""
        info = self.info
        if not info.ok:
            return f"⚠ unreadable: {info.error}"
        val = f"val {info.val_loss:.4f}" if info.val_loss is not None else "val —"
        return " · ".join([val, f"epoch {info.epoch}", info.model_summary])

    @property
    def date(self) -> str:
        """When the checkpoint was written (UTC, to the minute), or ""."""
        return self.info.created[:16].replace("T", " ") if self.info.ok else ""


# (path, mtime_ns, size) → info: a rescan rereads only the files that changed.
InfoCache = dict[tuple[str, int, int], "CheckpointInfo"]


def _info(path: str, cache: InfoCache | None) -> CheckpointInfo:
    from shakespeare_tui.core.checkpoint import read_info

    try:
        stat = os.stat(path)
    except OSError:
        return read_info(path)  # gives the reason
    key = (path, stat.st_mtime_ns, stat.st_size)
    if cache is not None and key in cache:
        return cache[key]
    info = read_info(path)
    if cache is not None:
        for old in [k for k in cache if k[0] == path]:
            del cache[old]
        cache[key] = info
    return info


def scan_checkpoints(paths: Paths, cache: InfoCache | None = None) -> list[CheckpointEntry]:
    """Runs newest first (best, then last), then the bundled checkpoint if installed."""
    entries = []
    for run in list_runs(paths):
        for kind, path in ((BEST, run.best), (LAST, run.last)):
            if path is None:
                continue
            title = f"{run.name} · {kind}" + (" (training)" if run.training else "")
            entries.append(
                CheckpointEntry(
                    key=str(path),
                    path=str(path),
                    title=title,
                    info=_info(str(path), cache),
                    kind=kind,
                    training=run.training,
                )
            )
    bundled = bundled_checkpoint()
    if bundled.is_file():
        entries.append(
            CheckpointEntry(
                key=BUNDLED,
                path=str(bundled),
                title="bundled (pretrained)",
                info=_info(str(bundled), cache),
                kind=BUNDLED,
            )
        )
    return entries


def default_key(entries: list[CheckpointEntry], remembered: str = "") -> str | None:
    """The entry to preselect: the remembered one if it is still listed, else the newest
    readable best, else the bundled one, else the newest readable last, else the first.

    A run stopped before its first epoch ended has only a last.pt with next to no training:
    the bundled model writes far better text, so it comes before any last.
    `entries` is in scan order (newest run first), so the first match is the newest.
    """
    keys = [e.key for e in entries]
    if remembered and remembered in keys:
        return remembered
    for wanted in (BEST, BUNDLED, LAST):
        for entry in entries:
            if entry.kind == wanted and entry.ok:
                return entry.key
    return keys[0] if keys else None


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
