"""Every checkpoint a person can choose: each run's best and last, and the bundled one.

Reading a file's summary imports torch (core/runs/listing.py does it off the UI thread, for
every list of the app); with the same `InfoCache`, only the files that changed are read again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.runs import folders as runs
from shakespeare_tui.core.runs.folders import BEST, BUNDLED, LAST
from shakespeare_tui.core.runs.summary import RunInfo
from shakespeare_tui.core.user_files import check_user_file

FILE = "file"  # the kind of a checkpoint opened by path, which a person may forget

if TYPE_CHECKING:
    from shakespeare_tui.core.model.checkpoint import CheckpointInfo


@dataclass(frozen=True)
class CheckpointEntry:
    """One checkpoint a person can pick."""

    key: str  # what settings remember: the file's path, or "bundled"
    path: str  # the file to load
    title: str  # e.g. "20261128-120000-cpu · best" or "bundled (pretrained)"
    info: CheckpointInfo  # read_info's answer: ok=False with the reason for a bad file
    kind: str = BEST  # "best", "last", "bundled" or "file"
    training: bool = False  # the run is being trained now
    run: RunInfo | None = None  # the run it belongs to (None for the bundled one)

    @property
    def ok(self) -> bool:
        return self.info.ok

    @property
    def details(self) -> str:
        """The numbers, or why the file is unusable (in one line: a list shows it)."""
        info = self.info
        if not info.ok:
            return "⚠ unreadable: " + " ".join(str(info.error).split())
        val = f"val {info.val_loss:.4f}" if info.val_loss is not None else "val —"
        # The step says where it is without the "epoch 0 / epoch 1" ambiguity of a run in its
        # first epoch (and fits a narrow list).
        return " · ".join([val, f"step {info.step:,}", info.model_summary])

    @property
    def date(self) -> str:
        """When the checkpoint was written (UTC, to the minute), or ""."""
        return self.info.created[:16].replace("T", " ") if self.info.ok else ""


# (path, mtime_ns, size) → info
InfoCache = dict[tuple[str, int, int], "CheckpointInfo"]


def _info(path: str, cache: InfoCache | None) -> CheckpointInfo:
    from shakespeare_tui.core.model.checkpoint import read_info

    try:
        stat = os.stat(path)
    except OSError:
        return read_info(Path(path))  # gives the reason
    key = (path, stat.st_mtime_ns, stat.st_size)
    if cache is not None and key in cache:
        return cache[key]
    info = read_info(Path(path))
    if cache is not None:
        for old in [k for k in cache if k[0] == path]:
            del cache[old]
        cache[key] = info
    return info


def bundled_entry(cache: InfoCache | None = None) -> CheckpointEntry | None:
    """The pretrained checkpoint shipped with the package, if this installation has it."""
    path = runs.bundled_checkpoint()
    if not path.is_file():
        return None
    return CheckpointEntry(
        key=BUNDLED,
        path=str(path),
        title="bundled (pretrained)",
        info=_info(str(path), cache),
        kind=BUNDLED,
    )


def file_entry(path: str, cache: InfoCache | None = None) -> CheckpointEntry:
    """A checkpoint file opened by path (anywhere on disk). A pipe, a folder or a device is
    refused from its `stat`, before anything opens it (a FIFO would wait for a writer)."""
    path = str(path)
    try:
        check_user_file(path, what="a checkpoint file", shown=Path(path).name)
    except UserError as exc:
        info = _refused(path, str(exc))
    else:
        info = _info(path, cache)
    return CheckpointEntry(key=path, path=path, title=Path(path).name, info=info, kind=FILE)


def _refused(path: str, why: str) -> CheckpointInfo:
    from shakespeare_tui.core.model.checkpoint import CheckpointInfo  # (it imports torch)

    return CheckpointInfo(path=path, ok=False, error=why)


def run_entries(run: RunInfo, cache: InfoCache | None = None) -> list[CheckpointEntry]:
    """A run's best and last checkpoints, those it has."""
    entries = []
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
                run=run,
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
