"""Choosing a file from a folder tree: the Train view's corpus (ctrl+o)."""

from __future__ import annotations

from textual.widgets import Input

from shakespeare_tui.app import make_app
from shakespeare_tui.views.file_picker import FilePickerScreen


async def test_ctrl_o_chooses_the_corpus_from_a_folder_tree(paths, tiny_settings, probe, tmp_path):
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "sonnets.txt").write_text("Shall I compare thee to a summer's day?\n" * 100)
    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, FilePickerScreen)
        picker = app.screen
        path = picker.query_one("#picker-path", Input)
        path.value = str(tmp_path / "missing.txt")
        path.focus()
        await pilot.press("enter")
        assert "no such file" in picker.query_one("#picker-error").render().plain
        path.value = str(folder / "sonnets.txt")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        assert screen.query_one("#corpus", Input).value == str(folder / "sonnets.txt")
        assert not screen.query_one("#corpus-error").display

        await pilot.press("ctrl+o")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        assert screen.query_one("#corpus", Input).value == str(folder / "sonnets.txt")
