"""Run folders: one per training run, with its config, metrics, samples and checkpoints.

runs/<name>/config.json     the TrainConfig and where it ran
runs/<name>/metrics.jsonl   one JSON object per logged step, and one per epoch (with val_loss)
runs/<name>/samples.txt     each epoch's sample
runs/<name>/best.pt         best validation loss so far
runs/<name>/last.pt         the latest state, resumable
runs/<name>/.lock           held by the process training this run
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

from shakespeare_tui.core.errors import RunLockedError, UserError
from shakespeare_tui.core.paths import Paths

BUNDLED = "bundled"
# Lock files held by this process: the pid in the file cannot tell two trainers in one process
# (the app restarting a run while the old worker finishes its last step) apart.
_HELD: set[str] = set()
_HELD_CHANGED = threading.Condition()
BEST, LAST = "best.pt", "last.pt"
_NAME_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


def bundled_checkpoint() -> Path:
    """The small pretrained checkpoint shipped inside the package."""
    return Path(str(resources.files("shakespeare_tui") / "assets" / "bundled.pt"))


def new_run_name(preset: str) -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S") + f"-{preset}"


def check_run_name(name: str) -> str:
    if not _NAME_OK.match(name):
        raise UserError(
            f"run name {name!r} must be 1–80 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


def read_json(path: Path) -> dict | None:
    """A JSON object from `path`, or None if missing, half-written or not an object."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_metrics(run_dir: Path) -> list[dict]:
    """metrics.jsonl's records; a torn last line (a kill mid-write) is skipped."""
    records = []
    try:
        with open(Path(run_dir) / "metrics.jsonl", encoding="utf-8") as f:
            for line in f:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict):
                    records.append(record)
    except OSError:
        pass
    return records


class RunLock:
    """An exclusive lock file, so two processes never write one run.

    An flock on `.lock` (O_CREAT|O_EXCL where there is no fcntl) makes taking it atomic; a
    lock left by a dead process (a kill) is taken over.
    """

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / ".lock"
        self.held = False
        self._fd: int | None = None

    def acquire(self, wait_s: float = 30.0) -> RunLock:
        """Take the lock; a holder in this process is waited for up to `wait_s` seconds."""
        key = os.path.abspath(self.path)
        with _HELD_CHANGED:
            if not _HELD_CHANGED.wait_for(lambda: key not in _HELD, timeout=wait_s):
                raise RunLockedError(
                    f"run {self.path.parent.name} is being trained in this program; stop it first"
                )
            _HELD.add(key)
        try:
            return self._acquire()
        except BaseException:
            self._forget(key)
            raise

    @staticmethod
    def _forget(key: str) -> None:
        with _HELD_CHANGED:
            _HELD.discard(key)
            _HELD_CHANGED.notify_all()

    def _acquire(self) -> RunLock:
        if fcntl is None:
            return self._acquire_by_create()
        # flock, not just O_EXCL and a pid: two processes starting together, or both taking
        # over one stale lock, could otherwise both win (measured: 2 of 6 racing processes).
        # The kernel drops a flock when its holder dies; the pid inside is for people.
        for _ in range(10):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                current = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except (BlockingIOError, FileNotFoundError) as exc:
                os.close(fd)
                if isinstance(exc, FileNotFoundError):
                    continue  # its holder let go and removed it: try the new file
                raise self._locked_error(self._owner()) from None
            if not current:  # unlinked by a releasing holder between our open and flock
                os.close(fd)
                continue
            pid = self._owner()
            if pid is not None and pid != os.getpid() and _alive(pid):
                os.close(fd)  # a holder that does not flock (an older version of this program)
                raise self._locked_error(pid)
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            self._fd = fd
            self.held = True
            return self
        raise RunLockedError(
            f"cannot lock run {self.path.parent.name}; another process keeps taking it"
        )

    def _locked_error(self, pid: int | None) -> RunLockedError:
        who = f"another process (pid {pid})" if pid else "another process"
        return RunLockedError(
            f"run {self.path.parent.name} is being trained by {who}; "
            "stop it first or start a new run"
        )

    def _acquire_by_create(self) -> RunLock:
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                pid = self._owner()
                if pid is not None and pid != os.getpid() and _alive(pid):
                    raise RunLockedError(
                        f"run {self.path.parent.name} is being trained by another process (pid {pid}); "
                        "stop it first or start a new run"
                    ) from None
                try:
                    self.path.unlink()
                except FileNotFoundError:
                    pass
                continue
            with os.fdopen(fd, "w") as f:
                f.write(str(os.getpid()))
            self.held = True
            return self
        raise RunLockedError(
            f"cannot lock run {self.path.parent.name}; another process keeps taking it"
        )

    def _owner(self) -> int | None:
        try:
            return int(self.path.read_text().strip())
        except (OSError, ValueError):
            return None

    def release(self) -> None:
        if self.held:
            self.held = False
            try:
                if self._owner() == os.getpid():
                    self.path.unlink()
            except OSError:
                pass
            if self._fd is not None:  # after the unlink: closing lets the flock go
                os.close(self._fd)
                self._fd = None
            self._forget(os.path.abspath(self.path))

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class RunInfo:
    name: str
    path: Path
    corpus: str
    model: str
    preset: str
    epochs_done: int
    best_val_loss: float | None
    device: str
    created: str
    best: Path | None
    last: Path | None
    training: bool  # locked by a live process


