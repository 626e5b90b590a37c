"""The Inspect view on a basic RNN's checkpoint: it opens, the lens shows h (its only quantity),
and the saturation tab says that a basic RNN has no gates instead of plotting nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shakespeare_tui.core.inspection import lens
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.views.inspect.text_view import InspectText
from tests.app.inspect_fixtures import SIZE, checkpoint_app

NO_GATES = "a basic RNN has no gates: gate saturation is for an LSTM or a GRU"


async def test_a_basic_rnn_shows_h_and_says_it_has_no_gates(tmp_path, until, rnn_run, corpus_text):
    paths = Paths.resolve(tmp_path).ensure()
    text = corpus_text[:600]
    app = checkpoint_app(paths, Path(rnn_run.best_checkpoint), text, "rnn")
    async with app.run_test(size=SIZE) as pilot:
        screen = pilot.app.screen
        await until(pilot, lambda: screen.replay is not None, 60, "the replay")
        await until(pilot, lambda: bool(screen.finder.found), 30, "the finder")
        await pilot.pause()
        result, view = screen.replay, screen.query_one(InspectText)
        assert result.cell == "rnn" and result.text == text
        assert screen.lens.quantity == "h"
        values = result.unit_values(screen.lens.layer, "h", screen.lens.unit)
        shades = lens.quantise(lens.to_scale("h", values)) + lens.LEVELS
        assert np.array_equal(view.shades, shades)
        assert f"unit {screen.lens.unit} · h ·" in view.border_subtitle
        await pilot.press("v")  # h is the only quantity: it stays
        assert screen.lens.quantity == "h"
        await pilot.press("s")
        await pilot.pause()
        note = screen.query_one("#saturation-note")
        assert note.display and not screen.query_one("#saturation").display
        assert str(note.render()) == NO_GATES
        assert NO_GATES in str(screen.query_one("#inspect-status").render())
