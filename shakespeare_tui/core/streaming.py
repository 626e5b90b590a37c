"""Streaming generated text to a person: loaded models kept for the next request, and characters
handed over in chunks a screen or a terminal can keep up with.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from shakespeare_tui.core.errors import CheckpointError

# A screen redraws at most ~60 times a second and a terminal write costs a syscall: ~33 chunks
# a second read as a smooth stream and cost next to nothing.
CHUNK_SECONDS = 0.03
CACHED_MODELS = 3  # loaded checkpoints kept, so a second request starts at once


def chunked(
    samples: Iterable, seconds: float = CHUNK_SECONDS
) -> Iterator[tuple[str, tuple[float, ...]]]:
    """(characters, their probabilities) every `seconds`; the first character goes out at once,
    so text starts without a wait, and whatever is left when `samples` ends goes out last."""
    chars: list[str] = []
    probabilities: list[float] = []
    last = float("-inf")
    for sampled in samples:
        chars.append(sampled.char)
        probabilities.append(sampled.probability)
        now = time.monotonic()
        if now - last >= seconds:
            yield "".join(chars), tuple(probabilities)
            chars.clear()
            probabilities.clear()
            last = now
    if chars:
        yield "".join(chars), tuple(probabilities)


class ModelCache:
    """Loaded checkpoints as (vocabulary, stepper), per file version; safe across threads.

    A file rewritten by training (a new best.pt) has a new version, so it is loaded afresh.
    """

    def __init__(self, size: int = CACHED_MODELS):
        self.size = size
        self._models: dict[tuple[str, int, int], tuple] = {}
        self._lock = threading.Lock()

    def load(self, path: str, title: str | None = None):
        """The vocabulary and one-character stepper of the checkpoint at `path`."""
        from shakespeare_tui.core.checkpoint import load_checkpoint
        from shakespeare_tui.core.model import CharStepper

        title = title or Path(path).name
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            raise CheckpointError(f"{title} no longer exists (deleted or moved)") from None
        except OSError as exc:
            raise CheckpointError(f"cannot read {title}: {exc.strerror or exc}") from None
        key = (path, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if key in self._models:
                return self._models[key]
        checkpoint = load_checkpoint(Path(path))
        loaded = (checkpoint.vocab, CharStepper(checkpoint.model))
        with self._lock:
            for old in [k for k in self._models if k[0] == path]:
                del self._models[old]
            self._models[key] = loaded
            while len(self._models) > self.size:
                del self._models[next(iter(self._models))]
        return loaded
