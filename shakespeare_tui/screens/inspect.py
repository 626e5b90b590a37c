"""The Inspect view: what a checkpoint's network does over a text.

A text (a held-out passage of the checkpoint's corpus, a typed one, or what the Generate view
just wrote) is replayed through the model in a worker (core/replay.py); then the view shows,
at a cursor, the model's next-character distribution, colours every character by one unit's
value (the neuron lens, core/lens.py) or by its rank in the prediction (GLTR), ranks units by
how well they track features of the text (core/neurons.py, in a second worker), selects the
units that fire over a marked span and where else they fire (LSTMVis, core/spans.py), and plots
gate saturation per layer (core/saturation.py). Torch is imported only inside the workers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from rich.style import Style
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
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker
from textual_plotext import PlotextPlot

from shakespeare_tui.core import lens
from shakespeare_tui.core.cells import QUANTITIES
from shakespeare_tui.core.errors import one_line
from shakespeare_tui.core.saturation import no_gates
from shakespeare_tui.messages import CheckpointsScanned, InspectReady, SpansMatched, UnitsFound
from shakespeare_tui.screens.inspect_keys import KEYS
from shakespeare_tui.widgets.checkpoint_picker import CheckpointPicker
from shakespeare_tui.widgets.inspect_text import InspectText
from shakespeare_tui.widgets.next_char import NextCharPanel, shown

if TYPE_CHECKING:
    from shakespeare_tui.core.paths import Paths

PASSAGE_LENGTH = 10_000  # characters of held-out text inspected by default
TOP_K = 10  # next characters listed at the cursor
TOP_K_SHORT = 5  # on a short terminal (under 36 rows), so the tabs below keep some room
FIRST_FEATURE = "line_position"  # the lens opens on the unit that tracks it best
FINDER_TOP = 3  # units per feature in the finder's table
SHORT_NAMES = {"tanh_c": "tanh(c)", "c": "c", "h": "h", "i": "input gate i",
               "f": "forget gate f", "g": "candidate g", "o": "output gate o",
               "r": "reset gate r", "z": "update gate z", "n": "new state n"}  # fmt: skip

# One palette for every mode: the lens's 2·LEVELS+1 colours, then GLTR's rank buckets.
_RGB = "rgb({},{},{})".format
LENS_STYLES = tuple(
    Style(color=_RGB(*lens.ink(x)), bgcolor=_RGB(*lens.colour(x)))
    for x in (level / lens.LEVELS for level in range(-lens.LEVELS, lens.LEVELS + 1))
)
# Top 1, top 5, top 20, beyond (GLTR's green, yellow, orange, purple); dark ink on light
# backgrounds reads the same on a light or a dark theme.
RANK_COLOURS = ("#b7e4c7", "#fff3b0", "#ffc9a3", "#e0b0ff")
RANK_NAMES = ("top 1", "top 5", "top 20", "beyond")
RANK_STYLES = (Style(),) + tuple(Style(color="black", bgcolor=c) for c in RANK_COLOURS)
PALETTE = LENS_STYLES + RANK_STYLES
_RANKS_AT = len(LENS_STYLES)  # palette index of "no prediction"; buckets follow


class InspectScreen(Screen):
    """The app's "inspect" mode."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-normal"), (170, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]

    BINDINGS = KEYS

    def __init__(self, paths: Paths, *, length: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        from shakespeare_tui.core.catalog import InfoCache

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
        self._pending: tuple[str, str, str, str] | None = None  # a hand-off before the mount

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
                        yield Static("m marks a span's start, m again its end", id="span-info")
                        yield OptionList(id="span-matches")
                    with TabPane("Saturation", id="tab-saturation"):
                        note = Static("", id="saturation-note", classes="form-hint")
                        note.display = False  # shown for a cell without gates
                        yield note
                        yield PlotextPlot(id="saturation")
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

    def inspect(self, path: str, title: str, text: str, source: str) -> None:
        """Inspect `text` with the checkpoint at `path` (the Generate view's hand-off)."""
        if not self.is_mounted:
            self._pending = (path, title, text, source)
            return
        self._source, self._source_name = ("text", text), source
        self._start(path, title)

    def _start(self, path: str, title: str) -> None:
        self._request += 1
        self._entry = (path, title)
        self._mark_start = None
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
        from shakespeare_tui.screens.inspect_dialogs import TextDialog

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
        if entry is not None:
            self._start(*entry)
            self.query_one(InspectText).focus()

    # -- workers ----------------------------------------------------------------------------

    def _scan(self) -> None:
        self._scan_id += 1
        self._scan_worker(self._scan_id)

    @work(thread=True, exclusive=True, group="inspect-scan", exit_on_error=False)
    def _scan_worker(self, scan_id: int) -> None:
        from shakespeare_tui.core.catalog import scan_checkpoints

        infos = dict(self._infos)
        entries = scan_checkpoints(self.paths, infos)
        self._infos = infos
        self.post_message(CheckpointsScanned(scan_id, entries))

    def on_checkpoints_scanned(self, message: CheckpointsScanned) -> None:
        if message.scan_id != self._scan_id:
            return
        from shakespeare_tui.core.catalog import default_key

        picker = self.query_one(CheckpointPicker)
        keep = self._entry[0] if self._entry else ""
        key = next((e.key for e in message.entries if e.path == keep), None)
        with self.prevent(OptionList.OptionHighlighted):
            picker.show_entries(message.entries, key or default_key(message.entries))
        first = not self._scanned
        self._scanned = True
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.inspect(*pending)
        elif first and self._entry is None:
            entry = self._selected()
            if entry is not None:
                self._start(*entry)

    @work(thread=True, exclusive=True, group="inspect", exit_on_error=False)
    def _analyse(self, request: int, path: str, title: str, kind: str, text: str, name: str):
        from shakespeare_tui.core.checkpoint import load_checkpoint
        from shakespeare_tui.core.passages import held_out_passage
        from shakespeare_tui.core.replay import replay

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

    @work(thread=True, exclusive=True, group="inspect-find", exit_on_error=False)
    def _find(self, request: int, result, quantity: str) -> None:
        from shakespeare_tui.core.neurons import find_units

        self.post_message(UnitsFound(request, quantity, find_units(result, quantity, FINDER_TOP)))

    @work(thread=True, exclusive=True, group="inspect-spans", exit_on_error=False)
    def _match(self, request: int, result, layer: int, quantity: str, span: tuple[int, int]):
        from shakespeare_tui.core.spans import active, match_spans, select_units

        on = active(result, layer, quantity)
        units = select_units(on, *span)
        matches = match_spans(on, units, exclude=span)
        self.post_message(SpansMatched(request, span, units.tolist(), matches))

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
        }.get(worker.group, "failed")
        if worker.group == "inspect" and worker is not self._worker:
            return
        self._status(f"{what}: {one_line(worker.error)}")

    # -- answers ----------------------------------------------------------------------------

    def on_inspect_ready(self, message: InspectReady) -> None:
        if message.request != self._request:
            return
        result = self.replay = message.replay
        if self.quantity not in QUANTITIES[result.cell]:
            self.quantity = QUANTITIES[result.cell][0]
        self.lens_layer = min(self.lens_layer, result.layers - 1)
        self.lens_unit = min(self.lens_unit, result.hidden - 1)
        self.found, self.matches = {}, []
        self.query_one("#finder", DataTable).clear()
        self.query_one("#span-matches", OptionList).clear_options()
        self.query_one("#span-info", Static).update("m marks a span's start, m again its end")
        view = self.query_one(InspectText)
        view.set_text(result.text)
        view.border_title = (
            f"{message.title} · {message.source} · {result.bits_per_char:.3f} bits/char"
        )
        self._recolour()
        self._show_cursor(0)
        self._draw_saturation()
        self._find(self._request, result, self.quantity)

    def on_units_found(self, message: UnitsFound) -> None:
        if message.request != self._request or message.quantity != self.quantity:
            return
        self.found = message.found
        table = self.query_one("#finder", DataTable)
        table.clear()
        self._finder_rows = []
        for name, scores in message.found.items():
            for score in scores:
                table.add_row(name, str(score.layer), str(score.unit), f"{score.r:+.2f}")
                self._finder_rows.append(score)
        best = message.found.get(FIRST_FEATURE)
        if best and not self._unit_chosen:
            self._set_unit(best[0].layer, best[0].unit, chosen=False)

    @on(DataTable.RowSelected, "#finder")
    def _finder_row(self, event: DataTable.RowSelected) -> None:
        if 0 <= event.cursor_row < len(self._finder_rows):
            score = self._finder_rows[event.cursor_row]
            self.ranks = False
            self._set_unit(score.layer, score.unit)
            self._status(
                f"{score.feature}: layer {score.layer} unit {score.unit}, r {score.r:+.2f}"
            )

    def on_spans_matched(self, message: SpansMatched) -> None:
        if message.request != self._request or self.replay is None:
            return
        self.matches = message.matches
        text = self.replay.text
        a, b = message.span
        units = message.units
        listed = ", ".join(map(str, units[:12])) + (" …" if len(units) > 12 else "")
        info = Text(f"{len(units)} units on over ", style="")
        info.append(_excerpt(text, a, b), style="bold")
        info.append(f" and off before it: {listed or 'none'}\n" if units else
                    " and off before it: none (mark another span)\n")  # fmt: skip
        info.append(f"{len(message.matches)} other passages where they fire", style="dim")
        self.query_one("#span-info", Static).update(info)
        options = self.query_one("#span-matches", OptionList)
        options.clear_options()
        for match in message.matches:
            line = Text(f"{match.start:>6} ", style="dim")
            line.append(_excerpt(text, match.start, match.stop), style="bold")
            line.append(f" {match.selected_on}/{match.selected}", style="dim")
            options.add_option(Option(line))
        if message.matches:
            options.highlighted = 0
        self.query_one(TabbedContent).active = "tab-spans"

    @on(OptionList.OptionSelected, "#span-matches")
    def _match_chosen(self, event: OptionList.OptionSelected) -> None:
        if 0 <= event.option_index < len(self.matches):
            match = self.matches[event.option_index]
            view = self.query_one(InspectText)
            view.set_mark((match.start, match.stop))
            view.move_to(match.start)
            view.focus()

    # -- the cursor and the lens -----------------------------------------------------------

    @on(InspectText.CursorMoved)
    def _cursor_moved(self, event: InspectText.CursorMoved) -> None:
        self._show_cursor(event.position)

    def _show_cursor(self, t: int) -> None:
        result = self.replay
        if result is None or not result.text:
            return
        p = result.prediction
        value = float(result.unit_values(self.lens_layer, self.quantity, self.lens_unit)[t])
        lens_line = (
            f"L{self.lens_layer} unit {self.lens_unit} {SHORT_NAMES[self.quantity]} {value:+.3f}"
        )
        self.query_one(NextCharPanel).show(
            result.text[t],
            p.top(t, TOP_K_SHORT if self.has_class("-short") else TOP_K),
            float(p.prob[t]),
            float(p.surprise[t]),
            float(p.entropy[t]),
            int(p.rank[t]),
            lens_line,
        )
        self._status(
            f"{t + 1:,}/{len(result.text):,} {shown(result.text[t])} · {lens_line} · "
            f"{result.bits_per_char:.3f} bits/char"
        )

    def _recolour(self) -> None:
        result = self.replay
        if result is None:
            return
        view = self.query_one(InspectText)
        if self.ranks:
            shades = (result.prediction.rank_buckets().astype(np.int16) + _RANKS_AT + 1).astype(
                np.int8
            )
            legend = " ".join(
                f"[black on {c}] {n} [/]" for c, n in zip(RANK_COLOURS, RANK_NAMES, strict=True)
            )
            view.border_subtitle = f"rank of each character: {legend}"
        else:
            values = result.unit_values(self.lens_layer, self.quantity, self.lens_unit)
            shades = lens.quantise(lens.to_scale(self.quantity, values)) + lens.LEVELS
            low, high = _hex(lens.colour(-1)), _hex(lens.colour(1))
            view.border_subtitle = (
                f"L{self.lens_layer} unit {self.lens_unit} · {SHORT_NAMES[self.quantity]} · "
                f"[white on {low}] −1 [/][black on white] 0 [/][white on {high}] +1 [/]"
            )
        view.set_shades(shades, PALETTE)

    def _set_unit(self, layer: int, unit: int, chosen: bool = True) -> None:
        if self.replay is None:
            return
        self._unit_chosen = self._unit_chosen or chosen
        self.lens_layer = layer % self.replay.layers
        self.lens_unit = unit % self.replay.hidden
        self._recolour()
        self._show_cursor(self.query_one(InspectText).cursor)

    def action_step_unit(self, delta: int) -> None:
        self._set_unit(self.lens_layer, self.lens_unit + delta)

    def action_next_layer(self) -> None:
        if self.replay is not None:
            self._set_unit(self.lens_layer + 1, self.lens_unit)
            self._draw_saturation()

    def action_next_quantity(self) -> None:
        if self.replay is None:
            return
        names = QUANTITIES[self.replay.cell]
        self.quantity = names[(names.index(self.quantity) + 1) % len(names)]
        self.ranks = False
        self._set_unit(self.lens_layer, self.lens_unit)
        self._find(self._request, self.replay, self.quantity)

    def action_toggle_ranks(self) -> None:
        self.ranks = not self.ranks
        self._recolour()

    def action_type_unit(self) -> None:
        from shakespeare_tui.screens.inspect_dialogs import UnitDialog

        if self.replay is None:
            return
        self.app.push_screen(
            UnitDialog(self.replay.layers, self.replay.hidden, self.lens_layer),
            lambda chosen: chosen is not None and self._set_unit(*chosen),
        )

    def action_mark(self) -> None:
        if self.replay is None:
            return
        view = self.query_one(InspectText)
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
        self._match(self._request, self.replay, self.lens_layer, self.quantity, (a, b + 1))

    def action_escape(self) -> None:
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

    # -- saturation -------------------------------------------------------------------------

    def _draw_saturation(self) -> None:
        result = self.replay
        if result is None:
            return
        chart = self.query_one("#saturation", PlotextPlot)
        plt = chart.plt
        plt.clear_data()
        plt.clear_figure()
        reason = no_gates(result.cell)
        note = self.query_one("#saturation-note", Static)
        note.update(reason)
        note.display, chart.display = bool(reason), not reason
        if reason:
            return
        colours = ("red", "green", "blue", "orange")
        for (gate, sat), colour in zip(
            result.saturation[self.lens_layer].items(), colours, strict=False
        ):
            plt.scatter(sat.left.tolist(), sat.right.tolist(), marker="dot", color=colour,
                        label=gate)  # fmt: skip
        plt.xlim(0, 1)
        plt.ylim(0, 1)
        plt.xlabel("left-saturated (< 0.1)")
        plt.ylabel("right (> 0.9)")
        plt.title(f"layer {self.lens_layer}: gate saturation per unit")
        chart.refresh()

    def _status(self, text: str) -> None:
        self.query_one("#inspect-status", Static).update(Text(text))


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _excerpt(text: str, start: int, stop: int, limit: int = 24) -> str:
    piece = text[start:stop]
    if len(piece) > limit:
        piece = piece[: limit - 1] + "…"
    return "«" + "".join(shown(c) for c in piece) + "»"
