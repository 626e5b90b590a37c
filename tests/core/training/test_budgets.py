"""Which budget a run has spent, and the larger ones that let a resume carry on."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shakespeare_tui.core.config import TrainConfig
from shakespeare_tui.core.runs.progress import RunProgress
from shakespeare_tui.core.training.budgets import extended, saved_state, spent

CONFIG = TrainConfig(epochs=20, patience=5)


@pytest.mark.parametrize(
    "progress, config, reason, changes",
    [
        (RunProgress(step=300, epoch=0), replace(CONFIG, max_steps=300), "max-steps",
         {"max_steps": 600}),
        (RunProgress(step=300), replace(CONFIG, max_steps=200), "max-steps", {"max_steps": 600}),
        (RunProgress(step=99, elapsed_s=603.0), replace(CONFIG, max_minutes=10), "max-minutes",
         {"max_minutes": 20}),
        (RunProgress(step=9, elapsed_s=20.0), replace(CONFIG, max_minutes=0.25), "max-minutes",
         {"max_minutes": 0.5}),
        (RunProgress(epoch=20), CONFIG, "completed", {"epochs": 40}),
        (RunProgress(epoch=7, stale_epochs=5), CONFIG, "early-stopped", {"patience": 10}),
        # The last epoch was also the patience's last: both are raised, or it ends at once.
        (RunProgress(epoch=20, stale_epochs=5), CONFIG, "completed",
         {"epochs": 40, "patience": 10}),
        (RunProgress(step=300, epoch=20), replace(CONFIG, max_steps=300), "completed",
         {"epochs": 40, "max_steps": 600}),
        (RunProgress(step=12, epoch=0), replace(CONFIG, max_steps=300), None, {}),
    ],
)  # fmt: skip
def test_spent_budgets_are_doubled(progress, config, reason, changes):
    assert spent(progress, config) == reason
    assert extended(progress, config) == changes
    assert spent(progress, replace(config, **changes)) is None


def test_saved_state_reads_a_checkpoint_without_its_model(trained_run, tmp_path):
    from shakespeare_tui.core.model.checkpoint import export_checkpoint

    paths, finished, _ = trained_run
    config, progress = saved_state(finished.last_checkpoint)
    assert (config.epochs, progress.epoch) == (3, 3)
    assert spent(progress, config) == "completed"
    exported = export_checkpoint(finished.last_checkpoint, tmp_path / "small.pt")
    assert saved_state(exported) is None  # weights only: nothing to resume
