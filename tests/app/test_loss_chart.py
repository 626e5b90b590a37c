"""The loss chart: round ticks, evaluations as markers, epoch marks, a key that hides nothing.

Pure helpers are tested as functions; the drawn chart alone in the tests' ViewApp, on the text the
widget renders (its first line is the key, its last two the step axis and its labels).
"""

from __future__ import annotations

import math
import random
import re

import pytest

from shakespeare_tui.views.train import loss_chart
from shakespeare_tui.views.train.loss_chart import LossChart
from shakespeare_tui.widgets import chart_axes
from tests.app.harness import ViewApp, wait_for

EPOCH = 672  # steps per epoch of the realistic run below
MARKERS = "●◆"
KEY_WORDS = ("train", "val", "best")


CHART_CSS = "LossChart { width: 1fr; height: 1fr; }"


def realistic(chart: LossChart, steps: int = 4000) -> None:
    """Train loss decaying 4.3 → 1.5 with noise; validation at step 0 and each of 5 epoch ends."""
    rnd = random.Random(1)
    chart.add_epoch(0, 4.33, 0)
    vals = {1: 2.05, 2: 1.78, 3: 1.64, 4: 1.57, 5: 1.55}
    for step in range(1, steps + 1):
        if step % 5 == 0:
            chart.add_step(step, 1.5 + 2.8 * math.exp(-step / 350) + rnd.gauss(0, 0.08))
        if step % EPOCH == 0 and step // EPOCH in vals:
            chart.add_epoch(step, vals[step // EPOCH], step // EPOCH)


async def drawn(size: tuple[int, int], feed=realistic, bits: bool = False) -> list[str]:
    """The chart's rendered lines after `feed(chart)`, once the throttled redraw has run."""
    app = ViewApp(LossChart, css=CHART_CSS)
    async with app.run_test(size=size) as pilot:
        chart = app.query_one(LossChart)
        feed(chart)
        chart.bits = bits
        # Feeding it scheduled one redraw, at most REDRAW_INTERVAL_S away: wait for that one.
        await wait_for(pilot, lambda: not chart._scheduled, 10, "the throttled redraw")
        return chart.render().plain.split("\n")[: size[1]]  # what the widget's height shows


def plot_rows(lines: list[str]) -> list[str]:
    """The data rows: below the key line, above the step axis and its labels."""
    return lines[1:-2]


def y_labels(lines: list[str]) -> list[float]:
    return [float(m.group(1)) for row in plot_rows(lines) if (m := re.match(r"\s*([\d.]+)┤", row))]


def x_labels(lines: list[str]) -> list[str]:
    return lines[-1].split()


def columns_of(row: str, chars: str) -> list[int]:
    return [i for i, c in enumerate(row) if c in chars]


# -- pure helpers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lo", "hi", "min_step", "expected"),
    [
        (1.41, 4.33, 0.4, [1.5, 2.0, 2.5, 3.0, 3.5, 4.0]),
        (1.41, 4.33, 1.1, [2.0, 4.0]),
        (0, 3998, 400, [0, 500, 1000, 1500, 2000, 2500, 3000, 3500]),
        (4.23, 4.43, 0.04, [4.25, 4.30, 4.35, 4.40]),
    ],
)
def test_nice_ticks_are_multiples_of_a_1_2_5_step(lo, hi, min_step, expected):
    assert chart_axes.nice_ticks(lo, hi, min_step) == pytest.approx(expected)


def test_loss_ticks_leave_a_blank_row_between_labels():
    assert chart_axes.loss_ticks(1.41, 4.33, 3) == [3.0]  # room for one label: a round one
    for rows in (5, 7, 15, 45):
        ticks = chart_axes.loss_ticks(1.41, 4.33, rows)
        step = ticks[1] - ticks[0]
        assert step * (rows - 1) / (4.33 - 1.41) >= 2  # two rows or more apart
        assert len(ticks) <= chart_axes.MAX_TICKS


def test_loss_labels_share_one_number_of_decimals():
    assert chart_axes.loss_labels([2.0, 3.0, 4.0]) == ["2.0", "3.0", "4.0"]
    assert chart_axes.loss_labels([1.5, 2.0, 2.5]) == ["1.5", "2.0", "2.5"]
    assert chart_axes.loss_labels([4.25, 4.3]) == ["4.25", "4.30"]


@pytest.mark.parametrize(
    ("value", "step", "label"),
    [(0, 200, "0"), (800, 200, "800"), (1000, 200, "1k"), (1200, 200, "1.2k"), (1500, 500, "1.5k")]
    + [(20_000, 10_000, "20k"), (1_200_000, 100_000, "1.2M"), (35, 5, "35")],
)
def test_step_labels_are_short_and_round(value, step, label):
    assert chart_axes.count_label(value, step) == label


def test_step_ticks_fit_their_columns():
    ticks, labels, _ = chart_axes.x_ticks(3998, 70)
    assert labels == ["0", "500", "1k", "1.5k", "2k", "2.5k", "3k", "3.5k"]
    ticks, labels, _ = chart_axes.x_ticks(3998, 34)
    assert labels == ["0", "1k", "2k", "3k"]
    ticks, labels, _ = chart_axes.x_ticks(10, 70)
    assert ticks[0] == 0 and ticks[-1] == 10 and all(t == int(t) for t in ticks)


def test_epoch_marks_thin_out_to_round_epochs():
    assert loss_chart.thinning(12, 6) == 1
    assert loss_chart.thinning(0.7, 6) == 10
    assert loss_chart.thinning(2.5, 6) == 5


# -- the drawn chart --------------------------------------------------------------------------


async def test_ticks_are_round():
    lines = await drawn((75, 18))
    ys = y_labels(lines)
    steps = {round(b - a, 9) for a, b in zip(ys, ys[1:], strict=False)}
    assert len(ys) >= 3 and len(steps) == 1, ys  # evenly spaced values
    (step,) = steps
    assert abs(step) in {0.1, 0.2, 0.5, 1.0, 2.0}, ys
    assert all(abs(y / step - round(y / step)) < 1e-9 for y in ys), ys
    assert x_labels(lines) == ["0", "500", "1k", "1.5k", "2k", "2.5k", "3k", "3.5k"]


async def test_validation_points_are_markers_not_a_line():
    def two_evaluations(chart):
        chart.add_epoch(0, 4.33, 0)
        chart.add_epoch(3360, 1.55, 5)

    lines = await drawn((75, 18), two_evaluations)
    drawn_marks = "".join(c for row in plot_rows(lines) for c in row if c in MARKERS + "•·")
    assert drawn_marks.count("●") + drawn_marks.count("◆") == 2, lines
    assert len(drawn_marks) == 2, lines  # no dots joining them


async def test_the_key_hides_no_data():
    lines = await drawn((75, 18))
    key, rows = lines[0], plot_rows(lines)
    assert all(word in key for word in KEY_WORDS), key
    assert not any(word in row for row in rows for word in KEY_WORDS), rows
    top = rows[0]
    assert top[top.index("│") + 1] == "●", rows  # the untrained model's 4.33 at step 0 shows


async def test_the_best_point_is_marked_and_named():
    lines = await drawn((75, 18))
    assert "◆ best 1.55 (epoch 5)" in lines[0]
    assert sum(row.count("◆") for row in plot_rows(lines)) == 1


async def test_epochs_are_marked_on_the_step_axis():
    lines = await drawn((75, 18))
    top, axis = plot_rows(lines)[0], lines[-2]
    labels = re.findall(r"e\d+", top)
    assert labels == ["e1", "e2", "e3", "e4", "e5"], top
    label_columns = [m.start() + len(m.group()) // 2 for m in re.finditer(r"e\d+", top)]
    marks = columns_of(axis, "┴")
    assert len(marks) == 5
    assert all(abs(a - b) <= 1 for a, b in zip(label_columns, marks, strict=True)), (top, axis)


async def test_a_mid_epoch_evaluation_is_a_marker_but_no_epoch_mark():
    def mid_epoch(chart):
        chart.add_epoch(0, 4.2, 0)
        for step in range(1, 1001):
            chart.add_step(step, 1.5 + 2.7 * math.exp(-step / 300))
        chart.add_eval(500, 2.0, 1)  # every-N-steps evaluation inside epoch 1
        chart.add_eval(1000, 1.7, 1, epoch_end=True)

    lines = await drawn((75, 18), mid_epoch)
    rows = plot_rows(lines)
    assert sum(row.count("●") + row.count("◆") for row in rows) == 3
    assert re.findall(r"e\d+", rows[0]) == [], rows[0]  # epoch 1 ends at the right edge
    assert len(columns_of(lines[-2], "┴")) == 1  # one epoch end, not two
    assert "best 1.70 (epoch 1)" in lines[0]


async def test_a_budget_cut_epoch_from_history_is_no_epoch_end():
    history = [
        {"kind": "epoch", "epoch": 0, "step": 0, "val_loss": 4.2, "partial": False},
        {"kind": "epoch", "epoch": 1, "step": 100, "val_loss": 2.5, "partial": False},
        {"kind": "epoch", "epoch": 2, "step": 150, "val_loss": 2.3, "partial": True},
    ] + [{"kind": "step", "step": s, "train_loss": 4.2 - s / 100} for s in range(1, 301)]

    lines = await drawn((75, 18), lambda chart: chart.load_history(history))
    assert re.findall(r"e\d+", plot_rows(lines)[0]) == ["e1"]
    assert sum(row.count("●") + row.count("◆") for row in plot_rows(lines)) == 3
    assert "best 2.30 (step 150)" in lines[0]


async def test_many_epochs_are_thinned_to_round_labels():
    def hundred_epochs(chart):
        for step in range(50, 5001, 50):
            chart.add_step(step, 1.5 + 2.7 * math.exp(-step / 300))
            chart.add_epoch(step, 1.6 + 2.6 * math.exp(-step / 300), step // 50)

    for size in ((75, 16), (200, 50)):
        lines = await drawn(size, hundred_epochs)
        labels = re.findall(r"e(\d+)", plot_rows(lines)[0])
        assert labels and all(int(n) % 10 == 0 for n in labels), labels
        lines_at = columns_of(plot_rows(lines)[3], "│")[1:]  # past the y axis
        gaps = [b - a for a, b in zip(lines_at, lines_at[1:], strict=False)]
        assert min(gaps) >= loss_chart.LINE_GAP, lines_at
        assert len(lines_at) <= chart_axes.MAX_TICKS, lines_at  # each line costs every redraw


@pytest.mark.parametrize("size", [(38, 10), (50, 8)])  # the chart's share of an 80×24 terminal
async def test_a_small_chart_keeps_its_rows_for_data(size):
    lines = await drawn(size)
    assert len(lines) == size[1]
    assert all(len(line) <= size[0] for line in lines)
    key, rows = lines[0], plot_rows(lines)
    assert all(word in key for word in KEY_WORDS), key  # the whole key, on one line
    assert len(rows) == size[1] - 3
    assert not any(word in row for row in rows for word in KEY_WORDS), rows
    assert x_labels(lines)[:2] == ["0", "1k"]
    assert len(y_labels(lines)) >= 2


@pytest.mark.parametrize(
    "feed", [lambda chart: None, lambda chart: chart.add_epoch(0, 4.33, 0)], ids=["empty", "one"]
)
async def test_the_start_of_a_run_has_a_sensible_step_axis(feed):
    lines = await drawn((75, 18), feed)
    assert not any(re.search(r"(^|\s)-\d", line) for line in lines), lines  # no negative steps
    labels = x_labels(lines)
    assert labels[0] == "0" and not any(label.startswith("-") for label in labels), labels
    assert int(labels[-1]) >= loss_chart.MIN_STEPS
    ys = y_labels(lines)
    assert len(ys) >= 2 and all(y >= 0 for y in ys), ys


async def test_bits_relabel_the_loss_axis():
    nats, bits = await drawn((75, 18)), await drawn((75, 18), bits=True)
    assert "nats/char" in nats[0] and "bits/char" in bits[0]
    assert max(y_labels(bits)) > max(y_labels(nats)) * 1.3
    assert "best 2.24 (epoch 5)" in bits[0]  # 1.55 nats / ln 2


async def test_the_train_view_marks_no_epoch_end_for_a_budget_cut_evaluation(
    paths, tiny_settings, probe
):
    """--max-steps/--max-minutes end a run mid-epoch with an evaluation labelled with the epoch
    in progress: a marker, but that epoch has not ended."""
    from shakespeare_tui.app import make_app
    from shakespeare_tui.core.events import EpochEnded
    from shakespeare_tui.messages import TrainingUpdate

    def evaluation(epoch, step, val, partial):
        kind = "budget" if partial else "epoch"
        return EpochEnded(epoch, step, val, val, val, epoch, True, 5, "", 0.0, kind=kind)

    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        screen.post_message(TrainingUpdate(evaluation(1, 100, 2.5, partial=False)))
        screen.post_message(TrainingUpdate(evaluation(2, 150, 2.3, partial=True)))
        await pilot.pause()
        chart = screen.query_one(LossChart)
        assert chart.point_count == 2
        assert chart.epoch_ends == [(100, 1)]
