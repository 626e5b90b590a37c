"""The Inspect view at 80×24 and after a resize (both ways): the text wraps at word boundaries,
the next-character panel fits its column and leaves the tabs on screen, every key is in the
footer or behind its `? keys`, bits per character and whole r values stay visible; and the
smaller things new users tripped on (the span's status line, the finder's features the text never
shows, a character the model never saw, the gate chart's legend and y axis)."""

from __future__ import annotations

import re

import pytest
from textual.widgets import DataTable, TabbedContent

from shakespeare_tui.core.paths import Paths
from shakespeare_tui.views.inspect.next_char import NextCharPanel
from shakespeare_tui.views.inspect.screen import TOP_K, TOP_K_SHORT
from shakespeare_tui.views.inspect.spans import SpanTab
from shakespeare_tui.views.inspect.text_view import InspectText
from shakespeare_tui.widgets.keys_footer import KeysFooter
from shakespeare_tui.widgets.text_pane import wrap_rows
from tests.app.harness import wait_for
from tests.app.inspect_fixtures import SIZE, TEXT, InspectApp, ready, status

pytestmark = pytest.mark.heavy(30)

SMALL = (80, 24)


@pytest.fixture
def paths(tmp_path) -> Paths:
    return Paths.resolve(tmp_path).ensure()


def _rows(text: str, width: int) -> list[str]:
    starts = wrap_rows(text, width)
    return [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]


@pytest.mark.parametrize("width", [7, 12, 20, 33, 40])
def test_rows_break_between_words_and_keep_every_character(width):
    rows = _rows(TEXT, width)
    assert "".join(rows) == TEXT, "no character dropped or added: a column is a position"
    at = 0
    for row in rows[:-1]:
        assert len(row) <= width
        at += len(row)
        if row.endswith("\n"):
            continue
        # The word the break falls in or after, and the character after it (a space or ↵).
        tail = re.search(r"\S*$", row).group()
        word = re.match(r"\S*", TEXT[at - len(tail) :]).group()
        after = 1 if at - len(tail) + len(word) < len(TEXT) else 0
        if not tail:  # between words: the next one moved down as it did not fit
            assert len(row) + len(word) + after > width, (row, word)
        elif len(word) > len(tail):  # inside a word: only one longer than a row is cut
            assert len(word) > width, (row, word)
        else:  # a word that ends the row exactly: the space after it begins the next
            assert len(row) == width, (row, word)


def test_a_word_longer_than_a_row_is_cut_where_the_row_ends():
    assert _rows("Honorificabilitudinitatibus thee", 10) == [
        "Honorifica",
        "bilitudini",
        "tatibus ",
        "thee",
    ]


async def test_at_80x24_rows_end_between_words_and_a_click_finds_its_character(paths, until):
    async with InspectApp(paths).run_test(size=SMALL) as pilot:
        screen = await ready(pilot, until, found=False)
        view = screen.query_one(InspectText)
        width = view.scrollable_content_region.width
        rows = _rows(TEXT, width)
        assert any(len(row) < width and not row.endswith("\n") for row in rows), "it wrapped"
        for y in range(view.scrollable_content_region.height):
            shown = view.render_line(y).text.rstrip()
            assert shown == rows[y].replace("\n", "↵").rstrip()
        row = next(i for i, r in enumerate(rows) if not r.endswith("\n"))  # a wrapped row
        await pilot.click(InspectText, offset=(1 + 2, 1 + row + 1))  # the next row's third
        assert view.cursor == sum(len(r) for r in rows[: row + 1]) + 2


def _panel_lines(screen) -> list[str]:
    panel = screen.query_one(NextCharPanel)
    lines = panel.render().plain.split("\n")
    return lines


def _listed(screen) -> int:
    """How many next characters the panel lists (lines with a percentage)."""
    return sum(line.rstrip().endswith("%") for line in _panel_lines(screen))


def _on_screen(widget) -> bool:
    region, screen = widget.region, widget.screen.region
    return region.height > 0 and screen.contains_region(region)


async def _check_small(pilot, screen) -> None:
    """What must hold at 80×24, however the view got there."""
    panel = screen.query_one(NextCharPanel)
    width = panel.content_region.width
    assert _listed(screen) == TOP_K_SHORT
    for line in _panel_lines(screen):
        assert len(line) <= width, f"a panel line wraps: {line!r}"
    percentages = [line for line in _panel_lines(screen) if "%" in line]
    assert all(re.search(r"\S +\d+\.\d%$", line) for line in percentages[:TOP_K_SHORT])
    tabs = screen.query_one(TabbedContent)
    assert _on_screen(tabs) and tabs.region.height >= 8, "the tabs below the panel show"
    for tab in tabs.query("Tab"):
        assert _on_screen(tab), f"the {tab.label} tab's title is on screen"
    line = status(screen)
    assert "bits/char" in line and len(line) <= screen.size.width - 2, "bits/char is shown"
    assert "bits/char" in screen.query_one(InspectText).border_title[:40]


