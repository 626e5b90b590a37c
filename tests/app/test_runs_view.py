"""The Runs view: the table of runs (sorting, filtering), selected runs overlaid on one chart
(stable colours, smoothing, axes, units), the diff of two, and its live refresh of runs
written by another process or taken away while it is open."""

from __future__ import annotations

import shutil

import pytest
from textual.widgets import Input
from textual.widgets.data_table import ColumnKey

from shakespeare_tui.core.runs.smoothing import smooth
from shakespeare_tui.core.runs.table import COLUMNS
from shakespeare_tui.settings import AppSettings
from shakespeare_tui.views.runs.chart import RunsChart
from shakespeare_tui.views.runs.panel import RunPanel
from shakespeare_tui.views.runs.table import RunsTable
from tests.app.runs_fixtures import SIZE, append, curve_records, opened, runs_only, select, table
from tests.core.run_folders import locked_by_another_process, make_run

NEWEST_FIRST = ["lstm-h256", "gru-h320", "rnn-h512"]


async def test_a_row_per_run_as_the_cli_shows_it(runs_app, until):
    async with runs_app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot, until)
        assert runs_only(screen) == NEWEST_FIRST
        rows = {r.name: r for r in screen.rows}
        lstm = table(screen).cells_of("lstm-h256")
        assert lstm[1:4] == (
            "lstm-h256",
            "max-steps",
            COLUMNS["best_val_loss"].text(rows["lstm-h256"]),
        )
        assert lstm[4] == COLUMNS["best_val_bits"].text(rows["lstm-h256"])
        assert "LSTM E16/H256" in lstm and "298,000" in lstm and "16 × 32" in lstm
        assert table(screen).cells_of("bundled")[2] == "bundled"
        status = str(screen.query_one("#runs-status").render())
        assert "4 runs" in status and "sorted by created ▼" in status


async def test_sorting_by_key_by_header_and_reversed_keeps_the_highlight(runs_app, until):
    async with runs_app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot, until)
        table(screen).move_cursor(row=table(screen).names.index("gru-h320"))
        await pilot.press("o")  # the next column after "created" wraps round to the name
        assert screen.settings.sort == "name"
        assert table(screen).names == ["bundled", "gru-h320", "lstm-h256", "rnn-h512"]
        await pilot.press("r")
        assert table(screen).names == ["rnn-h512", "lstm-h256", "gru-h320", "bundled"]
        assert table(screen).highlighted_name == "gru-h320"
        await pilot.click(RunsTable, offset=(27, 0))  # the "best val" header
        assert screen.settings.sort == "best_val_loss" and not screen.settings.descending
        assert table(screen).names == ["bundled", "lstm-h256", "gru-h320", "rnn-h512"]
        await pilot.press("o", "o")  # where the best was: by its step
        assert screen.settings.sort == "best_at"
        assert table(screen).names == ["bundled", "gru-h320", "lstm-h256", "rnn-h512"]
        assert table(screen).cells_of("gru-h320")[5] == "e1 · 2,600"
        await pilot.press("O")
        assert screen.settings.sort == "best_val_bits"
        await pilot.press("o", "o", "o", "o")
        assert screen.settings.sort == "dropout"
        assert table(screen).names[-1] == "bundled"  # the bundled checkpoint has no dropout
        await pilot.press("r")
        assert table(screen).names[-1] == "bundled"  # no value: last either way round
        assert table(screen).highlighted_name == "gru-h320"
        assert "dropout ▼" in str(table(screen).columns[ColumnKey("dropout")].label)
    assert runs_app.settings.runs.sort == "dropout"  # remembered


async def test_typing_a_filter_keeps_the_matching_runs(runs_app, until):
    async with runs_app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot, until)
        await pilot.press("slash")
        assert isinstance(screen.focused, Input)
        await pilot.press(*"gru")
        assert table(screen).names == ["gru-h320"]
        assert "1 of 4" in str(screen.query_one("#runs-status").render())
        await pilot.press("space")  # typed, not a selection
        assert screen.query_one(Input).value == "gru " and not screen.selected
        await pilot.press("escape")
        assert screen.query_one(Input).value == "" and len(table(screen).names) == 4
        assert isinstance(screen.focused, RunsTable)


async def test_selected_runs_overlay_in_colours_that_stay_theirs(runs_app, until):
    async with runs_app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot, until)
        chart = screen.query_one(RunsChart)
        await select(pilot, until, screen, "rnn-h512", "gru-h320", "lstm-h256")
        assert [(r.name, r.colour) for r in chart.runs] == [
            ("rnn-h512", 0), ("gru-h320", 1), ("lstm-h256", 2)]  # fmt: skip
        assert all(r.curves is not None and r.curves.best for r in chart.runs)
        assert table(screen).cells_of("gru-h320")[0] == "●"
        await select(pilot, until, screen, "rnn-h512")  # unselected: the others keep theirs
        assert [(r.name, r.colour) for r in chart.runs] == [("gru-h320", 1), ("lstm-h256", 2)]
        assert table(screen).cells_of("rnn-h512")[0] == ""
        await until(pilot, lambda: chart.draw_ms, 5, "a picture")
        picture = chart.render().plain
        assert "━ gru-h320 " in picture and "rnn-h512" not in picture
        await pilot.press("c")
        assert chart.runs == () and "space selects runs" in chart.render().plain


