"""A saved text's header says what made it: the length actually generated (a stop makes it
shorter than asked) and the seed drawn, so the text can be made again."""

from __future__ import annotations

import pytest

from shakespeare_tui.core.paths import Paths
from shakespeare_tui.settings import GenerateSettings
from tests.app.generate_fixtures import SIZE, generate_app, output_of, ready
from tests.app.harness import settle

pytestmark = pytest.mark.usefixtures("no_bundled")


async def test_a_stopped_text_is_saved_with_the_length_generated(home):
    app = generate_app(Paths.resolve(home), GenerateSettings(length=100_000, seed="3", prompt=""))
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("g")
        for _ in range(400):
            if len(output_of(screen)) > 50:
                break
            await pilot.pause(0.02)
        await pilot.press("escape")
        await settle(pilot)
        generated = len(output_of(screen).text)
        assert 50 < generated < 100_000
        await pilot.press("ctrl+s")
        (saved,) = (home / "samples").glob("*.txt")
        header = saved.read_text(encoding="utf-8").splitlines()[2]
        assert f"length {generated:,} (stopped; 100,000 asked)" in header, header
        assert "seed 3 " in header


async def test_a_random_seed_is_saved_as_the_seed_drawn(home):
    app = generate_app(Paths.resolve(home), GenerateSettings(length=200, seed="", prompt=""))
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("g")
        await settle(pilot)
        await pilot.press("ctrl+s")
        (saved,) = (home / "samples").glob("*.txt")
        header = saved.read_text(encoding="utf-8").splitlines()[2]
        assert f"seed {screen._pane.last_seed} " in header and "random" not in header
        assert "length 200 " in header + " "
