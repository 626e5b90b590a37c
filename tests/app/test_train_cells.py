"""Compare the cells in one key: `C` in the Train view queues a basic RNN, a GRU and an LSTM of
equal parameter counts (within 5%) and one recipe on the form's corpus and budget, trains them,
and the Runs view then shows the three selected, by characters seen."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shakespeare_tui.app import make_app
from shakespeare_tui.core.config import build_config
from shakespeare_tui.core.runs.run_queue import DONE, RunQueue
from shakespeare_tui.core.sizing import cells_speed
from shakespeare_tui.core.sizing.cells_speed import Speed
from shakespeare_tui.views.runs.screen import RunsScreen

pytestmark = pytest.mark.heavy(20)

SIZE = (120, 40)


@pytest.fixture
def timed(monkeypatch):
    """The LSTM's speed as if timed here: 16,000 chars/s (the same steps on every CPU)."""
    calls = []

    def lstm_speed(vocab_size, settings=None, seconds=1.0):
        calls.append(dict(settings or {}))
        return Speed(16_000.0, "CPU · 1 thread", False, seconds)

    monkeypatch.setattr(cells_speed, "lstm_speed", lstm_speed)
    return calls


def cells_settings(tiny_settings):
    train = replace(tiny_settings.train, max_minutes=0.01, bf16="off", eval_every=5)
    return replace(tiny_settings, train=train)


async def test_c_queues_three_cells_of_equal_size_trains_them_and_runs_shows_them(
    paths, tiny_settings, probe, until, timed
):
    app = make_app(paths, settings=cells_settings(tiny_settings), probe=probe)
    notes = []
    real = app.notify
    app.notify = lambda message, **kw: notes.append(str(message)) or real(message, **kw)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("C")
        await until(pilot, lambda: len(RunQueue.load(paths.data).entries) == 3, 60, "queued")
        queue = RunQueue.load(paths.data)
        assert [e.run for e in queue.entries] == ["cells-rnn", "cells-gru", "cells-lstm"]
        assert timed and timed[0]["bf16"] is False, "timed with the form's bf16"
        assert any(n.startswith("timed the LSTM (E96/H512, 16 × 100 windows) here for 1 s: "
                                "16,000 chars/s") for n in notes), notes  # fmt: skip
        configs = [build_config("custom", "cpu", e.run_settings) for e in queue.entries]
        counts = [c.model.parameter_count() for c in configs]
        assert all(abs(n - counts[-1]) / counts[-1] <= 0.05 for n in counts), counts
        recipe = {(c.batch_size, c.seq_len, c.lr, c.schedule, c.model.dropout, c.seed,
                   c.model.embed, c.max_steps, c.corpus) for c in configs}  # fmt: skip
        assert len(recipe) == 1, "one recipe, one budget in steps"
        assert configs[0].max_steps == round(0.01 * 60 * 16_000 / 1600)
        assert configs[0].corpus == tiny_settings.train.corpus
        assert all(c.max_minutes is None for c in configs)
        await until(pilot, lambda: [e.state for e in RunQueue.load(paths.data).entries]
                    == [DONE] * 3, 240, "the three trained")  # fmt: skip
        await pilot.press("R")
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        await until(pilot, lambda: list(screen.selected) == ["cells-rnn", "cells-gru",
                                                             "cells-lstm"], 30, "selected")  # fmt: skip
        assert screen.settings.x_axis == "chars"


async def test_c_while_a_run_trains_says_why_not(paths, tiny_settings, probe, until, scripted):
    app = make_app(paths, settings=tiny_settings, probe=probe, trainer=scripted)
    notes = []
    real = app.notify
    app.notify = lambda message, **kw: notes.append(str(message)) or real(message, **kw)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await until(pilot, lambda: app.screen.training, 20, "training")
        await pilot.press("C")
        assert any("stop it first" in n for n in notes), notes
        assert not RunQueue.load(paths.data).entries


async def test_a_refusal_is_one_line_before_or_after_the_timing(
    paths, tiny_settings, probe, until, timed
):
    settings = replace(tiny_settings, train=replace(tiny_settings.train, corpus="/no/such.txt"))
    app = make_app(paths, settings=settings, probe=probe)
    notes = []
    real = app.notify
    app.notify = lambda message, **kw: notes.append(str(message)) or real(message, **kw)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("C")  # the form's own check, in its words
        await pilot.pause()
        assert notes and notes[-1].startswith("corpus: "), notes
        assert not timed and not RunQueue.load(paths.data).entries
        (paths.data / "queue.json").write_text("not a queue")  # refused in the worker
        app.screen.query_one("#corpus").value = tiny_settings.train.corpus
        await pilot.pause()
        await pilot.press("C")
        await until(pilot, lambda: any("is not a queue" in n for n in notes), 30, "the refusal")
        assert "\n" not in notes[-1]
        assert (paths.data / "queue.json").read_text() == "not a queue", "never overwritten"


async def test_compare_cells_is_in_the_train_views_keys_and_every_palette(paths, probe):
    app = make_app(paths, probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Compare cells" in titles
        binding = next(b for b in app.screen.BINDINGS if getattr(b, "id", "")
                       == "train.compare_cells")  # fmt: skip
        assert binding.key == "C" and "equal parameters" in binding.tooltip
