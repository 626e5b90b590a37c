"""How a run uses the machine's cores: how many processes, how many threads in each, and
whether a step's windows are shared among the processes or each process has its own.

    choose_layout(2, device_type="cpu", steps=[(16, 1.9e10)])  # the ladder's E128/H640
    # Layout(processes=1, threads=2, split=False, …)

The choice is a rule, not a measurement made on the spot, so that it is the same for every
run of a recipe on a machine (and a resumed run goes on as it started). It follows what
benchmarks/RESULTS.md measured ("Using both cores", `python -m benchmarks.layouts --paired`:
the layouts alternated a few steps at a time in one job, so that they share the machine's
load) on a 2-core AMD EPYC with the training's freed memory kept (core/device.py):

- For the ladder's recipes (16 windows of 100 a step, LSTM H384–H1024) one process with a
  thread per core was the fastest: for E128/H640 and E128/H512×2, 1.0–2.4× one thread and
  1.2–2.3× two processes of one thread each sharing every step's windows (DDP); for the
  smallest, E64/H384 on 8 windows, the three were within the noise (±10%). The split keeps the
  recipe (the job trains on one process's windows, rank_views.RankBatches) and its processes
  need no thread to wait on another, but each process pays for its own Python, optimiser and
  all-reduce, and a step of half the windows costs ~0.7 of a whole one. So the rule does not
  choose processes on a CPU; `--nproc N` and the split layout (a launcher's LAYOUT_ENV,
  benchmarks/layouts.py) remain for measuring it on other machines.
- A step too small for a second thread (the tests' tiny models: ~3e7 multiply-adds, a few
  milliseconds) trains in one thread: waking a thread for each of its small products costs
  more than the thread gives (THREADS_FROM_WORK).
- The app and the queue train in their own process: the same rule gives them the same layout.
- A GPU is driven by one process; its CPU threads are all the cores.

What a person gives wins: `--threads N` alone means one process of N threads; `--nproc N`
means N processes, each with its own windows (the documented torchrun meaning).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

# Multiply-adds of a step (forward and backward, the whole batch) from which one process takes
# every core as threads: the ladder's smallest step (E64/H384, 8 windows of 100) is ~3.4e9 and
# gained 1.06–1.11x from a second thread; the tests' tiny model (E16/H32, 16 × 32) is ~2.6e7.
THREADS_FROM_WORK = 1e9

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


def choose_layout(
    cores: int,
    *,
    device_type: str,
    steps: Sequence[tuple[int, float]],
    threads: int | None = None,
    processes: int | None = None,
) -> Layout:
    """The layout of a run on `cores` cores of `device_type`, whose steps are `steps`: (windows,
    multiply-adds) of a step, forward and backward, the whole batch; one pair for a recipe, one
    per size for a run sized when it starts (any of them may be chosen).

    `threads` / `processes`: what the person gave (`--threads`, `--nproc`), which wins. The
    rule itself gives one process, so the app and the queue, which train in their own, get
    what `train` gets."""
    cores = max(1, cores)
    if processes:
        each = threads or max(1, cores // processes)
        return Layout(processes, each, False, "as --nproc asks", forced=True)
    if threads:
        return Layout(1, threads, False, "as --threads asks", forced=True)
    if device_type != "cpu":
        return Layout(1, cores, False, f"one process drives the {device_type.upper()}")
    if cores == 1:
        return Layout(1, 1, False, "1 thread: this machine has one core")
    largest = max((work for _, work in steps), default=0.0)
    if largest >= THREADS_FROM_WORK:
        return Layout(1, cores, False, f"{_plural(cores, 'thread')}: steps this size share well")
    return Layout(1, 1, False, "1 thread: a second thread would mostly wait on the first")
