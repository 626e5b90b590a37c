"""The budgets a run ends by — its epochs, its patience, `max_steps`, `max_minutes` — and the
larger ones that let a resume carry on: resumed with a budget it has spent, a run would end
before its first step.

    spent(progress, config)     "max-steps" if the run cannot take another step, else None
    extended(progress, config)  {"max_steps": 600}: every spent budget doubled
"""

from __future__ import annotations

import math
from pathlib import Path

from shakespeare_tui.core.config import TrainConfig, with_settings
from shakespeare_tui.core.events import FinishReason
from shakespeare_tui.core.file_json import json_object
from shakespeare_tui.core.runs.progress import RunProgress

# The setting a resume may raise to go on past each way a run ends by its own budget.
BUDGET_FIELDS: dict[str, str] = {
    "completed": "epochs",
    "early-stopped": "patience",
    "max-steps": "max_steps",
    "max-minutes": "max_minutes",
}


def spent(progress: RunProgress, config: TrainConfig) -> FinishReason | None:
    """The budget that ends the run before its next step, or None if it can train on."""
    reason = progress.end_reason(config, False, progress.elapsed_s)
    return reason if reason in BUDGET_FIELDS else None


def extended(progress: RunProgress, config: TrainConfig) -> dict[str, int | float]:
    """Larger budgets, doubled, for every one the run has spent, so a resume trains again.

    Empty if none is spent. A run can have spent two at once (its last epoch was also its
    patience's): both are raised.
    """
    changes: dict[str, int | float] = {}
    for _ in BUDGET_FIELDS:
        reason = spent(progress, with_settings(config, changes))
        if reason is None:
            break
        field = BUDGET_FIELDS[reason]
        changes[field] = _doubled(field, progress, config)
    return changes


def _doubled(field: str, progress: RunProgress, config: TrainConfig) -> int | float:
    """Twice the budget, or twice what the run reached where a resume lowered the budget.

    Minutes: a run ends a little past its time (the last step and validation run over), so
    twice the budget is enough while it is more than the time spent."""
    budget = getattr(config, field) or 0
    if field == "max_minutes":
        spent_min = progress.elapsed_s / 60
        return 2 * budget if 2 * budget > spent_min else math.ceil(2 * spent_min)
    reached = {"epochs": progress.epoch, "patience": progress.stale_epochs}.get(
        field, progress.step
    )
    return 2 * max(budget, reached)


def saved_state(path: Path) -> tuple[TrainConfig, RunProgress] | None:
    """A checkpoint's settings and progress, as a resume would start from them; None for a
    file with no training state (a weights-only export). Raises CheckpointError."""
    # torch: the CLI checks a resume's budget with this before it loads torch for training
    from shakespeare_tui.core.model.checkpoint import damaged_state, read_payload

    data = read_payload(Path(path))
    if data.get("resume") is None:
        return None
    config = TrainConfig.from_dict(data.get("train_config") or {})
    try:
        return config, RunProgress.from_dict(json_object(data.get("progress")))
    except ValueError as exc:
        raise damaged_state(Path(path).name, f"its progress's {exc}") from None