async def _check_footer(pilot, screen) -> None:
    """Every key in the footer fits on screen; those left out are behind `? keys`."""
    footer = screen.query_one(KeysFooter)
    # (It is rebuilt after a resize's refresh, and is empty for a moment while it is.)
    await wait_for(pilot, lambda: footer.query("FooterKey"), what="the footer's keys")
    keys = list(footer.query("FooterKey"))
    assert keys and all(key.region.right <= screen.size.width for key in keys)
    palette = [key.region.x for key in keys if key.has_class("-command-palette")]
    assert all(key.region.right <= min(palette, default=screen.size.width) for key in keys
               if not key.has_class("-command-palette")), "none under the palette's key"  # fmt: skip
    assert all(key.region.y == footer.region.y for key in keys), "one line"
    shown = {key.key_display: key.description for key in keys}
    for key in ("m", "f", "s", "[ ]", "v"):
        assert key in shown, f"{key} is in the footer at {screen.size.width} columns"
    assert footer.left_out and shown["?"] == "keys", "the others are behind ? keys"
    text = " ".join(f"{k} {d}" for k, d in shown.items())
    assert "? keys" in text


def _real_app(paths, scripted, probe):
    """The whole app (its keys too) on the Inspect view over TEXT."""
    from shakespeare_tui.app import make_app
    from shakespeare_tui.core.runs.folders import bundled_checkpoint
    from shakespeare_tui.settings import AppSettings

    app = make_app(paths, trainer=scripted, settings=AppSettings(mode="inspect"), probe=probe)
    app.call_later(app.inspect_text, str(bundled_checkpoint()), "bundled", TEXT, "a test text")
    return app


async def test_after_a_resize_from_120x40_to_80x24_everything_fits(paths, until, scripted, probe):
    async with _real_app(paths, scripted, probe).run_test(size=SIZE) as pilot:
        screen = await ready(pilot, until)
        await pilot.press("f")
        assert _listed(screen) == TOP_K
        await pilot.resize_terminal(*SMALL)
        await pilot.pause()
        await pilot.pause()
        await _check_small(pilot, screen)
        await _check_footer(pilot, screen)
        await pilot.resize_terminal(*SIZE)  # and back: the panel lists ten again
        await pilot.pause()
        await pilot.pause()
        assert _listed(screen) == TOP_K
        width = screen.query_one(NextCharPanel).content_region.width
        assert all(len(line) <= width for line in _panel_lines(screen))
        await _check_footer(pilot, screen)


async def test_at_80x24_from_the_start_everything_fits(paths, until, scripted, probe):
    async with _real_app(paths, scripted, probe).run_test(size=SMALL) as pilot:
        screen = await ready(pilot, until)
        await pilot.press("f")
        await pilot.pause()
        await _check_small(pilot, screen)
        await _check_footer(pilot, screen)


async def test_every_key_left_out_of_the_footer_is_in_the_help(paths, until, scripted, probe):
    from shakespeare_tui.views.help import HelpScreen

    async with _real_app(paths, scripted, probe).run_test(size=SMALL) as pilot:
        screen = await ready(pilot, until, found=False)
        left_out = screen.query_one(KeysFooter).left_out
        assert {"inspect.held_out", "inspect.forks", "app.quit"} <= set(left_out)
        pilot.app.push_screen(HelpScreen(screen))
        await pilot.pause()
        listed = str(pilot.app.screen.query_one("#help-keys").render())
        for binding_id in left_out:
            assert f"[{binding_id}]" in listed


async def test_the_finder_shows_whole_r_values_at_80_columns(paths, until):
    async with InspectApp(paths).run_test(size=SMALL) as pilot:
        screen = await ready(pilot, until)
        await pilot.press("f")
        await pilot.pause()
        table = screen.query_one("#finder", DataTable)
        assert [str(c.label) for c in table.ordered_columns] == ["feature", "unit", "r"]
        used = sum(c.get_render_width(table) for c in table.ordered_columns)
        assert used <= table.scrollable_content_region.width, "no column is cut"
        for y in range(1, 4):
            row = table.render_line(y).text
            score = table.scores[y - 1]
            assert row.rstrip().endswith(f"{score.r:+.2f}"), row


