"""Measuring each rung's training speed on this machine, for core/sizing/rule.py to choose from.

A rung is timed on random codes of the run's vocabulary (speed does not depend on the text)
with the run's device, threads and bf16 setting; the random state is put back afterwards,
so a sized run draws the same weights, batches and dropout as one given the chosen size.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

import torch
import torch.nn.functional as F

from shakespeare_tui.core.config import TrainConfig
from shakespeare_tui.core.events import ModelSized, SizingStarted, StopSignal
from shakespeare_tui.core.model.network import CharRNN
from shakespeare_tui.core.sizing import ladder
from shakespeare_tui.core.sizing.ladder import Rung
from shakespeare_tui.core.sizing.rule import (
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
    """The processes a run trains in (training/distributed.py's Ranks): rank 0 times the sizes."""

    @property
    def writer(self) -> bool: ...

    @property
    def world(self) -> int: ...

    def from_rank0(self, value: T) -> T: ...


def rung_speed(
    config: TrainConfig, rung: Rung, device: torch.device, bf16: bool, seconds: float = PROBE_S
) -> float:
    """Training characters a second of `rung` here: forward, backward, clip and Adam step."""
    cfg = rung_config(config, rung)
    vocab = cfg.model.vocab_size
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        model = CharRNN(cfg.model).to(device)
        model.train()
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        gen = torch.Generator().manual_seed(0)
        codes = torch.randint(0, vocab, (cfg.batch_size, cfg.seq_len + 1), generator=gen)
        codes = codes.to(device)
        x, y = codes[:, :-1], codes[:, 1:]
        cast = (
            torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
        )

        def step() -> None:
            with cast:
                logits, _ = model(x)
            loss = F.cross_entropy(logits.float().reshape(-1, vocab), y.reshape(-1))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]  # torch's Tensor.backward has no annotations
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            optimizer.step()

        def sync() -> None:
            if device.type == "cuda":
                torch.cuda.synchronize(device)

        step()  # the first step builds the kernels' plans and allocates
        sync()
        t0, steps = time.perf_counter(), 0
        while steps < PROBE_MIN_STEPS or time.perf_counter() - t0 < seconds:
            step()
            steps += 1
            if steps % 4 == 0:
                sync()
        sync()
        elapsed = time.perf_counter() - t0
    return steps * cfg.batch_size * cfg.seq_len / elapsed


def size_for_budget(
    config: TrainConfig,
    device: torch.device,
    bf16: bool,
    *,
    memory_bytes: int | None,
    val_chars: int,
    train_chars: int,
    processes: int = 1,
    emit: SizingEvents = lambda event: None,
    stop: StopSignal | None = None,
) -> Sizing:
    """Time the rungs smallest first and choose; stop timing once a rung is predicted to end
    worse than the one below it (a larger one, slower still, would not do better), or when
    `stop` (a threading.Event) is set: the run then stops before its first step."""
    assert config.max_minutes is not None, "a run is sized for a time budget"
    budget_s = config.max_minutes * 60
    emit(SizingStarted(budget_minutes=config.max_minutes, rungs=len(ladder.LADDER)))
    t0 = time.perf_counter()
    speeds: dict[str, float] = {}

    def sizing_now() -> Sizing:
        return choose(
            speeds,
            config,
            budget_s=budget_s,
            memory_bytes=memory_bytes,
            probe_s=time.perf_counter() - t0,
            val_chars=val_chars,
            train_chars=train_chars,
        )

    def stopped() -> bool:
        return stop is not None and stop.is_set()

    def fit_of(sizing: Sizing, name: str) -> RungFit:
        return next(f for f in sizing.fits if f.rung == name)

    # Timing takes at most about PROBE_SHARE of a short budget (a rung at least).
    seconds = min(PROBE_S, budget_s * PROBE_SHARE / max(1, len(ladder.LADDER)))
    previous = None
    for rung in ladder.LADDER:
        if rung.name not in ladder.QUALITY:
            continue
        if speeds and (time.perf_counter() - t0 > budget_s * PROBE_SHARE or stopped()):
            break
        if not fit_of(sizing_now(), rung.name).fits:
            break  # larger rungs need more memory still
        speeds[rung.name] = rung_speed(config, rung, device, bf16, seconds) * processes
        loss = fit_of(sizing_now(), rung.name).predicted_loss
        if previous is not None and loss is not None and loss > previous:
            break
        previous = loss
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
    """Size a new "sized" run (rank 0 times the rungs, for every rank of a job): `inputs`
    (run_setup.RunInputs) gets the chosen recipe, its reason among the notes."""
    from shakespeare_tui.core import device as devices
    from shakespeare_tui.core.sizing.rule import sized_config
    from shakespeare_tui.core.text.batches import VAL_LIMIT

    config = inputs.config
    length = inputs.corpus.length
    val_chars = min(VAL_LIMIT, int(length * config.val_fraction))
    sizing = None
    if ranks.writer:
        memory = devices.free_memory_bytes(device)
        sizing = size_for_budget(
            config,
            device,
            bf16,
            # Room for the rest of the process (and the machine) beside the training.
            memory_bytes=None if memory is None else int(memory * 0.8),
            val_chars=val_chars,
            train_chars=length - val_chars,
            processes=ranks.world,
            emit=emit,
            stop=stop,
        )
    sizing = ranks.from_rank0(sizing)
    assert sizing is not None, "rank 0 sized the run for every rank"
    inputs.config = sized_config(config, sizing)
    inputs.notes[:] = [n for n in inputs.notes if n != config.preset_reason] + [sizing.reason]
    return sizing
