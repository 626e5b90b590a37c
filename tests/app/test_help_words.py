"""The help says where the settings file is (not "the README says") and which cells train."""

from __future__ import annotations

import os

from shakespeare_tui.app import make_app
from shakespeare_tui.settings import AppSettings
from shakespeare_tui.views.help import HelpScreen


async def test_the_help_gives_the_settings_path_and_every_cell(paths, probe, monkeypatch):
    monkeypatch.setenv("HOME", str(paths.data.parent))
    app = make_app(paths, settings=AppSettings(mode="generate"), probe=probe)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        about = str(app.screen.query_one("#help-about").render())
        assert f"settings.json (~{os.sep}home{os.sep}config{os.sep}settings.json)" in about
        assert paths.settings_file == paths.data.parent / "home" / "config" / "settings.json"
        assert "README" not in about
        assert "an LSTM, a GRU or a basic RNN" in about
