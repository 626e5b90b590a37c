"""Corpora larger than memory: their encoded copies in the cache, found, read and kept whole.

A corpus file over MAP_ABOVE_BYTES (corpus.py) is encoded once into `corpora/<sha256>.map`
(corpus_encode.py makes it) and trained from it: a flat array of codes, one per character, 1
byte while the vocabulary has at most 256 characters, else 2, else 4, numbered as the encoder
met the characters. `MappedCodes` reads only the windows asked for, and turns those numbers
into a Vocabulary's (sorted) codes with a lookup table, so the map is never rewritten.

An entry is one file: the codes, then a JSON trailer (characters in code order, width, length,
checksum), then MAGIC and the trailer's length, so one rename makes it whole; the checksum is
corpus.checksum_of's (the normalised text's sha256), so a run records the same checksum whether
its corpus was mapped or read whole. `keys/<sha256 of the path>.json` remembers the file's
(size, mtime, ctime, inode) with the checksum it had, so a multi-GB file is not re-hashed at
every start; a file that changed in any of those is encoded again (and a resume then finds its
checksum changed, as for any corpus).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

try:
    import fcntl
except ImportError:  # Windows: no flock; temps are then cleaned by age
    fcntl = None

from shakespeare_tui.core.errors import CorpusError, EncodingStopped
from shakespeare_tui.core.files import TEMP_SUFFIX, atomic_write_text

FORMAT = 1
MAGIC = b"STUIMAP1"
STALE_TEMP_S = 24 * 3600  # without flock, a temp this old is taken for a dead writer's
DTYPES = {1: np.dtype("<u1"), 2: np.dtype("<u2"), 4: np.dtype("<u4")}  # by bytes per code


def width_for(chars: int) -> int:
    """Bytes per code for a vocabulary of `chars` characters."""
    return 1 if chars <= 256 else 2 if chars <= 65536 else 4


@dataclass(frozen=True)
class CorpusMap:
    """An encoded corpus in the cache: `length` codes of `width` bytes, numbered as `chars`."""

    path: Path
    chars: str = field(repr=False)  # the numbering: code i is chars[i] (first seen first)
    length: int
    width: int
    checksum: str  # "sha256:<hex>" of the normalised text, as corpus.checksum_of gives it

    @cached_property
    def file(self):
        """The map, open for reading (one descriptor, shared: pread keeps no position)."""
        f = open(self.path, "rb")  # noqa: SIM115 - lives as long as the corpus
        with contextlib.suppress(AttributeError, OSError):
            # Windows are read at random: reading ahead of one would fetch 128 kB for 200 bytes.
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_RANDOM)
        return f

    def codes(self, vocab) -> MappedCodes:
        """The corpus as `vocab`'s codes (every character must be in it: see `unknown`)."""
        table = np.array([vocab.code(c) for c in self.chars], dtype=np.int64)
        return MappedCodes(self.file, 0, self.length, DTYPES[self.width], table)

    def unknown(self, vocab) -> list[str]:
        return [c for c in self.chars if c not in vocab]

    def read(self, start: int, stop: int) -> str:
        """Characters [start, stop) as text, read from the map (a slice, not the whole)."""
        points = np.array([ord(c) for c in self.chars], dtype="<u4")
        codes = MappedCodes(self.file, 0, self.length, DTYPES[self.width], points)
        return (
            codes.rows(np.array([start]), stop - start).astype("<u4").tobytes().decode("utf-32-le")
        )


class MappedCodes:
    """A map's codes [start, stop) as a Vocabulary's codes, read row by row with pread.

    Not through a memory mapping: random windows through np.memmap map every page-cache folio
    they touch into the process (2 MB at a time on Linux 6.18's large folios), so 300 steps of
    the tiny preset put a whole 2 GB map in the process's RSS. Those are page cache pages the
    kernel may take back, but top and the OOM killer's score count them. pread reads the same
    cached pages and RSS stays flat: ~100–150 µs for 64 windows of 101 against ~40 µs through
    a mapping, where a step takes milliseconds (benchmarks/RESULTS.md).
    """

    def __init__(self, file, start: int, stop: int, dtype: np.dtype, table: np.ndarray):
        self.file, self.start, self.stop, self.dtype, self.table = file, start, stop, dtype, table

    def __len__(self) -> int:
        return self.stop - self.start

    def part(self, start: int, stop: int) -> MappedCodes:
        return MappedCodes(self.file, self.start + start, self.start + stop, self.dtype, self.table)

    def rows(self, starts: np.ndarray, length: int) -> np.ndarray:
        """A (len(starts), length) array of int64 codes: row i is codes [starts[i], + length)."""
        width, base = self.dtype.itemsize, self.start
        size = length * width
        read = _reader(self.file)
        data = b"".join([read(size, (base + s) * width) for s in starts.tolist()])
        if len(data) != size * len(starts):  # only if the file was cut short under us
            raise CorpusError(f"{self.file.name} is shorter than it says: delete it to rebuild it")
        return self.table[np.frombuffer(data, dtype=self.dtype).reshape(len(starts), length)]


_SEEKING = threading.Lock()


def _reader(file) -> Callable[[int, int], bytes]:
    """read(size, offset) on `file`: os.pread, which threads may share; else seek and read."""
    if hasattr(os, "pread"):
        fd = file.fileno()
        return lambda size, offset: os.pread(fd, size, offset)

    def read(size: int, offset: int) -> bytes:  # Windows
        with _SEEKING:
            file.seek(offset)
            return file.read(size)

    return read


# ---------------------------------------------------------------- finding or making an entry


def map_corpus(
    path: Path,
    shown: str,
    cache_dir: Path,
    *,
    on_event: Callable[[object], None] | None = None,
    stop=None,
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
        from shakespeare_tui.core.corpus_encode import Encoder  # (it imports this module)

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


def _stamp(st: os.stat_result) -> dict:
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
        recorded = json.loads(key.read_text(encoding="utf-8"))
        checksum = str(recorded.pop("checksum"))
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        return None
    if recorded != _stamp(st):
        return None
    entry = open_entry(folder / (checksum.removeprefix("sha256:") + ".map"))
    return entry if entry is not None and entry.checksum == checksum else None


def open_entry(path: Path) -> CorpusMap | None:
    """A map file read back from its trailer; None unless it is complete and consistent."""
    try:
        with open(path, "rb") as f:
            total = f.seek(0, os.SEEK_END)
            f.seek(total - 16)
            tail = f.read(16)
            if tail[:8] != MAGIC:
                return None
            meta_len = int.from_bytes(tail[8:], "little")
            f.seek(total - 16 - meta_len)
            meta = json.loads(f.read(meta_len).decode("utf-8"))
        width, length, chars = int(meta["width"]), int(meta["length"]), str(meta["chars"])
        entry = CorpusMap(path, chars, length, width, str(meta["checksum"]))
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    whole = total == length * width + meta_len + 16
    if meta.get("format") != FORMAT or width not in DTYPES or not whole:
        return None
    return entry if width_for(len(chars)) <= width else None


@contextlib.contextmanager
def _locked(lock_path: Path, stop, shown: str):
    if fcntl is None:
        yield
        return
    with open(lock_path, "a+b") as f:
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if stop is not None and stop.is_set():
                    raise EncodingStopped(
                        f"stopped while another process was encoding {shown}"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


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
