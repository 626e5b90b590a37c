"""The Inspect view: what a checkpoint's network does over a text.

A text (a held-out passage of the checkpoint's corpus, a typed one, or what the Generate view
just wrote) is replayed through the model in a worker (core/inspection/replay.py); then the view
shows, at a cursor, the model's next-character distribution, colours every character by one
unit's value (the neuron lens) or by its rank in the prediction (GLTR), ranks units by how well
they track features of the text (the finder), selects the units that fire over a marked span and
where else they fire (LSTMVis), plots gate saturation per layer, and grows other branches from a
generated text (forks). Torch is imported only inside the workers.

The screen holds the text and its replay, and every key of the view (BINDINGS, next to the
actions they run: all of them work wherever the focus is in the view). It composes parts that
own what they show and talk back in messages: the text view (text_view.py), the next-character
panel (next_char.py), the lens's choice (lens.py), and the tabs: the checkpoint picker, the
finder (finder.py; with other checkpoints added, compare.py's table in its place, and the
chosen one's unit in a second text panel under the text), the memory (memory_tab.py: the heat
of the prediction at the cursor, drawn on the text instead of the lens while the tab shows, and
the checkpoint's context and connectivity curves), the span selection (spans.py), the gate
saturation (saturation.py) and the fork tree (forks.py). The parts' workers report their
failures on the status line (status_line.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Header, Input, OptionList, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState, get_current_worker

from shakespeare_tui.core.errors import UserError, one_line
from shakespeare_tui.core.inspection.forks import divergence
from shakespeare_tui.core.inspection.saturation import no_gates
from shakespeare_tui.core.inspection.unit_address import UnitAddress
from shakespeare_tui.core.runs.checkpoints import default_key
from shakespeare_tui.core.text.passages import held_out_passage
from shakespeare_tui.messages import InspectReady, ListingRefreshed
from shakespeare_tui.shared_listing import SharedListing, shared_listing
from shakespeare_tui.views.inspect.compare import CompareTable, short_name
from shakespeare_tui.views.inspect.dialogs import CompareDialog, TextDialog, UnitDialog
from shakespeare_tui.views.inspect.finder import Finder
from shakespeare_tui.views.inspect.forks import NOT_GENERATED, ForksTab
from shakespeare_tui.views.inspect.heat import HEAT_STYLES, heat_shades
from shakespeare_tui.views.inspect.heat import subtitle as heat_subtitle
from shakespeare_tui.views.inspect.lens import PALETTE, Lens
from shakespeare_tui.views.inspect.memory_tab import MemoryTab
from shakespeare_tui.views.inspect.next_char import NextCharPanel, shown
from shakespeare_tui.views.inspect.saturation import GatesTab
from shakespeare_tui.views.inspect.spans import SpanTab
from shakespeare_tui.views.inspect.status_line import StatusLine
from shakespeare_tui.views.inspect.text_view import InspectText
from shakespeare_tui.widgets.checkpoint_picker import CheckpointPicker, unreadable
from shakespeare_tui.widgets.keys_footer import KeysFooter

if TYPE_CHECKING:
    from shakespeare_tui.core.inspection.memory.report import MemorySettings
    from shakespeare_tui.core.inspection.neurons import UnitScore
    from shakespeare_tui.core.inspection.replay import Replay
    from shakespeare_tui.core.paths import Paths
    from shakespeare_tui.core.runs.checkpoints import CheckpointEntry
    from shakespeare_tui.core.sampling.settings import SampleSettings
    from shakespeare_tui.views.inspect.compare import Column

PASSAGE_LENGTH = 10_000  # characters of held-out text inspected by default
TOP_K = 10  # next characters listed at the cursor
TOP_K_SHORT = 5  # on a short terminal (under 36 rows), so the tabs below keep some room
FIRST_FEATURE = "line_position"  # the lens opens on the unit that tracks it best
# The keys the footer keeps while they fit, most useful first (the others: `?`, the help).
FOOTER_FIRST = (
    "inspect.next_unit", "inspect.memory", "inspect.quantity", "inspect.finder", "inspect.mark",
    "inspect.saturation", "inspect.compare", "inspect.checkpoints", "inspect.unit", "inspect.layer",
    "inspect.ranks", "inspect.held_out", "inspect.type_text", "inspect.fork",
    "inspect.next_branch", "inspect.forks", "app.quit",
)  # fmt: skip


class InspectScreen(Screen[None]):
    """The app's "inspect" mode."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-normal"), (170, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]

    # Ids for the keymap, tooltips for the help and the palette.
    BINDINGS = [
        # One footer entry for each pair: "[ ]" and ", ." (the second key of a pair is hidden).
        Binding("right_square_bracket", "step_unit(1)", "Unit", key_display="[ ]",
                id="inspect.next_unit", tooltip="Show the next unit in the lens ([ the previous)"),
        Binding("left_square_bracket", "step_unit(-1)", "Prev unit", key_display="[", show=False,
                id="inspect.previous_unit", tooltip="Show the previous unit in the lens"),
        Binding("u", "type_unit", "Unit…", id="inspect.unit",
                tooltip="Type a unit number (or layer:unit) to show in the lens"),
        Binding("l", "next_layer", "Layer", id="inspect.layer",
                tooltip="Show the same unit of the next layer"),
        Binding("v", "next_quantity", "Quantity", id="inspect.quantity",
                tooltip="Cycle what the lens shows: tanh(c), c, h, then each gate"),
        Binding("r", "toggle_ranks", "Ranks", id="inspect.ranks",
                tooltip="Colour characters by their rank in the prediction (GLTR) or by the unit"),
        Binding("1", "fork(1)", "Fork", key_display="1–9", id="inspect.fork",
                tooltip="Take that alternative at the cursor (1–9, 0 the tenth; in generated "
                "text): the model goes on from it in a new branch"),
        # No description: the help and the palette list "1–9" once, above.
        *[Binding(str(n % 10), f"fork({n})", "", show=False, id=f"inspect.fork_{n}")
          for n in range(2, 11)],
        Binding("full_stop", "switch_branch(1)", "Branch", key_display=", .",
                id="inspect.next_branch", tooltip="At a fork (or the last one before the "
                "cursor), show the next branch"),
        Binding("comma", "switch_branch(-1)", "Prev branch", key_display=",", show=False,
                id="inspect.previous_branch", tooltip="At a fork, show the previous branch"),
        Binding("m", "mark", "Mark span", id="inspect.mark",
                tooltip="Mark a span's start, then its end: the units on over it, and where "
                "else they fire"),
        Binding("f", "show_tab('tab-finder')", "Finder", id="inspect.finder",
                tooltip="Show the neuron finder: the units that track each feature"),
        Binding("a", "compare", "Compare", id="inspect.compare",
                tooltip="Add a checkpoint to compare in the finder: each one's best unit per "
                "feature side by side (three at most)"),
        Binding("x", "stop_comparing", "Stop comparing", show=False, id="inspect.stop_comparing",
                tooltip="Drop the checkpoints added to the finder and the second text panel"),
        Binding("M", "show_memory", "Memory", id="inspect.memory",
                tooltip="Show the Memory tab: how much the prediction at the cursor depends on "
                "each character before it, drawn on the text; how far back the model reads "
                "(again: the other chart, where one fits)"),
        Binding("s", "show_tab('tab-saturation')", "Saturation", id="inspect.saturation",
                tooltip="Show the gate saturation of the lens's layer"),
        Binding("c", "show_tab('tab-checkpoint')", "Model", id="inspect.checkpoints",
                tooltip="Show the Model tab: choose the checkpoint to inspect (enter inspects it)"),
        Binding("h", "held_out", "Held out", id="inspect.held_out",
                tooltip="Inspect a passage of the checkpoint's held-out text"),
        Binding("p", "type_text", "Type text", id="inspect.type_text",
                tooltip="Type or paste a text to inspect"),
        Binding("b", "show_forks_tab", "Forks", id="inspect.forks",
                tooltip="List the branches of the fork tree (enter shows one)"),
        Binding("ctrl+s", "save_forks", "Save forks", show=False, id="inspect.save_forks",
                tooltip="Save the fork tree as JSON (in the data folder's forks/)"),
        Binding("o", "open_forks", "Open forks", show=False, id="inspect.open_forks",
                tooltip="Open a saved fork tree"),
        Binding("escape", "escape", "Clear", show=False, id="inspect.escape",
                tooltip="Stop a growing branch; clear the marked span; in a list, go back to "
                "the text"),
    ]  # fmt: skip

    def __init__(
        self,
        paths: Paths,
        *,
        length: int | None = None,
        memory_settings: MemorySettings | None = None,
        memory_length: int | None = None,
        **kwargs: Any,
    ) -> None:
        """`memory_settings` and `memory_length`: how the Memory tab measures a checkpoint, and
        over how much of its held-out text (None: the memory command's defaults)."""
        super().__init__(**kwargs)
        self.paths = paths
        self.length = length or PASSAGE_LENGTH
        self._memory_settings, self._memory_length = memory_settings, memory_length
        self.lens = Lens()
        self.replay: Replay | None = None  # of the text shown, once a worker made one
        self.fresh_from: int | None = None  # where the text shown stops matching `replay`
        self._listing: SharedListing | None = None  # the app's, once mounted
        self._scanned = False
        self._request = 0  # bumped per text or checkpoint; older answers are dropped
        self._worker: Worker[None] | None = None  # the replay being made
        self._mark_start: int | None = None
        self._source: tuple[str, str] = ("held_out", "")  # ("held_out", "") or ("text", text)
        self._source_name = ""
        self._entry: tuple[str, str] | None = None  # (path, title) being inspected
        # A hand-off before the mount: (method, its arguments), called after the first scan.
        self._pending: tuple[Callable[..., None], tuple[Any, ...]] | None = None
        self._cursor_after = 0  # where the cursor goes when the replay is ready
        self._showing_branch = False  # the text is a branch of the fork tree (forks.py)
        self.replay_context = ""  # what the model read before the replayed text
        # The added checkpoint and unit the second text panel shows (compare.py).
        self._second: tuple[Column, UnitScore] | None = None
        self.heat: tuple[int, tuple[float, ...]] | None = None  # (position, grads) drawn

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="inspect-body"):
            with Vertical(id="inspect-main"):
                text = InspectText(id="inspect-text")
                text.border_title = "Inspect"
                yield text
                # Another checkpoint's lens over the same text (compare.py); its cursor is
                # the text's, so it is never focused.
                second = InspectText(id="inspect-text-2")
                second.can_focus = False
                yield second
            with Vertical(id="inspect-side"):
                panel = NextCharPanel(id="next-char")
                panel.border_title = "Next character"
                panel.show_nothing("no text yet")
                yield panel
                with TabbedContent(id="inspect-tabs", initial="tab-checkpoint"):
                    with TabPane("Model", id="tab-checkpoint"):
                        yield CheckpointPicker(id="inspect-picker")
                    with TabPane("Finder", id="tab-finder"):
                        yield Finder(id="finder")
                        yield Static("", id="compare-info")
                        yield CompareTable(id="compare")
                    yield MemoryTab(
                        "Memory",
                        self.paths.cache,
                        settings=self._memory_settings,
                        length=self._memory_length,
                        id="tab-memory",
                    )
                    yield SpanTab("Spans", id="tab-spans")
                    yield GatesTab("Gates", id="tab-saturation")
                    yield ForksTab("Forks", self.paths.forks, id="tab-forks")
        # The whole width: at 80 columns the text's column would cut a refusal mid-sentence.
        yield StatusLine("scanning checkpoints…", id="inspect-status")
        yield KeysFooter(FOOTER_FIRST)

    def on_mount(self) -> None:
        self.view.focus()
        # The app's one list of checkpoints, read in its worker: runs made after launch (here
        # or by another process) appear within its refresh, and on ctrl+r.
        self._listing = shared_listing(self.app, self.paths)
        self._listing.subscribe(self)

    def on_screen_resume(self) -> None:
        if self._listing is not None:
            self._listing.refresh()

    def on_resize(self) -> None:
        # The panel lists as many characters as the height allows (`top_k`, from the breakpoint
        # classes, which Textual sets after this handler: Screen._on_resize comes later).
        self.call_after_refresh(self._show_cursor, self.view.cursor)

    @property
    def view(self) -> InspectText:
        return self.query_one("#inspect-text", InspectText)

    @property
    def second_view(self) -> InspectText:
        """Another checkpoint's lens over the text, shown while comparing (compare.py)."""
        return self.query_one("#inspect-text-2", InspectText)

    @property
    def compare(self) -> CompareTable:
        return self.query_one(CompareTable)

    @property
    def forks(self) -> ForksTab:
        return self.query_one(ForksTab)

    @property
    def finder(self) -> Finder:
        return self.query_one(Finder)

    @property
    def memory(self) -> MemoryTab:
        return self.query_one(MemoryTab)

    @property
    def memory_shown(self) -> bool:
        """The Memory tab is shown: the text shows the heat instead of the lens."""
        return self.has_class("-memory")

    @property
    def checkpoint_path(self) -> str | None:
        """The checkpoint being inspected (None before the first)."""
        return self._entry[0] if self._entry else None

    @property
    def top_k(self) -> int:
        """How many next characters the panel lists (and digits can fork to)."""
        return TOP_K_SHORT if self.has_class("-short") else TOP_K

    # -- opening a text ---------------------------------------------------------------------

    def inspect(
        self,
        path: str,
        title: str,
        text: str,
        source: str,
        settings: SampleSettings | None = None,
    ) -> None:
        """Inspect `text` with the checkpoint at `path` (the Generate view's hand-off); with
        the `settings` (seed set) it was generated with, its forks can be taken."""
        if not self.is_mounted:
            self._pending = (self.inspect, (path, title, text, source, settings))
            return
        self.forks.stop_growing()
        if settings is not None and self.forks.start(path, title, settings, text):
            self._entry = (path, title)
            self._show_branch(0, 0)
            return
        self._show_text(("text", text), source, (path, title))

    def inspect_checkpoint(self, path: str, title: str) -> None:
        """Inspect the checkpoint at `path` over its held-out text (the Runs view's hand-off)."""
        if not self.is_mounted:
            self._pending = (self.inspect_checkpoint, (path, title))
            return
        self.forks.stop_growing()
        self._show_text(("held_out", ""), "", (path, title))

    def _show_text(self, source: tuple[str, str], name: str, entry: tuple[str, str] | None) -> None:
        """Replay the model at `entry` (or the one chosen) over a text of no fork tree."""
        self._source, self._source_name = source, name
        self._showing_branch = False
        entry = entry or self._entry or self._selected()
        if entry is not None:
            self._start(*entry)

    def _start(self, path: str, title: str) -> None:
        """Replay the model at `path` over the source text."""
        self._request += 1
        self._entry = (path, title)
        picker = self.query_one(CheckpointPicker)  # its cursor goes to what is inspected
        index = next((i for i, e in enumerate(picker.entries) if e.path == path), None)
        if index is not None and picker.highlighted != index:
            with self.prevent(OptionList.OptionHighlighted):
                picker.highlighted = index
        self._mark_start = None
        self.finder.forget()  # their answers are about the text being replaced
        self.query_one(SpanTab).forget()
        self.memory.forget_heat()
        if not self._showing_branch:
            self._cursor_after = 0
        kept = self.forks.kept_replay(path, self._source[1]) if self._showing_branch else None
        if kept is not None:  # a branch's text, read after a newline (if the model knows one)
            context = "\n" if kept.context else ""
            ready = InspectReady(self._request, kept, title, self._source_name, context)
            self.on_inspect_ready(ready)
            return
        what = "held-out text" if self._source[0] == "held_out" else self._source_name
        self._status(f"replaying {title} over the {what}…")
        kind, text = self._source
        self._worker = self._analyse(self._request, path, title, kind, text, self._source_name)

    def _selected(self) -> tuple[str, str] | None:
        entry = self.query_one(CheckpointPicker).selected_entry
        if entry is None:
            self._status("no checkpoint yet" if self._scanned else "scanning checkpoints…")
            return None
        if not entry.ok:
            self._status(f"cannot inspect: {unreadable(entry)}")
            return None
        return entry.path, entry.title

    def action_held_out(self) -> None:
        self._show_text(("held_out", ""), "", None)

    def action_type_text(self) -> None:
        current = self._source[1] if self._source[0] == "text" else ""
        vocab = self.replay.vocab if self.replay is not None else None
        self.app.push_screen(TextDialog(current, vocab), self._typed)

    def _typed(self, text: str | None) -> None:
        if text is not None:
            self._show_text(("text", text), "typed text", None)

    @on(OptionList.OptionSelected, "#inspect-picker")
    def _checkpoint_chosen(self, event: OptionList.OptionSelected) -> None:
        entry = self._selected()
        if entry is not None and not self.forks.refuse_while_growing():
            # A branch stays a branch (its forks still grow with the model that wrote it).
            self._start(*entry)
            self.view.focus()

    # -- workers ----------------------------------------------------------------------------

    def on_listing_refreshed(self, message: ListingRefreshed) -> None:
        """Show the list (keeping the checkpoint inspected highlighted); the first one starts
        what was handed over, or the default checkpoint."""
        if message.error:
            self._status(message.error)
        if message.changed or not self._scanned:
            entries = list(message.listed.checkpoints)
            picker = self.query_one(CheckpointPicker)
            highlighted = picker.selected_entry
            keep = self._entry[0] if self._entry else ""
            key = next((e.key for e in entries if e.path == keep), None)
            if highlighted is not None and any(e.key == highlighted.key for e in entries):
                key = highlighted.key  # where the person moved the cursor stays
            with self.prevent(OptionList.OptionHighlighted):
                picker.show_entries(entries, key or default_key(entries))
        first = not self._scanned
        self._scanned = True
        if self._pending is not None:
            (method, arguments), self._pending = self._pending, None
            method(*arguments)
        elif first and self._entry is None:
            entry = self._selected()
            if entry is not None:
                self._start(*entry)

    @work(thread=True, exclusive=True, group="inspect", exit_on_error=False)
    def _analyse(
        self, request: int, path: str, title: str, kind: str, text: str, name: str
    ) -> None:
        # Imported here: both load torch, which the first frame must not wait for.
        from shakespeare_tui.core.inspection.replay import replay
        from shakespeare_tui.core.model.checkpoint import load_checkpoint

        stop = get_current_worker().cancelled_event
        checkpoint = load_checkpoint(Path(path))
        if kind == "held_out":
            passage = held_out_passage(checkpoint.payload, self.paths.cache, self.length)
            text, context, source = passage.text, passage.context, passage.source
        else:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            context, source = None, f"{name} ({len(text):,} characters)"
        if context is None or (kind == "held_out" and "\n" not in checkpoint.vocab):
            context = "\n" if "\n" in checkpoint.vocab else ""  # (replay's own default)
        result = replay(checkpoint.model, checkpoint.vocab, text, context=context, stop=stop)
        self.post_message(InspectReady(request, result, title, source, context))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The screen's own workers (each part reports its own on the status line)."""
        worker, error = event.worker, event.worker.error
        event.stop()
        if event.state != WorkerState.ERROR or error is None:
            return
        if worker.group == "inspect" and worker is self._worker:
            line = f"cannot inspect: {one_line(error)}"
            if self.replay is not None:
                line += "; still showing the text before"
            self._status(line)

    # -- the replay's answer ----------------------------------------------------------------

    def on_inspect_ready(self, message: InspectReady) -> None:
        if message.request != self._request:
            return
        result = self.replay = message.replay
        self.replay_context, self.heat = message.context, None
        forks = self.forks
        if self._showing_branch and self._entry is not None:
            forks.keep_replay(self._entry[0], result)
            forks.list_branches()
        else:
            forks.drop()
        self.fresh_from = None
        self.lens.fit(result, self.checkpoint_path or "")
        self.finder.reset()
        self.query_one(SpanTab).reset()
        view = self.view
        if view.text != result.text:
            view.set_text(result.text)
        # Bits per character before the source, which a narrow title cuts.
        view.border_title = (
            f"{message.title} · {result.bits_per_char:.3f} bits/char · {message.source}"
        )
        self._recolour()
        view.set_forks(forks.fork_positions())
        cursor = min(self._cursor_after, max(0, len(result.text) - 1))
        if view.cursor != cursor:
            view.move_to(cursor)  # the cursor's message shows it
        else:
            self._show_cursor(cursor)
        self.query_one(GatesTab).draw(result, self.lens.layer)
        self.finder.find(result, self.lens.quantity)
        if self.memory_shown:
            self._follow_memory()
        if self.has_class("-comparing"):  # the added checkpoints read the new text
            self._second = None
            self.remove_class("-two-lenses")
            self.compare.read(result.text, self.replay_context)

    # -- the cursor and the lens ------------------------------------------------------------

    @on(InspectText.CursorMoved, "#inspect-text")
    def _cursor_moved(self, event: InspectText.CursorMoved) -> None:
        self.second_view.move_to(event.position)
        self._show_cursor(event.position)

    @on(InspectText.CursorMoved, "#inspect-text-2")
    def _second_cursor_moved(self, event: InspectText.CursorMoved) -> None:
        self.view.move_to(event.position)  # a click on the second panel moves the one cursor

    def _show_cursor(self, t: int) -> None:
        """The panel and the status line for character `t`."""
        result = self.replay
        if result is None or not result.text:
            return
        fork_line = self.forks.fork_line(t)
        panel = self.query_one(NextCharPanel)
        if self.fresh_from is not None and t >= self.fresh_from:
            panel.show_nothing("the model is reading this branch…")
            self._status(f"{t + 1:,}/{len(self.view.text):,} · {fork_line}")
            return
        p = result.prediction
        lens_line = self.lens.reading(result, t)
        panel.show(
            result.text[t],
            p.top(t, self.top_k),
            float(p.prob[t]),
            float(p.surprise[t]),
            float(p.entropy[t]),
            int(p.rank[t]),
            "" if self.has_class("-short") else lens_line,  # (a row for the tabs; it is below)
            numbered=not self.forkable(t),
        )
        where = f"{t + 1:,}/{len(result.text):,} {shown(result.text[t])} · "
        if fork_line:  # before the lens: on a narrow terminal the line's end is cut
            where += f"{fork_line} · "
        if self.memory_shown:  # the panel is hidden: the prediction's numbers instead
            self.memory.want_heat(t, result.text[t])
            lens_line = f"p {p.prob[t]:.1%}, {p.surprise[t]:.2f} bits"
        self._status(f"{where}{lens_line} · {result.bits_per_char:.3f} bits/char")

    def _recolour(self) -> None:
        result = self.replay
        if result is None:
            return
        if self.memory_shown:
            self._draw_heat(result)
            return
        shades, legend = self.lens.shades(result)
        if self.fresh_from is not None:  # a branch shown before its replay: only what matches
            shades = shades[: self.fresh_from]
        view = self.view
        view.border_subtitle = legend
        view.set_shades(shades, PALETTE)

    # -- the memory --------------------------------------------------------------------------

    @on(TabbedContent.TabActivated, "#inspect-tabs")
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        self.set_class(event.pane.id == "tab-finder", "-finder")  # (a comparison's rows)
        shown = event.pane.id == "tab-memory"
        if shown == self.memory_shown:
            return
        self.set_class(shown, "-memory")  # the stylesheet hides the panel: the tab needs rows
        if shown:
            self._follow_memory()
        self._recolour()
        self._show_cursor(self.view.cursor)

    def action_show_memory(self) -> None:
        memory = self.memory
        if self.memory_shown:  # M again: measure what was stopped, or show the other chart
            stopped = not memory.measuring and memory.measured is None
            self._follow_memory()
            if not stopped and self.has_class("-short"):
                self._status(f"the Memory tab shows the {memory.flip_chart()} (M: the other)")
        self.action_show_tab("tab-memory")

    def _follow_memory(self) -> None:
        """The Memory tab on the checkpoint and the text shown (once its replay is ready)."""
        if self.replay is None or self._entry is None or self.fresh_from is not None:
            return
        self.memory.measure(*self._entry)
        self.memory.follow(self._entry[0], self.replay.text, self.replay_context)

    def on_memory_tab_heat(self, message: MemoryTab.Heat) -> None:
        if self.replay is None or self.fresh_from is not None:
            return
        self.heat = (message.position, message.grads)
        if self.memory_shown:
            self._draw_heat(self.replay)

    def _draw_heat(self, result: Replay) -> None:
        """Colour the text by the heat of the last prediction measured (none yet: plain)."""
        view = self.view
        view.border_subtitle = heat_subtitle(narrow=self.has_class("-narrow"))
        if self.heat is None or self.fresh_from is not None:
            view.set_shades(np.zeros(len(view.text), np.int8), HEAT_STYLES)
            return
        view.set_shades(heat_shades(len(result.text), *self.heat), HEAT_STYLES)

    def _point_lens(self, layer: int, unit: int, chosen: bool = True) -> None:
        if self.replay is None:
            return
        self.lens.point_at(self.replay, layer, unit, chosen)
        self._recolour()
        self._show_cursor(self.view.cursor)

    def action_step_unit(self, delta: int) -> None:
        self._point_lens(self.lens.layer, self.lens.unit + delta)

    def action_type_unit(self) -> None:
        if self.replay is None:
            return
        dialog = UnitDialog(self.replay.layers, self.replay.hidden, self.lens.layer)
        self.app.push_screen(dialog, self._unit_typed)

    def _unit_typed(self, chosen: UnitAddress | None) -> None:
        if chosen is not None:
            self._point_lens(chosen.layer, chosen.unit)

    def action_next_layer(self) -> None:
        if self.replay is not None:
            self._point_lens(self.lens.layer + 1, self.lens.unit)
            self.query_one(GatesTab).draw(self.replay, self.lens.layer)

    def action_next_quantity(self) -> None:
        if self.replay is None:
            return
        self.lens.next_quantity(self.replay)
        self._point_lens(self.lens.layer, self.lens.unit)
        self.finder.find(self.replay, self.lens.quantity)

    def action_toggle_ranks(self) -> None:
        self.lens.ranks = not self.lens.ranks
        self._recolour()

    def on_finder_ranked(self, message: Finder.Ranked) -> None:
        best = message.found.get(FIRST_FEATURE)
        if best and not self.lens.chosen:
            self._point_lens(best[0].layer, best[0].unit, chosen=False)
        if self.replay is not None and self._entry is not None:
            path, title = self._entry
            name = short_name(self._picker_entry(path), title)
            self.compare.show_main(path, name, self.replay, self.lens.quantity, message.found)

    def _picker_entry(self, path: str) -> CheckpointEntry | None:
        entries = self.query_one(CheckpointPicker).entries
        return next((entry for entry in entries if entry.path == path), None)

    def on_finder_unit_picked(self, message: Finder.UnitPicked) -> None:
        score = message.score
        self.lens.ranks = False
        self._point_lens(score.layer, score.unit)
        self._status(f"{score.feature}: layer {score.layer} unit {score.unit}, r {score.r:+.2f}")

    # -- checkpoints compared ----------------------------------------------------------------

    def action_compare(self) -> None:
        if self.replay is None or self._entry is None:
            self._status("no text yet: a checkpoint is compared over the text inspected")
            return
        full = self.compare.why_not("")
        if full:
            self._status(full)
            return
        entries = [
            entry
            for entry in self.query_one(CheckpointPicker).entries
            if entry.ok and not self.compare.why_not(entry.path)
        ]
        if not entries:
            self._status("no other checkpoint to compare: train one in the Train view")
            return
        self.app.push_screen(CompareDialog(entries), self._compare_chosen)

    def _compare_chosen(self, entry: CheckpointEntry | None) -> None:
        if entry is None or self.replay is None:
            return
        why = self.compare.why_not(entry.path)
        if why:
            self._status(why)
            return
        self.compare.read(self.replay.text, self.replay_context)
        self.compare.add(entry.path, short_name(entry, entry.title))
        self.add_class("-comparing")  # the stylesheet shows the table in the finder's place
        self.query_one(TabbedContent).active = "tab-finder"
        self.compare.focus()
        self._status(f"replaying {entry.title} over the text to compare it…")

    def _show_compare_note(self) -> None:
        self.query_one("#compare-info", Static).update(self.compare.note())

    def action_stop_comparing(self) -> None:
        if not self.has_class("-comparing"):
            self._status("nothing is compared: a adds a checkpoint to the finder")
            return
        self.compare.drop_all()
        if self.focused is self.compare:
            self.finder.focus()
        self._status("the finder shows the checkpoint inspected again")

    def on_compare_table_changed(self, message: CompareTable.Changed) -> None:
        self._show_compare_note()
        if not self.compare.added:  # the last one added could not be compared, or x
            self._second = None
            self.remove_class("-comparing", "-two-lenses")

    def on_compare_table_chosen(self, message: CompareTable.Chosen) -> None:
        feature, column = message.feature, message.column
        if self.replay is None or self._entry is None:
            return
        main = self.finder.found.get(feature) or []
        score = column.best(feature)
        if column.replay is None or score is None or not main:
            which = column.title if column.replay is None or score is None else self._entry[1]
            self._status(f"{feature}: no unit of {which} to show (— in the table)")
            return
        self.lens.ranks = False
        self._point_lens(main[0].layer, main[0].unit)
        self._second = (column, score)
        self._draw_second()
        self.add_class("-two-lenses")
        self._status(
            f"{feature}: {self._entry[1]} {self._unit_words(main[0], self.replay.layers)} above, "
            f"{column.title} {self._unit_words(score, column.layers)} below"
        )

    @staticmethod
    def _unit_words(score: UnitScore, layers: int) -> str:
        unit = f"L{score.layer} unit {score.unit}" if layers > 1 else f"unit {score.unit}"
        return f"{unit} r {score.r:+.2f}"

    def _draw_second(self) -> None:
        """The chosen checkpoint's unit over the same text, in the second panel."""
        if self._second is None:
            return
        column, score = self._second
        replay = column.replay
        if replay is None:
            return
        view = self.second_view
        if view.text != replay.text:
            view.set_text(replay.text)
        second = Lens()  # its own: the view's lens stays the inspected checkpoint's
        second.fit(replay, column.path)
        second.point_at(replay, score.layer, score.unit)
        shades, legend = second.shades(replay)
        view.set_shades(shades, PALETTE)
        view.border_title = f"{column.title} · {column.heading} · r {score.r:+.2f}"
        view.border_subtitle = legend
        view.move_to(self.view.cursor)

    # -- a marked span ----------------------------------------------------------------------

    def action_mark(self) -> None:
        if self.replay is None:
            return
        view = self.view
        t = view.cursor
        if self._mark_start is None:
            self._mark_start = t
            view.set_mark((t, t + 1))
            self._status("span start marked: move to its end and press m again")
            return
        a, b = sorted((self._mark_start, t))
        self._mark_start = None
        view.set_mark((a, b + 1))
        self._status(f"matching the span {a + 1:,}–{b + 1:,}…")
        self.query_one(SpanTab).match(self.replay, self.lens.layer, self.lens.quantity, (a, b + 1))

    def on_span_tab_matched(self, message: SpanTab.Matched) -> None:
        self.query_one(TabbedContent).active = "tab-spans"
        a, b = message.span
        span = f"span {a + 1:,}–{b:,}: "  # (the status line said it was being matched)
        if message.units:
            self._status(f"{span}{message.units} units on, {message.passages} other passages "
                         "where they fire (the Spans tab)")  # fmt: skip
        else:
            self._status(f"{span}no unit is on over it and off before it: mark another span")

    def on_span_tab_match_chosen(self, message: SpanTab.MatchChosen) -> None:
        view = self.view
        view.set_mark((message.match.start, message.match.stop))
        view.move_to(message.match.start)
        view.focus()

    # -- forks ------------------------------------------------------------------------------

    def forkable(self, t: int) -> str:
        """Why no fork can be taken at character `t` ("" if one can)."""
        return self.forks.forkable(t, self.checkpoint_path)

    def action_fork(self, nth: int) -> None:
        view, result = self.view, self.replay
        t = view.cursor
        why = self.forkable(t) or (
            "no prediction there" if result is None or self.fresh_from is not None else ""
        )
        if why or result is None:
            self._status(why)
            return
        here = view.text[t]
        others = [c for c, _ in result.prediction.top(t, self.top_k) if c != here]
        if not others:
            self._status("no prediction for the first character: fork further on")
            return
        if not 1 <= nth <= len(others):
            self._status(f"the panel numbers {len(others)} alternatives here: 1–{len(others)}")
            return
        char = others[nth - 1]
        try:
            branch_id, new = self.forks.fork(t, char)
        except UserError as exc:
            self._status(str(exc))
            return
        self._show_branch(branch_id, t)
        if new:
            self._status(f"branch {branch_id}: {shown(char)} at {t + 1:,}, growing…")

    def action_switch_branch(self, step: int) -> None:
        forks = self.forks
        if forks.fork_tree is None or len(forks.fork_tree.branches) == 1:
            self._status("no forks here yet: a digit takes that alternative at the cursor")
            return
        if forks.refuse_while_growing():
            return
        sibling = forks.sibling(self.view.cursor, step)
        if sibling is None:
            self._status("no fork at or before the cursor")
            return
        self._show_branch(*sibling)

    def action_show_forks_tab(self) -> None:
        if self.forks.fork_tree is None:
            self._status(NOT_GENERATED)
        self.query_one(TabbedContent).active = "tab-forks"
        self.query_one("#branches", OptionList).focus()

    def action_save_forks(self) -> None:
        self.forks.save()

    def action_open_forks(self) -> None:
        self.forks.open()

    def _show_branch(self, branch_id: int, cursor: int) -> None:
        """Show a branch of the fork tree at once (coloured where it matches the text shown),
        and replay the model over it (or take its kept replay) unless a branch is growing."""
        forks = self.forks
        tree = forks.fork_tree
        if tree is None:
            return
        forks.show(branch_id)
        text = forks.text
        view = self.view
        if view.text != text:
            same = divergence(view.text, text) if self.replay is not None else 0
            view.set_text(text)
            self.fresh_from = min(same, len(self.replay.text)) if self.replay else 0
            self._recolour()
        view.move_to(min(cursor, max(0, len(text) - 1)))
        view.set_forks(forks.fork_positions())
        name = "the text just generated" if branch_id == 0 else f"branch {branch_id}"
        self._source, self._source_name = ("text", text), name
        self._showing_branch = True
        self._cursor_after = view.cursor
        if forks.growing:
            self._request += 1  # a replay on its way is of a text no longer shown
        else:
            self._start(tree.checkpoint, tree.title)

    def on_forks_tab_branch_chosen(self, message: ForksTab.BranchChosen) -> None:
        self._show_branch(message.branch_id, message.cursor)
        self.view.focus()

    def on_forks_tab_opened(self, message: ForksTab.Opened) -> None:
        self._show_branch(0, 0)

    def on_forks_tab_grew(self, message: ForksTab.Grew) -> None:
        self.view.append(message.chars)

    def on_forks_tab_growth_ended(self, message: ForksTab.GrowthEnded) -> None:
        if self._showing_branch:  # its replay waited for the growth to end
            self._show_branch(self.forks.branch_id, self.view.cursor)

    # -- keys that move around --------------------------------------------------------------

    def action_escape(self) -> None:
        if self.forks.stop_growing() or self.memory.stop():
            return
        view = self.view
        if self.focused is not view and not isinstance(self.focused, Input):
            view.focus()
            return
        self._mark_start = None
        view.set_mark(None)

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        if tab == "tab-saturation" and self.replay is not None and no_gates(self.replay.cell):
            self._status(no_gates(self.replay.cell))
        inner = {
            "tab-finder": "#finder",
            "tab-checkpoint": "#inspect-picker",
            "tab-spans": "#span-matches",
            "tab-memory": "#inspect-text",  # the arrows move the cursor the heat follows
        }.get(tab)
        if inner:
            self.query_one(inner).focus()

    def on_status_line_say(self, message: StatusLine.Say) -> None:
        message.stop()
        self._status(message.text)

    def _status(self, text: str) -> None:
        self.query_one(StatusLine).say(text)
