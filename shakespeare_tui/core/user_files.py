"""Reading a file a person names: a text to inspect, a corpus, a queue file, a fork tree, a
checkpoint, a file the Generate view lists.

One rule for all of them: only a regular file is opened — a pipe, a device or a socket is
refused from its `stat`, before it is opened, and opened without blocking in case it became
one since (a FIFO opened for reading waits for a writer for ever; /dev/zero never ends); a
file larger than what it should be is refused before it is read (limits in MiB), and read no
further than the limit when its size lies (/proc); whatever the system says (no such file, a
directory, no permission) becomes one line naming the file, in the same words everywhere.
What the bytes mean (UTF-8, JSON, TOML, a torch archive) is for the caller to say.

`user_path` reads a path as a person typed it ("~/corpus.txt"), so a `~` that cannot be
expanded (no $HOME, an unknown user) is one line too.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from shakespeare_tui.core.errors import UserError

MIB = 2**20
# A FIFO opened for reading without O_NONBLOCK waits for a writer (Windows has neither).
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_KINDS = (
    (stat.S_ISFIFO, "a pipe (FIFO)"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)


def user_path(text: str | os.PathLike[str], error: type[UserError] = UserError) -> Path:
    """A path as a person typed it, "~" and "~user" expanded; UserError if they cannot be."""
    try:
        return Path(text).expanduser()
    except RuntimeError:  # "Could not determine home directory": no $HOME, no such user
        first = Path(text).parts[0] if Path(text).parts else str(text)
        raise error(
            f"cannot tell which folder {first} is (no $HOME, or no such user): give the full path"
        ) from None


def check_user_file(
    path: str | Path,
    *,
    what: str,
    shown: str | None = None,
    error: type[UserError] = UserError,
) -> os.stat_result:
    """The `stat` of a file a person named, refused in one line unless it is a regular file:
    for a reader that hands the path to a library (torch.load) or reads it in pieces."""
    shown = shown or str(path)
    with _refusals(shown, what, error):
        st = os.stat(path)
    _check_kind(st, shown, what, error)
    return st


def _check_kind(st: os.stat_result, shown: str, what: str, error: type[UserError]) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise error(f"{shown} is a directory, not {what}")
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
        raise error(f"{shown} is {kind}, not {what}")


@contextmanager
def open_user_file(
    path: str | Path,
    *,
    what: str,
    shown: str | None = None,
    error: type[UserError] = UserError,
) -> Iterator[BinaryIO]:
    """A regular file a person named, open for reading in binary; refused in one line before
    it is opened otherwise (and checked again once open, without having blocked)."""
    shown = shown or str(path)
    check_user_file(path, what=what, shown=shown, error=error)
    with _refusals(shown, what, error):
        fd = os.open(path, _OPEN_FLAGS)
    try:
        _check_kind(os.fstat(fd), shown, what, error)  # replaced by a pipe since the stat
        f = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with f, _refusals(shown, what, error):
        yield f


def read_user_file(
    path: str | Path,
    *,
    what: str,
    max_bytes: int,
    shown: str | None = None,
    error: type[UserError] = UserError,
) -> bytes:
    """The whole of a file a person named, at most `max_bytes` of it.

    `what` is what the file should be ("a queue file"), `shown` how the file is named in the
    message (its path by default), `error` the UserError subclass raised.
    """
    shown = shown or str(path)
    too_large = error(f"{shown} is over {max_bytes / MIB:g} MiB, the limit for {what}")
    with open_user_file(path, what=what, shown=shown, error=error) as f:
        if os.fstat(f.fileno()).st_size > max_bytes:
            raise too_large
        data = f.read(max_bytes + 1)  # a size that lies (/proc), or a file still growing
    if len(data) > max_bytes:
        raise too_large
    return data


def read_user_file_head(
    path: str | Path,
    size: int,
    *,
    what: str,
    shown: str | None = None,
    error: type[UserError] = UserError,
) -> bytes:
    """The first `size` bytes of a file a person named that may be large (a checkpoint, whose
    reader then maps the rest), refused in the same words as `read_user_file`."""
    with open_user_file(path, what=what, shown=shown, error=error) as f:
        return f.read(size)


@contextmanager
def _refusals(shown: str, what: str, error: type[UserError]) -> Iterator[None]:
    try:
        yield
    except (FileNotFoundError, NotADirectoryError):  # NotADirectory: a file named as a folder
        raise error(f"{shown} does not exist") from None
    except IsADirectoryError:
        raise error(f"{shown} is a directory, not {what}") from None
    except PermissionError:
        raise error(
            f"cannot read {shown}: permission denied; fix its permissions or copy it somewhere"
        ) from None
    except OSError as exc:
        raise error(f"cannot read {shown}: {exc.strerror or exc}") from None
