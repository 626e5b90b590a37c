"""A queue of runs trained one after another, kept in the data folder so it survives quitting.

Each entry is a run's settings (flat names, as the CLI's flags and the train form name them,
with its preset) and the name its run will have; afterwards it is an ordinary run. The queue
lives in `queue.json`, which several processes may change at once: every change is a locked
read-modify-write of the file as it is now, written atomically (core/shared_file.py; a file that
cannot be read is reported, never overwritten), so the app's next launch, or `shakespeare-tui queue` again, goes on where
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

import difflib
import json
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from shakespeare_tui.core.config import (
    AUTO,
    CUSTOM,
    PRESETS,
    RESUMABLE_FIELDS,
    TrainConfig,
    build_config,
    flat,
)
from shakespeare_tui.core.errors import ActionFailed, EncodingStopped, FieldError, UserError
from shakespeare_tui.core.events import StopSignal, TrainingFinished
from shakespeare_tui.core.file_json import parse_json
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.runs.folders import (
    CHECKPOINT_FILES,
    LAST,
    check_run_name,
    new_run_name,
    restartable,
)
from shakespeare_tui.core.runs.lock import RunLock
from shakespeare_tui.core.shared_file import SharedFile
from shakespeare_tui.core.user_files import MIB, read_user_file

T = TypeVar("T")
# A run's settings under flat names (config.flat's), "preset" among them, each of its field's kind.
Settings = dict[str, Any]

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
_DEFAULTS = flat(build_config("cpu", None))
SETTING_NAMES = frozenset(_DEFAULTS)


@dataclass(frozen=True)
class QueueEntry:
    id: int  # stable when the queue is reordered
    run: str  # the name of the run it trains
    settings: Settings  # flat settings, "preset" among them
    state: str = WAITING
    note: str = ""  # how it ended, for people

    @property
    def preset(self) -> str:
        return str(self.settings.get("preset", AUTO))

    @property
    def run_settings(self) -> Settings:
        """Its settings for the run: all but the preset."""
        return {k: v for k, v in self.settings.items() if k != "preset"}

    @property
    def budget(self) -> str:
        """ "5 min / 300 steps" as far as the settings say (shown, so never raising on a value
        a hand-edited queue.json holds)."""
        minutes, steps = self.settings.get("max_minutes"), self.settings.get("max_steps")
        parts: list[str] = []
        if minutes:
            parts.append(
                f"{minutes:g} min" if isinstance(minutes, (int, float)) else f"{minutes!r} min"
            )
        if steps:
            parts.append(f"{steps:,} steps" if isinstance(steps, int) else f"{steps!r} steps")
        return " / ".join(parts) or "no budget"


class RunQueue:
    """The queue in `queue.json`, which several processes change: the one working it, `queue
    FILE --add` in another terminal, the app's `a`, `w` and queue dialog. Every change is a
    locked read-modify-write of the file as it is now (core/shared_file.py), so none is lost
    and none undoes another's; `entries` is the queue as the last read or change found it."""

    def __init__(self, path: Path, entries: list[QueueEntry] | None = None) -> None:
        self.path = Path(path)  # queue.json
        self.entries: list[QueueEntry] = list(entries or [])
        self._file = SharedFile(self.path, self._parse, _dump)

    # -- reading --------------------------------------------------------------------------

    @classmethod
    def load(cls, data_dir: Path) -> RunQueue:
        """The queue in `data_dir` (empty if there is none); UserError if it cannot be read."""
        queue = cls(Path(data_dir) / QUEUE_FILE)
        queue.reload()
        return queue

    def reload(self) -> list[QueueEntry]:
        """`entries` as the file holds them now (another process may have changed it)."""
        self.entries = self._file.read()
        return self.entries

    def _parse(self, data: bytes | None) -> list[QueueEntry]:
        if data is None:
            return []
        path = self.path
        try:
            document = parse_json(data.decode("utf-8"))
        except ValueError:  # not UTF-8, not JSON, or nested too deep
            raise UserError(
                f"{path} is not a queue (not JSON); move it away to start anew"
            ) from None
        try:
            if not isinstance(document, dict):
                raise ValueError("not a JSON object")
            if document.get("format") != FORMAT or document.get("version") != VERSION:
                raise ValueError("not written by this version of shakespeare-tui")
            entries = [_entry(row) for row in document["entries"]]
            ids = [e.id for e in entries]
            if len(set(ids)) != len(ids):
                raise ValueError("two entries share an id")
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise UserError(f"{path} is not a usable queue ({exc}); move it away") from None
        return entries

    def lock(self) -> RunLock:
        """Held by the process working the queue (the same lock a run folder has)."""
        return RunLock(self.path.parent, name=".queue.lock")

    # -- changing it: each change reads the file, changes that, and writes it --------------

    def change(self, edit: Callable[[list[QueueEntry]], T]) -> T:
        """Apply `edit` to the entries as the file holds them now (it changes the list in
        place and returns what the caller wants back), then write them; `entries` follows."""
        result: list[T] = []

        def apply(entries: list[QueueEntry]) -> list[QueueEntry]:
            entries = list(entries)
            result.append(edit(entries))
            return entries

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.entries = self._file.update(apply)
        return result[0]

    def add(
        self, settings: Mapping[str, object], run: str | None = None, runs_dir: Path | None = None
    ) -> QueueEntry:
        """Append a run; its settings are checked now, so a bad one never waits in the queue."""
        return self.add_many([(run, settings)], runs_dir)[0]

    def add_many(
        self, runs: Sequence[tuple[str | None, Mapping[str, object]]], runs_dir: Path | None = None
    ) -> list[QueueEntry]:
        """Append runs (name or None, settings) together: all or, on a refusal, none."""
        checked = [(run, checked_settings(settings)) for run, settings in runs]

        def append(entries: list[QueueEntry]) -> list[QueueEntry]:
            if len(entries) + len(checked) > MAX_ENTRIES:
                raise UserError(f"the queue holds {MAX_ENTRIES} runs at most")
            added = []
            for run, settings in checked:
                entry = _new_entry(entries, settings, run, runs_dir)
                entries.append(entry)
                added.append(entry)
            return added

        return self.change(append)

    def move(self, entry_id: int, delta: int) -> None:
        """Move an entry up (−1) or down (+1) among the others."""

        def move(entries: list[QueueEntry]) -> None:
            i = _index(entries, entry_id)
            j = max(0, min(len(entries) - 1, i + delta))
            entries.insert(j, entries.pop(i))

        self.change(move)

    def mark(self, entry_id: int, state: str, note: str = "") -> QueueEntry | None:
        """Set an entry's state; None if it is no longer in the queue."""

        def mark(entries: list[QueueEntry]) -> QueueEntry | None:
            for i, entry in enumerate(entries):
                if entry.id == entry_id:
                    entries[i] = replace(entry, state=state, note=note)
                    return entries[i]
            return None

        return self.change(mark)

    def cancel(self, entry_id: int) -> None:
        def cancel(entries: list[QueueEntry]) -> None:
            i = _index(entries, entry_id)
            if entries[i].state == TRAINING:
                raise UserError(f"{entries[i].run} is training: stop it first")
            entries[i] = replace(entries[i], state=CANCELLED, note="cancelled")

        self.change(cancel)

    def clear_finished(self) -> None:
        """Remove the entries that ended or were cancelled."""
        self.change(_keep(lambda e: e.state in OPEN_STATES))

    def clear(self) -> None:
        """Remove every entry but one in training while a process works the queue; with none
        working it, an entry left "training" (a kill) goes too — its run folder stays."""
        worked = self.lock().held_by_other_process() or self.lock().held_in_this_process()
        self.change(_keep(lambda e: worked and e.state == TRAINING))

    def start_next(self) -> QueueEntry | None:
        """The first open entry, marked training in the same change, so two workers never take
        one; None when nothing is left."""

        def take(entries: list[QueueEntry]) -> QueueEntry | None:
            for i, entry in enumerate(entries):
                if entry.state in OPEN_STATES:
                    entries[i] = replace(entry, state=TRAINING, note="")
                    return entry  # as it was: its state says whether it goes on
            return None

        return self.change(take)

    def next_open(self) -> QueueEntry | None:
        return next((e for e in self.entries if e.state in OPEN_STATES), None)

    @property
    def open_entries(self) -> list[QueueEntry]:
        return [e for e in self.entries if e.state in OPEN_STATES]


