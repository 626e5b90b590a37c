"""The finder comparing checkpoints: `a` adds a checkpoint beside the one inspected, its column
holds each feature's best unit and |r| in its cell's own quantity (what replaying it and ranking
its units here gives); enter shows the inspected checkpoint's best unit in the lens and the
chosen column's in a second text panel whose cursor is the text's; x drops them; a fourth
checkpoint, one added twice, or one that never saw a character of the text gets one line."""

from __future__ import annotations

import numpy as np
from textual.widgets import DataTable

from shakespeare_tui.core.cells import DEFAULT_QUANTITY
from shakespeare_tui.core.inspection import lens
from shakespeare_tui.core.inspection.neurons import FEATURES, find_units
from shakespeare_tui.core.inspection.replay import replay
from shakespeare_tui.core.model.checkpoint import load_checkpoint
from shakespeare_tui.views.inspect.compare import CompareTable
from shakespeare_tui.views.inspect.dialogs import CompareDialog
from shakespeare_tui.views.inspect.text_view import InspectText
from shakespeare_tui.widgets.checkpoint_picker import CheckpointPicker
from tests.app.inspect_fixtures import SIZE, status
from tests.app.inspect_memory_fixtures import MemoryApp, make_checkpoint


def _text(corpus_text: str) -> str:
    text = corpus_text[:800]
    assert ":" in text  # (the checkpoint that never saw one is refused over it)
    return text


def _best(checkpoint, text: str) -> dict:
    """Each feature's best unit in the cell's own quantity, found here the plain way."""
    loaded = load_checkpoint(checkpoint)
    result = replay(loaded.model, loaded.vocab, text)
    return find_units(result, DEFAULT_QUANTITY[loaded.model_config.cell])


async def _add(pilot, until, screen, path) -> None:
    """Press a, choose the checkpoint at `path` in the dialog, and wait for its column."""
    await pilot.press("a")
    await until(pilot, lambda: isinstance(pilot.app.screen, CompareDialog), 10, "the dialog")
    picker = pilot.app.screen.query_one(CheckpointPicker)
    picker.highlighted = [e.path for e in picker.entries].index(str(path))
    await pilot.press("enter")
    table = screen.query_one(CompareTable)
    await until(pilot, lambda: any(c.path == str(path) and c.replay is not None
                                   for c in table.added), 60, f"{path.parent.name}'s column")  # fmt: skip
    await pilot.pause()


async def _ready(pilot, until):
    screen = pilot.app.screen
    await until(pilot, lambda: screen.replay is not None, 60, "the replay")
    await until(pilot, lambda: bool(screen.finder.found), 30, "the finder")
    await until(pilot, lambda: screen.query_one(CheckpointPicker).entries, 30, "the scan")
    await pilot.pause()
    return screen


async def test_three_checkpoints_side_by_side_in_the_finder_and_two_lenses_over_the_text(
    paths, until, corpus_file, corpus_text
):
    text = _text(corpus_text)
    lstm = make_checkpoint(paths, "cells-lstm", corpus_file, cell="lstm", layers=2)
    gru = make_checkpoint(paths, "cells-gru", corpus_file, cell="gru", seed=1)
    rnn = make_checkpoint(paths, "cells-rnn", corpus_file, cell="rnn", seed=2)
    async with MemoryApp(paths, lstm, text, title="cells-lstm · best").run_test(size=SIZE) as pilot:
        screen = await _ready(pilot, until)
        await _add(pilot, until, screen, gru)
        await _add(pilot, until, screen, rnn)
        table = screen.query_one(CompareTable)
        assert table.display and not screen.finder.display and screen.focused is table
        headings = [c.label.plain for c in table.ordered_columns]
        assert headings == ["feature", "LSTM×2\nlstm", "GRU\ngru", "RNN\nrnn"]
        note = str(screen.query_one("#compare-info").render())
        assert "in each cell's own quantity (LSTM tanh(c), GRU h, RNN h)" in note
        main = screen.finder.found
        for column, found in ((1, main), (2, _best(gru, text)), (3, _best(rnn, text))):
            for row, feature in enumerate(FEATURES):
                cell = table.get_cell_at((row, column)).plain
                if not found[feature]:
                    assert cell == "—", feature
                    continue
                best = found[feature][0]
                unit = f"{best.layer}:{best.unit}" if column == 1 else str(best.unit)
                assert cell == f"{abs(best.r):.2f}\n{unit}", (feature, column)
        used = sum(c.get_render_width(table) for c in table.ordered_columns)
        assert used <= table.scrollable_content_region.width, "no column is cut"

        table.cursor_coordinate = (0, 2)  # line_position, the GRU's column
        await pilot.press("enter")
        await pilot.pause()
        second = screen.second_view
        assert second.display and second.text == text
        gru_best = _best(gru, text)["line_position"][0]
        assert second.border_title == f"cells-gru · GRU · r {gru_best.r:+.2f}"
        values = table.added[0].replay.unit_values(0, "h", gru_best.unit)
        shades = lens.quantise(lens.to_scale("h", values)) + lens.LEVELS
        assert np.array_equal(second.shades, shades)
        top = main["line_position"][0]
        assert (screen.lens.layer, screen.lens.unit) == (top.layer, top.unit)
        assert status(screen).startswith(f"line_position: cells-lstm · best L{top.layer} unit ")
        screen.query_one(InspectText).move_to(321)
        await pilot.pause()
        assert second.cursor == 321, "one cursor for the two panels"

        await pilot.press("a")
        assert status(screen) == "3 checkpoints side by side at most: x stops comparing"
        await pilot.press("x")
        await pilot.pause()
        assert not table.display and screen.finder.display and not second.display
        assert not table.added


async def test_a_checkpoint_that_never_saw_a_character_of_the_text_is_one_line(
    paths, until, corpus_file, corpus_text
):
    text = _text(corpus_text)
    main = make_checkpoint(paths, "main", corpus_file)
    blind = make_checkpoint(paths, "blind", corpus_file, vocab_text=corpus_text.replace(":", ""))
    async with MemoryApp(paths, main, text, title="main · best").run_test(size=SIZE) as pilot:
        screen = await _ready(pilot, until)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(pilot.app.screen, CompareDialog), 10, "the dialog")
        picker = pilot.app.screen.query_one(CheckpointPicker)
        assert str(main) not in [e.path for e in picker.entries], "not itself"
        picker.highlighted = [e.path for e in picker.entries].index(str(blind))
        await pilot.press("enter")
        line = "cannot compare blind: the text has characters the model never saw: ':'"
        await until(pilot, lambda: status(screen) == line, 60, "the refusal")
        assert not screen.query_one(CompareTable).added and screen.finder.display
        headings = [c.label.plain for c in screen.query_one(DataTable).ordered_columns]
        assert headings == ["feature", "unit", "r"], "the finder's own table is shown"
