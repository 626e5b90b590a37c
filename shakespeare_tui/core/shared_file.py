"""A file that several processes change: every change is a locked read-modify-write of the file
as it is now, never a write-back of what one process read earlier.

The queue (`queue.json`) is changed by the process working it, by `queue FILE --add` in
another terminal and by the app's `a`, `w` and queue dialog, all at once if a person likes.
Each of them used to load the file, change its copy and save it: two changes a second apart
and one was lost, while both commands said they had made it. `SharedFile.update(change)`
instead takes an flock on a lock file beside the target, reads the target as it is now, applies
`change` to that, writes the result atomically (core/atomic.py) and releases the lock; a change
made meanwhile by another process is in what `change` sees. The lock is held only for the
read, the change and the write, never while a run trains.

A target that cannot be read is reported (the reader's UserError) and left as it is: a failed
read never leads to a rewrite.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Generic, TypeVar

if sys.platform == "win32":  # no flock; changes there are not protected across processes
    fcntl = None
else:
    import fcntl

from shakespeare_tui.core.atomic import atomic_write_bytes
from shakespeare_tui.core.errors import ActionFailed

T = TypeVar("T")

LOCK_WAIT_S = 10.0  # a change holds the lock for milliseconds; longer means a stuck process


def lock_path(path: Path) -> Path:
    """The lock file beside `path` (`queue.json` → `.queue.json.lock`)."""
    return path.with_name(f".{path.name}.lock")


@contextlib.contextmanager
def locked(path: Path, wait_s: float = LOCK_WAIT_S) -> Iterator[None]:
    """Hold the lock of `path` (an flock on its lock file) for the block; ActionFailed if another
    process holds it for longer than `wait_s`."""
    if fcntl is None:
        yield
        return
    try:
        fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ActionFailed(f"cannot lock {path}: {exc.strerror or exc}") from None
    deadline = time.monotonic() + wait_s

    def give_up() -> None:
        if time.monotonic() > deadline:
            raise ActionFailed(
                f"{path} stayed locked by another process for {wait_s:g} s; try again"
            )

    try:
        with flock_held(fd, poll_s=0.005, give_up=give_up):
            yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def flock_held(
    file: int | IO[bytes], *, poll_s: float, give_up: Callable[[], None]
) -> Iterator[None]:
    """Hold an exclusive flock on the open `file` for the block. While another process holds
    it, `give_up()` is asked (it raises to stop waiting), then it is tried again `poll_s`
    later: a blocking flock could be neither stopped nor timed out. Not for Windows (no fcntl)."""
    assert fcntl is not None, "callers run their block unlocked where there is no flock"
    while True:
        with contextlib.suppress(BlockingIOError):  # another process holds it
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        give_up()  # outside the except: its one-line error carries no BlockingIOError
        time.sleep(poll_s)
    try:
        yield
    finally:
        fcntl.flock(file, fcntl.LOCK_UN)


class SharedFile(Generic[T]):
    """`path`, read by `load(bytes | None)` (None: there is no file yet) and written by
    `dump(value) -> bytes`; `load` raises UserError for a file it cannot understand."""

    def __init__(
        self, path: Path, load: Callable[[bytes | None], T], dump: Callable[[T], bytes]
    ) -> None:
        self.path = Path(path)
        self._load = load
        self._dump = dump

    def read(self) -> T:
        """The file as it is now (no lock: a rename makes every version whole)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            data = None
        except OSError as exc:
            raise ActionFailed(f"cannot read {self.path}: {exc.strerror or exc}") from None
        return self._load(data)

    def update(self, change: Callable[[T], T]) -> T:
        """Apply `change` to the file as it is now and write the result, under the lock; the
        new value is returned. Nothing is written if reading or `change` raises."""
        with locked(self.path):
            new = change(self.read())
            try:
                atomic_write_bytes(self.path, self._dump(new))
            except OSError as exc:
                raise ActionFailed(f"cannot write {self.path}: {exc.strerror or exc}") from None
            return new
