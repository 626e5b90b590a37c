"""SVG snapshots of the Train view, fed by a scripted trainer and a fixed device: no clocks,
no randomness, nothing from this machine. Update with `pytest --snapshot-update` after a
deliberate change of the look, and review the SVGs."""

from __future__ import annotations

import pytest

from shakespeare_tui.app import make_app
from shakespeare_tui.settings import AppSettings, TrainSettings
from shakespeare_tui.widgets.train_progress import SamplesLog

SIZE = (120, 40)


@pytest.fixture
def snapshot_app(paths, probe, scripted):
    settings = AppSettings(train=TrainSettings(corpus="plays", preset="tiny", epochs=5))
    return make_app(paths, settings=settings, probe=probe, trainer=scripted)


async def _device_shown(pilot) -> None:
    app = pilot.app
    for _ in range(200):
        if app.sub_title.startswith("CPU"):
            break
        await pilot.pause(0.02)
    await pilot.pause(0.3)  # the empty chart's first draw


async def _mid_training(pilot) -> None:
    await _device_shown(pilot)
    await pilot.press("s")
    screen = pilot.app.screen
    for _ in range(300):
        numbers = str(screen.query_one("#train-numbers").render())
        if screen.query_one(SamplesLog).epochs_shown == 3 and "step 250" in numbers:
            break
        await pilot.pause(0.02)
    await pilot.pause(0.4)  # past the chart's redraw throttle


def test_train_view_before_training(snap_compare, snapshot_app):
    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=_device_shown)


def test_train_view_mid_training(snap_compare, snapshot_app):
    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=_mid_training)


def test_help_screen(snap_compare, snapshot_app):
    async def open_help(pilot):
        await _device_shown(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.1)

    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=open_help)
