"""The Runs view's memory charts: `m` turns the chart to the selected runs' context curves
(measured in a worker on their best checkpoints, progress in the status line), then their
connectivity, then back; a second look reads nothing; escape stops a measurement; a run still
training or without a checkpoint is one line, never a crash."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shakespeare_tui.settings import AppSettings
from shakespeare_tui.views.runs.chart import RunsChart
from shakespeare_tui.views.runs.memory_pane import MemoryPane
from tests.app.runs_fixtures import SIZE, select, table
from tests.app.runs_memory_fixtures import scripted
from tests.core.run_folders import locked_by_another_process, make_run, step

pytestmark = [pytest.mark.usefixtures("fp32"), pytest.mark.heavy(15)]


@pytest.fixture
def fp32(monkeypatch):
    monkeypatch.setenv("SHAKESPEARE_TUI_BF16", "off")  # the same figures on every CPU


@pytest.fixture
def memory_app(paths, probe, trained_run, rnn_run, monkeypatch):
    """The app on the Runs view over two tiny trained runs (an LSTM, a basic RNN) and one that
    has no checkpoint."""
    from shakespeare_tui.app import make_app
    from shakespeare_tui.views.runs import screen as runs_screen

    monkeypatch.setattr(runs_screen, "REFRESH_S", 0.2)
    shutil.copytree(trained_run[0].runs / "trained", paths.runs / "lstm-a")
    shutil.copytree(Path(rnn_run.run_dir), paths.runs / "rnn-b")
    make_run(paths.runs, "empty", records=[step(10)])
    app = make_app(paths, settings=AppSettings(mode="runs"), probe=probe)
    app.notes = []
    real = app.notify
    app.notify = lambda message, **kw: app.notes.append(str(message)) or real(message, **kw)
    return app


async def listed(pilot, until, *names):
    screen = pilot.app.screen
    await until(pilot, lambda: set(names) <= set(table(screen).names), 30, "the runs")
    return screen


def pane(screen) -> MemoryPane:
    return screen.query_one(MemoryPane)


def status(screen) -> str:
    return str(screen.query_one("#memory-status").render())


def words(screen) -> str:
    return str(screen.query_one("#memory-words").render())


def measured(screen, *names) -> bool:
    found = pane(screen).found
    return all(n in found and found[n][2].memory is not None for n in names) and (
        pane(screen).baseline is not None and not pane(screen).measuring
    )


async def test_m_measures_the_selected_runs_then_shows_connectivity_then_training(
    memory_app, until
):
    progress = []

    def hook(message):
        if isinstance(message, MemoryPane.Progress):
            progress.append((message.name, message.stage))

    async with memory_app.run_test(size=SIZE, message_hook=hook) as pilot:
        screen = await listed(pilot, until, "lstm-a", "rnn-b")
        await select(pilot, until, screen, "lstm-a", "rnn-b")
        await pilot.press("m")
        assert screen.chart_mode == "context"
        assert not screen.query_one(RunsChart).display and pane(screen).display
        await until(pilot, lambda: measured(screen, "lstm-a", "rnn-b"), 120, "the memories")
        # The status line is written by a message after the last figure: a refresh later.
        await until(pilot, lambda: "1,000 targets in the last" in status(screen), 10, "status")
        assert {name for name, _ in progress} >= {"lstm-a", "rnn-b"}, "progress per run"
        assert {stage for _, stage in progress} >= {"context", "whole text", "connectivity"}
        assert "sonnets.txt (held out from training)" in status(screen)
        said = words(screen)
        assert "keeps improving up to ~" in said and "characters back" in said
        assert "LSTM" in said and "RNN" in said and "the n-gram" in said
        lstm = pane(screen).found["lstm-a"][2].memory
        assert lstm.cell == "lstm" and lstm.context.targets == 1_000
        chart = pane(screen).chart
        key = "\n".join(str(line) for line in chart._key_lines(120))
        assert f"━ lstm-a ~{lstm.effective_context}" in key and "··· n-gram" in key
        await pilot.press("m")
        assert screen.chart_mode == "connectivity" and chart.kind == "connectivity"
        assert "predictions still feel the character ~" in words(screen)
        assert not pane(screen).measuring, "the same measurement: nothing more to do"
        await pilot.press("b")  # units follow into the training curves
        await pilot.press("m")
        assert screen.chart_mode == "training"
        assert screen.query_one(RunsChart).display and not pane(screen).display
        assert screen.query_one(RunsChart).bits


async def test_a_second_look_is_instant_and_reads_nothing(memory_app, until, monkeypatch):
    from shakespeare_tui.core.inspection import run_memories

    async with memory_app.run_test(size=SIZE) as pilot:
        screen = await listed(pilot, until, "lstm-a", "rnn-b")
        await select(pilot, until, screen, "lstm-a", "rnn-b")
        await pilot.press("m")
        await until(pilot, lambda: measured(screen, "lstm-a", "rnn-b"), 120, "the memories")
        first = dict(pane(screen).found)
        await pilot.press("m", "m")  # back to the training curves

        def heavy(*args, **kwargs):
            raise AssertionError("read or measured again")

        for name in ("load_checkpoint", "measure_checkpoint", "ngram_baseline"):
            monkeypatch.setattr(run_memories, name, heavy)
        await pilot.press("m")
        assert not pane(screen).measuring, "shown at once: no worker"
        assert pane(screen).found == first
        assert "keeps improving" in words(screen) and "cannot" not in status(screen)


async def test_the_next_session_reads_the_figures_from_the_cache(memory_app, until, monkeypatch):
    from shakespeare_tui.core.inspection.memory import report

    async with memory_app.run_test(size=SIZE) as pilot:
        screen = await listed(pilot, until, "lstm-a")
        await select(pilot, until, screen, "lstm-a")
        await pilot.press("m")
        await until(pilot, lambda: measured(screen, "lstm-a"), 120, "the memory")
        before = pane(screen).found["lstm-a"][2].memory
    from shakespeare_tui.app import make_app

    monkeypatch.setattr(report, "measure_model", lambda *a, **k: pytest.fail("measured again"))
    again = make_app(memory_app.paths, settings=AppSettings(mode="runs"),
                     probe=memory_app._probe)  # fmt: skip
    async with again.run_test(size=SIZE) as pilot:
        screen = await listed(pilot, until, "lstm-a")
        await select(pilot, until, screen, "lstm-a")
        await pilot.press("m")
        await until(pilot, lambda: measured(screen, "lstm-a"), 60, "the cached memory")
        assert pane(screen).found["lstm-a"][2].memory == before


async def test_a_run_training_or_without_a_checkpoint_is_one_line(memory_app, until):
    paths = memory_app.paths
    going = paths.runs / "going"
    shutil.copytree(paths.runs / "lstm-a", going)
    async with memory_app.run_test(size=SIZE) as pilot:
        with locked_by_another_process(going):
            screen = await listed(pilot, until, "lstm-a", "empty", "going")
            await until(pilot, lambda: screen._row("going").training, 20, "training elsewhere")
            await select(pilot, until, screen, "empty", "lstm-a", "going")
            await pilot.press("m")
            await until(pilot, lambda: measured(screen, "lstm-a"), 120, "the one measurable")
            line = status(screen)
            assert "empty: no checkpoint yet" in line
            assert "going: training: measured once it ends" in line
            assert "\n" not in line
            lines = {line.name: line for line in pane(screen)._lines()}
            assert lines["empty"].memory is None and lines["going"].memory is None
            assert "LSTM keeps improving" in words(screen)
            assert not memory_app.notes, "nothing to notify: the status says it"


async def test_escape_stops_a_measurement_and_nothing_restarts_it(memory_app, until, monkeypatch):
    script = scripted(monkeypatch, hold=True)
    async with memory_app.run_test(size=SIZE) as pilot:
        screen = await listed(pilot, until, "lstm-a", "rnn-b")
        await select(pilot, until, screen, "lstm-a", "rnn-b")
        await pilot.press("m")
        await until(pilot, lambda: "measuring lstm-a (1 of 2)" in status(screen), 20, "progress")
        assert "(1 of 2): the last k characters… 30% · escape stops" in status(screen)
        await pilot.press("escape")
        await until(pilot, lambda: not pane(screen).measuring, 20, "the stop")
        assert pane(screen).stopped and "stopped" in status(screen)
        await pilot.pause(0.6)  # refreshes of the runs folder come and go
        assert len(script.measured) == 1 and not pane(screen).measuring
        await pilot.press("m")  # the next chart: measuring goes on
        assert screen.chart_mode == "connectivity"
        await until(pilot, lambda: len(script.measured) == 2, 20, "measuring again")
        await pilot.press("m")  # back to the training curves: it stops
        await until(pilot, lambda: not pane(screen).measuring, 20, "stopped by leaving")


async def test_the_memory_key_is_in_the_footer_and_the_palette_at_80_columns(memory_app, until):
    from textual.widgets import Footer

    async with memory_app.run_test(size=(80, 24)) as pilot:
        screen = await listed(pilot, until, "lstm-a")
        footer = screen.query_one(Footer)

        def keys() -> list[str]:
            return [item.key for item in footer.query("FooterKey")]

        # (The footer is rebuilt after a refresh and is empty for a moment while it is.)
        await until(pilot, lambda: "m" in keys(), 10, "the memory key in the footer")
        commands = [c.title for c in memory_app.get_system_commands(screen)]
        assert "Memory" in commands and "Compare cells" in commands
