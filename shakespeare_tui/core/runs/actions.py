"""Renaming and deleting a run folder, refusing what must not be touched.

Neither touches the bundled checkpoint (it is no run folder), a run being trained (its lock is
taken for the action, so no trainer can start meanwhile), or anything but a real folder right
inside the runs folder: a run's name cannot hold a path, and a link is refused, never followed.
A deletion first renames the folder to a hidden name, so no listing shows it half deleted.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shakespeare_tui.core.errors import ActionFailed, RunLockedError, UserError
from shakespeare_tui.core.runs.folders import (
    BEST,
    BUNDLED,
    CHECKPOINT_FILES,
    CONFIG,
    check_run_name,
)
from shakespeare_tui.core.runs.lock import RunLock

DELETING = ".deleting-"  # the hidden name a run has while it is deleted


def find_run(runs_dir: Path, name: str) -> Path:
    """The folder of the run called `name`; UserError if there is none."""
    if name == BUNDLED:
        raise UserError(
            "bundled is the pretrained checkpoint that ships with the program, not a run"
        )
    folder = Path(runs_dir) / check_run_name(name)  # a checked name holds no "/" and no ".."
    if not folder.is_dir():
        raise UserError(f"no run named {name!r}; see `shakespeare-tui runs`")
    return folder


def _own_folder(runs_dir: Path, name: str, verb: str) -> Path:
    """The run's folder, if it is a real folder in `runs_dir` (not a link) that can be `verb`d."""
    if name == BUNDLED:
        raise UserError(
            f"the bundled checkpoint ships with the program and cannot be {verb}d; "
            "export it to make a copy of your own"
        )
    folder = find_run(runs_dir, name)
    mode = os.lstat(folder).st_mode
    if stat.S_ISLNK(mode) or not stat.S_ISDIR(mode):
        raise UserError(f"{folder} is a link, not a run folder; {verb} it by hand if you mean to")
    return folder


def deletable(runs_dir: Path, name: str) -> Path:
    """The folder `delete_run` would delete, or the UserError it would raise: for asking a
    person first, with the answer known to be worth giving."""
    folder = _own_folder(runs_dir, name, "delete")
    lock = RunLock(folder)
    if lock.held_by_other_process() or lock.held_in_this_process():
        raise _training(folder, lock.owner(), "delete")
    return folder


def _training(folder: Path, pid: int | None, verb: str) -> RunLockedError:
    who = f"another process (pid {pid})" if pid and pid != os.getpid() else "this program"
    return RunLockedError(
        f"run {folder.name} is being trained by {who}; stop it before you {verb} it"
    )


@contextmanager
def _exclusive(folder: Path, verb: str) -> Iterator[RunLock]:
    """Hold the run's lock for the action: refused if a trainer holds it, and no trainer can
    start on the run until the action is done."""
    lock = RunLock(folder)
    pid = lock.owner()
    try:
        lock.acquire(wait_s=0)
    except RunLockedError:
        raise _training(folder, pid, verb) from None
    except OSError as exc:
        raise ActionFailed(f"cannot {verb} run {folder.name}: {exc.strerror or exc}") from None
    try:
        yield lock
    finally:
        lock.release()


def rename_run(runs_dir: Path, old: str, new: str) -> Path:
    """Rename run `old` to `new` (one rename of its folder); its new folder."""
    folder = _own_folder(runs_dir, old, "rename")
    if new == BUNDLED:
        raise UserError("bundled names the pretrained checkpoint; choose another name")
    target = Path(runs_dir) / check_run_name(new)
    if new == old:
        raise UserError(f"run {old} is called {new} already")
    if os.path.lexists(target):
        raise UserError(f"a run named {new} exists already; choose another name")
    with _exclusive(folder, "rename"):
        try:
            os.rename(folder, target)
        except OSError as exc:
            raise ActionFailed(f"cannot rename run {old}: {exc.strerror or exc}") from None
        # The lock file moved with the folder: it names this process, which may live on (the
        # app); left there, other processes would take the run for one being trained.
        _remove(target / ".lock")
    return target


def delete_run(runs_dir: Path, name: str) -> Path:
    """Delete run `name`'s folder and everything in it (links inside are removed, never
    followed); the folder it was."""
    folder = _own_folder(runs_dir, name, "delete")
    with _exclusive(folder, "delete"):
        hidden = Path(runs_dir) / f"{DELETING}{name}-{os.getpid()}"
        try:
            os.rename(folder, hidden)
        except OSError as exc:
            raise ActionFailed(f"cannot delete run {name}: {exc.strerror or exc}") from None
        try:
            shutil.rmtree(hidden)  # removes links, never follows them (nor a swapped-in one)
        except OSError as exc:
            raise ActionFailed(
                f"run {name} is only partly deleted ({exc.strerror or exc}); "
                f"what is left is in {hidden}"
            ) from None
    return folder


def folder_size(folder: Path) -> tuple[int, int]:
    """(files, bytes) in a folder, links not followed: what a deletion would remove."""
    files = total = 0
    for root, dirs, names in os.walk(folder):  # links to folders are listed, not walked
        for name in names + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
                files += 1
            except OSError:
                continue
    return files, total


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def export_name(spec: str, source: Path) -> str:
    """The file an export into a folder gets: the run's name (r.pt, r-last.pt), else the
    checkpoint's own name (bundled.pt, a loose file's name)."""
    if spec == BUNDLED:
        return f"{BUNDLED}.pt"
    if (source.parent / CONFIG).is_file():  # a run's best.pt or last.pt
        run = source.parent.name
        return f"{run}.pt" if source.name == CHECKPOINT_FILES[BEST] else f"{run}-{source.stem}.pt"
    return source.name
