"""Runs' memories for the Runs view's tests: real tiny runs to measure, and a scripted
measurement (the figures of the notebook's lesson, made up, the same on every CPU) that stands
in for core/inspection/run_memories.RunMemories."""

from __future__ import annotations

import math
import threading

from shakespeare_tui.core.inspection.memory.connectivity import ConnectivityCurve
from shakespeare_tui.core.inspection.memory.context import ContextCurve
from shakespeare_tui.core.inspection.memory.events import MemoryProgress, MemoryStopped
from shakespeare_tui.core.inspection.memory.ngram import NgramCurve
from shakespeare_tui.core.inspection.memory.report import CheckpointMemory
from shakespeare_tui.core.inspection.memory.targets import CONTEXTS
from shakespeare_tui.core.inspection.run_memories import Baseline, Found

# cell: (its loss with the whole text, how fast its loss falls with k: the effective context
# comes out at 8, 32 and 64 characters; how fast its gradient fades with distance)
LESSON = {"rnn": (1.82, 2.0, 2.0), "gru": (1.62, 8.0, 8.0), "lstm": (1.48, 16.0, 16.0)}
NGRAM = (3.30, 2.50, 2.10, 1.85, 1.72, 1.66, 1.64, 1.645, 1.65)  # stops at 5
SOURCE = "the last 100,000 characters of plays (held out from training)"


def made_up_memory(name: str, cell: str) -> CheckpointMemory:
    floor, pace, fade = LESSON[cell]
    loss = tuple(floor + 1.6 * math.exp(-k / pace) for k in CONTEXTS)
    grad = tuple(0.4 * math.exp(-(k - 1) / fade) for k in range(1, 301))
    return CheckpointMemory(
        name=name, sha256="0" * 64, cell=cell, summary=f"{cell.upper()} E16/H256",
        params=300_000, context=ContextCurve(CONTEXTS, loss, floor, 1_000),
        connectivity=ConnectivityCurve(grad, 200), bf16=False,
    )  # fmt: skip


class ScriptedMemories:
    """Stands in for RunMemories: each run's made-up memory (its cell from its name), then the
    made-up n-gram; `hold` makes it wait, after one progress event, until it is stopped."""

    hold = False
    measured: list[list[str]] = []  # the runs of each call

    def __init__(self, cache_dir, settings=None, *, length=0, device=None) -> None:
        pass

    def measure(self, runs, *, found, stop: threading.Event | None = None, on_event=None):
        type(self).measured.append([run.name for run in runs])
        if self.hold:
            on_event(MemoryProgress("context", 0.3, runs[0].name))
            stop.wait(30)
            raise MemoryStopped
        for run in runs:
            cell = next(c for c in LESSON if run.name.startswith(c))
            found(Found(run.name, made_up_memory(run.name, cell)))
        found(Baseline(NgramCurve(tuple(range(9)), NGRAM), "", SOURCE, 1_000))


def scripted(monkeypatch, hold: bool = False) -> type[ScriptedMemories]:
    """Measure with ScriptedMemories in the Runs view (a fresh record of its calls)."""
    from shakespeare_tui.core.inspection import run_memories

    script = type("Script", (ScriptedMemories,), {"hold": hold, "measured": []})
    monkeypatch.setattr(run_memories, "RunMemories", script)
    return script
