"""The Inspect view driven with Textual's pilot over the bundled checkpoint and a short text."""

from __future__ import annotations

import numpy as np
import pytest
from textual.widgets import DataTable, OptionList

from shakespeare_tui.core.inspection import lens
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.settings import AppSettings
from shakespeare_tui.views.inspect.lens import PALETTE
from shakespeare_tui.views.inspect.spans import SpanTab
from shakespeare_tui.views.inspect.text_view import InspectText
from shakespeare_tui.widgets.text_pane import wrap_rows
from tests.app.inspect_fixtures import SIZE, TEXT, InspectApp, panel_text, ready, status

pytestmark = pytest.mark.heavy(35)


@pytest.fixture
def paths(tmp_path) -> Paths:
    return Paths.resolve(tmp_path).ensure()


async def test_held_out_passage_shows_bits_per_char(paths, until):
    app = InspectApp(paths, text=None, length=300)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot, until, found=False)
        view = screen.query_one(InspectText)
        assert "held out" in view.border_title
        assert f"{screen.replay.bits_per_char:.3f} bits/char" in view.border_title
        assert len(screen.replay.text) <= 300


async def test_cursor_moves_and_the_panel_follows(paths, until):
    async with InspectApp(paths).run_test(size=SIZE) as pilot:
        screen = await ready(pilot, until, found=False)
        view, p = screen.query_one(InspectText), screen.replay.prediction
        await pilot.press("right", "right", "right")
        assert view.cursor == 3
        assert f"p {p.prob[3] * 100:.1f}%" in panel_text(screen)
        top = p.top(3, 10)
        assert f"{top[0][1] * 100:5.1f}%" in panel_text(screen)
        assert f"entropy {p.entropy[3]:.2f} bits" in panel_text(screen)
        await pilot.press("end")
        assert TEXT[view.cursor] == "\n" and view.cursor == TEXT.index("\n")
        await pilot.press("ctrl+right")
        assert view.cursor == TEXT.index("What")
        await pilot.press("home", "down")
        assert view.cursor == TEXT.index("Thou")
        await pilot.click(InspectText, offset=(1 + 5, 1 + 1))  # border, then row 1 column 5
        assert view.cursor == TEXT.index("What") + 5
        assert f"p {p.prob[view.cursor] * 100:.1f}%" in panel_text(screen)


async def test_rows_show_the_text_where_it_is(paths, until):
    async with InspectApp(paths).run_test(size=SIZE) as pilot:
        screen = await ready(pilot, until, found=False)
        view = screen.query_one(InspectText)
        starts = wrap_rows(TEXT, view.scrollable_content_region.width)
        for y in range(5):
            row = TEXT[starts[y] : starts[y + 1]].replace("\n", "↵")
            assert view.render_line(y).text.rstrip() == row


async def test_the_lens_follows_unit_and_quantity_keys(paths, until):
    async with InspectApp(paths).run_test(size=SIZE) as pilot:
        screen = await ready(pilot, until)
        view, result = screen.query_one(InspectText), screen.replay

        def expected(quantity, unit):
            values = result.unit_values(0, quantity, unit)
            return lens.quantise(lens.to_scale(quantity, values)) + lens.LEVELS

        unit = screen.lens.unit
        assert np.array_equal(view.shades, expected("tanh_c", unit))
        await pilot.press("right_square_bracket")
        assert screen.lens.unit == unit + 1
        assert np.array_equal(view.shades, expected("tanh_c", unit + 1))
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert screen.lens.unit == unit - 1
        await pilot.press("v")
        assert screen.lens.quantity == "c"
        assert np.array_equal(view.shades, expected("c", unit - 1))
        await pilot.press("v", "v")  # h, then i
        assert screen.lens.quantity == "i"
        assert "input gate" in view.border_subtitle
        await pilot.press("u", *"17", "enter")
        assert screen.lens.unit == 17
        await pilot.press("u", *"9999", "enter")
        assert "units are 0–639" in str(pilot.app.screen.query_one("#unit-error").render())
        await pilot.press("escape")
        assert screen.lens.unit == 17
        value = result.unit_values(0, "i", 17)[view.cursor]
        assert f"{value:+.3f}" in panel_text(screen)
        await pilot.press("r")
        buckets = result.prediction.rank_buckets()
        assert np.array_equal(view.shades, buckets + len(PALETTE) - 4)
        assert "top 20" in view.border_subtitle


async def test_the_finder_fills_and_a_row_opens_the_lens(paths, until):
    async with InspectApp(paths).run_test(size=SIZE) as pilot:
        screen = await ready(pilot, until)
        table = screen.query_one("#finder", DataTable)
        # A row per unit found, and one for each feature that ranks none (it never varies).
        assert table.row_count == sum(max(1, len(s)) for s in screen.finder.found.values()) > 0
        first = screen.finder.found["line_position"][0]
        assert (screen.lens.layer, screen.lens.unit) == (first.layer, first.unit)
        await pilot.press("f", "down", "down", "down", "enter")
        chosen = screen.finder.scores[3]
        assert screen.lens.unit == chosen.unit != first.unit
        assert f"unit {chosen.unit}" in screen.query_one(InspectText).border_subtitle


