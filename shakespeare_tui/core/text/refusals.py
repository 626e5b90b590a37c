"""Why a corpus file is refused, in one line each: the same words for a file read whole
(corpus.py) and one encoded streaming into its map (encode.py)."""

from __future__ import annotations

from shakespeare_tui.core.errors import CorpusError


def binary_error(shown: str, at: int) -> CorpusError:
    return CorpusError(
        f"{shown} looks binary (NUL byte at byte {at}); pass a plain text file "
        "(UTF-16 text: convert it with iconv -t UTF-8)"
    )


def utf8_error(shown: str, byte: int, line: int, at: int) -> CorpusError:
    return CorpusError(
        f"{shown} is not UTF-8 text: invalid byte 0x{byte:02x} at line {line}, "
        f"byte {at}; convert it with iconv -t UTF-8"
    )


def blank_error(shown: str, empty: bool) -> CorpusError:
    what = "empty" if empty else "only whitespace"
    return CorpusError(f"{shown} is {what}; pass a file with some text in it")
