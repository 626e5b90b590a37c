"""What a model will cost before it trains: parameters, memory, and a speed guess.

Rough by design and labelled so on screen ("≈"): memory counts the weights, gradients, Adam's
two moments and the activations a step keeps for backward; speed scales a run measured on the
same device by the work per character (about 6 multiply-adds per weight, forward + backward).
"""

from __future__ import annotations

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


def rate_text(chars_per_s: float) -> str:
    """A guessed speed to two significant figures: "~9,300 chars/s", "~110k chars/s"."""
    if chars_per_s >= 100_000:
        return f"~{chars_per_s / 1000:,.0f}k chars/s"
    digits = max(0, len(str(int(chars_per_s))) - 2)
    return f"~{round(chars_per_s, -digits):,.0f} chars/s"
