"""What a resume keeps of a run's settings, and what a machine decides for itself."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shakespeare_tui.core.config import TrainConfig, machine_threads
from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.training.setup import prepare_run, resume_config


def test_a_run_saved_with_more_threads_than_this_machine_has_resumes_with_its_own():
    """Trained on a 16-core machine with --threads 16, resumed on this one: the thread count is
    the machine's to choose, not a conflict (it was refused as 'threads must be at most N')."""
    saved = replace(TrainConfig(), threads=machine_threads() + 14)
    resumed = resume_config(saved, {})
    assert resumed.threads is None
    resumed.validate()
    assert resume_config(saved, {"threads": 1}).threads == 1


def test_a_thread_count_this_machine_can_give_is_kept():
    saved = replace(TrainConfig(), threads=1)
    assert resume_config(saved, {}).threads == 1


def test_a_run_with_neither_settings_nor_a_run_to_resume_is_one_line(tmp_path):
    """prepare_run itself (not only train(), which checks first) says what is missing, rather
    than failing on the settings it was not given; nothing is written."""
    paths = Paths(tmp_path / "data", tmp_path / "cache", tmp_path / "config")
    with pytest.raises(UserError, match="nothing to train"):
        prepare_run(None, paths, run_name=None, resume=None, resume_overrides=None, corpus=None)
    assert not any(tmp_path.iterdir())
