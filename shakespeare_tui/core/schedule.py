"""The learning-rate schedule, and fitting it to a time budget."""

from __future__ import annotations

import math

from shakespeare_tui.core.config import TrainConfig

# Steps timed to fit a cosine schedule into --max-minutes (after a few warm-up steps).
CALIBRATE_FROM, CALIBRATE_TO = 5, 25


def learning_rate(config: TrainConfig, step: int, total_steps: int) -> float:
    """Constant, or linear warm-up then cosine decay to a tenth of the base rate."""
    base = config.lr
    if config.schedule == "constant":
        return base
    if step < config.warmup_steps:
        return base * (0.1 + 0.9 * step / config.warmup_steps)
    span = max(1, total_steps - config.warmup_steps)
    progress = min(1.0, (step - config.warmup_steps) / span)
    return base / 10 + 0.5 * (base - base / 10) * (1 + math.cos(math.pi * progress))


def fitted_steps(
    *,
    step: int,
    planned: int,
    remaining_s: float,
    seconds_per_step: float,
    steps_per_evaluation: int,
    validation_s: float,
) -> int:
    """The schedule's length once the speed is known: what fits in the time left.

    Each evaluation left before `planned` (every `steps_per_evaluation` steps) costs a
    validation (`validation_s`) out of the budget; a 2% margin keeps the decay from being cut
    off by jitter.
    """
    evaluations_left = max(1, planned - step) / steps_per_evaluation
    remaining_s -= validation_s * math.ceil(evaluations_left)
    fits = step + int(max(0.0, remaining_s) / seconds_per_step * 0.98)
    return max(step + 1, min(planned, fits))
