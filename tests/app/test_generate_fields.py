"""The Generate form's fields: one set of limits with the CLI, and refusals shown whole."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from shakespeare_tui.app import make_app
from shakespeare_tui.settings import AppSettings
from shakespeare_tui.views.generate.form import BY_SETTING, SettingValidator

BAD = {  # field id → a refused value
    "seed": "-1",
    "temperature": "2.5",
    "top-k": "0",
    "length": "0",
    "prompt": "x" * 10_001,
}


@pytest.mark.parametrize("value", ["-0.1", "0", "0.05", "2", "2.01", "nan", "1e9"])
def test_temperature_is_one_range_in_the_app_and_the_cli(value, tmp_path, capsys):
    from shakespeare_tui import cli

    in_app = SettingValidator(BY_SETTING["temperature"]).validate(value).is_valid
    # A checkpoint that is not there: a temperature the CLI accepts gets as far as looking it up.
    argv = ["--data-dir", str(tmp_path), "generate", "--checkpoint", "nope", "--temperature", value]
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # refused by the flag's parser (not a number at all)
        code = exc.code
    error = capsys.readouterr().err
    assert code == 2
    assert ("--temperature" not in error) == in_app, error


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_every_refusal_shows_whole_beside_its_field(paths, probe, until, size):
    app = make_app(paths, settings=AppSettings(mode="generate"), probe=probe)
    async with app.run_test(size=size) as pilot:
        screen = app.screen
        for field, value in BAD.items():
            screen.query_one(f"#{field}", Input).value = value

        def misdrawn() -> list[str]:
            """The refusals not (yet) drawn whole inside the screen, beside their fields."""
            lines = [strip.text for strip in screen._compositor.render_strips()]
            wrong = []
            for field in BAD:
                error = screen.query_one(f"#{field}-error")
                reason = str(error.render())
                region = error.content_region
                if not (error.display and reason):
                    wrong.append(f"{field}: not shown")
                elif not (region.right <= size[0] and region.bottom <= size[1] - 1):
                    wrong.append(f"{field}: outside the screen at {region}")
                else:
                    rows = range(region.y, region.bottom)
                    shown = " ".join(lines[y][region.x : region.right].strip() for y in rows)
                    if shown != reason:
                        wrong.append(f"{field}: {shown!r} drawn for {reason!r}")
            return wrong

        try:  # drawn after the layout settles (later on a busy machine)
            await until(pilot, lambda: not misdrawn(), 15, "every refusal drawn whole")
        except AssertionError:
            pass
        assert not misdrawn()
