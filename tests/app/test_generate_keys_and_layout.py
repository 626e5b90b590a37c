"""The Generate view's keys do what its footer says, wherever the focus is, and the view is
usable from 80×24 to 200×50 (checked on the screen as drawn, not on widget attributes alone).
"""

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
    from shakespeare_tui.core.runs import folders as core_runs

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
    """What the footer shows: description → key, as drawn (grouped keys under their label).
    A footer not yet rebuilt after the focus moved may show a key no longer active: it is
    listed under its key, so a wait for the new footer goes on."""
    shown = {}
    active = screen.active_bindings
    for key in screen.query_one(Footer).query(FooterKey):
        group = active[key.key].binding.group if key.key in active else None
        shown[key.description or (group.description if group else key.key)] = key.key_display
    return shown


def footer_actions(screen) -> set[str]:
    return {key.action for key in screen.query_one(Footer).query(FooterKey)}


def screen_text(app) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


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
        temperature_keys = {"nudge_temperature(-1)", "nudge_temperature(1)"}
        # (The footer is rebuilt after the next refresh, later on a busy machine, and is empty
        # for a moment while it is: wait for the field's keys, not for the others' absence.)
        await until(pilot, lambda: "Leave field" in footer_keys(screen), 15, "the field's footer")
        assert not temperature_keys & footer_actions(screen)
        assert footer_keys(screen)["Leave field"] == "esc"
        await pilot.press("minus", "plus", "left_square_bracket")
        assert prompt.value == "-+["  # typed, as the footer now implies
        assert screen.query_one("#temperature", Input).value == "0.8"

        await pilot.press("escape")
        assert not isinstance(screen.focused, Input)
        await until(pilot, lambda: temperature_keys <= footer_actions(screen), 15, "the footer")
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


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 50)])
async def test_the_view_fits_the_terminal(home, until, size):
    app = generate_app(home, length=300, seed="7")
    async with app.run_test(size=size) as pilot:
        screen = await scanned(pilot, until)
        await pilot.press("g")
        await until(pilot, lambda: not screen.generating, what="the text")
        await pilot.pause()
        width, height = size
        output = screen.query_one("#output")
        status = screen.query_one("#generate-status")
        controls = screen.query_one("#generate-controls")
        # Verse is not squeezed: a line of 60 characters fits without wrapping.
        assert output.scrollable_content_region.width >= 60
        assert output.scrollable_content_region.height >= 10
        if width < 100:  # narrow: the controls above the output
            assert controls.region.bottom <= output.region.y
        else:  # wide: beside it, and no wider than they need
            assert controls.region.right <= output.region.x
            assert controls.region.width <= 60
            assert output.region.width >= width - 62
        # The status line says all it has to say, and the footer shows every key it offers.
        text = screen_text(app)
        shown = str(status.render())
        assert shown.startswith("done: 300 characters · seed 7")
        assert status.region.height == 1 and any(shown in line for line in text)
        footer = screen.query_one(Footer)
        keys = list(footer.query(FooterKey))
        assert keys and all(k.region.right <= width for k in keys)
        assert sum(k.outer_size.width for k in keys) <= width - 2
        # The chosen checkpoint is shown whole: title, numbers and date.
        entry = screen.query_one(CheckpointPicker).selected_entry
        for part in (entry.title, entry.details, entry.date):
            assert any(part in line for line in text), part
        assert all(region.bottom <= height - 1 for region in (output.region, status.region))


async def test_80x24_keeps_every_key_in_the_footer_while_generating(home, until):
    app = generate_app(home, length=1_000_000, seed="3")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await scanned(pilot, until)
        await pilot.press("g")
        await until(pilot, lambda: len(screen.query_one("#output")) > 1, what="text")
        await pilot.pause()
        keys = list(screen.query_one(Footer).query(FooterKey))
        assert all(k.region.right <= 80 for k in keys), "the footer is cut"
        shown = footer_keys(screen)
        assert {"Generate", "Stop", "Temp", "Colour", "Reuse seed", "Save", "Help", "Quit"} <= set(
            shown
        )
        await pilot.press("escape")
        await until(pilot, lambda: not screen.generating, timeout=5, what="the stop")


async def test_the_status_line_shortens_then_wraps():
    from textual.app import App

    from shakespeare_tui.views.generate.status import GenerateStatus

    class One(App):
        def compose(self):
            yield GenerateStatus()

    async with One().run_test(size=(40, 6)) as pilot:
        status = pilot.app.query_one(GenerateStatus)
        status.progress(12_345, 100_000, 2_147_483_647)
        await pilot.pause()
        assert status.shown == "12,345 of 100,000 · seed 2147483647"  # the longest that fits
        assert status.size.height == 1
        status.failed("cannot read t · best: the file is corrupt (truncated zip)")
        await pilot.pause()
        assert status.shown.startswith("not generated: cannot read")
        assert status.size.height == 2  # nothing shorter to say: it wraps, whole
