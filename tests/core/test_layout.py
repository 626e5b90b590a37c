"""How a run uses the cores (core/layout.py): the rule's choice for the recipes we train, what a
person gives winning over it, and the run's settings turned into the steps the rule reads."""

from __future__ import annotations

import pytest

from shakespeare_tui.core.config import SIZED, build_config
from shakespeare_tui.core.layout import THREADS_FROM_WORK, Layout, choose_layout
from shakespeare_tui.core.sizing import ladder
from shakespeare_tui.core.training.run_layout import run_layout, run_steps

LADDER_STEP = (16, 1.9e10)  # E128/H640 on 16 windows of 100: the ladder's middle size
SMALLEST_RUNG_STEP = (8, 3.4e9)  # E64/H384 on 8 windows of 100
NOTEBOOK_STEP = (64, 2.0e11)  # E256/H1024 on 64 windows of 100
TINY_STEP = (16, 2.8e7)  # the tiny preset: what the tests train


def cpu(cores: int, *steps: tuple[int, float], **given) -> Layout:
    return choose_layout(cores, device_type="cpu", steps=list(steps), **given)


def test_the_ladders_steps_train_in_one_process_with_a_thread_per_core():
    for step in (SMALLEST_RUNG_STEP, LADDER_STEP, NOTEBOOK_STEP):
        layout = cpu(2, step)
        assert (layout.processes, layout.threads, layout.split) == (1, 2, False), step
        assert layout.label == "2 threads" and not layout.forced
        assert layout.rows(16) == layout.job_batch(16) == 16
        assert "2 threads" in layout.reason
    assert cpu(8, LADDER_STEP).threads == 8


def test_every_size_a_budget_may_choose_is_read():
    """A sized run's layout is chosen before its size: every rung's step counts."""
    config = build_config("auto", "cpu", {"max_minutes": 10})
    assert config.preset == SIZED
    steps = run_steps(config)
    assert len(steps) == len(ladder.LADDER)
    assert sorted(batch for batch, _ in steps) == sorted(r.batch_size for r in ladder.LADDER)
    assert min(work for _, work in steps) >= THREADS_FROM_WORK  # every rung shares well
    assert choose_layout(2, device_type="cpu", steps=steps).threads == 2


def test_small_steps_stay_in_one_thread():
    layout = cpu(2, TINY_STEP)
    assert (layout.processes, layout.threads, layout.split) == (1, 1, False)
    assert "1 thread" in layout.reason
    assert cpu(2, (16, THREADS_FROM_WORK * 0.99)).threads == 1
    assert cpu(2, (16, THREADS_FROM_WORK)).threads == 2
    assert cpu(1, LADDER_STEP).label == "1 thread"
    assert cpu(2).threads == 1  # no step known: nothing to share


def test_what_a_person_gives_wins():
    threads = cpu(2, TINY_STEP, threads=2)
    assert (threads.processes, threads.threads, threads.split, threads.forced) == (
        1,
        2,
        False,
        True,
    )
    assert cpu(2, LADDER_STEP, threads=1).threads == 1
    many = cpu(2, LADDER_STEP, processes=2)
    assert (many.processes, many.threads, many.split, many.forced) == (2, 1, False, True)
    assert many.job_batch(16) == 32  # --nproc: each process its own windows
    assert cpu(8, TINY_STEP, processes=2, threads=3).threads == 3


def test_a_gpu_is_driven_by_one_process():
    layout = choose_layout(8, device_type="cuda", steps=[NOTEBOOK_STEP])
    assert (layout.processes, layout.threads, layout.split) == (1, 8, False)
    assert "CUDA" in layout.reason


def test_a_split_layout_shares_each_steps_windows():
    """The layout a launcher may give its processes (SHAKESPEARE_TUI_LAYOUT): not the rule's
    choice today, kept for measuring it (benchmarks/layouts.py)."""
    split = Layout(2, 1, True, "measured")
    assert split.rows(16) == 8 and split.job_batch(16) == 16
    assert split.label == "2 processes × 1 thread"


def test_the_layout_travels_to_the_processes_in_their_environment():
    layout = Layout(2, 1, True, "both cores")
    assert Layout.from_env(layout.to_env()) == layout
    for junk in (None, "", "{", "[]", '{"processes": "x"}', '{"processes": 0, "threads": 1}'):
        assert Layout.from_env(junk) is None, junk


@pytest.mark.parametrize(
    ("preset", "settings", "expected"),
    [
        ("cpu", {}, (1, 2, False)),
        ("tiny", {}, (1, 1, False)),
        ("tiny", {"threads": 2}, (1, 2, False)),
        ("cpu", {"threads": 1}, (1, 1, False)),
        ("notebook", {}, (1, 2, False)),
    ],
)
def test_a_runs_settings_give_its_layout(monkeypatch, preset, settings, expected):
    import shakespeare_tui.core.training.run_layout as module

    monkeypatch.setattr(module, "cpu_threads", lambda: 2)
    layout = run_layout(build_config(preset, "cpu", settings), "cpu")
    assert (layout.processes, layout.threads, layout.split) == expected