async def test_smoothing_axes_units_and_curves_change_the_chart(runs_app, until, paths):
    async with runs_app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot, until)
        chart = screen.query_one(RunsChart)
        await select(pilot, until, screen, "lstm-h256")
        assert screen.curves["lstm-h256"].weight == 0.6
        await pilot.press("right_square_bracket")
        assert "smoothing 0.8" in str(screen.query_one("#runs-controls").render())
        await until(pilot, lambda: screen.curves["lstm-h256"].weight == 0.8, 10, "re-smoothed")
        raw = [r["train_loss"] for r in curve_records(1.38, 600.0, 3000, 33_000.0)
               if r["kind"] == "step"]  # fmt: skip
        assert list(screen.curves["lstm-h256"].train.loss) == pytest.approx(smooth(raw, 0.8))
        await pilot.press(*["left_square_bracket"] * 9)  # stops at 0
        assert screen.settings.smoothing == 0.0
        await pilot.press("x")
        assert chart.x_axis == "chars" and "by characters seen" in chart.render().plain
        await pilot.press("x")
        assert chart.x_axis == "time" and "by wall time" in chart.render().plain
        await pilot.press("l", "b")
        picture = chart.render().plain
        assert chart.log_y and "log bits/char" in picture
        best = screen.curves["lstm-h256"].best.loss
        assert f"{best / 0.6931471805599453:.3f}" in picture
        await pilot.press("v")
        assert chart.curves == "val" and "⣀ train" not in chart.render().plain
        await pilot.press("z")
        assert chart.fit_all
        await pilot.press("q")
    assert AppSettings.load(paths.settings_file).runs.x_axis == "time"  # remembered at quit


async def test_two_selected_runs_show_what_differs(runs_app, until):
    async with runs_app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot, until)
        await select(pilot, until, screen, "gru-h320", "lstm-h256")
        panel = screen.query_one(RunPanel).plain
        assert screen.has_class("-two")
        assert "Differences" in panel and "model.cell" in panel and "model.hidden" in panel
        assert "gru" in panel and "lstm" in panel and "lr" not in panel.split("model.cell")[0]
        assert "lstm-h256 is better by" in panel
        await select(pilot, until, screen, "gru-h320")
        panel = screen.query_one(RunPanel).plain
        assert "Differences" not in panel and not screen.has_class("-two")


async def test_two_runs_diff_fits_80_columns(runs_app, until):
    async with runs_app.run_test(size=(80, 24)) as pilot:
        screen = await opened(pilot, until)
        side = screen.query_one("#runs-side")
        assert not side.display or side.region.width == 0  # the chart takes the width
        await select(pilot, until, screen, "gru-h320", "lstm-h256")
        await pilot.pause()
        assert side.region.width > 0 and screen.query_one(RunsChart).region.width >= 40


async def test_a_run_trained_by_another_process_updates_live(runs_app, until, paths):
    folder = make_run(paths.runs, "elsewhere", created="2026-12-02T09:00:00+00:00",
                      records=curve_records(1.6, 400.0, 400, 30_000.0, finish=None))  # fmt: skip
    async with runs_app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot, until)
        with locked_by_another_process(folder):
            await until(pilot, lambda: "training elsewhere" in table(screen).cells_of("elsewhere"),
                        10, "the training state")  # fmt: skip
            await select(pilot, until, screen, "elsewhere")
            before = screen.curves["elsewhere"]
            more = curve_records(1.6, 400.0, 800, 30_000.0, finish=None)
            append(folder, [r for r in more if r.get("step", 0) > 400])
            await until(pilot, lambda: "800" in table(screen).cells_of("elsewhere")[5],
                        10, "the new best step")  # fmt: skip
            await until(pilot, lambda: screen.curves["elsewhere"] is not before, 10, "curves")
            assert max(screen.curves["elsewhere"].train.step) == 800
            panel = " ".join(screen.query_one(RunPanel).plain.split())
            assert "being trained by another process (step 800 so far)" in panel
        await until(pilot, lambda: "training" not in table(screen).cells_of("elsewhere")[2],
                    10, "the trainer gone")  # fmt: skip
        assert table(screen).cells_of("elsewhere")[2] == "interrupted"


async def test_folders_deleted_or_half_written_while_open(runs_app, until, paths):
    async with runs_app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot, until)
        await select(pilot, until, screen, "gru-h320")
        table(screen).move_cursor(row=table(screen).names.index("gru-h320"))
        shutil.rmtree(paths.runs / "gru-h320")
        (paths.runs / "being-made").mkdir()  # no config.json yet
        await until(pilot, lambda: "gru-h320" not in table(screen).names, 10, "the row gone")
        assert not screen.selected and screen.query_one(RunsChart).runs == ()
        assert any("gru-h320: no longer in" in note for note in runs_app.notes)
        await until(pilot, lambda: "being-made" in table(screen).names, 10, "the new folder")
        assert table(screen).cells_of("being-made")[2] == "half-written"
        assert table(screen).highlighted_name in table(screen).names
