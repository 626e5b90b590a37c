"""A queue of runs trained one after another, kept in the data folder so it survives quitting.

Each entry is a run's settings (flat names, as the CLI's flags and the train form name them,
with its preset) and the name its run will have; afterwards it is an ordinary run. The queue
lives in `queue.json` (rewritten atomically; a file that cannot be read is reported, never
overwritten), so the app's next launch, or `shakespeare-tui queue` again, goes on where
it stopped: an entry left "training" by a quit or a kill resumes from its run's last
checkpoint. A lock beside it keeps two processes from working one queue.

Queue files a person writes (`shakespeare-tui queue FILE`) are TOML or JSON:

    [defaults]            # every run's settings, unless the run says otherwise
    max_minutes = 5
    [[runs]]
    run = "lstm"          # the run's name (optional: one is made up)
    cell = "lstm"
    hidden = 512
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import tomllib

from shakespeare_tui.core.atomic import atomic_write_text
from shakespeare_tui.core.config import (
    AUTO,
    CUSTOM,
    PRESETS,
    RESUMABLE_FIELDS,
    TrainConfig,
    build_config,
    flat,
)
from shakespeare_tui.core.errors import EncodingStopped, FieldError, UserError
from shakespeare_tui.core.runs.folders import CHECKPOINT_FILES, LAST, check_run_name, new_run_name
from shakespeare_tui.core.runs.lock import RunLock
from shakespeare_tui.core.user_files import MIB, read_user_file

QUEUE_FILE = "queue.json"
FORMAT, VERSION = "shakespeare-tui queue", 1
WAITING, TRAINING, DONE, STOPPED, FAILED, CANCELLED = (
    "waiting", "training", "done", "stopped", "failed", "cancelled",
)  # fmt: skip
STATES = (WAITING, TRAINING, DONE, STOPPED, FAILED, CANCELLED)
OPEN_STATES = (WAITING, TRAINING, STOPPED)  # still to train (a stopped one continues)
MAX_ENTRIES = 200
MAX_FILE_BYTES = MIB  # a queue file a person writes
# What a queue file may set besides the settings: the run's name (either spelling).
NAME_KEYS = ("run", "name")
SETTING_NAMES = frozenset(flat(build_config("cpu", None)))


@dataclass(frozen=True)
class QueueEntry:
    id: int  # stable when the queue is reordered
    run: str  # the name of the run it trains
    settings: dict  # flat settings, "preset" among them
    state: str = WAITING
    note: str = ""  # how it ended, for people

    @property
    def preset(self) -> str:
        return str(self.settings.get("preset", AUTO))

    @property
    def run_settings(self) -> dict:
        """Its settings for the run: all but the preset."""
        return {k: v for k, v in self.settings.items() if k != "preset"}

    @property
    def budget(self) -> str:
        minutes, steps = self.settings.get("max_minutes"), self.settings.get("max_steps")
        parts = ([f"{minutes:g} min"] if minutes else []) + ([f"{steps:,} steps"] if steps else [])
        return " / ".join(parts) or "no budget"


@dataclass
class RunQueue:
    path: Path  # queue.json
    entries: list[QueueEntry] = field(default_factory=list)

    # -- reading and writing ------------------------------------------------------------

    @classmethod
    def load(cls, data_dir: Path) -> RunQueue:
        """The queue in `data_dir` (empty if there is none); UserError if it cannot be read."""
        path = Path(data_dir) / QUEUE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except OSError as exc:
            raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
        except (UnicodeDecodeError, ValueError):
            raise UserError(
                f"{path} is not a queue (not JSON); move it away to start anew"
            ) from None
        try:
            if data.get("format") != FORMAT or data.get("version") != VERSION:
                raise ValueError("not written by this version of shakespeare-tui")
            entries = [_entry(row) for row in data["entries"]]
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise UserError(f"{path} is not a usable queue ({exc}); move it away") from None
        return cls(path, entries)

    def save(self) -> None:
        rows = [asdict(e) for e in self.entries]
        text = json.dumps({"format": FORMAT, "version": VERSION, "entries": rows}, indent=1)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, text + "\n")

    def lock(self) -> RunLock:
        """Held by the process working the queue (the same lock a run folder has)."""
        return RunLock(self.path.parent, name=".queue.lock")

    # -- changing it ----------------------------------------------------------------------

    def add(self, settings: dict, run: str | None = None, runs_dir: Path | None = None):
        """Append a run; its settings are checked now, so a bad one never waits in the queue."""
        if len(self.entries) >= MAX_ENTRIES:
            raise UserError(f"the queue holds {MAX_ENTRIES} runs at most")
        settings = checked_settings(settings)
        taken = {e.run for e in self.entries if e.state in OPEN_STATES}
        if run is not None:
            check_run_name(run)
            if run in taken or (runs_dir is not None and (Path(runs_dir) / run).exists()):
                raise UserError(f"run {run} already exists or is queued; choose another name")
        else:
            base = new_run_name(str(settings.get("preset", AUTO)))
            run, n = base, 1
            while run in taken or (runs_dir is not None and (Path(runs_dir) / run).exists()):
                n += 1
                run = f"{base}-{n}"
        entry = QueueEntry(max((e.id for e in self.entries), default=0) + 1, run, settings)
        self.entries.append(entry)
        return entry

    def find(self, entry_id: int) -> int:
        for i, entry in enumerate(self.entries):
            if entry.id == entry_id:
                return i
        raise UserError(f"no queued run {entry_id}")

    def move(self, entry_id: int, delta: int) -> None:
        """Move a waiting entry up (−1) or down (+1) among the others."""
        i = self.find(entry_id)
        j = max(0, min(len(self.entries) - 1, i + delta))
        self.entries.insert(j, self.entries.pop(i))

    def mark(self, entry_id: int, state: str, note: str = "") -> QueueEntry:
        i = self.find(entry_id)
        self.entries[i] = replace(self.entries[i], state=state, note=note)
        return self.entries[i]

    def cancel(self, entry_id: int) -> None:
        entry = self.entries[self.find(entry_id)]
        if entry.state == TRAINING:
            raise UserError(f"{entry.run} is training: stop it first")
        self.mark(entry_id, CANCELLED, "cancelled")

    def clear_finished(self) -> None:
        self.entries = [e for e in self.entries if e.state in OPEN_STATES]

    def next_open(self) -> QueueEntry | None:
        return next((e for e in self.entries if e.state in OPEN_STATES), None)

    @property
    def open_entries(self) -> list[QueueEntry]:
        return [e for e in self.entries if e.state in OPEN_STATES]


def resume_point(entry: QueueEntry, runs_dir: Path) -> Path | None:
    """The checkpoint an entry continues from (one stopped or left training), if any."""
    path = Path(runs_dir) / entry.run / CHECKPOINT_FILES[LAST]
    return path if entry.state in (TRAINING, STOPPED) and path.is_file() else None


def entry_config(entry: QueueEntry, auto_device_type: str | None = None) -> TrainConfig:
    """The settings a queue entry's run starts with: its preset, its settings on top, the
    preset "auto" resolved on its device. `auto_device_type` is what "auto" found, when the
    caller knows it already (the app, which probed it), so an entry left at "auto" is not
    probed again."""
    settings = entry.run_settings
    device = settings.get("device") or "auto"
    device_type = auto_device_type if device == "auto" else None
    if device_type is None:
        from shakespeare_tui.core.device import resolve_device  # torch: only as a run starts

        device_type = resolve_device(device).type
    return build_config(entry.preset, device_type, settings)


def entry_resume_overrides(entry: QueueEntry) -> dict:
    """What a queue entry's settings change when its run goes on: a run keeps its settings,
    but the queue's budget for it may have grown since (flat names, as `train` takes them)."""
    return {k: v for k, v in entry.run_settings.items() if k in RESUMABLE_FIELDS}