def run_info(run_dir: Path) -> RunInfo | None:
    """A run's summary, or None if the folder is not a run (yet): never raises."""
    run_dir = Path(run_dir)
    config = read_json(run_dir / "config.json")
    if config is None:
        return None
    train = config.get("train") if isinstance(config.get("train"), dict) else {}
    model = train.get("model") if isinstance(train.get("model"), dict) else {}
    epochs = [
        r
        for r in read_metrics(run_dir)
        # A hand-edited or foreign record may hold anything: only whole-number epochs count.
        if r.get("kind") == "epoch" and isinstance(r.get("epoch"), int) and r["epoch"] >= 1
    ]
    vals = [r["val_loss"] for r in epochs if isinstance(r.get("val_loss"), (int, float))]
    lock = RunLock(run_dir)
    owner = lock._owner() if lock.path.exists() else None
    summary = f"{str(model.get('cell', '?')).upper()} E{model.get('embed', '?')}/H{model.get('hidden', '?')}"
    if isinstance(model.get("layers"), int) and model["layers"] > 1:
        summary += f"×{model['layers']}"
    return RunInfo(
        name=run_dir.name,
        path=run_dir,
        corpus=str(config.get("corpus", {}).get("name", train.get("corpus", "?")))
        if isinstance(config.get("corpus"), dict)
        else str(train.get("corpus", "?")),
        model=summary,
        preset=str(train.get("preset", "?")),
        epochs_done=max(
            (int(r.get("epoch", 0)) for r in epochs if not r.get("partial")), default=0
        ),
        best_val_loss=min(vals) if vals else None,
        device=str(config.get("device", "?")),
        created=str(config.get("created", "")),
        best=run_dir / BEST if (run_dir / BEST).is_file() else None,
        last=run_dir / LAST if (run_dir / LAST).is_file() else None,
        training=owner is not None and owner != os.getpid() and _alive(owner),
    )


def list_runs(paths: Paths) -> list[RunInfo]:
    """Every run under the data dir, newest first; half-written folders are skipped."""
    try:
        folders = [p for p in paths.runs.iterdir() if p.is_dir()]
    except OSError:
        return []
    infos = [info for p in folders if (info := run_info(p)) is not None]
    return sorted(infos, key=lambda r: (r.created, r.name), reverse=True)


def resolve_checkpoint(spec: str, paths: Paths, prefer: str = BEST) -> Path:
    """A checkpoint file from "bundled", a file path, a run folder, or a run name."""
    if spec == BUNDLED:
        path = bundled_checkpoint()
        if not path.is_file():
            raise UserError(
                "the bundled checkpoint is missing from this installation; reinstall shakespeare-tui"
            )
        return path
    candidates = [Path(spec).expanduser()]
    if _NAME_OK.match(spec):
        candidates.append(paths.runs / spec)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
        if candidate.is_dir():
            order = (BEST, LAST) if prefer == BEST else (LAST, BEST)
            for name in order:
                if (candidate / name).is_file():
                    return candidate / name
            raise UserError(f"run {candidate.name} has no checkpoint yet")
    raise UserError(f"no checkpoint or run named {spec!r}; see `shakespeare-tui runs`")