async def test_a_marked_span_lists_matches(paths, until):
    async with InspectApp(paths).run_test(size=SIZE) as pilot:
        screen = await ready(pilot, until)
        view = screen.query_one(InspectText)
        await pilot.press("m", *["right"] * 13, "m")  # "Second Senator" in the first line
        await until(pilot, lambda: bool(screen.query_one(SpanTab).matches), 30, "span matches")
        assert view.mark == (0, 14)
        options = screen.query_one("#span-matches", OptionList)
        assert options.option_count == len(screen.query_one(SpanTab).matches)
        options.focus()
        await pilot.press("enter")
        match = screen.query_one(SpanTab).matches[0]
        assert view.cursor == match.start and view.mark == (match.start, match.stop)
        await pilot.press("escape")
        assert view.mark is None


async def test_the_saturation_plot_draws(paths, until):
    async with InspectApp(paths).run_test(size=SIZE) as pilot:
        screen = await ready(pilot, until, found=False)
        await pilot.press("s")
        await pilot.pause()
        chart = screen.query_one("#saturation")
        drawn = str(chart.render())
        assert "gate saturation" in drawn and "layer 0" in drawn
        assert "•" in drawn or "⢀" in drawn or "." in drawn


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("To be, or not to be: that is €", "the text has characters the model never saw: '€'"),
        ("", "the text is empty: give some text to inspect"),
    ],
)
async def test_bad_text_gives_one_line(paths, until, text, line):
    async with InspectApp(paths, text=text).run_test(size=SIZE) as pilot:
        screen = pilot.app.screen
        await until(pilot, lambda: "cannot inspect" in status(screen), 60, "the error")
        assert status(screen) == f"cannot inspect: {line}"
        assert "\n" not in status(screen) and "Traceback" not in status(screen)


async def test_typed_text_is_inspected(paths, until):
    async with InspectApp(paths).run_test(size=SIZE) as pilot:
        screen = await ready(pilot, until, found=False)
        await pilot.press("p")
        await pilot.pause()
        pilot.app.screen.query_one("TextArea").text = "ROMEO:\nBut soft!\n"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: screen.replay.text == "ROMEO:\nBut soft!\n", 30, "new text")
        assert "typed text" in screen.query_one(InspectText).border_title


def test_settings_remember_the_inspect_view(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text('{"mode": "inspect"}')
    assert AppSettings.load(path).mode == "inspect"


async def test_help_and_keymap_know_the_inspect_keys(paths, until):
    from shakespeare_tui.app import KEYED_SCREENS, ShakespeareApp
    from shakespeare_tui.keymap import check_keymap

    owners = (ShakespeareApp, *KEYED_SCREENS)
    usable, problems = check_keymap({"inspect.next_unit": "n", "app.inspect": "I"}, owners)
    assert usable == {"inspect.next_unit": "n", "app.inspect": "I"} and not problems
    async with InspectApp(paths).run_test(size=SIZE) as pilot:
        from shakespeare_tui.views.help import HelpScreen

        pilot.app.push_screen(HelpScreen(pilot.app.screen))
        await pilot.pause()
        shown_keys = str(pilot.app.screen.query_one("#help-keys").render())
        assert "Inspect view" in shown_keys
        for binding_id in ("inspect.next_unit", "inspect.quantity", "inspect.mark"):
            assert binding_id in shown_keys


async def test_a_refused_text_keeps_the_one_shown_and_says_so(paths, until):
    async with InspectApp(paths).run_test(size=SIZE) as pilot:
        screen = await ready(pilot, until, found=False)
        await pilot.press("p")
        await pilot.pause()
        pilot.app.screen.query_one("TextArea").text = "Naïve €"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "cannot inspect" in status(screen), 30, "the refusal")
        assert status(screen).endswith("; still showing the text before")
        assert screen.query_one(InspectText).text == TEXT and screen.replay.text == TEXT
        await pilot.press("p")  # what was typed is still there to fix
        await pilot.pause()
        assert pilot.app.screen.query_one("TextArea").text == "Naïve €"


def _palette_keys():
    """The Inspect view's keys that the command palette offers (app.py's rule)."""
    from shakespeare_tui.keymap import view_bindings
    from shakespeare_tui.views.inspect.screen import InspectScreen

    return [
        binding
        for _, binding in view_bindings(InspectScreen)
        if binding.description and (binding.show or binding.tooltip) and binding.key != "escape"
    ]