def state_after(reason: str) -> str:
    """A queue entry's state once its run ended for `reason` (a TrainingFinished reason)."""
    if reason == "stopped":
        return STOPPED
    if reason in ("diverged", "out-of-memory"):
        return FAILED
    return DONE


def checked_settings(settings: dict) -> dict:
    """Flat settings a run can start with (dashes read as underscores); UserError otherwise."""
    clean = {str(k).replace("-", "_"): v for k, v in settings.items()}
    preset = clean.get("preset", AUTO)
    if preset not in (AUTO, CUSTOM, *PRESETS):
        raise UserError(f"preset {preset!r} is not one of {', '.join((AUTO, *PRESETS))}")
    unknown = sorted(set(clean) - SETTING_NAMES - {"preset"})
    if unknown:
        raise UserError(f"{unknown[0]!r} is not a setting (see `shakespeare-tui train --help`)")
    try:
        build_config(preset, None, {k: v for k, v in clean.items() if k != "preset"}).validate()
    except FieldError as exc:
        raise UserError(f"{exc.field} {exc.reason}") from None
    except TypeError as exc:
        raise UserError(f"a setting has the wrong kind of value ({exc})") from None
    return clean


def read_queue_file(path: Path) -> list[tuple[str | None, dict]]:
    """(run name or None, settings) per run of a TOML or JSON queue file, every run checked;
    any problem is one UserError naming the file and the run."""
    path = Path(path)
    raw = read_user_file(path, what="a queue file", max_bytes=MAX_FILE_BYTES)
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except UnicodeDecodeError:
        raise UserError(f"{path} is not UTF-8 text") from None
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        kind = "TOML" if path.suffix.lower() == ".toml" else "JSON"
        raise UserError(f"{path} is not valid {kind}: {str(exc).splitlines()[0]}") from None
    if isinstance(data, list):
        data = {"runs": data}
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list) or not data["runs"]:
        raise UserError(f"{path} lists no runs: give a [[runs]] table per run (or a JSON list)")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise UserError(f"{path}: [defaults] must be a table of settings")
    found, names = [], set()
    for n, run in enumerate(data["runs"], 1):
        if not isinstance(run, dict):
            raise UserError(f"{path}: run {n} must be a table of settings")
        settings = {**defaults, **run}
        name = next((settings.pop(k) for k in NAME_KEYS if k in settings), None)
        for k in NAME_KEYS:
            settings.pop(k, None)
        where = f"{path}: run {n}" + (f" ({name})" if isinstance(name, str) else "")
        try:
            if name is not None:
                if not isinstance(name, str):
                    raise UserError("its name must be text")
                check_run_name(name)
                if name in names:
                    raise UserError(f"the name {name} is used twice")
                names.add(name)
            found.append((name, checked_settings(settings)))
        except UserError as exc:
            raise UserError(f"{where}: {exc}") from None
    if len(found) > MAX_ENTRIES:
        raise UserError(f"{path} lists {len(found)} runs; a queue holds {MAX_ENTRIES} at most")
    return found


