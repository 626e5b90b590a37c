"""The Inspect view across checkpoints of three cells: a newly chosen checkpoint opens on its
cell's own quantity and its own best line-position unit (the finder's answer), unless the person
chose a unit for that checkpoint before; another model's unit and quantity never carry over."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shakespeare_tui.core.inspection.neurons import find_units
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.views.inspect.text_view import InspectText
from shakespeare_tui.widgets.checkpoint_picker import CheckpointPicker
from tests.app.inspect_fixtures import SIZE, checkpoint_app
from tests.conftest import tiny_config


@pytest.fixture(scope="module")
def three_cells(tmp_path_factory, corpus_file):
    """A data folder with a tiny run of each cell (20 steps), and of a two-layer LSTM ("lstm2"):
    (paths, name → best.pt)."""
    from shakespeare_tui.core.training.engine import train

    paths = Paths.resolve(tmp_path_factory.mktemp("cells") / "home").ensure()
    best = {}
    for name, cell, layers in (("rnn", "rnn", 1), ("gru", "gru", 1), ("lstm", "lstm", 1),
                               ("lstm2", "lstm", 2)):  # fmt: skip
        config = tiny_config(corpus_file, max_steps=20, eval_every=20)
        config = replace(config, model=replace(config.model, cell=cell, layers=layers))
        finished = train(config, paths, run_name=name)
        assert finished.reason == "max-steps", finished.message
        best[name] = finished.best_checkpoint
    return paths, best


async def _shown(pilot, until, screen, cell: str) -> None:
    """Wait until `cell`'s checkpoint is replayed and the finder has answered for it."""
    await until(
        pilot,
        lambda: (
            screen.replay is not None and screen.replay.cell == cell and bool(screen.finder.found)
        ),
        60,
        f"the {cell} replay and its finder",
    )
    await pilot.pause()


async def _choose(pilot, until, screen, path: str, cell: str) -> None:
    """Pick the checkpoint at `path` in the Model tab (c, then enter on its row)."""
    await pilot.press("c")
    picker = screen.query_one(CheckpointPicker)
    picker.highlighted = [e.path for e in picker.entries].index(path)
    await pilot.press("enter")
    await _shown(pilot, until, screen, cell)


def _best_line_unit(replay, quantity: str) -> tuple[int, int]:
    best = find_units(replay, quantity)["line_position"][0]
    return best.layer, best.unit


async def test_a_new_checkpoint_opens_on_its_own_quantity_and_best_unit(
    three_cells, corpus_text, until
):
    paths, best = three_cells
    app = checkpoint_app(paths, best["rnn"], corpus_text[:800], "rnn")
    async with app.run_test(size=SIZE) as pilot:
        screen = pilot.app.screen
        lens, view = screen.lens, screen.query_one(InspectText)
        await _shown(pilot, until, screen, "rnn")
        assert lens.quantity == "h"
        assert (lens.layer, lens.unit) == _best_line_unit(screen.replay, "h")

        await _choose(pilot, until, screen, best["lstm"], "lstm")
        assert lens.quantity == "tanh_c", "an LSTM opens on tanh(c), not the RNN's h"
        assert (lens.layer, lens.unit) == _best_line_unit(screen.replay, "tanh_c")
        found = find_units(screen.replay, "tanh_c")
        assert screen.finder.found == found, "the finder ranks the LSTM's tanh(c)"
        assert f"unit {lens.unit} · tanh(c) ·" in view.border_subtitle

        await _choose(pilot, until, screen, best["gru"], "gru")
        assert lens.quantity == "h"
        gru_best = _best_line_unit(screen.replay, "h")
        assert (lens.layer, lens.unit) == gru_best
        await pilot.press("u", *"5", "enter")  # the person's unit for the GRU
        assert lens.unit == 5

        await _choose(pilot, until, screen, best["lstm"], "lstm")
        assert lens.quantity == "tanh_c", "the GRU's choice is the GRU's"
        assert (lens.layer, lens.unit) == _best_line_unit(screen.replay, "tanh_c")
        await _choose(pilot, until, screen, best["gru"], "gru")
        assert (lens.unit, lens.quantity) == (5, "h"), "the unit chosen for the GRU is kept"
        assert "unit 5 · h ·" in view.border_subtitle
        await pilot.press("h")  # another text, the same checkpoint: the choice stays
        await until(pilot, lambda: screen.replay.text != corpus_text[:800], 60, "the passage")
        await until(pilot, lambda: bool(screen.finder.found), 60, "the finder")
        assert (lens.unit, lens.quantity) == (5, "h")


async def test_the_finder_names_a_unit_by_layer_when_there_are_layers(
    three_cells, corpus_text, until
):
    paths, best = three_cells
    app = checkpoint_app(paths, best["lstm2"], corpus_text[:800], "rnn")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = pilot.app.screen
        await _shown(pilot, until, screen, "lstm")
        assert screen.replay.layers == 2
        await pilot.press("f")
        await pilot.pause()
        finder = screen.finder
        used = sum(c.get_render_width(finder) for c in finder.ordered_columns)
        assert used <= finder.scrollable_content_region.width, "no column is cut"
        for row, score in enumerate(finder.scores[:3]):
            assert [str(cell) for cell in finder.get_row_at(row)[1:]] == [
                f"{score.layer}:{score.unit}",
                f"{score.r:+.2f}",
            ]
            assert finder.render_line(row + 1).text.rstrip().endswith(f"{score.r:+.2f}")
        assert {s.layer for s in finder.scores if s is not None} <= {0, 1}
        await pilot.press("down", "enter")  # the second row's unit, in its layer
        second = finder.scores[1]
        assert (screen.lens.layer, screen.lens.unit) == (second.layer, second.unit)
