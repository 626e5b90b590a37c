"""SVG snapshots of the Inspect view over the bundled checkpoint and a fixed text, and of its
Memory tab and comparison over tiny checkpoints made here.

The first pictures depend on the bundled checkpoint's weights: retraining it changes the colours
and the numbers (regenerate with --snapshot-update, and look at the result).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from shakespeare_tui.core.paths import Paths
from shakespeare_tui.views.inspect.text_view import InspectText
from tests.app.harness import wait_for
from tests.app.inspect_fixtures import TEXT, ForkApp, InspectApp, grown
from tests.app.inspect_memory_fixtures import MEMORY_SETTINGS, MemoryApp, make_checkpoint

pytestmark = pytest.mark.heavy(25)


@pytest.fixture
def app(tmp_path) -> InspectApp:
    return InspectApp(Paths.resolve(tmp_path).ensure(), text=TEXT)


async def _inspect(pilot) -> None:
    screen = pilot.app.screen
    await wait_for(pilot, lambda: bool(screen.finder.found), 60, "the finder")
    await pilot.press("f", "escape", *["right"] * 9)
    await pilot.pause()


def test_inspect_view_120x40(snap_compare, app):
    assert snap_compare(app, terminal_size=(120, 40), run_before=_inspect)


def test_inspect_view_80x24(snap_compare, app):
    assert snap_compare(app, terminal_size=(80, 24), run_before=_inspect)


async def _fork(pilot) -> None:
    """Take the second alternative at "sword", let the branch grow, list the tree."""
    screen = pilot.app.screen
    await wait_for(pilot, lambda: screen.replay is not None, 60, "the replay")
    screen.query_one(InspectText).move_to(TEXT.index("sword"))
    await pilot.press("2")
    await grown(pilot, wait_for, screen, 2)
    await wait_for(pilot, lambda: bool(screen.finder.found), 60, "the finder")
    await pilot.press("b", "escape")
    await pilot.pause()


def test_inspect_view_with_a_fork_120x40(snap_compare, tmp_path):
    app = ForkApp(Paths.resolve(tmp_path).ensure())
    assert snap_compare(app, terminal_size=(120, 40), run_before=_fork)


async def _inspect_then_shrink(pilot) -> None:
    """The view at 120×40 with the finder shown, then the terminal resized to 80×24."""
    await _inspect(pilot)
    await pilot.resize_terminal(80, 24)
    await pilot.pause()
    await pilot.pause()


def test_inspect_view_after_a_resize_from_120x40_to_80x24(snap_compare, app):
    assert snap_compare(app, terminal_size=(120, 40), run_before=_inspect_then_shrink)


async def _gates(pilot) -> None:
    """The gate saturation at 80×24: the legend and the y axis above the points."""
    screen = pilot.app.screen
    await wait_for(pilot, lambda: bool(screen.finder.found), 60, "the finder")
    await pilot.press("s", "escape")
    await pilot.pause()


def test_inspect_view_gates_80x24(snap_compare, app):
    assert snap_compare(app, terminal_size=(80, 24), run_before=_gates)


async def _gates_then_grow(pilot) -> None:
    """The gates at 80×24, then the terminal resized to 120×40: the panel lists ten again."""
    await _gates(pilot)
    await pilot.resize_terminal(120, 40)
    await pilot.pause()
    await pilot.pause()


def test_inspect_view_after_a_resize_from_80x24_to_120x40(snap_compare, app):
    assert snap_compare(app, terminal_size=(80, 24), run_before=_gates_then_grow)


# -- the Memory tab and the comparison, over tiny checkpoints made here --------------------------
# The figures are set by hand (the measurement and the heat are stood in for: their numbers are
# tested in test_inspect_memory.py), so the pictures hold on any CPU, bf16 or not.

HAND_LOSSES = (2.47, 2.05, 1.78, 1.52, 1.42, 1.38, 1.366, 1.36, 1.358, 1.357)
HAND_NGRAM = (3.26, 2.52, 2.05, 1.74, 1.55, 1.47, 1.44, 1.431, 1.429)
SNAPSHOT_SETTINGS = replace(MEMORY_SETTINGS, span=120)


@pytest.fixture
def hand_set_memory(monkeypatch):
    """measure_model, the n-gram baseline and the heat's probe give figures set by hand."""
    from shakespeare_tui.core.inspection.memory import connectivity, report
    from shakespeare_tui.core.inspection.memory.connectivity import ConnectivityCurve
    from shakespeare_tui.core.inspection.memory.context import ContextCurve
    from shakespeare_tui.core.inspection.memory.measure import ModelMemory
    from shakespeare_tui.core.inspection.memory.ngram import NgramCurve

    def measured(model, codes, targets, *, span, curve_targets, **kwargs):
        contexts = tuple(2**i for i in range(10))
        curve = ContextCurve(contexts, HAND_LOSSES, 1.355, len(targets))
        grads = tuple(0.4 * 0.8**k + 1e-7 / k for k in range(1, span + 1))
        return ModelMemory(curve, ConnectivityCurve(grads, curve_targets))

    def baseline(*args, **kwargs):
        return NgramCurve(tuple(range(9)), HAND_NGRAM), ""

    class Probe:
        """Depends on the last few characters, and on each newline before them."""

        def __init__(self, reader, codes, span, **kwargs):
            self.codes, self.span = codes, span
            self.newline = int(codes[0])  # the text is read after a newline

        def at(self, position):
            ks = range(1, min(self.span, position) + 1)
            return tuple(0.5 * 0.75**k + (0.02 if self.codes[position - k] == self.newline
                                           else 0.0) / k for k in ks)  # fmt: skip

    monkeypatch.setattr(report, "measure_model", measured)
    monkeypatch.setattr(report, "ngram_baseline", baseline)
    monkeypatch.setattr(connectivity, "ConnectivityProbe", Probe)


