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
    from tests.app.conftest import wait_for

    screen = await opened(pilot, wait_for)
    await select(pilot, wait_for, screen, "rnn-h512", "gru-h320", "lstm-h256")
    table(screen).move_cursor(row=table(screen).names.index("lstm-h256"))
    await pilot.pause(0.1)


def test_runs_view_three_runs_120x40(snap_compare, snapshot_app):
    assert snap_compare(snapshot_app, terminal_size=(120, 40), run_before=_three_selected)


def test_runs_view_three_runs_80x24(snap_compare, snapshot_app):
    assert snap_compare(snapshot_app, terminal_size=(80, 24), run_before=_three_selected)
