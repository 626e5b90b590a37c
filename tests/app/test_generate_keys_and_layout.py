"""The Generate view's keys do what its footer says, wherever the focus is."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.widgets import Footer, Input
from textual.widgets._footer import FooterKey

from shakespeare_tui.app import make_app
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.settings import AppSettings, GenerateSettings
from shakespeare_tui.widgets.checkpoint_picker import CheckpointPicker


@pytest.fixture
def home(trained_run, tmp_path, monkeypatch) -> Path:
    """A data dir with a copy of the session's tiny run as "t" (and no bundled checkpoint)."""
    from shakespeare_tui.core import runs as core_runs

    monkeypatch.setattr(core_runs, "bundled_checkpoint", lambda: tmp_path / "none.pt")
    _, finished, _ = trained_run
    copy = tmp_path / "home"
    (copy / "runs").mkdir(parents=True)
    shutil.copytree(Path(finished.run_dir), copy / "runs" / "t")
    return copy


def generate_app(home: Path, **generate):
    settings = AppSettings(mode="generate", generate=GenerateSettings(**generate))
    return make_app(Paths.resolve(home), settings=settings, probe=lambda: ("CPU · 2", "cpu"))


async def scanned(pilot, until):
    screen = pilot.app.screen
    picker = screen.query_one(CheckpointPicker)
    await until(pilot, lambda: picker.selected_entry is not None, what="the checkpoint scan")
    return screen


def footer_keys(screen) -> dict[str, str]:
    """What the footer shows: description → key, as drawn (grouped keys under their label)."""
    shown = {}
    active = screen.active_bindings
    for key in screen.query_one(Footer).query(FooterKey):
        group = active[key.key].binding.group
        shown[key.description or group.description] = key.key_display
    return shown


def footer_actions(screen) -> set[str]:
    return {key.action for key in screen.query_one(Footer).query(FooterKey)}


async def test_escape_stops_a_generation_started_from_a_field(home, until):
    app = generate_app(home, length=1_000_000, seed="3")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await scanned(pilot, until)
        length = screen.query_one("#length", Input)
        length.focus()
        await pilot.press("enter")
        await until(pilot, lambda: len(screen.query_one("#output")) > 1, what="text")
        assert screen.generating
        await pilot.pause()
        assert footer_keys(screen).get("Stop") == "esc"
        await pilot.press("escape")  # once: it stops, wherever the focus is
        await until(pilot, lambda: not screen.generating, timeout=5, what="the stop")
        assert "stopped after" in str(screen.query_one("#generate-status").render())
        assert screen.focused is length
        await pilot.press("escape")  # then it leaves the field
        assert not isinstance(screen.focused, Input)


async def test_the_footer_offers_only_what_works_where_the_focus_is(home, until):
    app = generate_app(home, length=1_000_000, seed="3")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await scanned(pilot, until)
        prompt = screen.query_one("#prompt", Input)
        prompt.focus()
        await pilot.pause()
        assert not {"nudge_temperature(-1)", "nudge_temperature(1)"} & footer_actions(screen)
        assert footer_keys(screen).get("Leave field") == "esc"
        await pilot.press("minus", "plus", "left_square_bracket")
        assert prompt.value == "-+["  # typed, as the footer now implies
        assert screen.query_one("#temperature", Input).value == "0.8"

        await pilot.press("escape")
        assert not isinstance(screen.focused, Input)
        await pilot.pause()
        assert {"nudge_temperature(-1)", "nudge_temperature(1)"} <= footer_actions(screen)
        outside = footer_keys(screen)
        assert outside["Temp"] == "]" and outside["Generate"] == "g"
        assert "Stop" not in outside and "Leave field" not in outside  # nothing to stop
        await pilot.press("right_square_bracket")
        assert screen.query_one("#temperature", Input).value == "0.9"


async def test_the_palette_offers_what_the_footer_does(home, until):
    app = generate_app(home, length=1_000_000, seed="3")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await scanned(pilot, until)

        def titles() -> set[str]:
            return {command.title for command in app.get_system_commands(screen)}

        assert {"Generate", "Colder", "Warmer"} <= titles()
        assert "Stop" not in titles()
        screen.query_one("#prompt", Input).focus()
        await pilot.pause()
        assert not {"Colder", "Warmer"} & titles()
        await pilot.press("enter")
        await until(pilot, lambda: screen.generating, what="generation")
        assert "Stop" in titles()
        await pilot.press("escape")
        await until(pilot, lambda: not screen.generating, timeout=5, what="the stop")
