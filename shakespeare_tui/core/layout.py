"""How a run uses the machine's cores: how many processes, how many threads in each, and
whether a step's windows are shared among the processes or each process has its own.

    choose_layout(2, device_type="cpu", steps=[(16, 1.9e10)])  # the ladder's E128/H640
    # Layout(processes=2, threads=1, split=True, …): each process trains on 8 of the 16 windows

The choice is a rule, not a measurement made on the spot, so that it is the same for every
run of a recipe on a machine (and a resumed run goes on as it started). It follows what
benchmarks/RESULTS.md measured ("Using both cores") on 2-core CPUs:

- The ladder's recipes (16 windows of 100 a step, LSTM H384–H1024) do small matrix products
  one time step after another: a second OpenMP thread splits each of them and wakes up,
  waits and synchronises hundreds of times a step, and gains little or nothing. Two processes
  of one thread each, each computing half the windows of a step (DistributedDataParallel
  averages the gradients once a step), keep both cores busy with no waiting but that one
  all-reduce. Splitting the windows keeps the recipe: the job trains on exactly the windows
  one process would (rank_views.RankBatches), so the loss per character trained, which the
  sizing ladder's table holds, is the one-process loss.
- A step needs enough work to pay for that all-reduce and the agreement before it, and each
  process enough windows to keep its matrix products efficient: below MIN_PROCESS_WORK or
  MIN_ROWS a run stays one process (the tests' tiny models do).
- One process (the app trains in a thread of its own process; a batch that does not split)
  takes one thread unless a step is large enough for threads to pay (THREADS_FROM_WORK).
- A GPU is driven by one process; its CPU threads are all the cores.

What a person gives wins: `--threads N` alone means one process of N threads; `--nproc N`
means N processes, each with its own windows (the documented torchrun meaning).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

# The fewest windows a process takes when a step's windows are split (the ladder's smallest
# batch, 8, splits into two of 4; bf16 steps on 4 windows still cost only ~1.5x per window
# what they cost on 16, benchmarks/RESULTS.md).
MIN_ROWS = 4
# Multiply-adds of one process's share of a step below which processes do not pay: such a
# step takes well under 10 ms of a core, and the two collectives of a step ~0.3–1 ms.
MIN_PROCESS_WORK = 1e9
# Multiply-adds of a step above which one process takes every core as threads: the
# notebook's model (E256/H1024) on 64 windows of 100 is ~2e11; the ladder's largest step ~5e10.
THREADS_FROM_WORK = 1e11

LAYOUT_ENV = "SHAKESPEARE_TUI_LAYOUT"  # the launcher's choice, for the processes it starts


@dataclass(frozen=True)
class Layout:
    processes: int  # on this machine
    threads: int  # torch's intra-op threads in each process
    split: bool  # a step's windows (the run's batch size) are shared among the processes
    reason: str  # why, for a person: shown when the run starts
    forced: bool = False  # given by the person (--threads, --nproc), not chosen here

    def rows(self, batch_size: int) -> int:
        """The windows each process trains on in a step of `batch_size` (the run's setting)."""
        return batch_size // self.processes if self.split else batch_size

    def job_batch(self, batch_size: int) -> int:
        """The windows the whole job trains on in a step."""
        return batch_size if self.split else batch_size * self.processes

    @property
    def label(self) -> str:
        """ "2 processes × 1 thread" / "1 thread" / "4 threads"."""
        threads = _plural(self.threads, "thread")
        if self.processes == 1:
            return threads
        return f"{_plural(self.processes, 'process')} × {threads}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_env(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_env(cls, text: str | None) -> Layout | None:
        """The launcher's layout from its environment variable; None if absent or unreadable
        (a process started by hand under torchrun has none)."""
        if not text:
            return None
        try:
            data = json.loads(text)
            layout = cls(
                processes=int(data["processes"]),
                threads=int(data["threads"]),
                split=bool(data["split"]),
                reason=str(data.get("reason", "")),
                forced=bool(data.get("forced", False)),
            )
        except (ValueError, TypeError, KeyError):
            return None
        return layout if layout.processes >= 1 and layout.threads >= 1 else None


def _plural(n: int, word: str) -> str:
    """ "1 thread", "2 threads", "2 processes"."""
    if n == 1:
        return f"1 {word}"
    return f"{n} {word}{'es' if word.endswith('s') else 's'}"


def _share(processes: int) -> str:
    return "half" if processes == 2 else f"1/{processes}"


def split_processes(cores: int, steps: Sequence[tuple[int, float]]) -> int:
    """The most processes (at most `cores`) that can share every one of `steps` (each a
    step's windows and multiply-adds) evenly, each process with at least MIN_ROWS windows and
    MIN_PROCESS_WORK multiply-adds of it; 1 if no number above one can."""
    for processes in range(max(1, cores), 1, -1):
        if steps and all(
            batch % processes == 0
            and batch // processes >= MIN_ROWS
            and work / processes >= MIN_PROCESS_WORK
            for batch, work in steps
        ):
            return processes
    return 1


def choose_layout(
    cores: int,
    *,
    device_type: str,
    steps: Sequence[tuple[int, float]],
    threads: int | None = None,
    processes: int | None = None,
    one_process: bool = False,
) -> Layout:
    """The layout of a run on `cores` cores of `device_type`, whose steps are `steps`: (windows,
    multiply-adds) of a step, forward and backward, the whole batch; one pair for a recipe, one
    per size for a run sized when it starts (any of them may be chosen).

    `threads` / `processes`: what the person gave (`--threads`, `--nproc`), which wins.
    `one_process`: the caller trains in its own process (the app, the queue)."""
    cores = max(1, cores)
    if processes:
        each = threads or max(1, cores // processes)
        return Layout(processes, each, False, "as --nproc asks", forced=True)
    if threads:
        return Layout(1, threads, False, "as --threads asks", forced=True)
    if device_type != "cpu":
        return Layout(1, cores, False, f"one process drives the {device_type.upper()}")
    largest = max((work for _, work in steps), default=0.0)
    many = 1 if one_process else split_processes(cores, steps)
    if many > 1:
        # Threads as well where each process's share is large (a machine with many cores).
        each = max(1, cores // many) if largest / many >= THREADS_FROM_WORK else 1
        return Layout(
            many,
            each,
            True,
            f"{_plural(many, 'process')} × {_plural(each, 'thread')}, each training on "
            f"{_share(many)} of every step's windows: the fastest way for steps this size to "
            f"use {cores} cores",
        )
    if largest >= THREADS_FROM_WORK or cores == 1:
        return Layout(1, cores, False, f"{_plural(cores, 'thread')}: a step this large shares well")
    where = "in this process" if one_process else "for steps this small"
    return Layout(1, 1, False, f"1 thread {where}: a second thread would mostly wait on the first")
