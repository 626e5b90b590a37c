"""The Inspect view: what a checkpoint's network does over a text.

A text (a held-out passage of the checkpoint's corpus, a typed one, or what the Generate view
just wrote) is replayed through the model in a worker (core/inspection/replay.py); then the view shows,
at a cursor, the model's next-character distribution, colours every character by one unit's
value (the neuron lens, core/inspection/lens.py) or by its rank in the prediction (GLTR), ranks units by
how well they track features of the text (core/inspection/neurons.py, in a second worker), selects the
units that fire over a marked span and where else they fire (LSTMVis, core/inspection/spans.py), and plots
gate saturation per layer (core/inspection/saturation.py). Torch is imported only inside the workers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Input,
    OptionList,
    Static,
    TabbedContent,
    TabPane,
)
from textual.worker import Worker, WorkerState, get_current_worker
from textual_plotext import PlotextPlot

from shakespeare_tui.core.errors import one_line
from shakespeare_tui.core.inspection.saturation import no_gates
from shakespeare_tui.messages import CheckpointsScanned, InspectReady
from shakespeare_tui.views.inspect.forks import Forks
from shakespeare_tui.views.inspect.keys import KEYS
from shakespeare_tui.views.inspect.lens import QUANTITIES, Lens
from shakespeare_tui.views.inspect.next_char import NextCharPanel
from shakespeare_tui.views.inspect.spans import SPAN_HINT, SpansAndSaturation
from shakespeare_tui.views.inspect.text_view import InspectText
from shakespeare_tui.widgets.checkpoint_picker import CheckpointPicker

if TYPE_CHECKING:
    from shakespeare_tui.core.paths import Paths

PASSAGE_LENGTH = 10_000  # characters of held-out text inspected by default
KEPT_REPLAYS = 4  # replays of a fork tree's branches kept for switching back


class InspectScreen(Forks, Lens, SpansAndSaturation, Screen):
    """The app's "inspect" mode."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-normal"), (170, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]

    BINDINGS = KEYS

    def __init__(self, paths: Paths, *, length: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        from shakespeare_tui.core.runs.checkpoints import InfoCache

        self.paths = paths
        self.length = length or PASSAGE_LENGTH
        self._infos: InfoCache = {}
        self._scan_id = 0
        self._scanned = False
        self._request = 0  # bumped per text or checkpoint; older answers are dropped
        self._worker: Worker | None = None
        self.replay = None  # core.replay.Replay, once a worker made one
        self.found: dict = {}  # the finder's answer
        self._finder_rows: list = []  # UnitScore per table row
        self.matches: list = []  # SpanMatch per option of the span list
        self.lens_layer, self.lens_unit = 0, 0
        self.quantity = ""
        self.ranks = False  # colour by rank instead of by the unit
        self._mark_start: int | None = None
        self._unit_chosen = False  # the person picked a unit: the finder no longer moves it
        self._source: tuple[str, str] = ("held_out", "")  # ("held_out", "") or ("text", text)
        self._source_name = ""
        self._entry: tuple[str, str] | None = None  # (path, title) being inspected
        self._pending = None  # a hand-off before the mount: (method, its arguments)
        self._cursor_after = 0  # where the cursor goes when the replay is ready
        self._replays: dict = {}  # (checkpoint, text) → Replay: a branch shown again at once
        self._replays_for = None  # the tree whose branches they are
        self._analysing_tree = None  # the fork tree the text being replayed belongs to
        self._models = None  # core.streaming.ModelCache for growing branches, once needed

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="inspect-body"):
            with Vertical(id="inspect-main"):
                text = InspectText(id="inspect-text")
                text.border_title = "Inspect"
                yield text
                yield Static("scanning checkpoints…", id="inspect-status")
            with Vertical(id="inspect-side"):
                panel = NextCharPanel(id="next-char")
                panel.border_title = "Next character"
                panel.show_nothing("no text yet")
                yield panel
                with TabbedContent(id="inspect-tabs", initial="tab-checkpoint"):
                    with TabPane("Checkpoint", id="tab-checkpoint"):
                        yield CheckpointPicker(id="inspect-picker")
                    with TabPane("Finder", id="tab-finder"):
                        yield DataTable(id="finder", cursor_type="row", zebra_stripes=True)
                    with TabPane("Spans", id="tab-spans"):
                        yield Static(SPAN_HINT, id="span-info")
                        yield OptionList(id="span-matches")
                    with TabPane("Gates", id="tab-saturation"):
                        note = Static("", id="saturation-note", classes="form-hint")
                        note.display = False  # shown for a cell without gates
                        yield note
                        yield PlotextPlot(id="saturation")
                    with TabPane("Forks", id="tab-forks"):
                        yield OptionList(id="branches")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#finder", DataTable)
        table.add_columns("feature", "L", "unit", "r")
        self.query_one(InspectText).focus()
        changed = getattr(self.app, "checkpoints_changed", None)  # None in a bare test app
        if changed is not None:
            changed.subscribe(self, lambda _path: self._scan())
        self._scan()

    # -- opening a text ---------------------------------------------------------------------

    def inspect(self, path: str, title: str, text: str, source: str, settings=None) -> None:
        """Inspect `text` with the checkpoint at `path` (the Generate view's hand-off); with
        the `settings` (seed set) it was generated with, its forks can be taken."""
        if not self.is_mounted:
            self._pending = (self.inspect, (path, title, text, source, settings))
            return
        self.stop_growing()
        if settings is not None and self.start_tree(path, title, settings, text):
            self._entry = (path, title)
            self._show_branch(0, 0)
            return
        self._source, self._source_name = ("text", text), source
        self._start(path, title)

    def inspect_checkpoint(self, path: str, title: str) -> None:
        """Inspect the checkpoint at `path` over its held-out text (the Runs view's hand-off)."""
        if not self.is_mounted:
            self._pending = (self.inspect_checkpoint, (path, title))
            return
        self.stop_growing()
        self._source, self._source_name = ("held_out", ""), ""
        self._start(path, title)

    def _start(self, path: str, title: str, tree=None) -> None:
        """Replay the model at `path` over the source text (a branch of `tree`, if given)."""
        self._request += 1
        self._entry = (path, title)
        self._mark_start = None
        self._analysing_tree = tree
        if tree is None:
            self._cursor_after = 0
        if tree is not self._replays_for:
            self._replays, self._replays_for = {}, tree
        kept = self._replays.get((path, self._source[1])) if tree is not None else None
        if kept is not None:
            self.on_inspect_ready(InspectReady(self._request, kept, title, self._source_name))
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
            self._status(f"cannot inspect {entry.title}: {entry.info.error}")
            return None
        return entry.path, entry.title

    def action_held_out(self) -> None:
        self._source, self._source_name = ("held_out", ""), ""
        entry = self._entry or self._selected()
        if entry is not None:
            self._start(*entry)

    def action_type_text(self) -> None:
        from shakespeare_tui.views.inspect.dialogs import TextDialog

        current = self._source[1] if self._source[0] == "text" else ""
        self.app.push_screen(TextDialog(current), self._typed)

    def _typed(self, text: str | None) -> None:
        if text is None:
            return
        self._source, self._source_name = ("text", text), "typed text"
        entry = self._entry or self._selected()
        if entry is not None:
            self._start(*entry)

    @on(OptionList.OptionSelected, "#inspect-picker")
    def _checkpoint_chosen(self, event: OptionList.OptionSelected) -> None:
        entry = self._selected()
        if entry is not None and not self._refuse_while_growing():
            # A branch stays a branch (its forks still grow with the model that wrote it).
            self._start(*entry, tree=self._analysing_tree)
            self.query_one(InspectText).focus()

    # -- workers ----------------------------------------------------------------------------

    def _scan(self) -> None:
        self._scan_id += 1
        self._scan_worker(self._scan_id)

    @work(thread=True, exclusive=True, group="inspect-scan", exit_on_error=False)
    def _scan_worker(self, scan_id: int) -> None:
        from shakespeare_tui.core.runs.checkpoints import scan_checkpoints

        infos = dict(self._infos)
        entries = scan_checkpoints(self.paths, infos)
        self._infos = infos
        self.post_message(CheckpointsScanned(scan_id, entries))

    def on_checkpoints_scanned(self, message: CheckpointsScanned) -> None:
        if message.scan_id != self._scan_id:
            return
        from shakespeare_tui.core.runs.checkpoints import default_key

        picker = self.query_one(CheckpointPicker)
        keep = self._entry[0] if self._entry else ""
        key = next((e.key for e in message.entries if e.path == keep), None)
        with self.prevent(OptionList.OptionHighlighted):
            picker.show_entries(message.entries, key or default_key(message.entries))
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
    def _analyse(self, request: int, path: str, title: str, kind: str, text: str, name: str):
        from shakespeare_tui.core.inspection.replay import replay
        from shakespeare_tui.core.model.checkpoint import load_checkpoint
        from shakespeare_tui.core.text.passages import held_out_passage

        stop = get_current_worker().cancelled_event
        checkpoint = load_checkpoint(path)
        if kind == "held_out":
            passage = held_out_passage(checkpoint.payload, self.paths.cache, self.length)
            text, context, source = passage.text, passage.context, passage.source
        else:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            context, source = None, f"{name} ({len(text):,} characters)"
        if kind == "held_out" and "\n" not in checkpoint.vocab:
            context = ""
        result = replay(checkpoint.model, checkpoint.vocab, text, context=context, stop=stop)
        self.post_message(InspectReady(request, result, title, source))

    @on(OptionList.OptionSelected, "#branches")
    def _branch_chosen(self, event: OptionList.OptionSelected) -> None:
        self.show_branch_option(event.option_index)

    @on(OptionList.OptionSelected, "#span-matches")
    def _match_chosen(self, event: OptionList.OptionSelected) -> None:
        self.show_match(event.option_index)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if not worker.group.startswith("inspect"):
            return
        event.stop()
        if event.state != WorkerState.ERROR:
            return
        what = {
            "inspect": "cannot inspect",
            "inspect-scan": "cannot list checkpoints",
            "inspect-find": "the finder failed",
            "inspect-spans": "cannot match the span",
            "inspect-fork": "cannot grow the branch",
            "inspect-open": "cannot open the fork tree",
        }.get(worker.group)
        if what is None or (worker.group == "inspect" and worker is not self._worker):
            return  # (a checkpoint that cannot be hashed is saved with no checksum)
        line = f"{what}: {one_line(worker.error)}"
        if worker.group == "inspect-fork" and worker is self._growing:
            self.growth_failed()
        if worker.group == "inspect-open":
            self.notify(line, severity="error", markup=False)
        if worker.group == "inspect" and self.replay is not None:
            line += "; still showing the text before"
        self._status(line)

    # -- answers ----------------------------------------------------------------------------

    def on_inspect_ready(self, message: InspectReady) -> None:
        if message.request != self._request:
            return
        result = self.replay = message.replay
        self.tree = self._analysing_tree
        if self.tree is not None:
            self._replays[(self._entry[0], result.text)] = result
            while len(self._replays) > KEPT_REPLAYS:
                self._replays.pop(next(iter(self._replays)))
        self._fresh_from = None
        if self.quantity not in QUANTITIES[result.cell]:
            self.quantity = QUANTITIES[result.cell][0]
        self.lens_layer = min(self.lens_layer, result.layers - 1)
        self.lens_unit = min(self.lens_unit, result.hidden - 1)
        self.found, self.matches = {}, []
        self.query_one("#finder", DataTable).clear()
        self.query_one("#span-matches", OptionList).clear_options()
        self.query_one("#span-info", Static).update(SPAN_HINT)
        view = self.query_one(InspectText)
        if view.text != result.text:
            view.set_text(result.text)
        view.border_title = (
            f"{message.title} · {message.source} · {result.bits_per_char:.3f} bits/char"
        )
        self._recolour()
        self._show_forks()
        self._fill_branches()
        cursor = min(self._cursor_after, max(0, len(result.text) - 1))
        if view.cursor != cursor:
            view.move_to(cursor)  # the cursor's message shows it
        else:
            self._show_cursor(cursor)
        self._draw_saturation()
        self._find(self._request, result, self.quantity)

    @on(DataTable.RowSelected, "#finder")
    def _finder_row(self, event: DataTable.RowSelected) -> None:
        if 0 <= event.cursor_row < len(self._finder_rows):
            score = self._finder_rows[event.cursor_row]
            self.ranks = False
            self._set_unit(score.layer, score.unit)
            self._status(
                f"{score.feature}: layer {score.layer} unit {score.unit}, r {score.r:+.2f}"
            )

    # -- the cursor and the lens -----------------------------------------------------------

    @on(InspectText.CursorMoved)
    def _cursor_moved(self, event: InspectText.CursorMoved) -> None:
        self._show_cursor(event.position)

    def _model_cache(self):
        """Loaded models for growing branches (made on first use, in a worker)."""
        if self._models is None:
            from shakespeare_tui.core.sampling.streaming import ModelCache

            self._models = ModelCache(size=1)
        return self._models

    def action_escape(self) -> None:
        if self.stop_growing():
            return
        view = self.query_one(InspectText)
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
        }.get(tab)
        if inner:
            self.query_one(inner).focus()

    def _status(self, text: str) -> None:
        self.query_one("#inspect-status", Static).update(Text(text))
