"""The run lock: one process writes a run folder at a time.

An flock on `runs/<name>/.lock` (O_CREAT|O_EXCL where there is no fcntl) makes taking it atomic;
a lock left by a dead process (a kill) is taken over. The pid inside is for people.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

if sys.platform == "win32":
    fcntl = None
else:
    import fcntl

from shakespeare_tui.core.errors import RunLockedError

# Lock files held by this process: the pid in the file cannot tell two trainers in one process
# (the app restarting a run while the old worker finishes its last step) apart.
_HELD: set[str] = set()
_HELD_CHANGED = threading.Condition()


class RunLock:
    """An exclusive lock file, so two processes never write one run.

    An flock on `.lock` (O_CREAT|O_EXCL where there is no fcntl) makes taking it atomic; a
    lock left by a dead process (a kill) is taken over.
    """

    def __init__(self, run_dir: Path, name: str = ".lock"):
        self.path = Path(run_dir) / name
        self.held = False
        self._fd: int | None = None

    def acquire(self, wait_s: float = 30.0) -> RunLock:
        """Take the lock; a holder in this process is waited for up to `wait_s` seconds. Taking
        a lock this object already holds does nothing (a run locks its folder before it reads
        it, and keeps that lock while it trains)."""
        if self.held:
            return self
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
                raise self._locked_error(self.owner()) from None
            if not current:  # unlinked by a releasing holder between our open and flock
                os.close(fd)
                continue
            pid = self.owner()
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
                pid = self.owner()
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

    def owner(self) -> int | None:
        """The pid written in the lock file, if there is a readable one."""
        try:
            return int(self.path.read_text().strip())
        except (OSError, ValueError):
            return None

    def release(self) -> None:
        if self.held:
            self.held = False
            try:
                if self.owner() == os.getpid():
                    self.path.unlink()
            except OSError:
                pass
            if self._fd is not None:  # after the unlink: closing lets the flock go
                os.close(self._fd)
                self._fd = None
            self._forget(os.path.abspath(self.path))

    def held_by_other_process(self) -> bool:
        """Whether a live process other than this one holds the lock (it is training the run)."""
        if not self.path.exists():
            return False
        pid = self.owner()
        return pid is not None and pid != os.getpid() and _alive(pid)

    def held_in_this_process(self) -> bool:
        """Whether a trainer in this process holds the lock (the app training the run)."""
        with _HELD_CHANGED:
            return os.path.abspath(self.path) in _HELD

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
