"""Encoding a large corpus into its map (corpus_map.py): one streaming pass, interruptible.

The file is read in pieces of PIECE bytes. Each piece is checked as corpus.py checks a whole
text (a NUL byte, invalid UTF-8 with its line and byte), normalised the same way (the BOM, CRLF
and lone CR), hashed, and written as one code per character. The vocabulary is found in the
same pass: characters are numbered as they are met, because the sorted numbering a Vocabulary
uses is only known at the end; the codes are widened in place when a 257th (or 65,537th)
character turns up.

It writes to a temp file beside the entry, fsyncs and renames it, as files.atomic_write does,
so an interrupted encode (a raised progress callback, a stop, a full disk, a kill) leaves no
entry; the temp file is flocked while written, so a later encode removes only the temps of
writers that died (map_cache.remove_dead_temps).
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import numpy as np
from numpy.typing import NDArray

if sys.platform == "win32":  # no flock
    fcntl = None
else:
    import fcntl

from shakespeare_tui.core.atomic import TEMP_SUFFIX, fsync_folder
from shakespeare_tui.core.errors import CorpusError, EncodingStopped
from shakespeare_tui.core.events import CorpusEncoding, StopSignal
from shakespeare_tui.core.figures import size
from shakespeare_tui.core.text import refusals
from shakespeare_tui.core.text.corpus_map import (
    DTYPES,
    FORMAT,
    MAGIC,
    CorpusMap,
    open_entry,
    width_for,
)

PIECE = 8 * 2**20  # bytes read at a time: peak memory stays a few times this, whatever the file
PROGRESS_EVERY_S = 0.25
_NEW = np.uint32(0xFFFFFFFF)  # "not numbered yet" in the code-point table
_CONTINUATION = bytes(range(0x80, 0xC0))  # the bytes after the first of a UTF-8 character
_UNKNOWN = b"\xff"  # what a byte table gives an ASCII character not numbered yet

Bytes = NDArray[np.uint8]  # a piece of the file, as numbers
# A piece's map codes: bytes (one a character) while the width is 1, else an array.
PieceCodes = bytes | NDArray[np.unsignedinteger[Any]]
T = TypeVar("T")


class Encoder:
    """One streaming pass: check, normalise, hash, number the characters, write the codes."""

    def __init__(
        self,
        path: Path,
        shown: str,
        total: int,
        folder: Path,
        on_event: Callable[[CorpusEncoding], None] | None,
        stop: StopSignal | None,
    ):
        self.path, self.shown, self.total, self.folder = path, shown, total, folder
        self.on_event, self.stop = on_event, stop
        self.chars: list[str] = []
        self.table = np.full(0x110000, _NEW, dtype=np.uint32)  # code point → map code
        # The ASCII characters numbered so far, and every non-ASCII byte: what bytes.translate
        # deletes to find new characters.
        self.known_bytes = bytes(range(128, 256))
        self.byte_table = b"\xff" * 128 + bytes(128)  # ASCII byte → code, while the width is 1
        self.width = 1
        self.length = 0  # characters written
        self.done = 0  # bytes of the file consumed
        self.out: BinaryIO  # the temp file, while `run` writes it
        self.pending: Future[None] | None = None  # the previous piece, being hashed and written

    def run(self) -> CorpusMap:
        self._check_space(self.total)  # at most one byte per character while the width is 1
        fd, tmp = tempfile.mkstemp(prefix=".encode-", suffix=TEMP_SUFFIX, dir=self.folder)
        try:
            with os.fdopen(fd, "w+b") as out:
                if fcntl is not None:
                    fcntl.flock(out, fcntl.LOCK_EX)  # alive: remove_dead_temps leaves it be
                self.out = out
                checksum = self._encode()
                meta = json.dumps(
                    {
                        "format": FORMAT,
                        "checksum": checksum,
                        "chars": "".join(self.chars),
                        "width": self.width,
                        "length": self.length,
                        "source": str(self.path.resolve()),
                        "source_bytes": self.total,
                    }
                ).encode("utf-8")
                self._write(meta + MAGIC + len(meta).to_bytes(8, "little"))
                out.flush()
                os.fsync(out.fileno())
                final = self.folder / (checksum.removeprefix("sha256:") + ".map")
                os.chmod(tmp, 0o644)
                self._keep(tmp, final)  # still flocked: no cleaner can take it meanwhile
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        fsync_folder(self.folder)
        entry = open_entry(final)
        if entry is None:  # cannot happen unless the disk lies; say so rather than train on it
            raise CorpusError(f"the encoded copy of {self.shown} at {final} did not read back")
        return entry

    def _keep(self, tmp: str, final: Path) -> None:
        """Rename the finished temp file into place: a folder (or anything) in the way of the
        entry is refused in one line, never an IsADirectoryError."""
        try:
            os.replace(tmp, final)
        except OSError as exc:
            raise CorpusError(
                f"cannot keep the encoded copy of {self.shown} as {final}: "
                f"{exc.strerror or exc}; remove what is there"
            ) from None

    def _encode(self) -> str:
        digest = hashlib.sha256()
        t0 = last_report = time.perf_counter()
        try:
            source = open(self.path, "rb")  # noqa: SIM115 - closed by the with below
        except OSError as exc:
            raise CorpusError(f"cannot read {self.shown}: {exc.strerror or exc}") from None
        # sha256 and writes release the GIL: a thread hashes and writes each piece while this
        # one encodes the next (one piece in flight at most, so memory stays bounded).
        with ThreadPoolExecutor(1) as worker, source as f:
            carry = b""
            offset = 0  # where `carry` starts in the file
            while True:
                if self.stop is not None and self.stop.is_set():
                    share = self.done / max(1, self.total)
                    raise EncodingStopped(
                        f"stopped while encoding {self.shown} ({share:.0%} done); nothing was "
                        "kept, so the next start encodes it from the beginning"
                    )
                try:
                    piece = f.read(PIECE)
                except OSError as exc:
                    raise CorpusError(f"cannot read {self.shown}: {exc.strerror or exc}") from None
                buf = carry + piece if carry else piece
                if offset == 0 and buf.startswith(codecs.BOM_UTF8):
                    buf, offset = buf[len(codecs.BOM_UTF8) :], len(codecs.BOM_UTF8)
                nul = buf.find(b"\x00")
                if nul >= 0:
                    raise refusals.binary_error(self.shown, offset + nul)
                cut = _complete(buf) if piece else len(buf)
                body, carry = buf[:cut], buf[cut:]
                if body:
                    if b"\r" in body:
                        normal = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
                    else:
                        normal = body
                    codes = self._codes(normal, body, offset)
                    self._drain()
                    self.pending = worker.submit(self._finish_piece, digest, normal, codes)
                    self.length += len(codes)
                offset += cut
                self.done += len(piece)
                now = time.perf_counter()
                if not piece or now - last_report >= PROGRESS_EVERY_S:
                    last_report = now
                    self._report(now - t0)
                if not piece:
                    break
            self._drain()
        if not self.chars or "".join(self.chars).isspace():
            raise refusals.blank_error(self.shown, empty=not self.chars)
        return "sha256:" + digest.hexdigest()

    def _finish_piece(self, digest: hashlib._Hash, normal: bytes, codes: PieceCodes) -> None:
        digest.update(normal)
        self._write(codes)

    def _drain(self) -> None:
        """Wait for the piece in flight (and raise what its hashing or writing raised)."""
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()

    def _report(self, seconds: float) -> None:
        if self.on_event is not None:
            rate = self.done / max(seconds, 1e-9) / 1e6
            self.on_event(CorpusEncoding(self.done, self.total, rate, corpus=self.shown))

    def _codes(self, normal: bytes, raw: bytes, offset: int) -> PieceCodes:
        """A piece's map codes (bytes or an array), numbering its new characters first.

        Worked on the UTF-8 bytes, never decoded to a string: a character's code goes where
        its first byte is and its continuation bytes are deleted, and the bytes are checked as
        Python's decoder checks them (`_valid_utf8`). On text that is mostly ASCII with a curly
        quote now and then this does 1.8× the MB per CPU-second of decoding to a string and
        looking each code point up (an A/B in benchmarks/RESULTS.md).
        """
        if normal.isascii():
            return self._byte_codes(normal)
        data = np.frombuffer(normal, dtype=np.uint8)
        leads = np.flatnonzero(data >= 0xC0)  # the first bytes of multi-byte characters
        # Usually one pass gives a code per character: continuation bytes deleted, the rest
        # translated (first bytes to a placeholder, unknown ASCII characters to _UNKNOWN).
        quick = kept = None
        if self.width == 1 and len(self.chars) < 256:
            quick = normal.translate(self.byte_table, _CONTINUATION)
            characters = len(quick)
        else:
            kept = normal.translate(None, _CONTINUATION)
            characters = len(kept)
        if not _valid_utf8(data, leads, len(normal) - characters):
            raise self._utf8_error(raw, offset)
        points = _code_points(data, leads)
        fresh = np.unique(points[self.table[points] == _NEW]).tolist()
        if fresh:
            self._number(fresh)
        codes: PieceCodes
        if quick is not None and self.width == 1 and _UNKNOWN not in quick:
            codes = quick
        else:
            if kept is None:
                kept = normal.translate(None, _CONTINUATION)
            codes = self._byte_codes(kept)
        placed = np.frombuffer(codes, dtype=np.uint8).copy() if isinstance(codes, bytes) else codes
        tails = _lengths(data[leads]) - 1
        placed[leads - (np.cumsum(tails) - tails)] = self.table[points]  # where each one landed
        return placed

    def _byte_codes(self, kept: bytes) -> PieceCodes:
        """A code per byte of `kept`, numbering new ASCII characters first (the first byte of a
        multi-byte character gets a placeholder, for `_codes` to replace)."""
        if self.width == 1 and len(self.chars) < 256:
            codes = kept.translate(self.byte_table)
            if _UNKNOWN not in codes:  # the usual case: one pass, and every character known
                return codes
        fresh = kept.translate(None, self.known_bytes)
        if fresh:
            self._number(_present(fresh))
        if self.width == 1:
            return kept.translate(self.byte_table)
        return self.table[:256][np.frombuffer(kept, dtype=np.uint8)].astype(DTYPES[self.width])

    def _number(self, points: list[int]) -> None:
        """Give each new code point the next code; widen the codes when they must."""
        for point in points:
            self.table[point] = len(self.chars)
            self.chars.append(chr(point))
        ascii_ = bytes(p for p in points if p < 128)
        if ascii_:
            self.known_bytes += ascii_
            codes = self.table[:256].copy()
            # An unknown ASCII character translates to _UNKNOWN, a code no character has
            # while there are fewer than 256 (_byte_codes checks for it only then).
            codes[:128][codes[:128] == _NEW] = _UNKNOWN[0]
            codes[128:] = 0  # first bytes of multi-byte characters: a placeholder
            self.byte_table = codes.astype(np.uint8).tobytes() if self.width == 1 else b""
        wanted = width_for(len(self.chars))
        if wanted > self.width:
            self._widen(wanted)

    def _widen(self, width: int) -> None:
        """Rewrite the codes written so far `width` bytes wide, in place, from the end back."""
        left = self.total - self.done
        self._check_space((self.length + left) * width - self.length * self.width)
        old, new = DTYPES[self.width], DTYPES[width]
        self._drain()  # the codes so far, all written; nothing else touches `out` meanwhile
        out, block = self.out, PIECE // 4
        # Going backwards, each block lands at or after where it was read: nothing unread is
        # overwritten.
        for start in range(((self.length - 1) // block) * block, -1, -block):
            n = min(block, self.length - start)
            out.seek(start * old.itemsize)
            data = np.frombuffer(out.read(n * old.itemsize), dtype=old).astype(new)
            out.seek(start * new.itemsize)
            self._write(data)
        out.seek(self.length * new.itemsize)
        self.width = width
        self.byte_table = b""  # bytes.translate cannot give codes over 255

    def _write(self, data: PieceCodes) -> None:
        # numpy's stubs give ndarray a __buffer__ only for Python 3.12 and later (PEP 688); it
        # is a buffer that write() takes on 3.10 too.
        self._guard(lambda: self.out.write(data))  # type: ignore[arg-type]

    def _guard(self, write: Callable[[], T]) -> T:
        try:
            return write()
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise self._space_error(self.total) from None
            raise CorpusError(
                f"cannot write the encoded corpus in {self.folder}: {exc.strerror or exc}"
            ) from None

    def _check_space(self, need: int) -> None:
        try:
            free = shutil.disk_usage(self.folder).free
        except OSError:
            return  # cannot tell: the write itself will say if the disk fills
        if need > free:
            raise self._space_error(need, free)

    def _space_error(self, need: int, free: int | None = None) -> CorpusError:
        has = f", which has {size(free)} free" if free is not None else " and the disk filled up"
        return CorpusError(
            f"not enough disk space to encode {self.shown}: it needs {size(need)} in "
            f"{self.folder}{has}; free some space, or put the data folder on a bigger disk "
            "(--data-dir or $SHAKESPEARE_TUI_HOME)"
        )

    def _utf8_error(self, raw: bytes, offset: int) -> CorpusError:
        try:  # the place of the bad byte, as Python's decoder finds it
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            at = offset + exc.start
            return refusals.utf8_error(self.shown, raw[exc.start], _line_at(self.path, at), at)
        # (Normalising CRs never makes bytes valid or invalid; tests hold the two checks equal.)
        raise AssertionError(f"_valid_utf8 disagrees with Python's decoder at byte {offset}")


def _present(data: bytes) -> list[int]:
    """The distinct byte values in `data`, sorted (a count, not a set: 8 MB in milliseconds)."""
    present: list[int] = np.flatnonzero(
        np.bincount(np.frombuffer(data, np.uint8), minlength=1)
    ).tolist()
    return present


def _lengths(b0: Bytes) -> NDArray[np.int64]:
    """UTF-8 characters' lengths in bytes, from their first bytes (each ≥ 0xC0)."""
    return 2 + (b0 >= 0xE0).astype(np.int64) + (b0 >= 0xF0)


