"""How a run uses the cores (core/layout.py): the rule's choice for the recipes we train, what a
person gives winning over it, and the run's settings turned into the steps the rule reads."""

from __future__ import annotations

import pytest

from shakespeare_tui.core.config import SIZED, build_config
from shakespeare_tui.core.layout import (
    MIN_PROCESS_WORK,
    MIN_ROWS,
    THREADS_FROM_WORK,
    Layout,
    choose_layout,
    split_processes,
)
from shakespeare_tui.core.sizing import ladder
from shakespeare_tui.core.training.run_layout import run_layout, run_steps

LADDER_STEP = (16, 1.9e10)  # E128/H640 on 16 windows of 100: the ladder's middle size
NOTEBOOK_STEP = (64, 2.0e11)  # E256/H1024 on 64 windows of 100
TINY_STEP = (16, 2.8e7)  # the tiny preset: what the tests train


def cpu(cores: int, *steps: tuple[int, float], **given) -> Layout:
    return choose_layout(cores, device_type="cpu", steps=list(steps), **given)


def test_the_ladders_steps_on_two_cores_train_in_two_processes_sharing_each_step():
    layout = cpu(2, LADDER_STEP)
    assert (layout.processes, layout.threads, layout.split) == (2, 1, True)
    assert layout.rows(16) == 8 and layout.job_batch(16) == 16  # the recipe's windows, halved
    assert layout.label == "2 processes × 1 thread"
    assert not layout.forced
    assert "2 processes × 1 thread" in layout.reason and "2 cores" in layout.reason


def test_every_size_a_budget_may_choose_splits_alike():
    """A sized run's layout is chosen before its size: every rung's step must split (the
    smallest, 8 windows, into two of MIN_ROWS)."""
    config = build_config("auto", "cpu", {"max_minutes": 10})
    assert config.preset == SIZED
    steps = run_steps(config)
    assert len(steps) == len(ladder.LADDER)
    assert sorted(batch for batch, _ in steps) == sorted(r.batch_size for r in ladder.LADDER)
    layout = choose_layout(2, device_type="cpu", steps=steps)
    assert (layout.processes, layout.split) == (2, True)
    assert all(batch // 2 >= MIN_ROWS for batch, _ in steps)


def test_small_steps_stay_one_process_of_one_thread():
    layout = cpu(2, TINY_STEP)
    assert (layout.processes, layout.threads, layout.split) == (1, 1, False)
    assert layout.job_batch(16) == layout.rows(16) == 16
    # Just under the work a process needs, or too few windows to share: one process.
    assert cpu(2, (16, 2 * MIN_PROCESS_WORK * 0.99)).processes == 1
    assert cpu(2, (2 * MIN_ROWS - 2, 1e12)).processes == 1
    assert cpu(2, (16, 2 * MIN_PROCESS_WORK)).processes == 2


def test_a_batch_that_does_not_share_evenly_takes_fewer_processes():
    assert cpu(3, (16, 1e11)).processes == 2  # 16 windows do not split in three
    assert cpu(3, (15, 1e11)).processes == 3
    assert cpu(2, (15, 1e11)).processes == 1
    assert split_processes(16, [(16, 1e12)]) == 16 // MIN_ROWS  # MIN_ROWS windows each, at least
    assert split_processes(4, [(16, 1e11), (8, 1e11)]) == 2  # every step shares alike
    assert split_processes(2, []) == 1


def test_one_process_takes_threads_only_for_large_steps():
    """The app and the queue train in their own process."""
    small = cpu(2, LADDER_STEP, one_process=True)
    assert (small.processes, small.threads) == (1, 1)
    large = cpu(2, NOTEBOOK_STEP, one_process=True)
    assert (large.processes, large.threads) == (1, 2)
    assert cpu(1, LADDER_STEP).label == "1 thread"


def test_many_cores_give_each_process_threads_where_its_share_is_large():
    layout = cpu(16, (64, 16 * THREADS_FROM_WORK))
    assert layout.split and layout.processes == 16 and layout.threads == 1
    layout = cpu(16, (16, 8 * THREADS_FROM_WORK))
    assert (layout.processes, layout.threads) == (4, 4)
    assert cpu(16, LADDER_STEP).threads == 1


def test_what_a_person_gives_wins():
    threads = cpu(2, LADDER_STEP, threads=2)
    assert (threads.processes, threads.threads, threads.split, threads.forced) == (
        1,
        2,
        False,
        True,
    )
    many = cpu(2, LADDER_STEP, processes=2)
    assert (many.processes, many.threads, many.split, many.forced) == (2, 1, False, True)
    assert many.job_batch(16) == 32  # --nproc: each process its own windows
    assert cpu(8, TINY_STEP, processes=2, threads=3).threads == 3


def test_a_gpu_is_driven_by_one_process():
    layout = choose_layout(8, device_type="cuda", steps=[NOTEBOOK_STEP])
    assert (layout.processes, layout.threads, layout.split) == (1, 8, False)
    assert "CUDA" in layout.reason


def test_the_layout_travels_to_the_processes_in_their_environment():
    layout = cpu(2, LADDER_STEP)
    assert Layout.from_env(layout.to_env()) == layout
    for junk in (None, "", "{", "[]", '{"processes": "x"}', '{"processes": 0, "threads": 1}'):
        assert Layout.from_env(junk) is None, junk


@pytest.mark.parametrize(
    ("preset", "settings", "expected"),
    [
        ("cpu", {}, (2, 1, True)),
        ("tiny", {}, (1, 1, False)),
        ("cpu", {"threads": 2}, (1, 2, False)),
        ("notebook", {}, (2, 1, True)),
    ],
)
def test_a_runs_settings_give_its_layout(monkeypatch, preset, settings, expected):
    import shakespeare_tui.core.training.run_layout as module

    monkeypatch.setattr(module, "cpu_threads", lambda: 2)
    layout = run_layout(build_config(preset, "cpu", settings), "cpu")
    assert (layout.processes, layout.threads, layout.split) == expected
    alone = run_layout(build_config(preset, "cpu", settings), "cpu", one_process=True)
    assert alone.processes == 1
