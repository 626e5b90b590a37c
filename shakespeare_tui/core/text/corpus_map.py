"""Corpora larger than memory: their encoded copies in the cache, found, read and kept whole.

A corpus file over MAP_ABOVE_BYTES (corpus.py) is encoded once into `corpora/<sha256>.map`
(encode.py makes it, map_cache.py finds it) and trained from it: a flat array of codes, one per character, 1
byte while the vocabulary has at most 256 characters, else 2, else 4, numbered as the encoder
met the characters. `MappedCodes` reads only the windows asked for, and turns those numbers
into a Vocabulary's (sorted) codes with a lookup table, so the map is never rewritten.

An entry is one file: the codes, then a JSON trailer (characters in code order, width, length,
checksum), then MAGIC and the trailer's length, so one rename makes it whole; the checksum is
corpus.checksum_of's (the normalised text's sha256), so a run records the same checksum whether
its corpus was mapped or read whole.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

from shakespeare_tui.core.errors import CorpusError
from shakespeare_tui.core.file_json import parse_json
from shakespeare_tui.core.text.vocab import Vocabulary

# A map's codes as stored (unsigned, little-endian) and as a Vocabulary numbers them.
StoredCode = np.dtype[np.unsignedinteger[Any]]
Codes = NDArray[np.integer[Any]]

FORMAT = 1
MAGIC = b"STUIMAP1"
DTYPES: dict[int, StoredCode] = {
    1: np.dtype("<u1"),
    2: np.dtype("<u2"),
    4: np.dtype("<u4"),
}  # by width
SPOT_WINDOWS, SPOT_BYTES = 62, 65_536  # what `looks_whole` reads of a map found in the cache


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
    def file(self) -> BinaryIO:
        """The map, open for reading (one descriptor, shared: pread keeps no position)."""
        f = open(self.path, "rb")  # noqa: SIM115 - lives as long as the corpus
        with contextlib.suppress(AttributeError, OSError):
            # Windows are read at random: reading ahead of one would fetch 128 kB for 200 bytes.
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_RANDOM)
        return f

    def codes(self, vocab: Vocabulary) -> MappedCodes:
        """The corpus as `vocab`'s codes (every character must be in it: see `unknown`)."""
        table = np.array([vocab.code(c) for c in self.chars], dtype=np.int64)
        return MappedCodes(self.file, 0, self.length, DTYPES[self.width], table)

    def unknown(self, vocab: Vocabulary) -> list[str]:
        return [c for c in self.chars if c not in vocab]

    def looks_whole(self, windows: int = SPOT_WINDOWS, size: int = SPOT_BYTES) -> bool:
        """Whether spots of the map (its start, its end and `windows` between, `size` bytes
        each: ~4 MB whatever the map's size) hold only codes its characters number. A damaged
        or hand-made map is caught here and encoded again before a run starts, without reading
        a multi-GB map at every start; `MappedCodes.rows` checks every window it reads too."""
        per_window = max(1, min(self.length, size // self.width))
        last = self.length - per_window
        starts = np.unique(np.linspace(0, last, num=windows + 2, dtype=np.int64))
        table = np.arange(len(self.chars), dtype=np.int64)
        try:
            MappedCodes(self.file, 0, self.length, DTYPES[self.width], table).rows(
                starts, per_window
            )
        except (CorpusError, OSError):
            return False
        return True

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

    def __init__(self, file: BinaryIO, start: int, stop: int, dtype: StoredCode, table: Codes):
        self.file, self.start, self.stop, self.dtype, self.table = file, start, stop, dtype, table

    def __len__(self) -> int:
        return self.stop - self.start

    def part(self, start: int, stop: int) -> MappedCodes:
        return MappedCodes(self.file, self.start + start, self.start + stop, self.dtype, self.table)

    def rows(self, starts: NDArray[np.integer[Any]], length: int) -> Codes:
        """A (len(starts), length) array of int64 codes: row i is codes [starts[i], + length)."""
        width, base = self.dtype.itemsize, self.start
        size = length * width
        read = _reader(self.file)
        data = b"".join([read(size, (base + s) * width) for s in starts.tolist()])
        if len(data) != size * len(starts):  # only if the file was cut short under us
            raise CorpusError(f"{self.file.name} is shorter than it says: delete it to rebuild it")
        codes = np.frombuffer(data, dtype=self.dtype).reshape(len(starts), length)
        # Checked as read, not trusted: a damaged or hand-made map may hold codes its trailer
        # has no character for (the max of a batch costs microseconds; a scan of a multi-GB
        # map at every start would cost seconds).
        if codes.size and int(codes.max()) >= len(self.table):
            raise CorpusError(
                f"{self.file.name} holds codes beyond its {len(self.table):,} characters "
                "(damaged): delete it to rebuild it"
            )
        return self.table[codes]


_SEEKING = threading.Lock()


def _reader(file: BinaryIO) -> Callable[[int, int], bytes]:
    """read(size, offset) on `file`: os.pread, which threads may share; else seek and read."""
    if hasattr(os, "pread"):
        fd = file.fileno()
        return lambda size, offset: os.pread(fd, size, offset)

    def read(size: int, offset: int) -> bytes:  # Windows
        with _SEEKING:
            file.seek(offset)
            return file.read(size)

    return read


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
            meta = parse_json(f.read(meta_len))
        if not isinstance(meta, dict):  # as a missing key: not an entry
            return None
        width, length, chars = int(meta["width"]), int(meta["length"]), str(meta["chars"])
        entry = CorpusMap(path, chars, length, width, str(meta["checksum"]))
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    whole = total == length * width + meta_len + 16
    if meta.get("format") != FORMAT or width not in DTYPES or not whole:
        return None
    return entry if width_for(len(chars)) <= width else None
