"""The one list of runs and checkpoints the app shows: the Train view's run selector, the
Generate and Inspect views' checkpoint lists (and, through its RunCatalog, the Runs view's
table) all read it, so they agree.

`Listing.refresh()` catches a RunCatalog up with the runs folder (a few stats per run when
nothing changed) and reads the summary of each checkpoint file that changed since the last
refresh (it imports torch: call it off the UI thread). It answers a `Listed`, equal to the one
before when nothing a list shows has changed, so a view redraws only what did.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.runs.catalog import CACHE_FILE, RunCatalog
from shakespeare_tui.core.runs.checkpoints import (
    CheckpointEntry,
    InfoCache,
    bundled_entry,
    file_entry,
    run_entries,
)
from shakespeare_tui.core.runs.summary import RunInfo


@dataclass(frozen=True)
class Listed:
    """What the lists show, as of one refresh."""

    runs: tuple[RunInfo, ...] = ()  # newest first; half-written folders left out
    # Files opened by path first, then each run's best and last (newest run first), then the
    # bundled checkpoint if installed.
    checkpoints: tuple[CheckpointEntry, ...] = ()


class Listing:
    """The runs under `paths.runs`, the files opened by path and the bundled checkpoint."""

    def __init__(self, paths: Paths, catalog: RunCatalog | None = None) -> None:
        self.paths = paths
        self.catalog = catalog or RunCatalog(paths.runs, cache=paths.cache / CACHE_FILE)
        # The catalog is read by one thread at a time: whoever else reads it (the Runs view's
        # worker, for its curves) holds this lock too.
        self.lock = threading.Lock()
        self._infos: InfoCache = {}

    def refresh(self, files: tuple[str, ...] = ()) -> Listed:
        """The lists as the disk has them now; `files` are those opened by path (a path that
        is gone is left out; one that is not a checkpoint is listed, saying why)."""
        with self.lock:
            self.catalog.refresh()
            runs = tuple(self.catalog.infos())
            entries = [file_entry(f, self._infos) for f in dict.fromkeys(files) if _exists(f)]
            for run in runs:
                entries.extend(run_entries(run, self._infos))
            bundled = bundled_entry(self._infos)
            if bundled is not None:
                entries.append(bundled)
            listed = {e.path for e in entries}
            for key in [k for k in self._infos if k[0] not in listed]:
                del self._infos[key]  # files gone: their summaries are not kept for ever
        return Listed(runs=runs, checkpoints=tuple(entries))


def _exists(path: str) -> bool:
    try:
        return Path(path).exists() or Path(path).is_symlink()  # (a dangling link says so)
    except OSError:  # a name too long, a folder without permission: listed, saying why
        return True
