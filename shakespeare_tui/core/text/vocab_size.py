"""How many characters a corpus's vocabulary has, before any run trains on it.

A model's parameter count depends on its vocabulary (the embedding, the output layer), so a
form that shows the count of the model it will build needs it too. Known cheaply for the bundled
plays, a tinyshakespeare downloaded before, and a file small enough to read at once; for others
(a tinyshakespeare not downloaded yet, a file large enough to be encoded into the cache) the
answer is None rather than a download or minutes of encoding. Reads files: call it off the UI
thread.
"""

from __future__ import annotations

from pathlib import Path

from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.text.corpus import NAMED_CORPORA, TINY_CACHE, load_corpus

READ_AT_ONCE_BYTES = 16 * 2**20  # a file up to this size is read whole to count its characters


def corpus_vocab_size(spec: str, cache_dir: Path) -> int | None:
    """The number of distinct characters in corpus `spec`, or None when that is not cheap."""
    spec = spec.strip()
    if spec == "tinyshakespeare" and not (Path(cache_dir) / TINY_CACHE).is_file():
        return None  # never downloads for an estimate
    if spec not in NAMED_CORPORA:
        try:
            path = Path(spec).expanduser()
            if not path.is_file() or path.stat().st_size > READ_AT_ONCE_BYTES:
                return None
        except (OSError, RuntimeError):  # RuntimeError: "~" with no home folder
            return None
    try:
        return len(load_corpus(spec, Path(cache_dir)).vocabulary())
    except (UserError, OSError, ValueError):
        return None
