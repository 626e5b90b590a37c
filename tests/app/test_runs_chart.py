"""The Runs chart's pure parts: colours for newly selected runs, x-axis ticks in steps,
characters and wall time, and the loss axis's range with TensorBoard's outliers left out."""

from __future__ import annotations

import pytest

from shakespeare_tui.views.runs.chart import PALETTE, _span, free_colour
from shakespeare_tui.widgets.chart_axes import x_ticks


def test_a_new_run_gets_the_first_free_colour():
    assert free_colour([]) == 0
    assert free_colour([1, 2]) == 0 and free_colour([0, 2]) == 1
    assert free_colour(list(range(len(PALETTE))) + [0]) == 1  # all taken: the least used


def test_x_ticks_are_round_in_each_unit():
    assert x_ticks(3000, 70, "step")[1] == ["0", "500", "1k", "1.5k", "2k", "2.5k", "3k"]
    assert x_ticks(2.5e9, 70, "chars")[1] == ["0", "500M", "1G", "1.5G", "2G", "2.5G"]
    ticks, labels, scale = x_ticks(5400, 70, "time")  # an hour and a half: in minutes
    assert scale == 60 and labels[:3] == ["0m", "10m", "20m"] and ticks[-1] == 90
    assert x_ticks(47, 70, "time")[1][-1] == "45s"
    assert x_ticks(36_000, 70, "time")[1][-1] == "10h"
    assert len(x_ticks(3000, 12, "step")[1]) <= 3  # a narrow chart: fewer labels, none touching


def test_the_loss_axis_leaves_out_the_top_five_percent_unless_told():
    first_steps = [4.0, 3.5]
    rest = [1.5 + i / 100 for i in range(40)]
    lo, hi = _span(first_steps + rest, log=False, bits=False, fit_all=False)
    assert lo == pytest.approx(1.5) and hi < 2.0  # the lowest point is always in
    assert _span(first_steps + rest, log=False, bits=False, fit_all=True)[1] == 4.0
    assert _span([1.0, 4.0], log=False, bits=False, fit_all=False) == (1.0, 4.0)  # few points
    assert _span([2.0], log=False, bits=False, fit_all=False) == pytest.approx((1.9, 2.1))


def test_log_axes_label_powers_that_fit_and_never_touch():
    """The memory charts' axes: characters back on powers of two, gradients on powers of ten."""
    from shakespeare_tui.widgets.chart_axes import decade_ticks, power_ticks

    assert power_ticks(0, 9, 200) == list(range(10))  # 1 … 512, every one on a wide chart
    narrow = power_ticks(0, 9, 30)
    assert narrow[0] == 0 and len(narrow) < 10
    gaps = [(b - a) * 29 / 9 for a, b in zip(narrow, narrow[1:], strict=False)]
    assert all(gap >= len(str(2**p)) + 2 for gap, p in zip(gaps, narrow, strict=False))
    ticks, labels = decade_ticks(-10.0, 0.0, 40)
    assert labels[-1] == "1" and labels[0] == "10⁻¹⁰" and ticks == sorted(ticks)
    few, _ = decade_ticks(-10.0, 0.0, 6)  # three rows' worth: the top always in
    assert len(few) <= 3 and few[-1] == 0.0