@pytest.fixture
def memory_app(paths, corpus_file, corpus_text, hand_set_memory) -> MemoryApp:
    checkpoint = make_checkpoint(paths, "tiny-lstm", corpus_file)
    return MemoryApp(paths, checkpoint, corpus_text[:1500], "tiny-lstm · best", SNAPSHOT_SETTINGS)


async def _memory(pilot) -> None:
    """The Memory tab with the cursor on the end of a line, its heat drawn."""
    screen = pilot.app.screen
    await wait_for(pilot, lambda: screen.replay is not None, 60, "the replay")
    await wait_for(pilot, lambda: bool(screen.finder.found), 60, "the finder")
    screen.query_one(InspectText).move_to(screen.replay.text.index("\n", 300))
    await pilot.press("M")
    await wait_for(pilot, lambda: screen.memory.measured is not None, 60, "the memory")
    await wait_for(pilot, lambda: screen.heat is not None and screen.heat[0] == screen.query_one(
        InspectText).cursor, 60, "the heat")  # fmt: skip
    await pilot.pause()


def test_inspect_memory_tab_120x40(snap_compare, memory_app):
    assert snap_compare(memory_app, terminal_size=(120, 40), run_before=_memory)


def test_inspect_memory_tab_80x24(snap_compare, memory_app):
    assert snap_compare(memory_app, terminal_size=(80, 24), run_before=_memory)


async def _three(pilot) -> None:
    """Three cells in the finder, the GRU's best line-position unit under the LSTM's."""
    from shakespeare_tui.views.inspect.compare import CompareTable
    from shakespeare_tui.views.inspect.dialogs import CompareDialog
    from shakespeare_tui.widgets.checkpoint_picker import CheckpointPicker

    screen = pilot.app.screen
    await wait_for(pilot, lambda: bool(screen.finder.found), 60, "the finder")
    await wait_for(pilot, lambda: screen.query_one(CheckpointPicker).entries, 30, "the scan")
    table = screen.query_one(CompareTable)
    for name in ("tiny-gru", "tiny-rnn"):
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, CompareDialog), 10, "dialog")
        picker = pilot.app.screen.query_one(CheckpointPicker)
        picker.highlighted = [e.title for e in picker.entries].index(f"{name} · best")
        await pilot.press("enter")
        await wait_for(pilot, lambda: all(c.replay is not None for c in table.added), 60, name)
    await pilot.press("right", "right", "enter")
    screen.query_one(InspectText).move_to(200)
    await pilot.pause()


def test_inspect_three_cells_in_the_finder_120x40(snap_compare, paths, corpus_file, corpus_text):
    lstm = make_checkpoint(paths, "tiny-lstm", corpus_file)
    make_checkpoint(paths, "tiny-gru", corpus_file, cell="gru", seed=1)
    make_checkpoint(paths, "tiny-rnn", corpus_file, cell="rnn", seed=2)
    app = MemoryApp(paths, lstm, corpus_text[:1500], "tiny-lstm · best")
    assert snap_compare(app, terminal_size=(120, 40), run_before=_three)
