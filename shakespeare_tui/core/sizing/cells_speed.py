"""The cells comparison planned on this machine: its LSTM timed here, then the three runs.

core/sizing/cell_comparison.py turns a budget into one `max_steps` at the LSTM's speed; this
module gives it that speed. The LSTM of the comparison's recipe is timed as the size ladder times
a rung (core/sizing/probe.py's `rung_speed`: a warm-up step, then a second of forward, backward,
clip and Adam steps on random codes of the corpus's vocabulary), with the device, threads and
bf16 the runs will train with, in the calling thread (torch's thread count is per thread, and
the engine sets it the same way). The plan's reason line says what was timed.

`plan_here` is what `shakespeare-tui queue --cells` and the Train view's "compare the cells"
both call; `free_prefix` names the three runs so none clashes with a run or a queued one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from shakespeare_tui.core.config import ModelConfig, TrainConfig
from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.sizing.cell_comparison import (
    DEFAULT_MINUTES,
    LSTM_HIDDEN,
    ORDER,
    RECIPE,
    CellsPlan,
    plan_cells,
)
from shakespeare_tui.core.sizing.ladder import Rung
from shakespeare_tui.core.text.corpus import corpus_key, load_corpus

SPEED_S = 1.0  # seconds of timed steps (after one warm-up step)
PREFIX = "cells"  # the runs are PREFIX-rnn, PREFIX-gru, PREFIX-lstm


def cells_rung() -> Rung:
    """The comparison's LSTM as a rung of the ladder: what is timed."""
    return Rung(
        "cells",
        embed=RECIPE["embed"],
        hidden=LSTM_HIDDEN,
        layers=RECIPE["layers"],
        dropout=RECIPE["dropout"],
        batch_size=RECIPE["batch_size"],
        seq_len=RECIPE["seq_len"],
        lr=RECIPE["lr"],
        warmup_steps=RECIPE["warmup_steps"],
    )


@dataclass(frozen=True)
class Speed:
    chars_per_s: float
    device: str  # as people read it: "CPU · 2 threads"
    bf16: bool
    seconds: float

    def words(self) -> str:
        rung = cells_rung()
        return (
            f"timed the LSTM ({rung.summary}, {rung.batch_size} × {rung.seq_len} windows) here for "
            f"{self.seconds:g} s: {self.chars_per_s:,.0f} chars/s on {self.device}, "
            f"bf16 {'on' if self.bf16 else 'off'}"
        )


def lstm_speed(
    vocab_size: int, settings: dict[str, Any] | None = None, seconds: float = SPEED_S
) -> Speed:
    """Training characters a second of the comparison's LSTM here, with the device, threads
    and bf16 of `settings` (flat names; "auto" or absent as a run resolves them)."""
    # torch: only when timing (the CLI's flags and the app's first frame load none of it)
    from shakespeare_tui.core import device as devices
    from shakespeare_tui.core.sizing.probe import layout_alone, rung_speed

    settings = settings or {}
    device = devices.resolve_device(str(settings.get("device") or "auto"))
    config = TrainConfig(model=ModelConfig(vocab_size=vocab_size))
    # The threads the runs will train with in this process (core/layout.py's rule).
    threads = settings.get("threads") or layout_alone(config, cells_rung(), device.type).threads
    label = devices.configure(device, threads)
    bf16 = settings.get("bf16")
    bf16 = devices.bf16_is_fast(device) if bf16 is None else bool(bf16)
    if settings.get("clip"):
        config = replace(config, clip=float(settings["clip"]))
    speed = rung_speed(config, cells_rung(), device, bf16, seconds)
    return Speed(speed, label, bf16, seconds)


def free_prefix(runs_dir: Path, taken: Collection[str], base: str = PREFIX) -> str:
    """`base`, or `base-2`, `base-3` …: the first whose three run names are neither folders in
    `runs_dir` nor in `taken` (the queue's open entries)."""
    n = 1
    while True:
        prefix = base if n == 1 else f"{base}-{n}"
        names = [f"{prefix}-{cell}" for cell in ORDER]
        if not any(name in taken or (Path(runs_dir) / name).exists() for name in names):
            return prefix
        n += 1


def plan_here(
    corpus: str,
    cache_dir: Path,
    *,
    minutes: float | None = None,
    prefix: str = PREFIX,
    settings: dict[str, Any] | None = None,
    seconds: float = SPEED_S,
    on_timing: Callable[[], None] = lambda: None,
) -> CellsPlan:
    """The three runs on `corpus` for `minutes` each (DEFAULT_MINUTES if None), at the speed
    the LSTM trains here; `settings` are the person's choices the recipe leaves open (device,
    threads, bf16, val_fraction, eval_every …). UserError for a corpus that cannot be read or
    a budget that is not above 0, before anything is timed (`on_timing()` is called just
    before: the timing takes a second or two)."""

    minutes = DEFAULT_MINUTES if minutes is None else minutes
    if not minutes > 0:  # before the corpus is read or anything timed
        raise UserError("{max_minutes} must be more than 0", names=["max_minutes"])
    text = load_corpus(corpus, Path(cache_dir))
    vocab_size = len(text.vocabulary())
    chosen = {**(settings or {}), "corpus": corpus_key(corpus)}  # a file: its absolute path
    on_timing()
    speed = lstm_speed(vocab_size, chosen, seconds)
    plan = plan_cells(
        vocab_size=vocab_size,
        lstm_chars_per_s=speed.chars_per_s,
        minutes=minutes,
        prefix=prefix,
        settings=chosen,
    )
    return replace(plan, reason=f"{speed.words()}; {plan.reason}")
