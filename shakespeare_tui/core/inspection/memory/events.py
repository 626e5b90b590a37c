"""What a memory measurement reports while it runs, as plain values, and how it is stopped.

A measurement takes seconds (minutes for a large model on a CPU): it sends `MemoryProgress`
events a few times a second to the `on_event` callable it was given, and checks the
`threading.Event` it was given between units of work, raising `MemoryStopped` once it is set.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

# What is being computed: the n-gram baseline's counts (once per corpus, then cached), the
# model reading only the last k characters before each target, the model reading the whole
# text, and the gradients of the connectivity curve.
Stage = Literal["ngram", "context", "whole text", "connectivity"]
STAGE_WORDS = {
    "ngram": "counting the n-gram baseline",
    "context": "reading the last k characters before each target",
    "whole text": "reading the whole text",
    "connectivity": "measuring connectivity",
}


@dataclass(frozen=True)
class MemoryProgress:
    """A stage of a measurement is `done` (0–1) through; sent a few times a second per stage,
    and once with done == 1.0 when the stage ends."""

    stage: Stage
    done: float  # fraction of this stage, 0–1
    checkpoint: str = ""  # the checkpoint being measured, as a person would name it

    def summary(self) -> str:
        """ "reading the whole text… 45%" (with the checkpoint, if any, first)."""
        who = f"{self.checkpoint}: " if self.checkpoint else ""
        return f"{who}{STAGE_WORDS.get(self.stage, self.stage)}… {self.done:.0%}"


class MemoryStopped(Exception):
    """The stop event was set before the measurement finished; nothing was cached."""


class Ticker:
    """Between units of work: raise MemoryStopped once `stop` is set, and send progress at
    most every `every_s` seconds (and always at the stage's end)."""

    def __init__(
        self,
        stage: Stage,
        total: float,
        *,
        stop: threading.Event | None = None,
        on_event: Callable[[MemoryProgress], None] | None = None,
        checkpoint: str = "",
        every_s: float = 0.2,
    ):
        self.stage, self.total = stage, max(float(total), 1.0)
        self.stop, self.on_event, self.checkpoint = stop, on_event, checkpoint
        self.every_s = every_s
        self.done = 0.0
        self._sent = 0.0

    def check(self) -> None:
        if self.stop is not None and self.stop.is_set():
            raise MemoryStopped

    def advance(self, work: float) -> None:
        """`work` more units are done: check for a stop, then report if it is time."""
        self.check()
        self.done += work
        now = time.monotonic()
        if (
            self.on_event is not None
            and now - self._sent >= self.every_s
            and self.done < self.total
        ):
            self._sent = now
            self.on_event(
                MemoryProgress(self.stage, min(1.0, self.done / self.total), self.checkpoint)
            )

    def finish(self) -> None:
        self.check()
        if self.on_event is not None:
            self.on_event(MemoryProgress(self.stage, 1.0, self.checkpoint))
