"""Streaming generated text to a person: loaded models kept for the next request, and characters
handed over in chunks a screen or a terminal can keep up with.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from shakespeare_tui.core.errors import CheckpointError

if TYPE_CHECKING:  # their modules import torch, which streaming waits for
    from shakespeare_tui.core.model.network import CharStepper
    from shakespeare_tui.core.sampling.sampler import SampledChar
    from shakespeare_tui.core.text.vocab import Vocabulary

# A screen redraws at most ~60 times a second and a terminal write costs a syscall: ~33 chunks
# a second read as a smooth stream and cost next to nothing.
CHUNK_SECONDS = 0.03
CACHED_MODELS = 3  # loaded checkpoints kept, so a second request starts at once


def chunked(
    samples: Iterable[SampledChar], seconds: float | Callable[[], float] = CHUNK_SECONDS
) -> Iterator[tuple[str, tuple[float, ...]]]:
    """(characters, their probabilities) every `seconds` (a number, or a callable asked after
    each chunk); the first character goes out at once, so text starts without a wait, and
    whatever is left when `samples` ends goes out last."""
    interval = seconds if callable(seconds) else (lambda: seconds)
    chars: list[str] = []
    probabilities: list[float] = []
    last, wait = float("-inf"), 0.0
    for sampled in samples:
        chars.append(sampled.char)
        probabilities.append(sampled.probability)
        now = time.monotonic()
        if now - last >= wait:
            yield "".join(chars), tuple(probabilities)
            chars.clear()
            probabilities.clear()
            last, wait = now, interval()
    if chars:
        yield "".join(chars), tuple(probabilities)


class Pacer:
    """How often a consumer on another thread should get a chunk, so that handling chunks (a
    screen drawing them) takes about `share` of its thread's time.

    Call `consumed()` on the consumer's thread as each chunk arrives; the producer reads
    `seconds`. The consumer's CPU time between two chunks, over the time between them, is its
    share: the interval grows at once (up to `longest`) to bring it down to `share`, and
    shrinks halfway back (down to `shortest`) each time it is below, so a single slow chunk
    costs one long interval. In the app the screen's drawing holds the GIL the sampler needs,
    so its share of a core is what generation loses to it.
    """

    def __init__(
        self,
        shortest: float,
        longest: float,
        share: float,
        cpu: Callable[[], float] = time.thread_time,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.shortest, self.longest, self.share = shortest, longest, share
        self.seconds = shortest
        self._cpu, self._clock = cpu, clock
        self._last: tuple[float, float] | None = None

    def consumed(self) -> None:
        now = (self._cpu(), self._clock())
        if self._last is not None:
            wall = now[1] - self._last[1]
            if wall > 0:
                wanted = self.seconds * (now[0] - self._last[0]) / wall / self.share
                if wanted < self.seconds:
                    wanted = (self.seconds + wanted) / 2
                self.seconds = min(self.longest, max(self.shortest, wanted))
        self._last = now


class ModelCache:
    """Loaded checkpoints as (vocabulary, stepper), per file version; safe across threads.

    A file rewritten by training (a new best.pt) has a new version, so it is loaded afresh.
    """

    def __init__(self, size: int = CACHED_MODELS) -> None:
        self.size = size
        self._models: dict[tuple[str, int, int], tuple[Vocabulary, CharStepper]] = {}
        self._lock = threading.Lock()

    def load(self, path: str, title: str | None = None) -> tuple[Vocabulary, CharStepper]:
        """The vocabulary and one-character stepper of the checkpoint at `path`."""
        from shakespeare_tui.core.model.checkpoint import load_checkpoint
        from shakespeare_tui.core.model.network import CharStepper

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
