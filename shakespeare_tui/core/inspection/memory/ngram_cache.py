"""The n-gram baseline's counts, made once per corpus and kept in the cache folder.

A file `memory/ngram-<key>.npz` holds one corpus's counts (tens of MB for the bundled plays),
its key a hash of what they depend on: the corpus checksum, the vocabulary, how much of the
corpus is training text, the order and the counting's version. A file that cannot be read, or
whose contents do not match that key and each other, is ignored and counted again; an
unwritable cache folder only costs the counting next time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from shakespeare_tui.core.atomic import atomic_write
from shakespeare_tui.core.inspection.memory.events import MemoryProgress, Ticker
from shakespeare_tui.core.inspection.memory.ngram import FORMAT_VERSION, ORDER, NgramCounts
from shakespeare_tui.core.text.corpus import Corpus
from shakespeare_tui.core.text.vocab import Vocabulary

# Counting needs ~80 bytes a character at its peak: a larger training text counts its last
# MAX_CHARS characters (the ones nearest the held-out end).
MAX_CHARS = 10_000_000
FOLDER = "memory"


def training_span(corpus: Corpus, val_fraction: float) -> tuple[int, int]:
    """[start, stop) of the training text the n-gram counts: the corpus minus its held-out
    end (as core/text/batches.py splits it), at most MAX_CHARS of it."""
    stop = corpus.length - int(corpus.length * val_fraction)
    return max(0, stop - MAX_CHARS), stop


def cache_file(cache_dir: Path, corpus: Corpus, vocab: Vocabulary, span: tuple[int, int]) -> Path:
    key = json.dumps(
        {
            "version": FORMAT_VERSION,
            "checksum": corpus.checksum,
            "vocab": vocab.chars,
            "span": list(span),
            "order": ORDER,
        },
        sort_keys=True,
    )
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return Path(cache_dir) / FOLDER / f"ngram-{digest}.npz"


def ngram_counts(
    corpus: Corpus,
    vocab: Vocabulary,
    val_fraction: float,
    cache_dir: Path,
    *,
    stop: threading.Event | None = None,
    on_event: Callable[[MemoryProgress], None] | None = None,
) -> NgramCounts:
    """The counts of `corpus`'s training text in `vocab`'s codes, from the cache or counted
    now (and cached). ValueError if the corpus has characters `vocab` lacks."""
    span = training_span(corpus, val_fraction)
    path = cache_file(cache_dir, corpus, vocab, span)
    cached = _read(path, len(vocab), span[1] - span[0])
    if cached is not None:
        return cached
    ticker = Ticker("ngram", ORDER, stop=stop, on_event=on_event)
    codes = _training_codes(corpus, vocab, span)
    ticker.advance(1)
    counts = NgramCounts.count(codes, len(vocab), ORDER, ticker)
    ticker.finish()
    _write(path, counts)
    return counts


def _training_codes(corpus: Corpus, vocab: Vocabulary, span: tuple[int, int]) -> np.ndarray:
    start, stop = span
    if corpus.mapped is None:
        return vocab.encode(corpus.read(start, stop))
    if corpus.unknown(vocab):
        raise ValueError("the corpus has characters outside the vocabulary")
    codes = corpus.mapped.codes(vocab).part(start, stop)
    row: np.ndarray = codes.rows(np.array([0]), stop - start)[0]  # a row of a 2-D array
    return row


def _read(path: Path, vocab_size: int, chars: int) -> NgramCounts | None:
    """The cached counts, or None if there are none that can be trusted."""
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta != {"version": FORMAT_VERSION, "vocab_size": vocab_size, "chars": chars}:
                return None
            arrays = {name: data[name] for name in data.files if name != "meta"}
        return NgramCounts.from_arrays(arrays, vocab_size, ORDER, chars)
    except Exception:  # noqa: BLE001 - missing, torn, foreign or inconsistent: count again
        return None


def _write(path: Path, counts: NgramCounts) -> None:
    meta = json.dumps(
        {"version": FORMAT_VERSION, "vocab_size": counts.vocab_size, "chars": counts.chars}
    )
    with contextlib.suppress(OSError):  # the cache is an optimisation
        path.parent.mkdir(parents=True, exist_ok=True)
        # numpy's stub: `**arrays` might name allow_pickle (a bool); none of ours does.
        atomic_write(path, lambda f: np.savez(f, meta=np.array(meta), **counts.arrays()))  # type: ignore[arg-type]
