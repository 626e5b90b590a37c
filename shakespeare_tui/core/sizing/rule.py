"""Fitting the model to a time budget: the rung of the ladder that ends lowest in that time.

Each rung's speed is measured here, in the run's first seconds (they count in the budget);
its characters in the budget follow, and the loss our measurements predict after that many
characters (core/sizing/ladder.py's QUALITY, which does not depend on the CPU) picks the rung.

    speeds = {"xs": 19_000.0, "s": 12_000.0}       # chars/s measured on this machine
    choice = choose(speeds, budget_s=600, memory_bytes=8 << 30)
    choice.reason   # "sized for 10 min: LSTM E96/H512 · ~6.8 M characters on this machine …"
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from shakespeare_tui.core.config import TrainConfig, with_settings
from shakespeare_tui.core.model.estimate import training_bytes
from shakespeare_tui.core.sizing import ladder
from shakespeare_tui.core.sizing.ladder import Rung

# A rung's speed: one warm-up step, then steps until this many seconds (at least 2 of them).
PROBE_S = 0.6
PROBE_MIN_STEPS = 2
# ... and no more than this share of the budget in all, once one rung is timed.
PROBE_SHARE = 0.05
# Below this share of the CPU time it asked for (threads × wall time), the probe ran on a busy
# machine: its speeds come from the CPU time it got, not from the wall clock. An idle machine
# gives a process of one thread ~0.99, and each of two processes ~0.9 (they wait on each
# other's gradients once a step).
BUSY_SHARE = 0.8
# ... and a busy probe times a rung on until it got PROBE_S × BUSY_SHARE of CPU time, for at
# most this many times PROBE_S of wall time.
BUSY_WAIT = 5
# ... and a step's CPU time is this quantile of the steps' (the least disturbed of them, not
# the very least).
BUSY_QUANTILE = 0.1
# Beyond a rung's last measured point each further doubling of the characters is assumed to
# gain half what the one before did: a bounded guess, never more than the last gain again.
DECAY = 0.5
# What a validation costs in training characters per held-out character: a forward pass,
# about a third of a training step's work per character.
VALIDATION_COST = 1 / 3

# A sized run validates about this many times between epoch ends in its budget, at most: with
# the small windows of the ladder, every 200 steps would spend a tenth of a CPU budget on it.
EVALUATIONS = 10


def predicted_loss(rung: str, chars: float) -> float:
    """The loss the rung's measured curve says it ends at after `chars` training characters:
    piecewise linear in log2(chars); beyond either end, the nearest segment's slope where it
    improves with characters (flat where it does not), decaying by DECAY per doubling past the
    last point."""
    points = ladder.QUALITY[rung]
    if len(points) == 1:
        return points[0][1]
    x = math.log2(max(chars, 1.0))
    xs = [math.log2(c) for c, _ in points]
    ys = [v for _, v in points]
    if x <= xs[0]:  # fewer characters than measured never end lower than the first point
        slope = min(0.0, (ys[1] - ys[0]) / (xs[1] - xs[0]))
        return ys[0] + slope * (x - xs[0])
    for i in range(1, len(xs)):
        if x <= xs[i]:
            x0, y0, x1, y1 = xs[i - 1], ys[i - 1], xs[i], ys[i]
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    gain = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])  # per doubling, negative while improving
    gain = min(gain, 0.0)
    past = x - xs[-1]  # doublings beyond the last point: sum of gain * DECAY**k
    decayed: float = DECAY**past  # (a float to a float's power may be complex, to typeshed)
    return ys[-1] + gain * DECAY * (1 - decayed) / (1 - DECAY)


def characters(
    chars_per_s: float,
    budget_s: float,
    *,
    val_chars: int,
    chars_per_evaluation: float,
) -> int:
    """Training characters the budget buys at this speed, evaluations taken out."""
    eval_chars = val_chars * VALIDATION_COST  # each evaluation, in training characters
    trained = chars_per_s * max(0.0, budget_s)
    return int(trained / (1 + eval_chars / max(chars_per_evaluation, 1.0)))


@dataclass(frozen=True)
class RungFit:
    rung: str
    chars_per_s: float | None  # None: not measured (too large for the memory, or not needed)
    chars: int
    predicted_loss: float | None
    training_bytes: int
    fits: bool  # within the memory given
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "rung": self.rung,
            "model": f"LSTM {ladder.rung(self.rung).summary}",
            "chars_per_s": None if self.chars_per_s is None else round(self.chars_per_s),
            "chars": self.chars,
            "predicted_val": None if self.predicted_loss is None else round(self.predicted_loss, 4),
            "training_mb": round(self.training_bytes / 2**20),
            "fits": self.fits,
            "note": self.note,
        }


@dataclass(frozen=True)
class Sizing:
    chosen: str
    budget_minutes: float
    probe_s: float
    fits: tuple[RungFit, ...]
    cpu_share: float = 1.0  # the least share of the CPU time it asked for that a timing got

    @property
    def busy(self) -> bool:
        """Whether the machine was busy while the rungs were timed (BUSY_SHARE)."""
        return self.cpu_share < BUSY_SHARE

    @property
    def rung(self) -> Rung:
        return ladder.rung(self.chosen)

    @property
    def fit(self) -> RungFit:
        return next(f for f in self.fits if f.rung == self.chosen)

    @property
    def reason(self) -> str:
        f = self.fit
        return (
            f"sized for {self.budget_minutes:g} min: LSTM {self.rung.summary} "
            f"(dropout {self.rung.dropout:g}) · ~{f.chars / 1e6:.1f} M characters at "
            f"{f.chars_per_s:,.0f} chars/s on this machine · expected val ≈ "
            f"{f.predicted_loss:.2f} (measured in {self.probe_s:.0f} s{self._busy_note})"
        )

    @property
    def _busy_note(self) -> str:
        if not self.busy:
            return ""
        return (
            f"; the machine was busy, the timing got {self.cpu_share:.0%} of the CPU it asked "
            "for, so the speeds are from the CPU time it got"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "chosen": self.chosen,
            "model": f"LSTM {self.rung.summary}",
            "budget_minutes": self.budget_minutes,
            "probe_s": round(self.probe_s, 2),
            "rungs": [f.to_dict() for f in self.fits],
        }


def rung_config(config: TrainConfig, rung: Rung) -> TrainConfig:
    return with_settings(config, rung.settings())


def evaluation_chars(config: TrainConfig, train_chars: int, chars: float) -> float:
    """Training characters between evaluations: at epoch ends, and EVALUATIONS times in the
    run between them (sized_config's eval_every)."""
    spans: list[float] = [max(1, train_chars)]
    if config.eval_every:
        per_step = config.batch_size * config.seq_len
        spans.append(max(config.eval_every * per_step, chars / EVALUATIONS))
    return float(min(spans))


def choose(
    speeds: Mapping[str, float],
    config: TrainConfig,
    *,
    budget_s: float,
    memory_bytes: int | None,
    probe_s: float = 0.0,
    val_chars: int = 111_000,
    train_chars: int = 1_000_000,
    cpu_share: float = 1.0,
) -> Sizing:
    """The rung predicted to end lowest in `budget_s` at the measured `speeds` (chars/s by rung
    name; rungs without one are not candidates), among those whose training fits
    `memory_bytes` (None: no bound). Ties go to the larger rung. If nothing fits, the smallest."""
    vocab = config.model.vocab_size or None
    fits: list[RungFit] = []
    for rung in ladder.LADDER:
        cfg = rung_config(config, rung)
        need = training_bytes(cfg, vocab) if vocab else training_bytes(cfg)
        ok = memory_bytes is None or need <= memory_bytes
        speed = speeds.get(rung.name)
        if speed is None or rung.name not in ladder.QUALITY:
            why = "too large for the memory" if not ok else "not measured"
            fits.append(RungFit(rung.name, speed, 0, None, need, ok, why))
            continue
        trained = speed * (budget_s - probe_s)
        chars = characters(
            speed,
            budget_s - probe_s,
            val_chars=val_chars,
            chars_per_evaluation=evaluation_chars(cfg, train_chars, trained),
        )
        fits.append(RungFit(rung.name, speed, chars, predicted_loss(rung.name, chars), need, ok))
    candidates = [
        (f.predicted_loss, f.rung) for f in fits if f.fits and f.predicted_loss is not None
    ]
    if candidates:
        # Lowest predicted loss; within 0.002 of it, the larger model (it has more to give).
        low = min(loss for loss, _ in candidates)
        chosen = [rung for loss, rung in candidates if loss <= low + 0.002][-1]
    else:
        chosen = ladder.LADDER[0].name
    return Sizing(chosen, budget_s / 60, probe_s, tuple(fits), cpu_share)


def sized_config(config: TrainConfig, sizing: Sizing) -> TrainConfig:
    """The run's settings with the chosen rung's recipe, the reason and the record."""
    chosen = rung_config(config, sizing.rung)
    eval_every = chosen.eval_every
    if eval_every:
        steps = sizing.fit.chars / (chosen.batch_size * chosen.seq_len)
        eval_every = max(eval_every, round(steps / EVALUATIONS))
    return replace(
        chosen, eval_every=eval_every, preset_reason=sizing.reason, sizing=sizing.to_dict()
    )


def ladder_summary(config: TrainConfig) -> str:
    """What a sized run may become, before it is timed: "one of 5 sizes, 0.7 M–5.3 M …"."""
    from shakespeare_tui.core.figures import params
    from shakespeare_tui.core.model.estimate import parameters

    rungs = [r for r in ladder.LADDER if r.name in ladder.QUALITY] or list(ladder.LADDER)
    low, high = (parameters(rung_config(config, r).model) for r in (rungs[0], rungs[-1]))
    return (
        f"one of {len(rungs)} sizes, LSTM {rungs[0].summary} ({params(low)}) to "
        f"{rungs[-1].summary} ({params(high)}), timed here when it starts"
    )
