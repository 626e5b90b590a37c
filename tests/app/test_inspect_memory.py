"""The Inspect view's Memory tab: the heat of the prediction at the cursor over the characters
before it (what the colours mean said beside it), the checkpoint's context and connectivity
curves measured once and read back, its effective context in words; every cell and layer
count; esc stops a measurement; a text the model cannot read is one line."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from shakespeare_tui.core.inspection.memory import report as memory_report
from shakespeare_tui.core.inspection.memory.connectivity import connectivity_at
from shakespeare_tui.core.inspection.memory.context import ContextCurve
from shakespeare_tui.core.inspection.memory.events import MemoryProgress, MemoryStopped
from shakespeare_tui.core.inspection.memory.ngram import NgramCurve
from shakespeare_tui.core.inspection.memory.reader import Reader
from shakespeare_tui.core.inspection.memory.report import (
    MemoryText,
    cached_memory,
    measure_checkpoint,
)
from shakespeare_tui.core.model.checkpoint import load_checkpoint
from shakespeare_tui.views.inspect import heat
from shakespeare_tui.views.inspect.memory_charts import ConnectivityChart, ContextChart
from shakespeare_tui.views.inspect.memory_tab import STOPPED
from shakespeare_tui.views.inspect.memory_words import definition, headline
from shakespeare_tui.views.inspect.next_char import NextCharPanel, shown
from shakespeare_tui.views.inspect.text_view import InspectText
from tests.app.inspect_fixtures import SIZE, status
from tests.app.inspect_memory_fixtures import (
    MEMORY_LENGTH,
    MEMORY_SETTINGS,
    MemoryApp,
    make_checkpoint,
)

pytestmark = pytest.mark.heavy(20)

SPAN = MEMORY_SETTINGS.span


def _text(corpus_text: str) -> str:
    return corpus_text[:600]


async def _replayed(pilot, until):
    screen = pilot.app.screen
    await until(pilot, lambda: screen.replay is not None, 60, "the replay")
    await pilot.pause()
    return screen


async def _heat_at(pilot, until, screen, position: int) -> None:
    await until(pilot, lambda: screen.heat is not None and screen.heat[0] == position, 30,
                f"the heat at {position}")  # fmt: skip
    await pilot.pause()


def _direct(checkpoint: Path, text: str, position: int) -> tuple[float, ...]:
    """The connectivity at `position`, computed here the one-off way (the text read after the
    newline the view reads before it)."""
    loaded = load_checkpoint(checkpoint)
    codes = loaded.vocab.encode("\n" + text)
    return connectivity_at(Reader(loaded.model), codes, position + 1, SPAN)


async def test_the_heat_follows_the_cursor_and_the_legend_says_what_it_means(
    paths, until, corpus_file, corpus_text
):
    checkpoint = make_checkpoint(paths, "tiny", corpus_file)
    text = _text(corpus_text)
    async with MemoryApp(paths, checkpoint, text).run_test(size=SIZE) as pilot:
        screen = await _replayed(pilot, until)
        view = screen.query_one(InspectText)
        view.move_to(100)
        await pilot.press("M")
        assert screen.memory_shown and not screen.query_one(NextCharPanel).display
        assert screen.focused is view, "the arrows move the cursor the heat follows"
        await _heat_at(pilot, until, screen, 100)
        for position in (100, 101):
            if position == 101:
                await pilot.press("right")
                await _heat_at(pilot, until, screen, 101)
            grads = screen.heat[1]
            assert np.allclose(grads, _direct(checkpoint, text, position), rtol=1e-4, atol=1e-9)
            shades = heat.heat_shades(len(text), position, grads)
            assert np.array_equal(view.shades, shades) and view.palette == heat.HEAT_STYLES
            assert shades[position:].max() == 0, "nothing after the cursor is coloured"
            assert shades[position - SPAN : position].min() >= 1, "every character in the span"
            assert shades[: position - SPAN].max() == 0
            assert heat.LEVELS in shades[position - SPAN : position], "the most is brightest"
        legend = str(screen.query_one("#memory-legend").render())
        char = repr(shown(text[101]))  # a space shows as ␣, a newline as ↵
        assert legend.startswith(f"How much the prediction of {char} at the cursor depends on "
                                 "each character before it: dark = not at all")  # fmt: skip
        assert legend.endswith("bright = most; log scale")
        assert "depends on: none" in view.border_subtitle and "most (log)" in view.border_subtitle
        assert status(screen).startswith(f"102/{len(text)} ")
        assert "bits" in status(screen), "the hidden panel's numbers are on the status line"
        await pilot.press("f")  # another tab: the lens colours the text again
        await pilot.pause()
        assert not screen.memory_shown and screen.query_one(NextCharPanel).display
        assert view.palette != heat.HEAT_STYLES and "unit" in view.border_subtitle


@pytest.mark.parametrize(("cell", "layers"), [("gru", 1), ("lstm", 2), ("rnn", 1)])
async def test_every_cell_and_layer_count_shows_its_memory(
    paths, until, corpus_file, corpus_text, cell, layers
):
    checkpoint = make_checkpoint(paths, cell, corpus_file, cell=cell, layers=layers, seed=3)
    text = _text(corpus_text)
    async with MemoryApp(paths, checkpoint, text, title=cell).run_test(size=SIZE) as pilot:
        screen = await _replayed(pilot, until)
        screen.query_one(InspectText).move_to(200)
        await pilot.press("M")
        tab = screen.memory
        await until(pilot, lambda: tab.measured is not None, 60, "the memory")
        await _heat_at(pilot, until, screen, 200)
        assert np.allclose(screen.heat[1], _direct(checkpoint, text, 200), rtol=1e-4, atol=1e-9)
        memory = tab.measured.memory
        assert (memory.cell, memory.context.targets) == (cell, MEMORY_SETTINGS.targets)
        words = str(screen.query_one("#memory-words").render())
        assert words.startswith(f"This {cell.upper()} ")
        context = screen.query_one(ContextChart)
        assert context.curve == memory.context and context.ngram is not None
        connectivity = screen.query_one(ConnectivityChart)
        assert connectivity.curve == memory.connectivity and len(connectivity.at_cursor) == SPAN
        assert f"{cell.upper()}" in str(screen.query_one("#memory-context-key").render())


async def test_the_charts_come_from_the_cache_without_measuring_again(
    paths, until, corpus_file, corpus_text, monkeypatch
):
    checkpoint = make_checkpoint(paths, "tiny", corpus_file)
    loaded = load_checkpoint(checkpoint)
    text = MemoryText.held_out(loaded.payload, paths.cache, MEMORY_LENGTH)
    before = measure_checkpoint(loaded, text, MEMORY_SETTINGS, paths.cache, name="tiny")
    assert cached_memory(checkpoint, text, MEMORY_SETTINGS, paths.cache) == before

    def no_measuring(*args, **kwargs):
        raise AssertionError("measured again")

    monkeypatch.setattr(memory_report, "measure_model", no_measuring)
    async with MemoryApp(paths, checkpoint, _text(corpus_text)).run_test(size=SIZE) as pilot:
        screen = await _replayed(pilot, until)
        await pilot.press("M")
        tab = screen.memory
        await until(pilot, lambda: tab.measured is not None, 30, "the memory")
        await pilot.pause()
        assert tab.measured.memory == before
        assert screen.query_one(ContextChart).curve == before.context
        assert screen.query_one(ConnectivityChart).curve == before.connectivity
        words = str(screen.query_one("#memory-words").render())
        assert words == headline(before.context, "lstm", tab.measured.ngram)
        assert str(screen.query_one("#memory-definition").render()) == definition(before.context)
        reach = before.effective_context
        assert status(screen) == f"tiny reads ~{reach} characters back (the Memory tab)"


async def test_a_second_look_measures_nothing(paths, until, corpus_file, corpus_text, monkeypatch):
    first = make_checkpoint(paths, "first", corpus_file)
    second = make_checkpoint(paths, "second", corpus_file, seed=1)
    calls: list[str] = []
    measure = memory_report.measure_checkpoint

    def counted(checkpoint, *args, **kwargs):
        calls.append(checkpoint.path.parent.name)
        return measure(checkpoint, *args, **kwargs)

    monkeypatch.setattr(memory_report, "measure_checkpoint", counted)
    text = _text(corpus_text)
    async with MemoryApp(paths, first, text).run_test(size=SIZE) as pilot:
        screen = await _replayed(pilot, until)
        tab = screen.memory
        await pilot.press("M")
        await until(pilot, lambda: tab.measured is not None, 60, "the memory")
        shown = tab.measured
        await pilot.press("f", "M")  # another tab and back
        await pilot.pause()
        assert tab.measured is shown and calls == ["first"]
        screen.inspect(str(second), "second", text, "a test text")
        await until(pilot, lambda: tab.checkpoint == (str(second), "second"), 30, "the second")
        await until(pilot, lambda: tab.measured is not None, 60, "its memory")
        screen.inspect(str(first), "first", text, "a test text")  # and back: at once
        await until(pilot, lambda: tab.checkpoint == (str(first), "first"), 30, "the first")
        assert tab.measured is shown and calls == ["first", "second"]


async def test_a_measurement_shows_its_progress_and_esc_stops_it(
    paths, until, corpus_file, corpus_text, monkeypatch
):
    checkpoint = make_checkpoint(paths, "tiny", corpus_file)
    stopped = threading.Event()

    def slow(model, codes, targets, *, stop, on_event, name, **kwargs):
        on_event(MemoryProgress("context", 0.5, name))
        if stop.wait(30):
            stopped.set()
        raise MemoryStopped

    monkeypatch.setattr(memory_report, "measure_model", slow)
    async with MemoryApp(paths, checkpoint, _text(corpus_text)).run_test(size=SIZE) as pilot:
        screen = await _replayed(pilot, until)
        await pilot.press("M")
        line = "measuring tiny's memory: reading the last k characters before each target… 50%"
        await until(pilot, lambda: status(screen).startswith(line), 30, "the progress")
        assert status(screen) == f"{line} · esc stops"
        await pilot.press("escape")
        await until(pilot, stopped.is_set, 30, "the stop")
        assert status(screen) == f"memory: {STOPPED}"
        assert str(screen.query_one("#memory-words").render()) == STOPPED
        assert not screen.memory.measuring and screen.memory.measured is None
        stopped.clear()
        await pilot.press("M")  # as the line says: M measures it again
        await until(pilot, lambda: status(screen).startswith(line), 30, "the second start")
        assert screen.memory.measuring
        await pilot.press("escape")
        await until(pilot, stopped.is_set, 30, "the second stop")


async def test_a_corpus_with_a_character_the_model_never_saw_is_one_line(
    paths, until, corpus_file, corpus_text, tmp_path
):
    corpus = tmp_path / "changed.txt"
    corpus.write_text(corpus_text, encoding="utf-8")
    checkpoint = make_checkpoint(paths, "tiny", corpus)
    corpus.write_text(corpus_text[:-100] + "§" + corpus_text[-99:], encoding="utf-8")
    async with MemoryApp(paths, checkpoint, _text(corpus_text)).run_test(size=SIZE) as pilot:
        screen = await _replayed(pilot, until)
        await pilot.press("M")
        line = "no memory figures for tiny: the text has characters tiny never saw: '§'"
        await until(pilot, lambda: status(screen) == line, 30, "the refusal")
        assert str(screen.query_one("#memory-words").render()) == line
        assert screen.query_one(ContextChart).curve is None


# -- what the words and the colours say, for curves made by hand --------------------------------


def _curve(losses: list[float], whole: float) -> ContextCurve:
    contexts = tuple(2**i for i in range(len(losses)))
    return ContextCurve(contexts=contexts, loss=tuple(losses), loss_all=whole, targets=1_000)


LOSSES = [2.47, 2.0, 1.7, 1.41, 1.378, 1.366, 1.362, 1.357, 1.356, 1.356]


def test_the_headline_gives_the_effective_context_and_the_ngrams():
    ngram = NgramCurve(contexts=tuple(range(9)), loss=(3.26, 2.5, 2.0, 1.7, 1.5, 1.44, 1.43,
                                                       1.429, 1.429))  # fmt: skip
    curve = _curve(LOSSES, 1.355)
    assert curve.effective_context() == 16 and curve.effective_context(0.01) == 32
    assert headline(curve, "lstm", ngram) == (
        "This LSTM keeps improving up to ~16 characters back (32 within 1%); "
        "the n-gram baseline stops at 5."
    )
    assert definition(curve) == (
        "Within 2% of its loss with the whole text read: 1.378 against 1.355 nats/char "
        "(1,000 predictions of its held-out text)."
    )
    why = "no n-gram baseline: the checkpoint's corpus x.txt no longer exists"
    assert headline(curve, "gru", None, why).endswith(f"; {why}.")


def test_the_headline_for_a_model_that_reads_past_the_longest_window_or_only_the_last_one():
    far = _curve([2.0] * 9 + [1.5], 1.4)
    assert far.effective_context() is None
    assert headline(far, "lstm", None).startswith(
        "This LSTM keeps improving past 512 characters back;"
    )
    assert definition(far).startswith(
        "Even the last 512 leave its loss at 1.500, over 2% above its loss with the whole text "
        "read, 1.400 nats/char"
    )
    near = _curve([1.5] * 10, 1.5)
    assert headline(near, "rnn", None).startswith(
        "This RNN gets nothing from context beyond the last character;"
    )


def test_the_heat_is_a_log_scale_from_the_most_down_four_powers_of_ten():
    grads = [1.0, 0.1, 0.01, 1e-3, 1e-4, 1e-6, 0.0]
    levels = heat.levels(grads).tolist()
    assert levels[0] == heat.LEVELS and levels[4:] == [1, 1, 1]
    assert levels == sorted(levels, reverse=True)
    assert levels[2] == 1 + (heat.LEVELS - 1) // 2, "half way down the log scale: the middle"
    shades = heat.heat_shades(10, 5, [0.5, 1.0, 0.0001])  # k = 1, 2, 3 back
    assert shades.tolist() == [0, 0, 1, heat.LEVELS, heat.levels([0.5, 1.0])[0], 0, 0, 0, 0, 0]


async def test_at_80x24_the_tab_shows_one_chart_and_m_shows_the_other(
    paths, until, corpus_file, corpus_text
):
    checkpoint = make_checkpoint(paths, "tiny", corpus_file)
    async with MemoryApp(paths, checkpoint, _text(corpus_text)).run_test(size=(80, 24)) as pilot:
        screen = await _replayed(pilot, until)
        await pilot.press("M")
        tab = screen.memory
        await until(pilot, lambda: tab.measured is not None, 60, "the memory")
        await pilot.pause()
        context, connectivity = screen.query_one(ContextChart), screen.query_one(ConnectivityChart)

        def shown(widget) -> bool:
            return widget.region.height > 0 and screen.region.contains_region(widget.region)

        for part in ("#memory-legend", "#memory-words", "#memory-context-key"):
            assert shown(screen.query_one(part)), part
        assert shown(context) and context.region.height >= 7 and not shown(connectivity)
        await pilot.press("M")
        await pilot.pause()
        assert shown(connectivity) and connectivity.region.height >= 7 and not shown(context)
        assert status(screen) == "the Memory tab shows the connectivity (M: the other)"
        await pilot.resize_terminal(120, 40)  # room for both
        await pilot.pause()
        await pilot.pause()
        assert shown(context) and shown(connectivity) and shown(screen.query_one(
            "#memory-definition"))  # fmt: skip
