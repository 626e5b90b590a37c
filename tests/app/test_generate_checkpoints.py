"""The Generate view's list of checkpoints keeps up: runs made elsewhere appear, any .pt file
can be opened, `g` before the list is read waits for it, and saved text says how it was made."""

from __future__ import annotations

import shutil
import time

from test_generate_view import GenerateApp, home, no_bundled, ready, settle  # noqa: F401
from textual.widgets import Input

from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.runs.listing import Listing
from shakespeare_tui.settings import GenerateSettings
from shakespeare_tui.views.file_picker import FilePickerScreen
from shakespeare_tui.widgets.checkpoint_picker import CheckpointPicker

SIZE = (120, 40)


def _keys(screen) -> list[str]:
    picker = screen.query_one(CheckpointPicker)
    return [picker.entry_at(i).key for i in range(picker.option_count)]


async def test_a_run_made_elsewhere_appears_on_rescan(home):  # noqa: F811
    app = GenerateApp(Paths.resolve(home))
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        assert len(_keys(screen)) == 2
        shutil.copytree(home / "runs" / "t", home / "runs" / "u")  # as the CLI would make it
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert str(home / "runs" / "u" / "best.pt") in _keys(screen)


async def test_o_opens_a_checkpoint_file_from_anywhere(home, tmp_path):  # noqa: F811
    loose = tmp_path / "elsewhere" / "mine.pt"
    loose.parent.mkdir()
    shutil.copy(home / "runs" / "t" / "best.pt", loose)
    settings = GenerateSettings(seed="3", length=30)
    app = GenerateApp(Paths.resolve(home), settings)
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


async def test_g_before_the_list_is_read_waits_for_it(home, monkeypatch):  # noqa: F811
    real = Listing.refresh

    def slow(*args, **kwargs):
        time.sleep(0.6)
        return real(*args, **kwargs)

    monkeypatch.setattr(Listing, "refresh", slow)
    app = GenerateApp(Paths.resolve(home), GenerateSettings(seed="1", length=25))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("g")  # the scan is still running
        await settle(pilot)
        screen = app.screen
        assert not any("Cannot generate" in note for note in app.notes)
        assert len(screen.query_one("#output").text) >= 25


async def test_saved_text_says_how_it_was_made(home):  # noqa: F811
    app = GenerateApp(Paths.resolve(home), GenerateSettings(seed="11", length=40, prompt="The"))
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