def _dump(entries: list[QueueEntry]) -> bytes:
    rows = [asdict(e) for e in entries]
    text = json.dumps({"format": FORMAT, "version": VERSION, "entries": rows}, indent=1)
    return (text + "\n").encode("utf-8")


def _index(entries: list[QueueEntry], entry_id: int) -> int:
    for i, entry in enumerate(entries):
        if entry.id == entry_id:
            return i
    raise UserError(f"no queued run {entry_id}")


def _keep(wanted: Callable[[QueueEntry], bool]) -> Callable[[list[QueueEntry]], None]:
    def keep(entries: list[QueueEntry]) -> None:
        entries[:] = [e for e in entries if wanted(e)]

    return keep


def _new_entry(
    entries: list[QueueEntry], settings: Settings, run: str | None, runs_dir: Path | None
) -> QueueEntry:
    """The entry a run gets when it joins `entries`: the next id, a name that is free."""
    taken = {e.run for e in entries if e.state in OPEN_STATES}
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
    return QueueEntry(max((e.id for e in entries), default=0) + 1, run, settings)


def resume_point(entry: QueueEntry, runs_dir: Path) -> Path | None:
    """What an entry continues from (one stopped or left training), if anything: its run's
    last checkpoint, or its run folder when the run was killed before its first checkpoint
    (the run then starts again from its settings, in its own folder)."""
    if entry.state not in (TRAINING, STOPPED):
        return None
    folder = Path(runs_dir) / entry.run
    path = folder / CHECKPOINT_FILES[LAST]
    if path.is_file():
        return path
    return folder if restartable(folder) else None


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


def entry_resume_overrides(entry: QueueEntry) -> Settings:
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


