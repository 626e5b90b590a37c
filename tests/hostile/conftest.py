"""Fixtures of the hostile-file suite: one zygote per session (hostile_support.py), and a data
folder holding one real tiny run that each case copies and then damages."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.hostile.hostile_support import CaseRunner

# RLIMIT_AS, /proc and fork as Linux has them.
collect_ignore_glob = [] if sys.platform.startswith("linux") else ["test_*.py"]


@pytest.fixture(scope="session")
def zygote(tmp_path_factory):
    runner = CaseRunner(tmp_path_factory.mktemp("hostile-output"))
    yield runner
    runner.close()


@pytest.fixture(scope="session")
def seed_home(trained_run) -> Path:
    """The data folder of the session's tiny trained run: copy it, never change it."""
    paths, _, _ = trained_run
    return paths.data


@pytest.fixture
def home(seed_home, tmp_path) -> Path:
    """A data folder of one's own with the run "trained" in it (config, metrics, checkpoints)."""
    folder = tmp_path / "home"
    shutil.copytree(seed_home, folder, ignore=shutil.ignore_patterns(".lock", "cache"))
    for made in ("cache", "config"):  # as every command makes them: not a change to see
        (folder / made).mkdir(exist_ok=True)
    return folder