def _valid_utf8(data: Bytes, leads: NDArray[np.intp], continuations: int) -> bool:
    """Whether bytes with multi-byte characters starting at `leads` (every byte ≥ 0xC0) and
    `continuations` bytes 0x80–0xBF in all are valid UTF-8, as Python's decoder has it (RFC
    3629: no overlong forms, no surrogates, nothing beyond U+10FFFF)."""
    b0 = data[leads]
    if len(leads) and ((b0 < 0xC2) | (b0 > 0xF4)).any():
        return False
    lengths = _lengths(b0)
    # Each first byte claims the continuation bytes after it; if all it claims are
    # continuation bytes and they add up to all there are, no stray one is left.
    if int((lengths - 1).sum()) != continuations:
        return False
    if len(leads) and leads[-1] + lengths[-1] > len(data):
        return False
    for k in (1, 2, 3):
        follow = data[leads[lengths > k] + k]
        if ((follow & 0xC0) != 0x80).any():
            return False
    second = np.take(data, leads + 1, mode="clip")
    bad = (
        ((b0 == 0xE0) & (second < 0xA0))  # overlong 3-byte form
        | ((b0 == 0xED) & (second > 0x9F))  # a surrogate
        | ((b0 == 0xF0) & (second < 0x90))  # overlong 4-byte form
        | ((b0 == 0xF4) & (second > 0x8F))  # beyond U+10FFFF
    )
    return not bad.any()


