"""Every run folder under the runs folder as a table row, kept up to date cheaply.

`RunCatalog.refresh()` re-scans the folder; each run keeps its MetricsTail, so a refresh costs
a few stats per run when nothing changed and parses only what was appended when something did.
Folders that went away are dropped; one without a readable config.json is a half-written row.
`infos()` gives the same runs as the Train and Generate views list them (core/runs/listing.py
adds the checkpoints a person can pick): one reading of the folder for every list.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from shakespeare_tui.core.atomic import atomic_write_text
from shakespeare_tui.core.errors import one_line
from shakespeare_tui.core.file_json import JSONObject
from shakespeare_tui.core.runs.folders import CONFIG, read_json
from shakespeare_tui.core.runs.history import TRAINING
from shakespeare_tui.core.runs.lock import RunLock
from shakespeare_tui.core.runs.metrics_tail import MetricsTail, Series
from shakespeare_tui.core.runs.summary import RunInfo, run_info_from
from shakespeare_tui.core.runs.table import (
    RunRow,
    build_row,
    chars_per_step,
    newest_first,
    run_state_of,
    unreadable_row,
)

_CACHE_VERSION = 1  # of RunCatalog's cache file; another version is ignored
CACHE_FILE = "run-table.json"  # under the cache folder, shared by `runs` and the Runs view
# What a damaged run's files can make reading it raise (a value of the wrong kind, a number too
# large, JSON nested too deep, a file gone mid-read): that run becomes one row saying so.
_BROKEN = (OSError, ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError)


class _Entry:
    """One run folder: its config (re-read when it changes) and its metrics reader."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tail = MetricsTail(path)
        self.lock = RunLock(path)  # asked every refresh: made once
        self._config_file = os.path.join(path, CONFIG)
        self.config: JSONObject | None = None
        self._config_seen: tuple[int, int, int] | None = None
        self.row: RunRow | None = None

    def refresh(self) -> bool:
        try:
            changed = self._read_config()
            changed = bool(self.tail.read()) or changed
            state = run_state_of(self.path, self.config, self.tail.tally, self.lock)
            row = self.row
            if not changed and row and state == (row.state, row.state_text, row.training_here):
                return False  # the usual refresh: a few stats, nothing built
            self.row = build_row(self.path, self.config, self.tail, state)
        except _BROKEN as exc:  # one damaged run is one row that says so, never the table
            row = unreadable_row(self.path, one_line(exc) or type(exc).__name__)
            if row == self.row:
                return False
            self.row = row
        return True

    def _read_config(self) -> bool:
        try:
            st = os.stat(self._config_file)
            seen = (st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            seen = None
        if seen == self._config_seen:
            return False
        self._config_seen = seen
        config = read_json(self._config_file) if seen else None
        changed = config != self.config
        self.config = config
        self.tail.chars_per_step = chars_per_step(config) if config else None
        return changed


class RunCatalog:
    """Every run under `runs_dir` as rows, newest first; `refresh()` to catch up with the disk.

    With a `cache` file, where each reader stood is saved there after a refresh that parsed
    much, and the next catalog (the next launch) reads on from there: only what was appended
    in between is parsed. Use a catalog from one thread at a time (the view's worker).
    """

    SAVE_AFTER_BYTES = 1_000_000  # parsed since the last save; less is quick to parse again

    def __init__(self, runs_dir: Path, cache: Path | None = None) -> None:
        self.runs_dir = Path(runs_dir)
        self.cache = Path(cache) if cache else None
        self._entries: dict[str, _Entry] = {}
        self._saved: JSONObject | None = None  # the cache's readers, until each run has its entry
        self._unsaved = 0  # bytes parsed since the last save
        self.rows: tuple[RunRow, ...] = ()
        self.pending = 0  # run folders the last refresh left unread (its time budget ran out)
        self.unreadable: dict[str, str] = {}  # entries the last scan could not look at, and why
        self._broken: tuple[RunRow, ...] = ()  # their rows

    def refresh(self, budget_s: float | None = None) -> bool:
        """Re-scan the folder and re-read what changed; whether any row changed.

        With `budget_s`, runs not read before are left for the next refresh once that many
        seconds have gone (`pending` counts them; one is read at least): a first look at
        hundreds of long runs shows its first rows at once instead of all of them a second or
        more later.
        """
        deadline = time.monotonic() + budget_s if budget_s is not None else None
        names = self._scan()
        changed = False
        self.pending = 0
        first_reads = 0
        for name in [n for n in self._entries if n not in names]:
            del self._entries[name]
            changed = True
        saved = self._load_cache() if self._saved is None else self._saved
        for name in names:
            entry = self._entries.get(name)
            if entry is None and first_reads and deadline and time.monotonic() > deadline:
                self.pending += 1
                continue
            if entry is None:
                first_reads += 1
                entry = self._entries[name] = _Entry(self.runs_dir / name)
                state = saved.get(str(entry.path))
                if isinstance(state, dict):
                    entry.tail.restore(state)
            before = entry.tail.bytes_read
            changed = entry.refresh() or changed
            self._unsaved += entry.tail.bytes_read - before
            if entry.tail.gone:  # went between the scan and the read
                del self._entries[name]
                changed = True
        self._saved = saved if self.pending else {}  # kept for the runs not read yet
        broken = tuple(unreadable_row(self.runs_dir / n, why) for n, why in self.unreadable.items())
        if changed or broken != self._broken:
            self._broken = broken
            changed = True
            rows = [e.row for e in self._entries.values() if e.row]
            self.rows = tuple(newest_first(rows)) + broken
        if self._unsaved >= self.SAVE_AFTER_BYTES:
            self.save()
        return changed

    def _load_cache(self) -> JSONObject:
        data = read_json(self.cache) if self.cache else None
        if not data or data.get("version") != _CACHE_VERSION:
            return {}
        runs = data.get("runs")
        return runs if isinstance(runs, dict) else {}

    def save(self) -> None:
        """Write where each reader stands to the cache file (if any); failures are ignored:
        without it the next launch reads the files whole."""
        self._unsaved = 0
        if self.cache is None:
            return
        states: dict[str, object] = dict(self._saved or {})  # (runs not read yet keep theirs)
        states.update({str(e.path): e.tail.state() for e in self._entries.values()})
        data = {"version": _CACHE_VERSION, "runs": {k: v for k, v in states.items() if v}}
        try:
            self.cache.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.cache, json.dumps(data))
        except OSError:
            pass

    def _scan(self) -> list[str]:
        """The run folders' names, and in `unreadable` the entries that cannot be looked at
        (a link loop): each is listed as one row saying so, and the scan goes on."""
        names: list[str] = []
        self.unreadable = {}
        try:
            with os.scandir(self.runs_dir) as it:
                for entry in it:
                    if entry.name.startswith("."):
                        continue  # never a run: a deletion in progress renames a run to one
                    try:
                        if entry.is_dir():
                            names.append(entry.name)
                    except OSError as exc:
                        self.unreadable[entry.name] = exc.strerror or str(exc)
        except OSError:
            return []
        return names

    def infos(self) -> list[RunInfo]:
        """The runs with a readable config as a RunInfo each (the Train view's run selector,
        the checkpoint lists), newest first, as of the last refresh; a damaged one is left out
        (the Runs view's row says what is wrong with it)."""
        infos = []
        for entry in self._entries.values():
            row = entry.row
            if entry.config is None or row is None or row.path is None:
                continue
            training = row.state == TRAINING and not row.training_here
            try:
                infos.append(run_info_from(entry.path, entry.config, entry.tail.tally, training))
            except _BROKEN:
                continue
        return sorted(infos, key=lambda r: (r.created, r.name), reverse=True)

    def row(self, name: str) -> RunRow | None:
        entry = self._entries.get(name)
        return entry.row if entry else None

    def tail(self, name: str) -> MetricsTail | None:
        entry = self._entries.get(name)
        return entry.tail if entry else None

    def series(self, name: str) -> Series | None:
        """The run's curves; the first call for a run reads its whole file once."""
        entry = self._entries.get(name)
        return entry.tail.want_series() if entry else None
