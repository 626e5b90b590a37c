"""Finding a large corpus file's map in the cache, or making it once (encode.py writes it).

`keys/<sha256 of the path>.json` remembers the file's (size, mtime, ctime, inode) with the
checksum it had, so a multi-GB file is not re-hashed at every start; a file that changed in any
of those is encoded again. One encoder per file: a second process (another rank, the app and a
headless run) waits on the key's lock and then finds the entry the first one made.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

if sys.platform == "win32":  # no flock; temps are then cleaned by age
    fcntl = None
else:
    import fcntl

from shakespeare_tui.core.atomic import TEMP_SUFFIX, atomic_write_text
from shakespeare_tui.core.errors import CorpusError, EncodingStopped
from shakespeare_tui.core.events import CorpusEncoding, StopSignal
from shakespeare_tui.core.file_json import parse_json
from shakespeare_tui.core.shared_file import flock_held
from shakespeare_tui.core.text.corpus_map import CorpusMap, open_entry
from shakespeare_tui.core.text.encode import Encoder

STALE_TEMP_S = 24 * 3600  # without flock, a temp this old is taken for a dead writer's


def map_corpus(
    path: Path,
    shown: str,
    cache_dir: Path,
    *,
    on_event: Callable[[CorpusEncoding], None] | None = None,
    stop: StopSignal | None = None,
) -> CorpusMap:
    """The file's entry in the cache, encoding it first if this version of it has none.

    `on_event` gets CorpusEncoding events; `stop` (a threading.Event) ends an encode with
    EncodingStopped. Raises CorpusError, in one line, for a file that cannot be used.
    """
    folder = Path(cache_dir) / "corpora"
    keys = folder / "keys"
    try:
        keys.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CorpusError(f"cannot create {keys}: {exc.strerror or exc}") from None
    key = keys / (hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:32] + ".json")
    # One encoder per file: a second process (another rank, the app and a headless run) waits
    # and then finds the entry the first one made.
    with _locked(key.with_suffix(".lock"), stop, shown):
        st = _stat(path, shown)
        found = _known(key, st, folder)
        if found is not None:
            return found
        remove_dead_temps(folder)

        entry = Encoder(path, shown, st.st_size, folder, on_event, stop).run()
        stamp = {**_stamp(st), "checksum": entry.checksum}
        with contextlib.suppress(OSError):  # without it the next start re-encodes, no worse
            atomic_write_text(key, json.dumps(stamp))
        return entry


def _stat(path: Path, shown: str) -> os.stat_result:
    try:
        return path.stat()
    except OSError as exc:
        raise CorpusError(f"cannot read {shown}: {exc.strerror or exc}") from None


def _stamp(st: os.stat_result) -> dict[str, int]:
    return {
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "ctime_ns": st.st_ctime_ns,
        "inode": st.st_ino,
        "device": st.st_dev,
    }


def _known(key: Path, st: os.stat_result, folder: Path) -> CorpusMap | None:
    """The entry recorded for this exact version of the file, if it is still there and whole."""
    try:
        recorded = parse_json(key.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(recorded, dict) or "checksum" not in recorded:
        return None
    checksum = str(recorded.pop("checksum"))
    if recorded != _stamp(st):
        return None
    entry = open_entry(folder / (checksum.removeprefix("sha256:") + ".map"))
    if entry is None or entry.checksum != checksum or not entry.looks_whole():
        return None  # encoded again, over it
    return entry


@contextlib.contextmanager
def _locked(lock_path: Path, stop: StopSignal | None, shown: str) -> Iterator[None]:
    if fcntl is None:
        yield
        return
    try:
        f = open(lock_path, "a+b")  # noqa: SIM115 - closed by the with below
    except OSError as exc:  # a folder where the lock file belongs, a read-only cache
        raise CorpusError(f"cannot lock {lock_path}: {exc.strerror or exc}") from None

    def give_up() -> None:
        if stop is not None and stop.is_set():
            raise EncodingStopped(f"stopped while another process was encoding {shown}")

    with f, flock_held(f, poll_s=0.1, give_up=give_up):
        yield


def remove_dead_temps(folder: Path) -> None:
    """Delete the temp files of encoders that died (a kill, a power cut), never a live one's."""
    for tmp in Path(folder).glob(f".*{TEMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            if fcntl is None:
                if time.time() - tmp.stat().st_mtime > STALE_TEMP_S:
                    tmp.unlink()
                continue
            with open(tmp, "rb") as f:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # its writer is alive
                tmp.unlink()
