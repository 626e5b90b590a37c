"""SVG snapshots of the Inspect view over the bundled checkpoint and a fixed text.

The picture depends on the bundled checkpoint's weights: retraining it changes the colours and
the numbers (regenerate with --snapshot-update, and look at the result).
"""

from __future__ import annotations

import pytest

from shakespeare_tui.core.paths import Paths
from shakespeare_tui.views.inspect.text_view import InspectText
from tests.app.conftest import wait_for
from tests.app.inspect_fixtures import TEXT, ForkApp, InspectApp, grown


@pytest.fixture
def app(tmp_path) -> InspectApp:
    return InspectApp(Paths.resolve(tmp_path).ensure(), text=TEXT)


async def _inspect(pilot) -> None:
    screen = pilot.app.screen
    await wait_for(pilot, lambda: bool(screen.finder.found), 60, "the finder")
    await pilot.press("f", "escape", *["right"] * 9)
    await pilot.pause()


def test_inspect_view_120x40(snap_compare, app):
    assert snap_compare(app, terminal_size=(120, 40), run_before=_inspect)


def test_inspect_view_80x24(snap_compare, app):
    assert snap_compare(app, terminal_size=(80, 24), run_before=_inspect)


async def _fork(pilot) -> None:
    """Take the second alternative at "sword", let the branch grow, list the tree."""
    screen = pilot.app.screen
    await wait_for(pilot, lambda: screen.replay is not None, 60, "the replay")
    screen.query_one(InspectText).move_to(TEXT.index("sword"))
    await pilot.press("2")
    await grown(pilot, wait_for, screen, 2)
    await wait_for(pilot, lambda: bool(screen.finder.found), 60, "the finder")
    await pilot.press("b", "escape")
    await pilot.pause()


def test_inspect_view_with_a_fork_120x40(snap_compare, tmp_path):
    app = ForkApp(Paths.resolve(tmp_path).ensure())
    assert snap_compare(app, terminal_size=(120, 40), run_before=_fork)


async def _inspect_then_shrink(pilot) -> None:
    """The view at 120×40 with the finder shown, then the terminal resized to 80×24."""
    await _inspect(pilot)
    await pilot.resize_terminal(80, 24)
    await pilot.pause()
    await pilot.pause()


def test_inspect_view_after_a_resize_from_120x40_to_80x24(snap_compare, app):
    assert snap_compare(app, terminal_size=(120, 40), run_before=_inspect_then_shrink)


async def _gates(pilot) -> None:
    """The gate saturation at 80×24: the legend and the y axis above the points."""
    screen = pilot.app.screen
    await wait_for(pilot, lambda: bool(screen.finder.found), 60, "the finder")
    await pilot.press("s", "escape")
    await pilot.pause()


def test_inspect_view_gates_80x24(snap_compare, app):
    assert snap_compare(app, terminal_size=(80, 24), run_before=_gates)


async def _gates_then_grow(pilot) -> None:
    """The gates at 80×24, then the terminal resized to 120×40: the panel lists ten again."""
    await _gates(pilot)
    await pilot.resize_terminal(120, 40)
    await pilot.pause()
    await pilot.pause()


def test_inspect_view_after_a_resize_from_80x24_to_120x40(snap_compare, app):
    assert snap_compare(app, terminal_size=(80, 24), run_before=_gates_then_grow)
