"""The Generate view's list of checkpoints keeps up: runs made elsewhere appear, any .pt file
can be opened, `g` before the list is read waits for it, and saved text says how it was made."""

from __future__ import annotations

import shutil
import threading

import pytest
from textual.widgets import Input

from shakespeare_tui.app import make_app
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.runs.listing import Listing
from shakespeare_tui.settings import AppSettings, GenerateSettings
from shakespeare_tui.views.file_picker import FilePickerScreen
from shakespeare_tui.widgets.checkpoint_picker import CheckpointPicker
from tests.app.generate_fixtures import SIZE, generate_app, ready
from tests.app.harness import fixed_probe, settle, wait_for

pytestmark = pytest.mark.usefixtures("no_bundled")


def _keys(screen) -> list[str]:
    picker = screen.query_one(CheckpointPicker)
    return [picker.entry_at(i).key for i in range(picker.option_count)]


async def test_a_run_made_elsewhere_appears_on_rescan(home):
    """ctrl+r, the app's key for reading the lists again, reaches the Generate view's list."""
    app = make_app(Paths.resolve(home), settings=AppSettings(mode="generate"), probe=fixed_probe)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        assert len(_keys(screen)) == 2
        shutil.copytree(home / "runs" / "t", home / "runs" / "u")  # as the CLI would make it
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert str(home / "runs" / "u" / "best.pt") in _keys(screen)


async def test_o_opens_a_checkpoint_file_from_anywhere(home, tmp_path):
    loose = tmp_path / "elsewhere" / "mine.pt"
    loose.parent.mkdir()
    shutil.copy(home / "runs" / "t" / "best.pt", loose)
    settings = GenerateSettings(seed="3", length=30)
    app = generate_app(Paths.resolve(home), settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, FilePickerScreen)
        path = app.screen.query_one("#picker-path", Input)
        path.value = str(loose)
        path.focus()
        await pilot.press("enter")
        await settle(pilot)
        picker = screen.query_one(CheckpointPicker)
        assert picker.selected_entry.key == str(loose)  # listed first and chosen
        assert settings.files == [str(loose)]  # remembered for the next launch
        await pilot.press("g")
        await settle(pilot)
        assert screen.query_one("#output").text


async def test_g_before_the_list_is_read_waits_for_it(home, monkeypatch):
    real = Listing.refresh
    scanning, release = threading.Event(), threading.Event()

    def held(*args, **kwargs):  # the scan waits until `g` has been pressed
        scanning.set()
        assert release.wait(30), "the test never let the scan go on"
        return real(*args, **kwargs)

    monkeypatch.setattr(Listing, "refresh", held)
    app = generate_app(Paths.resolve(home), GenerateSettings(seed="1", length=25))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, scanning.is_set, 30, "the scan to start")
        await pilot.press("g")  # the scan is still running
        release.set()
        await settle(pilot)
        screen = app.screen
        assert not any("Cannot generate" in note for note in app.notes)
        assert len(screen.query_one("#output").text) >= 25


async def test_saved_text_says_how_it_was_made(home):
    app = generate_app(Paths.resolve(home), GenerateSettings(seed="11", length=40, prompt="The"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("g")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        saved = next((home / "samples").glob("*.txt")).read_text()
        head = saved.splitlines()[:4]
        assert head[1] == f"# checkpoint {home / 'runs' / 't' / 'best.pt'}"
        assert "seed 11" in head[2] and "temperature 0.8" in head[2] and "top-k all" in head[2]
        assert head[3] == "# prompt 'The'"
        assert screen.query_one("#output").text in saved
