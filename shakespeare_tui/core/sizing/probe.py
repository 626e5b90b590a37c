"""Measuring each rung's training speed on this machine, for core/sizing/rule.py to choose from.

A rung is timed on random codes of the run's vocabulary (speed does not depend on the text)
with the run's device, bf16 setting and layout (core/layout.py): its threads, and in a job of
many processes every process timing its own rows of the step together, the gradients averaged
as in training. The random state is put back afterwards, so a sized run draws the same weights,
batches and dropout as one given the chosen size.

A busy machine does not fool it. A process of one thread counts the CPU time it got while
timing (time.thread_time): on an idle machine about all of the wall time; when other work took
the core, the speed comes from the CPU time instead, which is what the same steps cost on an
idle machine. A process of several threads cannot tell from its own CPU time (its threads wait
for each other inside a small step, idle machine or not), so it reads how much of the machine
the other processes took meanwhile (Linux's /proc/stat, `MachineShare`) and scales its speed up
by what they took. Either way the reason says when the machine was busy.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol, TypeVar

import torch
import torch.nn.functional as F

from shakespeare_tui.core.config import TrainConfig
from shakespeare_tui.core.device import cpu_threads
from shakespeare_tui.core.events import ModelSized, SizingStarted, StopSignal
from shakespeare_tui.core.layout import Layout, choose_layout
from shakespeare_tui.core.model.estimate import work_per_char
from shakespeare_tui.core.model.network import CharRNN
from shakespeare_tui.core.sizing import ladder
from shakespeare_tui.core.sizing.ladder import Rung
from shakespeare_tui.core.sizing.rule import (
    BUSY_QUANTILE,
    BUSY_SHARE,
    BUSY_WAIT,
    PROBE_MIN_STEPS,
    PROBE_S,
    PROBE_SHARE,
    RungFit,
    Sizing,
    choose,
    rung_config,
)
from shakespeare_tui.core.text.corpus import Corpus

T = TypeVar("T")
# What sizing says as it goes: that it starts timing, and what it chose.
SizingEvents = Callable[[SizingStarted | ModelSized], None]


class SizedRun(Protocol):
    """What `size_run` reads of a run about to start, and fits to its budget
    (training/setup.py's RunInputs)."""

    config: TrainConfig
    corpus: Corpus
    notes: list[str]


class Job(Protocol):
    """The processes a run trains in (training/distributed.py's Ranks), as the probe uses them:
    each times its own rows of a step, rank 0 decides, every rank agrees."""

    @property
    def writer(self) -> bool: ...

    @property
    def world(self) -> int: ...

    def rows(self, batch_size: int) -> int: ...

    def wrap(self, model: torch.nn.Module, device: torch.device) -> torch.nn.Module: ...

    def agree(self, stop: bool, elapsed_s: float) -> tuple[bool, float]: ...

    def largest(self, value: float) -> float: ...

    def from_rank0(self, value: T) -> T: ...

    def collective(self) -> AbstractContextManager[None]: ...


class Alone:
    """A job of one process, as `core.training.distributed.Ranks()` behaves (sizing sits below
    training, so the probe takes a job's ranks from its caller, and this when there is none)."""

    launched = False
    writer = True
    world = 1

    def rows(self, batch_size: int) -> int:
        return batch_size

    def wrap(self, model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        return model

    def agree(self, stop: bool, elapsed_s: float) -> tuple[bool, float]:
        return stop, elapsed_s

    def largest(self, value: float) -> float:
        return value

    def from_rank0(self, value: T) -> T:
        return value

    @contextlib.contextmanager
    def collective(self) -> Iterator[None]:
        yield


@dataclass(frozen=True)
class RungTiming:
    chars_per_s: float  # the whole job's, as the steps run on an otherwise idle machine
    cpu_share: (
        float  # of the CPU time asked for (threads × wall time), what the slowest process got
    )


def cpu_clock(threads: int) -> Callable[[], float]:
    """This thread's CPU time where it trains alone (the app's other threads do not count);
    the whole process's with more threads than one."""
    return time.thread_time if threads == 1 else time.process_time


def machine_busy_s() -> float | None:
    """The CPU seconds all of this machine's cores have spent busy since it started (Linux's
    /proc/stat: user, nice, system, irq, softirq and steal time), or None where it cannot be
    read."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()
        user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[1:8])
        steal = int(fields[8]) if len(fields) > 8 else 0
    except (OSError, ValueError):
        return None
    if fields[0] != "cpu":
        return None
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class MachineShare:
    """The share of the cores a process of several threads asked for that other processes left
    it, from the whole machine's busy time less this process's own.

    Its own CPU time cannot tell: two threads on two idle cores take about one core's time
    (the second waits for its turn inside each small step), which read as "half the CPU:
    the machine was busy" on an idle machine, and the speed came out twice too high."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.busy0, self.own0 = machine_busy_s(), time.process_time()

    def share(self, wall: float) -> float | None:
        """Of `threads` × `wall` seconds, the share no other process took; None where the
        machine's busy time cannot be read."""
        busy = machine_busy_s()
        if self.busy0 is None or busy is None or wall <= 0:
            return None
        others = max(0.0, busy - self.busy0 - (time.process_time() - self.own0))
        cores = os.cpu_count() or self.threads
        return max(0.0, min(1.0, (cores * wall - others) / (self.threads * wall)))


def time_rung(
    config: TrainConfig,
    rung: Rung,
    device: torch.device,
    bf16: bool,
    seconds: float = PROBE_S,
    ranks: Job | None = None,
) -> RungTiming:
    """Training characters a second of `rung` here: forward, backward, clip and Adam step, as
    the run's layout will take them (`ranks`: the job's, every process of it timing at once)."""
    ranks = ranks or Alone()
    cfg = rung_config(config, rung)
    vocab = cfg.model.vocab_size
    rows = ranks.rows(cfg.batch_size)
    threads = torch.get_num_threads() if device.type == "cpu" else 1
    clock = cpu_clock(threads)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(0)  # every rank the same weights, as DDP would make them
        model = CharRNN(cfg.model).to(device)
        model.train()
        net = ranks.wrap(model, device)
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        gen = torch.Generator().manual_seed(0)
        codes = torch.randint(0, vocab, (rows, cfg.seq_len + 1), generator=gen)
        codes = codes.to(device)
        x, y = codes[:, :-1], codes[:, 1:]
        cast = (
            torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
        )

        def step() -> None:
            with cast:
                logits, _ = net(x)
            loss = F.cross_entropy(logits.float().reshape(-1, vocab), y.reshape(-1))
            optimizer.zero_grad(set_to_none=True)
            with ranks.collective():
                loss.backward()  # type: ignore[no-untyped-call]  # torch's Tensor.backward has no annotations
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            optimizer.step()

        def sync() -> None:
            if device.type == "cuda":
                torch.cuda.synchronize(device)

        step()  # the first step builds the kernels' plans and allocates
        sync()
        t0, cpu0, steps = time.perf_counter(), clock(), 0
        # Several threads (in one process): what the others on the machine took says how busy
        # it is; one thread: its own CPU time does (it has a core to itself when idle).
        machine = MachineShare(threads) if threads > 1 and ranks.world == 1 else None
        step_cpu: list[float] = []  # each step's CPU time
        while True:
            before = clock()
            step()
            step_cpu.append(clock() - before)
            steps += 1
            if steps % 4 == 0:
                sync()
            # On a busy machine, time on until the steps had `seconds` of CPU time (of a
            # busy share), within BUSY_WAIT times the wall time: a handful of steps between
            # other processes' turns would say little. Rank 0 decides for every process.
            elapsed = time.perf_counter() - t0
            left = machine.share(elapsed) if machine is not None else None
            got = elapsed * left if left is not None else (clock() - cpu0) / threads
            done = steps >= PROBE_MIN_STEPS and elapsed >= seconds
            done = done and (got >= seconds * BUSY_SHARE or elapsed >= seconds * BUSY_WAIT)
            done, _ = ranks.agree(done if ranks.writer else False, elapsed)
            if done:
                break
        sync()
        wall = time.perf_counter() - t0
        got = (clock() - cpu0) / threads  # the seconds of a thread it computed
    chars = steps * rows * ranks.world * cfg.seq_len
    # The slowest process's share is the job's: the others wait for it once a step.
    left = machine.share(wall) if machine is not None else None
    if left is not None:  # the idle machine's speed: what the time others took would add
        return RungTiming(
            chars / wall / max(left, 0.05) if left < BUSY_SHARE else chars / wall, left
        )
    share = ranks.largest(-min(1.0, got / wall) if wall > 0 else -1.0) * -1
    if share >= BUSY_SHARE:
        return RungTiming(chars / wall, share)
    # A step's CPU time on an idle machine: a low one of the steps' (BUSY_QUANTILE), since a
    # step that other processes interrupted comes back to caches they emptied and costs
    # more CPU time, and on a busy machine most steps are interrupted; the slowest process's.
    step_s = ranks.largest(sorted(step_cpu)[int(len(step_cpu) * BUSY_QUANTILE)] / threads)
    return RungTiming(chars / steps / step_s if step_s > 0 else chars / wall, share)


def layout_alone(config: TrainConfig, rung: Rung, device_type: str) -> Layout:
    """The layout (core/layout.py) a run of `rung` takes in a process of its own (`train`, the
    app and the queue alike): its threads are what to time it with."""
    cfg = rung_config(config, rung)
    step = (cfg.batch_size, work_per_char(cfg.model) * cfg.batch_size * cfg.seq_len)
    return choose_layout(
        cpu_threads(),
        device_type=device_type,
        steps=[step],
        threads=config.threads,
    )


def rung_speed(
    config: TrainConfig, rung: Rung, device: torch.device, bf16: bool, seconds: float = PROBE_S
) -> float:
    """Training characters a second of `rung` in this process as it is set up (its threads):
    what the cells comparison (core/sizing/cells_speed.py) times its LSTM with."""
    return time_rung(config, rung, device, bf16, seconds).chars_per_s


def size_for_budget(
    config: TrainConfig,
    device: torch.device,
    bf16: bool,
    *,
    memory_bytes: int | None,
    val_chars: int,
    train_chars: int,
    ranks: Job | None = None,
    emit: SizingEvents = lambda event: None,
    stop: StopSignal | None = None,
) -> Sizing:
    """Time the rungs smallest first and choose; stop timing once a rung is predicted to end
    worse than the one below it (a larger one, slower still, would not do better), or when
    `stop` (a threading.Event) is set: the run then stops before its first step.

    In a job of many processes (`ranks`) every process times each rung together, as they will
    train; rank 0 decides which rungs, and its choice is every rank's."""
    ranks = ranks or Alone()
    assert config.max_minutes is not None, "a run is sized for a time budget"
    budget_s = config.max_minutes * 60
    emit(SizingStarted(budget_minutes=config.max_minutes, rungs=len(ladder.LADDER)))
    t0 = time.perf_counter()
    speeds: dict[str, float] = {}
    shares: list[float] = []

    def sizing_now() -> Sizing:
        return choose(
            speeds,
            config,
            budget_s=budget_s,
            memory_bytes=memory_bytes,
            probe_s=time.perf_counter() - t0,
            val_chars=val_chars,
            train_chars=train_chars,
            cpu_share=min(shares, default=1.0),
        )

    def stopped() -> bool:
        return stop is not None and stop.is_set()

    def fit_of(sizing: Sizing, name: str) -> RungFit:
        return next(f for f in sizing.fits if f.rung == name)

    def worth_timing(rung: Rung, previous: float | None) -> bool:
        """Rank 0's decision: time `rung`, or stop timing here."""
        if speeds and (time.perf_counter() - t0 > budget_s * PROBE_SHARE or stopped()):
            return False
        if not fit_of(sizing_now(), rung.name).fits:
            return False  # larger rungs need more memory still
        if previous is None or not speeds:
            return True
        latest = fit_of(sizing_now(), list(speeds)[-1]).predicted_loss
        return latest is None or latest <= previous

    # Timing takes at most about PROBE_SHARE of a short budget (a rung at least).
    seconds = min(PROBE_S, budget_s * PROBE_SHARE / max(1, len(ladder.LADDER)))
    previous: float | None = None  # the predicted loss of the rung timed before the latest
    for rung in ladder.LADDER:
        if rung.name not in ladder.QUALITY:
            continue
        go = worth_timing(rung, previous) if ranks.writer else None
        if not ranks.from_rank0(go):
            break
        if speeds:
            previous = fit_of(sizing_now(), list(speeds)[-1]).predicted_loss
        timing = time_rung(config, rung, device, bf16, seconds, ranks)
        speeds[rung.name] = timing.chars_per_s
        shares.append(timing.cpu_share)
    sizing = sizing_now()
    emit(ModelSized(model_summary=f"LSTM {sizing.rung.summary}", reason=sizing.reason))
    return sizing


def size_run(
    inputs: SizedRun,
    device: torch.device,
    bf16: bool,
    ranks: Job,
    emit: SizingEvents,
    stop: StopSignal | None = None,
) -> Sizing:
    """Size a new "sized" run (every rank of a job times the rungs together, rank 0 chooses
    for all): `inputs` (run_setup.RunInputs) gets the chosen recipe, its reason among the notes."""
    from shakespeare_tui.core import device as devices
    from shakespeare_tui.core.sizing.rule import sized_config
    from shakespeare_tui.core.text.batches import VAL_LIMIT

    config = inputs.config
    length = inputs.corpus.length
    val_chars = min(VAL_LIMIT, int(length * config.val_fraction))
    memory = devices.free_memory_bytes(device) if ranks.writer else None
    sizing = size_for_budget(
        config,
        device,
        bf16,
        # Room for the rest of the process (and the machine) beside the training.
        memory_bytes=None if memory is None else int(memory * 0.8),
        val_chars=val_chars,
        train_chars=length - val_chars,
        ranks=ranks,
        emit=emit,
        stop=stop,
    )
    sizing = ranks.from_rank0(sizing)
    inputs.config = sized_config(config, sizing)
    inputs.notes[:] = [n for n in inputs.notes if n != config.preset_reason] + [sizing.reason]
    return sizing
