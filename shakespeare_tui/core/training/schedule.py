"""The learning-rate schedule, and fitting it to a time budget."""

from __future__ import annotations

import math
import time

from shakespeare_tui.core.config import TrainConfig
from shakespeare_tui.core.runs.progress import RunProgress

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
    steps_per_evaluation: float,
    validation_s: float,
) -> int:
    """The schedule's length once the speed is known: the steps that fit in the time left.

    Every `steps_per_evaluation` steps an evaluation costs `validation_s` of the budget, so a
    step costs `seconds_per_step` plus its share of one; a 2% margin keeps the decay from being
    cut off by jitter. (Counting the evaluations up to `planned` instead, as this once did,
    charged a short budget for evaluations it never reaches: a 5-minute run of 1,600-character
    steps then decayed in its first quarter and crawled at a tenth of its rate after.)
    """
    per_step = seconds_per_step + validation_s / max(1.0, steps_per_evaluation)
    fits = step + int(max(0.0, remaining_s) / per_step * 0.98)
    return max(step + 1, min(planned, fits))


class ScheduleFitter:
    """Fits a cosine schedule to --max-minutes, once per run: the session's steps CALIBRATE_FROM
    to CALIBRATE_TO are timed, and the schedule shrinks to the steps that fit in the time left."""

    def __init__(self, config: TrainConfig, first_step: int, steps_per_epoch: int) -> None:
        self.config, self.first_step = config, first_step
        # Evaluations come at epoch ends and every eval_every steps between them.
        per_step = 1 / steps_per_epoch + (1 / config.eval_every if config.eval_every else 0)
        self.steps_per_evaluation = 1 / per_step
        self.t0: float | None = None

    def after_step(
        self, progress: RunProgress, elapsed_s: float, validation_s: float
    ) -> int | None:
        """The fitted length of the schedule, at the step that measured it; None otherwise."""
        config, p = self.config, progress
        if not (config.max_minutes and config.schedule == "cosine") or p.schedule_fitted:
            return None
        done = p.step - self.first_step
        if done == CALIBRATE_FROM:
            self.t0 = time.perf_counter()
        if done != CALIBRATE_TO or self.t0 is None:
            return None
        return fitted_steps(
            step=p.step,
            planned=p.schedule_steps,
            remaining_s=config.max_minutes * 60 - elapsed_s,
            seconds_per_step=(time.perf_counter() - self.t0) / (CALIBRATE_TO - CALIBRATE_FROM),
            steps_per_evaluation=self.steps_per_evaluation,
            validation_s=validation_s,
        )
