"""SVG snapshots of the Runs view: three runs of about one size (a basic RNN, a GRU and an
LSTM) overlaid, the LSTM highlighted. The runs are written by hand (tests/app/runs_fixtures.py),
home is the test's folder (the panel writes it ~) and the clock is UTC, so nothing depends on
the machine. Update with --snapshot-update after a deliberate change, and look at the SVGs."""

from __future__ import annotations

import time

import pytest

from tests.app.runs_fixtures import opened, select, table


@pytest.fixture
def snapshot_app(runs_app, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield runs_app
    monkeypatch.undo()
    time.tzset()


async def _three_selected(pilot) -> None:
    from tests.app.harness import wait_for

    screen = await opened(pilot, wait_for)
    await select(pilot, wait_for, screen, "rnn-h512", "gru-h320", "lstm-h256")
    table(screen).move_cursor(row=table(screen).names.index("lstm-h256"))
    await pilot.pause(0.1)


def test_runs_view_three_runs_120x40(snap_compare, snapshot_app):
    assert snap_compare(snapshot_app, terminal_size=(120, 40), run_before=_three_selected)


def test_runs_view_three_runs_80x24(snap_compare, snapshot_app):
    assert snap_compare(snapshot_app, terminal_size=(80, 24), run_before=_three_selected)


# The context overlay: the same three runs measured by a scripted measurement (made-up figures
# of the notebook's lesson, tests/app/runs_memory_fixtures.py), so nothing depends on the CPU.


@pytest.fixture
def memory_snapshot_app(snapshot_app, monkeypatch):
    from tests.app.runs_memory_fixtures import scripted

    scripted(monkeypatch)
    return snapshot_app


async def _context_overlay(pilot) -> None:
    from shakespeare_tui.views.runs.memory_pane import MemoryPane
    from tests.app.harness import wait_for
    from tests.app.runs_memory_fixtures import SOURCE

    await _three_selected(pilot)
    await pilot.press("m")
    pane = pilot.app.screen.query_one(MemoryPane)
    await wait_for(pilot, lambda: pane.baseline is not None and not pane.measuring, 20, "memory")
    assert SOURCE in str(pane.query_one("#memory-status").render())
    await pilot.pause(0.1)


def test_runs_view_context_overlay_120x40(snap_compare, memory_snapshot_app):
    assert snap_compare(memory_snapshot_app, terminal_size=(120, 40), run_before=_context_overlay)


def test_runs_view_context_overlay_80x24(snap_compare, memory_snapshot_app):
    assert snap_compare(memory_snapshot_app, terminal_size=(80, 24), run_before=_context_overlay)
