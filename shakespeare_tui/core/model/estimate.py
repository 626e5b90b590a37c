"""What a model will cost before it trains: parameters, memory, and a speed guess.

Rough by design and labelled so on screen ("≈"): memory counts the weights, gradients, Adam's
two moments and the activations a step keeps for backward; speed is given only when a
comparable run was measured on the same device, scaled by the work per character (about 6
multiply-adds per weight, forward + backward), and says so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from shakespeare_tui.core.cells import WEIGHT_BLOCKS
from shakespeare_tui.core.config import ModelConfig, TrainConfig

TYPICAL_VOCAB = 80  # the bundled plays have ~80 distinct characters; a file is not read to guess


def parameters(model: ModelConfig, vocab_size: int = TYPICAL_VOCAB) -> int:
    from dataclasses import replace

    return replace(model, vocab_size=model.vocab_size or vocab_size).parameter_count()


def training_bytes(config: TrainConfig, vocab_size: int = TYPICAL_VOCAB) -> int:
    """fp32 weights + gradients + Adam moments, and per character of a batch the gates, cell
    and output of every layer plus the embedding and the logits (kept for backward)."""
    m = config.model
    state = 16 * parameters(m, vocab_size)
    blocks = WEIGHT_BLOCKS[m.cell]
    per_char = m.layers * (blocks + 2) * m.hidden + m.embed + 3 * (m.vocab_size or vocab_size)
    return state + 4 * per_char * config.batch_size * config.seq_len


def work_per_char(model: ModelConfig, vocab_size: int = TYPICAL_VOCAB) -> float:
    """Multiply-adds per character of training; the embedding is a lookup, so it is left out."""
    embedding = (model.vocab_size or vocab_size) * model.embed
    return 6.0 * max(1, parameters(model, vocab_size) - embedding)


def speed_from(reference_chars_per_s: float, reference: ModelConfig, model: ModelConfig) -> float:
    """chars/s for `model`, scaled from a measured run of `reference` on the same device."""
    return reference_chars_per_s * work_per_char(reference) / work_per_char(model)


# A run is comparable when it trained the same kind of network (cell and layers) on the same
# batches (windows a step, characters a window), on the same device, and does within this
# factor of the work per character: the work scales its speed well inside that range; across
# cells, batch sizes or devices it does not (a GPU run said nothing of a CPU one, and the
# estimates it gave ranged from a tenth to 1.5× the speed measured).
COMPARABLE_WORK = 2.0


@dataclass(frozen=True)
class TimedRun:
    """A run's measured training speed and what it trained."""

    chars_per_sec: float
    model: ModelConfig
    batch_size: int
    seq_len: int
    device: str  # as the run recorded it: "CPU · 2 threads", "NVIDIA H200 · bf16"


@dataclass(frozen=True)
class SpeedEstimate:
    chars_per_sec: float
    same_model: bool  # timed on this very model and batches (else scaled from a similar one)

    @property
    def text(self) -> str:
        """ "~4,300 chars/s (timed on this machine)", saying where the figure comes from."""
        source = "timed on this machine" if self.same_model else "scaled from a run timed here"
        return f"{rate_text(self.chars_per_sec)} ({source})"


def device_kind(label: str) -> str:
    """The device of a label, without its threads or number format: "CPU", "NVIDIA H200"."""
    return label.split(" · ")[0].strip()


def grounded_speed(
    model: ModelConfig, batch_size: int, seq_len: int, device: str, timed: Iterable[TimedRun]
) -> SpeedEstimate | None:
    """The speed `model` should train at on `device`, from the most similar comparable run
    measured there (see COMPARABLE_WORK); None when no run is comparable."""
    work = work_per_char(model)
    best: tuple[float, TimedRun] | None = None
    for run in timed:
        if not (run.chars_per_sec > 0 and device_kind(run.device) == device_kind(device)):
            continue
        m = run.model
        if (m.cell, m.layers, run.batch_size, run.seq_len) != (
            model.cell,
            model.layers,
            batch_size,
            seq_len,
        ):
            continue
        ratio = work_per_char(m) / work
        if not 1 / COMPARABLE_WORK <= ratio <= COMPARABLE_WORK:
            continue
        distance = abs(math.log(ratio))
        if best is None or distance < best[0]:
            best = (distance, run)
    if best is None:
        return None
    run = best[1]
    same = (run.model.embed, run.model.hidden) == (model.embed, model.hidden)
    return SpeedEstimate(speed_from(run.chars_per_sec, run.model, model), same)


def rate_text(chars_per_s: float) -> str:
    """A guessed speed to two significant figures: "~9,300 chars/s", "~110k chars/s"."""
    if chars_per_s >= 100_000:
        return f"~{chars_per_s / 1000:,.0f}k chars/s"
    digits = max(0, len(str(int(chars_per_s))) - 2)
    return f"~{round(chars_per_s, -digits):,.0f} chars/s"