def _entry(row: dict) -> QueueEntry:
    entry = QueueEntry(int(row["id"]), str(row["run"]), dict(row["settings"]),
                       str(row["state"]), str(row.get("note", "")))  # fmt: skip
    if entry.state not in STATES:
        raise ValueError(f"unknown state {entry.state!r}")
    return entry


def work_queue(queue: RunQueue, paths, train_entry, stop, on_change=None) -> str:
    """Train the open entries in order with `train_entry(entry, resume)` (which returns the
    run's TrainingFinished), saving the queue around each; "done" when none is left, "stopped"
    when `stop` was set or a run was stopped. A run that cannot start is marked failed, with
    its one-line reason, and the queue goes on."""
    changed = on_change or (lambda: None)
    while not stop.is_set():
        entry = queue.next_open()
        if entry is None:
            return "done"
        resume = resume_point(entry, paths.runs)
        queue.mark(entry.id, TRAINING)
        queue.save()
        changed()
        try:
            finished = train_entry(entry, resume)
        except EncodingStopped as exc:  # stopped before it began: it waits for the next go
            queue.mark(entry.id, WAITING if resume is None else STOPPED, str(exc))
            queue.save()
            changed()
            return "stopped"
        except UserError as exc:
            queue.mark(entry.id, FAILED, str(exc))
            queue.save()
            changed()
            continue
        state = state_after(finished.reason)
        queue.mark(entry.id, state, finished.message)
        queue.save()
        changed()
        if state == STOPPED:
            return "stopped"
    return "stopped"
