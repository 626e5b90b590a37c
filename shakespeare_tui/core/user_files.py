"""Reading a file a person names: a text to inspect, a queue file, a fork tree, a checkpoint.

One rule for all of them: a file larger than what it should be is refused before it is read
(limits in MiB), and whatever the system says (no such file, a directory, no permission)
becomes one line naming the file, in the same words everywhere. What the bytes mean (UTF-8,
JSON, TOML, a torch archive) is for the caller to say.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shakespeare_tui.core.errors import UserError

MIB = 2**20


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
    with _refusals(shown, what, error):
        with open(path, "rb") as f:
            if os.fstat(f.fileno()).st_size > max_bytes:
                raise too_large
            data = f.read(max_bytes + 1)  # not a regular file (a pipe), or one still growing
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
    with _refusals(shown or str(path), what, error):
        with open(path, "rb") as f:
            return f.read(size)


@contextmanager
def _refusals(shown: str, what: str, error: type[UserError]) -> Iterator[None]:
    try:
        yield
    except FileNotFoundError:
        raise error(f"{shown} does not exist") from None
    except IsADirectoryError:
        raise error(f"{shown} is a directory, not {what}") from None
    except OSError as exc:
        raise error(f"cannot read {shown}: {exc.strerror or exc}") from None
