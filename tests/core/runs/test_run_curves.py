"""A run's curves for the Runs chart: smoothed as TensorBoard does, on three x-axes, averaged
down, the best evaluation found where the table says it is."""

from __future__ import annotations

import math
from array import array

import pytest

from shakespeare_tui.core.runs.curves import downsample, run_curves
from shakespeare_tui.core.runs.metrics_tail import Series
from shakespeare_tui.core.runs.smoothing import smooth


def series(losses, evals=(), chars_per_step=512) -> Series:
    s = Series(chars_per_step=chars_per_step)
    for i, loss in enumerate(losses, 1):
        s.steps.append(10 * i)
        s.train_loss.append(loss)
        s.elapsed_s.append(float(i))
    for step, val in evals:
        s.eval_steps.append(step)
        s.eval_epochs.append(1)
        s.val_loss.append(val)
        s.eval_elapsed_s.append(step / 10)
    return s


def test_training_loss_is_smoothed_whole_as_tensorboard_does():
    curves = run_curves(series([3.0, 2.0, float("nan"), 1.0]), 0.6)
    assert curves.train.step == (10.0, 20.0, 40.0)  # the NaN is no point
    assert list(curves.train.loss) == pytest.approx(smooth([3.0, 2.0, 1.0], 0.6))
    assert curves.train.chars == (5120.0, 10240.0, 20480.0)
    assert curves.train.time == (1.0, 2.0, 4.0)
    assert run_curves(series([3.0, 2.0]), 0.0).train.loss == (3.0, 2.0)


def test_the_best_point_is_the_tables_on_every_axis():
    s = series([3.0, 2.0, 1.5], evals=[(0, 4.0), (20, 2.1), (30, 2.3)])
    best = run_curves(s, 0.6, best_step=20).best
    assert best.loss == 2.1 and best.x("step") == 20 and best.x("chars") == 20 * 512
    assert best.x("time") == 2.0
    assert run_curves(s, 0.6, best_step=None).best is None
    assert run_curves(s, 0.6, best_step=99).best is None  # not among the evaluations read


def test_a_run_without_batch_and_window_has_no_characters_axis():
    curves = run_curves(series([3.0, 2.0], evals=[(10, 2.5)], chars_per_step=None), 0.6, 10)
    assert curves.train.xs("chars") is None and curves.val.xs("chars") is None
    assert curves.best.x("chars") is None and curves.best.x("step") == 10


def test_long_curves_are_averaged_down_after_smoothing():
    losses = [4.0 - i / 10_000 for i in range(20_000)]
    curves = run_curves(series(losses), 0.9, limit=500)
    assert len(curves.train) == 500 and len(curves.train.step) == len(curves.train.chars) == 500
    whole = smooth(losses, 0.9)
    assert curves.train.loss[0] == pytest.approx(sum(whole[:40]) / 40)
    assert curves.steps == 20_000


def test_downsample_keeps_short_lists_and_skips_nans():
    assert downsample([1.0, 2.0], 5) == [1.0, 2.0]
    assert downsample([1.0, 3.0, math.nan, 5.0], 2) == [2.0, 5.0]
    assert math.isnan(downsample([math.nan, math.nan, 1.0, 1.0], 2)[0])
    assert downsample(array("d", range(10)), 3) == [1.0, 4.0, 7.5]