def _code_points(data: Bytes, leads: NDArray[np.intp]) -> NDArray[np.uint32]:
    """The code points of the (valid) UTF-8 characters that start at `leads`."""
    b0 = data[leads].astype(np.uint32)
    b1, b2, b3 = (np.take(data, leads + k, mode="clip").astype(np.uint32) & 0x3F for k in (1, 2, 3))
    two = ((b0 & 0x1F) << 6) | b1
    three = ((b0 & 0x0F) << 12) | (b1 << 6) | b2
    four = ((b0 & 0x07) << 18) | (b1 << 12) | (b2 << 6) | b3
    return np.where(b0 < 0xE0, two, np.where(b0 < 0xF0, three, four))


def _complete(buf: bytes) -> int:
    """Where `buf` can be cut: not inside a UTF-8 character, nor between a CR and its LF."""
    cut = len(buf)
    for back in range(1, min(4, len(buf)) + 1):
        byte = buf[-back]
        if byte & 0xC0 == 0x80:  # a continuation byte: look further back for its lead
            continue
        if byte >= 0xC0:
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            if need > back:
                cut = len(buf) - back
        break
    if cut and buf[cut - 1] == 0x0D:
        cut -= 1
    return cut


def _line_at(path: Path, at: int) -> int:
    """The line (from 1) that byte `at` of the file is on: the newlines before it, plus one."""
    lines, done = 1, 0
    with open(path, "rb") as f:
        while done < at:
            piece = f.read(min(PIECE, at - done))
            if not piece:
                break
            lines += piece.count(b"\n")
            done += len(piece)
    return lines