async def test_every_inspect_key_is_a_palette_command_that_acts(paths, until, scripted, probe):
    from textual.widgets import TabbedContent

    from shakespeare_tui.app import make_app
    from shakespeare_tui.core.runs.folders import bundled_checkpoint
    from shakespeare_tui.views.inspect.forks import NOT_GENERATED

    app = make_app(paths, trainer=scripted, settings=AppSettings(mode="inspect"), probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        app.inspect_text(str(bundled_checkpoint()), "bundled", TEXT, "a test text")
        screen = await ready(pilot, until)
        commands = {command.title: command for command in app.get_system_commands(screen)}
        keys = _palette_keys()
        assert len(keys) == 21 and {b.description for b in keys} <= set(commands)

        async def run(title: str) -> None:
            await commands[title].callback()  # (a binding's command runs an action: awaited)
            await pilot.pause()

        tabs = screen.query_one(TabbedContent)
        unit = screen.lens.unit
        await run("Unit")
        assert screen.lens.unit == unit + 1
        await run("Prev unit")
        assert screen.lens.unit == unit
        await run("Quantity")
        assert screen.lens.quantity == "c"
        await run("Ranks")
        assert screen.lens.ranks and "top 20" in screen.query_one(InspectText).border_subtitle
        await run("Ranks")
        assert not screen.lens.ranks
        await run("Layer")  # the bundled model has one layer: the lens stays on it
        assert screen.lens.layer == 0
        assert f"L0 unit {unit} · c" in screen.query_one(InspectText).border_subtitle
        for title, tab in (("Finder", "tab-finder"), ("Saturation", "tab-saturation"),
                           ("Model", "tab-checkpoint")):  # fmt: skip
            await run(title)
            assert tabs.active == tab
        await run("Forks")
        assert tabs.active == "tab-forks" and status(screen) == NOT_GENERATED
        await run("Mark span")
        assert screen.query_one(InspectText).mark == (0, 1)
        await run("Fork")
        assert status(screen) == NOT_GENERATED
        await run("Unit…")
        assert pilot.app.screen.query_one("#unit-input")
        await pilot.press("escape")
        await run("Stop comparing")
        assert status(screen) == "nothing is compared: a adds a checkpoint to the finder"
        await run("Compare")  # the bundled checkpoint is the only one
        assert status(screen) == "no other checkpoint to compare: train one in the Train view"
        await run("Memory")
        assert tabs.active == "tab-memory" and screen.memory_shown
        await pilot.press("escape")  # stops measuring the bundled checkpoint
        await until(pilot, lambda: not screen.memory.measuring, 30, "the stop")
        await run("Type text")
        assert pilot.app.screen.query_one("TextArea")


async def test_the_help_lists_every_inspect_key_with_its_id(paths, until):
    from shakespeare_tui.keymap import view_bindings
    from shakespeare_tui.views.help import HelpScreen
    from shakespeare_tui.views.inspect.screen import InspectScreen

    async with InspectApp(paths).run_test(size=SIZE) as pilot:
        pilot.app.push_screen(HelpScreen(pilot.app.screen))
        await pilot.pause()
        shown_keys = str(pilot.app.screen.query_one("#help-keys").render())
        described = [b for _, b in view_bindings(InspectScreen) if b.description]
        assert len(described) == 22  # the fork digits 2–0 share "1–9"'s line
        for binding in described:
            assert f"[{binding.id}]" in shown_keys


@pytest.mark.parametrize(
    ("typed", "refusal"),
    [
        ("1:3", "layer 1 does not exist: this model's only layer is 0"),
        ("640", "unit 640 does not exist: each layer's units are 0–639"),
        ("x[b]", "not UNIT or LAYER:UNIT (e.g. 0:203): 'x[b]'"),
        ("-4", "layers and units count from 0, not -4"),
    ],
)
async def test_the_unit_dialog_refuses_a_unit_the_model_lacks(paths, until, typed, refusal):
    async with InspectApp(paths).run_test(size=SIZE) as pilot:
        screen = await ready(pilot, until)
        unit = screen.lens.unit
        await pilot.press("u", *typed, "enter")
        assert str(pilot.app.screen.query_one("#unit-error").render()) == refusal
        await pilot.press("escape")
        assert screen.lens.unit == unit
        await pilot.press("u", *" 0 : 12 ", "enter")
        assert (screen.lens.layer, screen.lens.unit) == (0, 12)


async def test_a_failed_finder_or_span_match_says_so_on_the_status_line(paths, until, monkeypatch):
    from shakespeare_tui.views.inspect import finder, spans

    def broken(*args, **kwargs):
        raise MemoryError("out of memory")

    monkeypatch.setattr(finder, "find_units", broken)
    monkeypatch.setattr(spans, "match_spans", broken)
    async with InspectApp(paths).run_test(size=SIZE) as pilot:
        screen = await ready(pilot, until, found=False)
        await until(pilot, lambda: "the finder failed" in status(screen), 30, "the failure")
        assert status(screen) == "the finder failed: MemoryError: out of memory"
        assert not screen.finder.found and screen.finder.row_count == 0
        await pilot.press("m", "right", "m")
        await until(pilot, lambda: "cannot match" in status(screen), 30, "the failure")
        assert status(screen) == "cannot match the span: MemoryError: out of memory"
        assert screen.query_one(SpanTab).matches == []
