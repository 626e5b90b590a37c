"""Rewriting files so that a crash leaves the old version or the new one, never half of one.

Every file this program rewrites (checkpoints, run configs, trimmed metrics, the corpus cache,
the app's settings) goes through `atomic_write`: a temp file beside the target, fsync, rename,
then fsync of the folder so the rename itself survives a power cut.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

TEMP_SUFFIX = ".tmp"


def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write through `write(file)` to a temp file beside `path`, fsync, then rename over it.

    On any failure the temp file is removed and the old `path` is untouched.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; these are ordinary files
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_folder(path.parent)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda f: f.write(data))


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` survive a power cut (where the platform can open folders)."""
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # not every platform opens folders; the rename is done either way
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def remove_stale_temps(folder: Path) -> None:
    """Delete the temp files a killed `atomic_write` left in `folder` (hold the folder's lock)."""
    for tmp in Path(folder).glob(f".*{TEMP_SUFFIX}"):
        try:
            tmp.unlink()
        except OSError:
            pass


def file_sha256(path: Path) -> str:
    """The file's sha256 in hex, read in pieces; "" if it cannot be read."""
    import hashlib

    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while piece := f.read(1 << 20):
                digest.update(piece)
    except OSError:
        return ""
    return digest.hexdigest()