def checked_settings(settings: Mapping[str, object]) -> Settings:
    """Flat settings a run can start with (dashes read as underscores); UserError otherwise."""
    clean = {str(k).replace("-", "_"): v for k, v in settings.items()}
    preset = clean.get("preset", AUTO)
    if preset not in (AUTO, CUSTOM, *PRESETS):
        raise UserError(f"preset {preset!r} is not one of {', '.join((AUTO, *PRESETS))}")
    unknown = sorted(set(clean) - SETTING_NAMES - {"preset"})
    if unknown:
        near = difflib.get_close_matches(unknown[0], sorted(SETTING_NAMES), n=1)
        hint = f"; did you mean {near[0]!r}?" if near else " (see `shakespeare-tui train --help`)"
        raise UserError(f"{unknown[0]!r} is not a setting{hint}")
    try:
        for name, value in clean.items():
            _check_kind(name, value)
        build_config(preset, None, {k: v for k, v in clean.items() if k != "preset"}).validate()
    except FieldError as exc:
        raise UserError(f"{exc.field} {exc.reason}") from None
    except TypeError as exc:
        raise UserError(f"a setting has the wrong kind of value ({exc})") from None
    return clean


# The kind of value each setting takes, for the settings whose default (None) does not say.
_KINDS: dict[str, tuple[type, ...]] = {
    "max_steps": (int,),
    "max_minutes": (int, float),
    "bf16": (bool,),
    "threads": (int,),
    "sizing": (dict,),
}
_KIND_WORDS = {int: "a whole number", float: "a number", str: "text", bool: "true or false",
               dict: "a table"}  # fmt: skip


def _check_kind(name: str, value: object) -> None:
    """UserError naming the setting when `value` is not of its kind (a queue file can hold
    anything: `hidden = "big"` once came out as "'<' not supported between 'str' and 'int'")."""
    if name == "preset" or value is None:
        return
    default = _DEFAULTS.get(name)
    kinds = _KINDS.get(name) or ((int, float) if isinstance(default, float) else (type(default),))
    wrong = isinstance(value, bool) and bool not in kinds  # True is an int to Python, not to us
    if wrong or not isinstance(value, kinds):
        word = "a number" if float in kinds else _KIND_WORDS.get(kinds[0], kinds[0].__name__)
        raise FieldError(name, f"must be {word}, not {value!r}")


def read_queue_file(path: Path) -> list[tuple[str | None, Settings]]:
    """(run name or None, settings) per run of a TOML or JSON queue file, every run checked;
    any problem is one UserError naming the file and the run."""
    path = Path(path)
    raw = read_user_file(path, what="a queue file", max_bytes=MAX_FILE_BYTES)
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else parse_json(text)
    except UnicodeDecodeError:
        raise UserError(f"{path} is not UTF-8 text") from None
    except RecursionError:  # tomllib, like json, recurses per level of nesting
        raise UserError(f"{path} is nested too deeply to read") from None
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
    found: list[tuple[str | None, Settings]] = []
    names: set[str] = set()
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


def _entry(row: object) -> QueueEntry:
    if not isinstance(row, dict):
        raise ValueError("an entry is not a JSON object")
    entry = QueueEntry(int(row["id"]), str(row["run"]), dict(row["settings"]),
                       str(row["state"]), str(row.get("note", "")))  # fmt: skip
    if entry.state not in STATES:
        raise ValueError(f"unknown state {entry.state!r}")
    return entry


def work_queue(
    queue: RunQueue,
    paths: Paths,
    train_entry: Callable[[QueueEntry, Path | None], TrainingFinished],
    stop: StopSignal,
    on_change: Callable[[], None] | None = None,
) -> str:
    """Train the open entries in order with `train_entry(entry, resume)` (which returns the
    run's TrainingFinished), marking each in the file around its run (what other processes
    add or change meanwhile is kept, and trained in its turn); "done" when none is left,
    "stopped" when `stop` was set or a run was stopped. A run that cannot start is marked
    failed, with its one-line reason, and the queue goes on."""
    changed = on_change or (lambda: None)
    while not stop.is_set():
        entry = queue.start_next()
        if entry is None:
            return "done"
        changed()
        resume = resume_point(entry, paths.runs)
        try:
            checked_settings(entry.settings)  # queue.json may have been edited by hand
            finished = train_entry(entry, resume)
        except EncodingStopped as exc:  # stopped before it began: it waits for the next go
            queue.mark(entry.id, WAITING if resume is None else STOPPED, str(exc))
            changed()
            return "stopped"
        except (UserError, ActionFailed) as exc:  # bad settings, or the disk said no
            queue.mark(entry.id, FAILED, str(exc))
            changed()
            continue
        except KeyboardInterrupt:
            raise  # left "training": the next `queue` goes on with it from its checkpoint
        except Exception as exc:  # a bug: the entry must not stay "training" for ever
            queue.mark(entry.id, FAILED, f"internal error: {type(exc).__name__}: {exc}")
            changed()
            raise
        state = state_after(finished.reason)
        queue.mark(entry.id, state, finished.message)
        changed()
        if state == STOPPED:
            return "stopped"
    return "stopped"