async def test_a_feature_the_text_never_shows_says_so_in_the_finder(paths, until):
    async with InspectApp(paths).run_test(size=SIZE) as pilot:
        screen = await ready(pilot, until)
        finder = screen.finder
        assert finder.found["in_brackets"] == [] and "(" not in TEXT
        rows = [finder.get_row_at(i) for i in range(finder.row_count)]
        notes = [str(row[0]) for row in rows if "this text" in str(row[0])]
        assert "in_brackets\n never in this text" in notes
        assert "in_quotes\n never in this text" in notes
        row = [str(row[0]) for row in rows].index("in_brackets\n never in this text")
        assert finder.scores[row] is None and rows[row][1:] == ["", ""], "no r, no unit"
        unit = screen.lens.unit
        finder.focus()
        finder.move_cursor(row=row)
        await pilot.press("enter")  # a note is not a unit: the lens stays
        assert screen.lens.unit == unit


async def test_a_feature_everywhere_in_the_text_says_so(paths, until):
    async with InspectApp(paths, text="ROMEO").run_test(size=SIZE) as pilot:
        screen = await ready(pilot, until)
        finder = screen.finder
        notes = [str(finder.get_row_at(i)[0]) for i in range(finder.row_count)]
        assert "uppercase\n everywhere in this text" in notes
        assert "whitespace\n never in this text" in notes
        assert "line_position" in notes  # it varies


async def test_the_status_line_reports_the_span_once_it_is_matched(paths, until):
    async with InspectApp(paths).run_test(size=SIZE) as pilot:
        screen = await ready(pilot, until)
        await pilot.press("m", *["right"] * 13, "m")
        tab = screen.query_one(SpanTab)
        await until(pilot, lambda: bool(tab.matches), 30, "span matches")
        await pilot.pause()
        units = int(screen.query_one("#span-info").render().plain.split(" units on")[0])
        assert status(screen) == (
            f"span 1–14: {units} units on, {len(tab.matches)} other passages where they fire "
            "(the Spans tab)"
        )


async def test_a_character_the_model_never_saw_is_named_as_it_is_pasted(paths, until):
    async with InspectApp(paths).run_test(size=SIZE) as pilot:
        screen = await ready(pilot, until, found=False)
        await pilot.press("p")
        await pilot.pause()
        dialog = pilot.app.screen
        error = dialog.query_one("#text-error")
        assert str(error.render()) == ""
        dialog.query_one("TextArea").insert("(aside) ")
        await pilot.pause()
        line = str(error.render())
        assert line == "this model never saw '(', ')': its corpus has none"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "cannot inspect" in status(screen), 30, "the refusal")
        assert "never saw: '('" in status(screen)


async def test_the_refusal_is_whole_on_the_status_line_at_80_columns(paths, until):
    async with InspectApp(paths, text="(aside)").run_test(size=SMALL) as pilot:
        screen = pilot.app.screen
        await until(pilot, lambda: "cannot inspect" in status(screen), 60, "the refusal")
        line = "cannot inspect: the text has characters the model never saw: '(', ')'"
        assert status(screen) == line
        assert screen.query_one("#inspect-status").region.width == SMALL[0]


async def test_the_gate_chart_names_its_gates_and_y_axis_above_the_points(paths, until):
    async with InspectApp(paths).run_test(size=SMALL) as pilot:
        screen = await ready(pilot, until, found=False)
        await pilot.press("s")
        await pilot.pause()
        key = screen.query_one("#saturation-key").render().plain
        assert "● i input" in key and "● f forget" in key and "● o output" in key
        assert "↑ share > 0.9 (right-saturated)" in key
        chart = str(screen.query_one("#saturation").render())
        assert "share < 0.1 (left-saturated) →" in chart
        assert "•• i" not in chart and "•• f" not in chart, "no legend over the points"
        assert key.startswith("L0 ● i"), "on a short terminal the layer leads the legend"
        rows = [line for line in chart.split("\n") if "┤" in line or "│" in line]
        assert len(rows) >= 4, "four rows of points at least"


async def test_a_resize_while_another_view_shows_is_laid_out_on_coming_back(
    paths, until, scripted, probe
):
    async with _real_app(paths, scripted, probe).run_test(size=SMALL) as pilot:
        screen = await ready(pilot, until, found=False)
        assert _listed(screen) == TOP_K_SHORT
        await pilot.press("t")
        await pilot.resize_terminal(*SIZE)
        await pilot.press("i")
        await until(pilot, lambda: pilot.app.screen is screen, 10, "the Inspect view")
        await pilot.pause()
        assert _listed(screen) == TOP_K, "the panel lists ten at 40 rows"
        await pilot.press("g")
        await pilot.resize_terminal(*SMALL)
        await pilot.press("i")
        await until(pilot, lambda: pilot.app.screen is screen, 10, "the Inspect view")
        await pilot.pause()
        await _check_small(pilot, screen)
