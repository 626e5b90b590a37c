"""The Runs view: every run in a table, the selected runs' curves overlaid on one chart, the
differences between two of them, and what can be done with a run.

`m` turns the chart from the training curves to how far back each selected run reads — its
context curve, then its connectivity — measured in the memory pane's worker
(views/runs/memory_pane.py) and kept, so the next look is instant.

A worker catches a RunCatalog (the app's, which its other lists read too: shared_listing.py) up
with the runs folder every REFRESH_S seconds and on ctrl+r (a few stats per run when nothing
changed; only what was appended is parsed, so a run trained by another process updates live) and builds the selected runs' curves (core/runs/curves.py). The UI thread filters,
sorts and draws. Renaming, deleting, exporting and finding a run's checkpoint touch files, so
they run in a worker too (the file work is views/runs/actions.py).

Every key of the view is in BINDINGS below, with its action in this class.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Static
from textual.worker import Worker, WorkerState, get_current_worker

from shakespeare_tui.core.errors import ActionFailed, UserError, one_line
from shakespeare_tui.core.figures import count, size
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.runs.catalog import CACHE_FILE, RunCatalog
from shakespeare_tui.core.runs.checkpoints import bundled_entry
from shakespeare_tui.core.runs.curves import (
    SMOOTHING_WEIGHTS,
    X_AXES,
    X_TITLES,
    RunCurves,
    run_curves,
)
from shakespeare_tui.core.runs.diff import diff_runs
from shakespeare_tui.core.runs.folders import BUNDLED
from shakespeare_tui.core.runs.listing import Listing
from shakespeare_tui.core.runs.table import (
    HALF_WRITTEN,
    RunRow,
    bundled_row,
    filter_rows,
    sort_rows,
)
from shakespeare_tui.messages import (
    BundledRowRead,
    ListingRefreshed,
    RunActionDone,
    RunsRefreshed,
)
from shakespeare_tui.settings import RunsSettings
from shakespeare_tui.view_host import view_host
from shakespeare_tui.views.runs.actions import VERBS, act_on_run
from shakespeare_tui.views.runs.chart import CURVES, ChartRun, RunsChart, free_colour
from shakespeare_tui.views.runs.dialogs import DeleteDialog, RenameDialog
from shakespeare_tui.views.runs.memory_pane import MemoryPane, MemoryRun
from shakespeare_tui.views.runs.panel import RunPanel
from shakespeare_tui.views.runs.table import MARK, SHOWN, SORT_KEYS, TABLE_COLUMNS, RunsTable
from shakespeare_tui.widgets.field_input import FieldInput
from shakespeare_tui.widgets.keys_footer import KeysFooter

REFRESH_S = 2.0  # between catch-ups with the runs folder
# A first look at many long runs shows the rows read after FIRST_ROWS_S, then more every
# MORE_ROWS_S (each showing costs the UI thread, which shares the GIL with the reading).
FIRST_ROWS_S, MORE_ROWS_S = 0.3, 1.0
DESCENDING_FIRST = {"created"}  # columns whose first sort is descending (newest first)
TOP = 10  # runs `a` selects
CURVE_NAMES = {"both": "train+val", "val": "val only", "train": "train only"}
# What the chart shows, in the order `m` goes through them.
CHARTS = ("training", "context", "connectivity")
CHART_NAMES = {"training": "training curves", "context": "context curves",
               "connectivity": "connectivity"}  # fmt: skip
# The training curves' settings: nothing to change while the memory charts are shown.
TRAINING_CHART_ONLY = {"smoothing", "next_x_axis", "toggle_log", "toggle_fit", "next_curves"}
SMOOTHING_KEYS = Binding.Group("Smooth", compact=True)  # "[] Smooth"
# The keys the footer keeps while they fit, most useful first (the others: `?`, the help).
FOOTER_FIRST = ("runs.select", "runs.memory", "runs.continue", "app.quit", "runs.filter",
                "runs.sort", "runs.x_axis", "app.train", "app.generate")  # fmt: skip
# What the keys typed into the filter field would do: not offered while it has the focus.
TYPED_IN_FIELD = {"toggle_select", "select_top", "clear_selection", "filter", "sort", "reverse",
                  "smoothing", "next_x_axis", "toggle_log", "toggle_fit", "toggle_bits",
                  "next_curves", "continue_run", "generate", "inspect", "rename", "delete",
                  "export", "queue", "next_chart"}  # fmt: skip


def _who(row: RunRow) -> str:
    return "this program" if row.training_here else "another process"


class RunsScreen(Screen):
    """The app's "runs" mode."""

    AUTO_FOCUS = "#runs-table"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-normal"), (170, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall"), (50, "-very-tall")]
    # Ids for the keymap, tooltips for the help and the palette.
    BINDINGS = [
        Binding("space", "toggle_select", "Select", id="runs.select",
                tooltip="Select the highlighted run (or unselect it): its curves join the chart"),
        Binding("a", "select_top", "Top 10", show=False, id="runs.select_top",
                tooltip="Select the first ten runs as sorted (o to sort by best val: the best ten)"),
        Binding("c", "clear_selection", "Unselect all", show=False, id="runs.clear",
                tooltip="Unselect every run"),
        Binding("slash", "filter", "Filter", id="runs.filter",
                tooltip="Type to keep the runs whose name, cell, corpus or state hold every word"),
        Binding("escape", "escape", "Clear filter", show=False, id="runs.escape",
                tooltip="Clear the filter and go back to the table; stop measuring the runs' "
                "memory"),
        Binding("o", "sort(1)", "Sort", id="runs.sort",
                tooltip="Sort by the next column (O the previous one; a click on a header sorts)"),
        Binding("O", "sort(-1)", "Sort back", show=False, id="runs.sort_back",
                tooltip="Sort by the previous column"),
        Binding("r", "reverse", "Reverse", show=False, id="runs.reverse",
                tooltip="Reverse the order of the sort"),
        # (Out of the footer, which holds no more at 120 columns: the line under the chart
        # names them with the smoothing they set.)
        Binding("left_square_bracket", "smoothing(-1)", "Less", key_display="[", show=False,
                group=SMOOTHING_KEYS, id="runs.smooth_less",
                tooltip="Smooth the training curves less"),
        Binding("right_square_bracket", "smoothing(1)", "More", key_display="]", show=False,
                group=SMOOTHING_KEYS, id="runs.smooth_more",
                tooltip="Smooth the training curves more (0, 0.6, 0.8, 0.9, 0.95, 0.99)"),
        Binding("x", "next_x_axis", "X-axis", id="runs.x_axis",
                tooltip="Put the step, the characters seen or the wall time on the x-axis"),
        Binding("l", "toggle_log", "Log", show=False, id="runs.log",
                tooltip="A logarithmic loss axis, or a linear one"),
        Binding("z", "toggle_fit", "Fit all", show=False, id="runs.fit",
                tooltip="Fit the loss axis to every point, or leave out the highest 5% (the first "
                "steps), as TensorBoard does by default"),
        Binding("b", "toggle_bits", "Bits", show=False, id="runs.bits",
                tooltip="Losses in bits per character, or in nats"),
        Binding("v", "next_curves", "Curves", show=False, id="runs.curves",
                tooltip="Draw training and validation curves, validation only, or training only"),
        Binding("m", "next_chart", "Memory", id="runs.memory",
                tooltip="How far back each selected run reads: its context curve (the loss with "
                "only the last k characters read, beside an n-gram's), then its connectivity, "
                "then the training curves again; measured on the best checkpoints over one "
                "shared text the first time"),
        Binding("T", "continue_run", "Continue", id="runs.continue",
                tooltip="Continue the highlighted run: the Train view with it selected (s "
                "resumes); a run another process trains is followed there, live"),
        Binding("G", "generate", "Generate", show=False, id="runs.generate",
                tooltip="Generate from the highlighted run's best checkpoint"),
        Binding("I", "inspect", "Inspect", show=False, id="runs.inspect",
                tooltip="Inspect the highlighted run's best checkpoint"),
        Binding("n", "rename", "Rename", show=False, id="runs.rename",
                tooltip="Rename the highlighted run"),
        Binding("d,delete", "delete", "Delete", show=False, id="runs.delete",
                tooltip="Delete the highlighted run (it asks first)"),
        Binding("e", "export", "Export", show=False, id="runs.export",
                tooltip="Export the highlighted run's best checkpoint, weights only in bf16, to the "
                "data folder's exports/"),
        Binding("Q", "queue", "Queue", show=False, id="runs.queue",
                tooltip="Show the run queue"),
    ]  # fmt: skip

    def __init__(
        self,
        paths: Paths,
        settings: RunsSettings,
        refresh_s: float | None = None,
        listing: Listing | None = None,
    ) -> None:
        """`listing`: the app's list of runs and checkpoints, whose RunCatalog this view reads
        too (one reading of the folder for every view); without it, a catalog of its own."""
        super().__init__()
        self.paths = paths
        self.settings = settings
        if settings.sort not in SHOWN:
            settings.sort, settings.descending = "created", True
        if settings.x_axis not in X_AXES:
            settings.x_axis = "step"
        self.refresh_s = refresh_s or REFRESH_S
        if listing is not None:
            self._catalog, self._catalog_lock = listing.catalog, listing.lock
        else:
            self._catalog = RunCatalog(paths.runs, cache=paths.cache / CACHE_FILE)
            self._catalog_lock = threading.Lock()  # one worker at a time reads it
        self._curve_cache: dict[str, tuple] = {}  # the worker's: name → (what from, curves)
        self._catalog_rows: tuple[RunRow, ...] | None = None  # None: not read yet
        self._bundled: RunRow | None = None
        self._bundled_asked = False
        self._pending = 0  # runs a first look has not read yet
        self.rows: list[RunRow] = []  # every run, the bundled checkpoint first
        self._by_name: dict[str, RunRow] = {}
        self.shown: list[RunRow] = []  # those the filter keeps, sorted
        self.selected: dict[str, int] = {}  # name → palette index, in the order selected
        self.curves: dict[str, RunCurves] = {}  # of the selected runs, once read
        self.filter_text = ""
        self._refreshing: Worker | None = None
        self._again = False  # asked for while a refresh ran: one more follows it
        self._highlight_next: str | None = None  # a renamed run, highlighted once it is listed
        self._renames: dict[str, str] = {}  # renames asked for: old name → new
        self._expected_gone: set[str] = set()  # runs this view renamed or deleted
        self.chart_mode = CHARTS[0]  # what the chart shows: a key of CHART_NAMES
        self._to_compare: list[str] = []  # runs to select as they are listed (compare)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Whether `action` works now (False hides it from the footer and the palette): in the
        filter field the printable keys are typed; the memory charts have no smoothing, x-axis
        or log scale to change."""
        if self.chart_mode != "training" and action in TRAINING_CHART_ONLY:
            return False
        return not (isinstance(self.focused, Input) and action in TYPED_IN_FIELD)

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="runs-bar"):
            yield FieldInput(placeholder="/ filter: name, cell, corpus, state", id="runs-filter",
                             compact=True)  # fmt: skip
            yield Static("reading the runs folder…", id="runs-status")
        yield RunsTable(id="runs-table")
        with Horizontal(id="runs-lower"):
            yield RunsChart(id="runs-chart")
            yield MemoryPane(self.paths.cache, id="runs-memory")
            with VerticalScroll(id="runs-side"):
                yield RunPanel(id="runs-panel")
        yield Static(id="runs-controls")
        yield KeysFooter(FOOTER_FIRST)

    def on_mount(self) -> None:
        table = self.query_one(RunsTable)
        table.set_sort(self.settings.sort, self.settings.descending)
        chart = self.query_one(RunsChart)
        chart.x_axis, chart.log_y = self.settings.x_axis, self.settings.log_y
        self.query_one(MemoryPane).display = False
        self.query_one("#runs-side").can_focus = False
        self._show_controls()
        self._request_refresh()  # the bundled checkpoint's row follows the first table
        listing = getattr(self.app, "listing", None)  # the app's (none in a bare test app)
        if listing is not None:
            listing.subscribe(self)
        self.set_interval(self.refresh_s, self._tick)

    def on_resize(self) -> None:
        self._show_controls()

    def on_screen_resume(self) -> None:
        self._request_refresh()

    def on_listing_refreshed(self, message: ListingRefreshed) -> None:
        """The app's listing read the folder (its refresh, ctrl+r): the table catches up."""
        if message.changed and self.is_current:
            self._request_refresh()

    # -- the refresh worker -------------------------------------------------------------

    def _tick(self) -> None:
        if self.is_current:
            self._request_refresh()

    def _request_refresh(self) -> None:
        """Catch up in a worker; asked for while one runs, one more follows it."""
        if self._refreshing is not None and not self._refreshing.is_finished:
            self._again = True
            return
        self._again = False
        self._refreshing = self._refresh(tuple(self.selected), self.settings.smoothing)

    @work(thread=True, exclusive=True, group="runs-refresh", exit_on_error=False)
    def _refresh(self, wanted: tuple[str, ...], weight: float) -> None:
        worker = get_current_worker()
        with self._catalog_lock:
            catalog = self._catalog
            catalog.refresh(budget_s=FIRST_ROWS_S)
            while catalog.pending and not worker.is_cancelled:  # a first look at many runs
                self.post_message(RunsRefreshed(catalog.rows, {}, catalog.pending))
                catalog.refresh(budget_s=MORE_ROWS_S)
            curves = {}
            for name in wanted:
                series, row = catalog.series(name), catalog.row(name)
                if series is None or row is None:
                    continue  # gone since it was selected
                made_from = (series, len(series.steps), len(series.eval_steps), weight,
                             row.best_step, series.chars_per_step)  # fmt: skip
                cached = self._curve_cache.get(name)
                if cached is None or cached[0] != made_from:
                    curves_now = run_curves(series, weight, row.best_step)
                    cached = self._curve_cache[name] = (made_from, curves_now)
                curves[name] = cached[1]
            for name in [n for n in self._curve_cache if n not in wanted]:
                del self._curve_cache[name]
            rows, pending = catalog.rows, catalog.pending
        self.post_message(RunsRefreshed(rows, curves, pending))

    @work(thread=True, exclusive=True, group="runs-bundled", exit_on_error=False)
    def _read_bundled(self) -> None:
        entry = bundled_entry()
        if entry is not None and entry.ok:
            self.post_message(BundledRowRead(bundled_row(entry.info)))

    def on_runs_refreshed(self, message: RunsRefreshed) -> None:
        if not message.pending and not self._bundled_asked:
            self._bundled_asked = True
            self._read_bundled()  # it loads torch: after the table, not competing with it
        pending_before, self._pending = self._pending, message.pending
        if message.rows is not self._catalog_rows:
            self._catalog_rows = message.rows
            self._set_rows()
        elif pending_before != message.pending:
            self._show_status()
        fresh = {n: c for n, c in message.curves.items() if n in self.selected}
        if any(self.curves.get(n) is not c for n, c in fresh.items()):
            self.curves.update(fresh)
            self._show_chart()

    def on_bundled_row_read(self, message: BundledRowRead) -> None:
        self._bundled = message.row
        self._set_rows()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if not worker.group.startswith("runs-"):
            return
        event.stop()
        if worker is self._refreshing and worker.is_finished and self._again:
            self._request_refresh()
        if event.state != WorkerState.ERROR or worker.error is None:
            return
        what = {"runs-refresh": "cannot read the runs folder",
                "runs-bundled": "cannot read the bundled checkpoint",
                "runs-action": "the action failed"}.get(worker.group, "failed")  # fmt: skip
        self._tell(f"{what}: {one_line(worker.error)}", severity="error")

    # -- rows ---------------------------------------------------------------------------

    def _set_rows(self) -> None:
        """The catalog's rows (and the bundled one) changed: show them, keeping the
        highlighted run and the selection; say so if a selected run went away."""
        rows = ([self._bundled] if self._bundled else []) + list(self._catalog_rows or ())
        names = {r.name for r in rows}
        table = self.query_one(RunsTable)
        for old, new in list(self._renames.items()):
            if old not in names and new in names:
                self.renamed(old, new)
        # (A run just renamed here keeps its place until the new name is listed.)
        gone = [n for n in self.selected if n not in names and n != self._highlight_next]
        highlighted = table.highlighted_name
        if highlighted not in names and highlighted is not None and highlighted not in gone:
            gone.append(highlighted)
        gone = [n for n in gone if n not in self._renames]  # listed again once renamed
        for name in gone:
            self.selected.pop(name, None)
            self.curves.pop(name, None)
        unexpected = [n for n in gone if n not in self._expected_gone]
        if unexpected and self._catalog_rows is not None:
            self._tell(f"{', '.join(unexpected)}: no longer in {self.paths.runs} (deleted or "
                       "renamed elsewhere)", severity="warning")  # fmt: skip
        self._expected_gone &= names  # those still listed: going, not gone yet
        self.rows, self._by_name = rows, {r.name: r for r in rows}
        highlight = self._highlight_next if self._highlight_next in names else None
        if highlight is not None:
            self._highlight_next = None
        self._show_rows(highlight)
        if gone:
            self._show_chart()
        self._select_compared()
        self._show_memory()  # a run that ended is measured now

    def _show_rows(self, highlight: str | None = None) -> None:
        key = SORT_KEYS.get(self.settings.sort, self.settings.sort)
        rows = sort_rows(filter_rows(self.rows, self.filter_text), key,
                         descending=self.settings.descending)  # fmt: skip
        self.shown = rows
        self.query_one(RunsTable).show(rows, self.selected, highlight)
        self._show_status()
        self._show_panel()

    def _row(self, name: str | None) -> RunRow | None:
        return self._by_name.get(name) if name else None

    @property
    def highlighted(self) -> RunRow | None:
        return self._row(self.query_one(RunsTable).highlighted_name)

    def _show_status(self) -> None:
        if self._catalog_rows is None:
            return
        total, shown = len(self.rows), len(self.shown)
        training = sum(r.training for r in self.rows)
        parts = [f"{total} run{'s' * (total != 1)}" if shown == total else f"{shown} of {total}"]
        if self._pending:
            parts.insert(0, f"reading the runs folder: {self._pending} more to come")
        if training:
            parts.append(f"{training} training")
        arrow = "▼" if self.settings.descending else "▲"
        parts.append(f"sorted by {TABLE_COLUMNS[self.settings.sort].title} {arrow}")
        self.query_one("#runs-status", Static).update(
            Text(" · ".join(parts), style="dim"), layout=False
        )

    def _show_panel(self) -> None:
        panel = self.query_one(RunPanel)
        chosen = [self._row(n) for n in self.selected]
        a, b = chosen if len(chosen) == 2 else (None, None)
        self.set_class(a is not None and b is not None, "-two")
        bits = self.query_one(RunsChart).bits
        if a is not None and b is not None:
            colours = (self.selected[a.name], self.selected[b.name])
            panel.show_diff(diff_runs(a, b), colours, bits)
        else:
            row = self.highlighted
            panel.show_details(row, self.selected.get(row.name) if row else None, bits)

    @on(DataTable.RowHighlighted, "#runs-table")
    def _row_highlighted(self) -> None:
        if len(self.selected) != 2:
            self._show_panel()

    @on(DataTable.HeaderSelected, "#runs-table")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        key = event.column_key.value
        if key == self.settings.sort:
            self.action_reverse()
        elif key in SHOWN and key != MARK:
            self._sort_by(key, key in DESCENDING_FIRST)

    # -- the filter ---------------------------------------------------------------------

    @on(Input.Changed, "#runs-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        self._show_rows()

    @on(Input.Submitted, "#runs-filter")
    def _filter_submitted(self) -> None:
        self.query_one(RunsTable).focus()

    def action_filter(self) -> None:
        self.query_one("#runs-filter", Input).focus()

    def action_escape(self) -> None:
        field = self.query_one("#runs-filter", Input)
        pane = self.query_one(MemoryPane)
        if field.value:
            field.value = ""  # its Changed shows every run again
        elif pane.measuring and not isinstance(self.focused, Input):
            pane.stop()
            self._show_controls()
        self.query_one(RunsTable).focus()

    # -- sorting ------------------------------------------------------------------------

    def _sort_by(self, key: str, descending: bool) -> None:
        self.settings.sort, self.settings.descending = key, descending
        self.query_one(RunsTable).set_sort(key, descending)
        self._show_rows()

    def action_sort(self, direction: int) -> None:
        i = SHOWN.index(self.settings.sort) if self.settings.sort in SHOWN else 0
        key = SHOWN[(i + direction) % len(SHOWN)]
        self._sort_by(key, key in DESCENDING_FIRST)

    def action_reverse(self) -> None:
        self._sort_by(self.settings.sort, not self.settings.descending)

    # -- the selection and the chart ------------------------------------------------------

    def _select(self, names: list[str], select: bool) -> None:
        """Select (or unselect) runs: each selected one gets a colour of its own while it stays
        selected, and its curves join the chart."""
        for name in names:
            if select and name not in self.selected:
                self.selected[name] = free_colour(self.selected.values())
            elif not select:
                self.selected.pop(name, None)
                self.curves.pop(name, None)
        self._show_rows()
        self._show_controls()
        # The table's marks answer the key in this frame; the chart (a plot of ten runs is
        # tens of milliseconds) and the worker (it reads a newly selected run's file whole,
        # sharing the GIL) come after it.
        self.call_after_refresh(self._show_chart)
        self.call_after_refresh(self._request_refresh)

    def action_toggle_select(self) -> None:
        row = self.highlighted
        if row is None:
            return
        if row.path is None:
            self._tell("the bundled checkpoint has no training history to draw", "warning")
            return
        self._select([row.name], row.name not in self.selected)

    def action_select_top(self) -> None:
        self._select([r.name for r in self.shown if r.path is not None][:TOP], True)

    def action_clear_selection(self) -> None:
        self._select(list(self.selected), False)

    def _show_chart(self) -> None:
        runs = [ChartRun(n, c, self.curves.get(n)) for n, c in self.selected.items()]
        self.query_one(RunsChart).show_runs(runs)
        self._show_memory()
        self._show_controls()

    def _show_memory(self) -> None:
        """The memory pane follows the selection (it measures only while shown)."""
        runs = []
        for name, colour in self.selected.items():
            row = self._row(name)
            if row is not None and row.path is not None:
                version = row.best_step if row.best_step is not None else row.step
                runs.append(MemoryRun(name, colour, row.path, row.training, version))
        pane = self.query_one(MemoryPane)
        if tuple(runs) != pane.runs:
            pane.show_runs(runs)

    def action_next_chart(self) -> None:
        """The training curves → the context curves → connectivity → the training curves."""
        mode = self.chart_mode = CHARTS[(CHARTS.index(self.chart_mode) + 1) % len(CHARTS)]
        memory = mode != "training"
        pane = self.query_one(MemoryPane)
        self.query_one(RunsChart).display = not memory
        pane.display = memory
        self.set_class(memory, "-memory")
        if memory:
            pane.chart.kind = mode
            pane.chart.bits = self.query_one(RunsChart).bits
            on_gpu = getattr(self.app, "device_type", None) == "cuda"  # known once torch is
            pane.device = "cuda" if on_gpu else None
            self._show_memory()
            pane.activate()
            if not self.selected:
                self._tell("space selects runs: their memories are measured and drawn here")
        else:
            pane.deactivate()
        self._show_controls()
        self.refresh_bindings()

    def compare(self, names: Iterable[str]) -> None:
        """Select these runs, and only these, as each is listed (a queued run is listed when
        it starts), by characters seen: the cells compared (the Train view's C)."""
        self._to_compare = list(names)
        if not self._to_compare:
            return
        self.settings.x_axis = "chars"
        if self.is_mounted:
            self.query_one(RunsChart).x_axis = "chars"
            self._select(list(self.selected), False)
            self._select_compared()

    def _select_compared(self) -> None:
        listed = [n for n in self._to_compare if n in self._by_name]
        if listed:
            self._to_compare = [n for n in self._to_compare if n not in listed]
            self._select(listed, True)

    def _show_controls(self) -> None:
        """The chart's settings, each after its key; shorter words under 100 columns."""
        chart, narrow = self.query_one(RunsChart), self.size.width < 100
        if self.chart_mode != "training":
            self._show_memory_controls(narrow)
            return
        fit = ("fit all" if chart.fit_all else "fit 95%") if narrow else (
            "all points" if chart.fit_all else "top 5% out")  # fmt: skip
        curves = chart.curves if narrow else CURVE_NAMES[chart.curves]
        parts = [("[ ]", f"{'smooth' if narrow else 'smoothing'} {self.settings.smoothing:g}"),
                 ("x", chart.x_axis if narrow else X_TITLES[chart.x_axis]),
                 ("l", "log" if chart.log_y else "linear"), ("z", fit),
                 ("b", "bits" if chart.bits else "nats"), ("v", curves)]  # fmt: skip
        text = Text()
        for key, value in parts:
            text.append(f"{key} ", style="bold")
            text.append(value + ("  " if narrow else "   "))
        text.append("m ", style="bold")
        text.append("memory" + ("  " if narrow else "   "))
        n = len(self.selected)
        text.append(f"{n} selected" if n else "space selects runs to compare", style="dim")
        self.query_one("#runs-controls", Static).update(text, layout=False)

    def _show_memory_controls(self, narrow: bool) -> None:
        chart = self.query_one(RunsChart)
        after = CHARTS[(CHARTS.index(self.chart_mode) + 1) % len(CHARTS)]
        gap = "  " if narrow else "   "
        text = Text()
        text.append("m ", style="bold")
        text.append(f"{CHART_NAMES[self.chart_mode]} (next: {CHART_NAMES[after]}){gap}")
        if self.chart_mode == "context":
            text.append("b ", style="bold")
            text.append(("bits" if chart.bits else "nats") + gap)
        n = len(self.selected)
        text.append(f"{n} selected" if n else "space selects runs to compare", style="dim")
        self.query_one("#runs-controls", Static).update(text, layout=False)

    def action_smoothing(self, direction: int) -> None:
        weights = SMOOTHING_WEIGHTS
        now = min(range(len(weights)), key=lambda i: abs(weights[i] - self.settings.smoothing))
        self.settings.smoothing = weights[max(0, min(len(weights) - 1, now + direction))]
        self._show_controls()
        self.call_after_refresh(self._request_refresh)  # the worker smooths the curves again

    def action_next_x_axis(self) -> None:
        chart = self.query_one(RunsChart)
        chart.x_axis = self.settings.x_axis = X_AXES[(X_AXES.index(chart.x_axis) + 1) % 3]
        self._show_controls()

    def action_toggle_log(self) -> None:
        chart = self.query_one(RunsChart)
        chart.log_y = self.settings.log_y = not chart.log_y
        self._show_controls()

    def action_toggle_fit(self) -> None:
        chart = self.query_one(RunsChart)
        chart.fit_all = not chart.fit_all
        self._show_controls()

    def action_toggle_bits(self) -> None:
        chart = self.query_one(RunsChart)
        chart.bits = self.query_one(MemoryPane).chart.bits = not chart.bits
        self._show_controls()
        self._show_panel()

    def action_next_curves(self) -> None:
        chart = self.query_one(RunsChart)
        chart.curves = CURVES[(CURVES.index(chart.curves) + 1) % len(CURVES)]
        self._show_controls()

    # -- what can be done with a run -----------------------------------------------------

    def _acting_on(self) -> RunRow | None:
        row = self.highlighted
        if row is None:
            self._tell("no run to act on yet", "warning")
        return row

    def action_continue_run(self) -> None:
        row = self._acting_on()
        if row is None:
            return
        if row.path is None:
            self._tell("the bundled checkpoint is no run to continue; start a new run in the "
                       "Train view (t)", "warning")  # fmt: skip
        elif row.state == HALF_WRITTEN:
            self._tell(
                f"run {row.name} has no readable config.json: nothing to continue", "warning"
            )
        else:
            # A run another process trains opens followed live (read-only) in the Train view.
            refusal = view_host(self).continue_run(row.name, row.training_here)
            if refusal:
                self._tell(refusal, "warning")

    def action_generate(self) -> None:
        row = self._acting_on()
        if row is not None:
            if row.path is None:
                view_host(self).generate_from(BUNDLED)
            else:
                self._act("generate", row.name)

    def action_inspect(self) -> None:
        row = self._acting_on()
        if row is not None:
            self._act("inspect", row.name)

    def action_rename(self) -> None:
        row = self._acting_on()
        if row is None:
            return
        if row.path is None:
            self._tell("the bundled checkpoint ships with the program and cannot be renamed; "
                       "export it (e) to make a copy of your own", "warning")  # fmt: skip
            return
        if row.training:
            self._tell(f"run {row.name} is being trained by {_who(row)}; stop it before you "
                       "rename it", "warning")  # fmt: skip
            return

        def renamed(new: str | None) -> None:
            if new:
                self._renames[row.name] = new  # a refresh may list the new name first
                self._act("rename", row.name, new)

        self.app.push_screen(RenameDialog(row.name, [r.name for r in self.rows]), renamed)

    def action_delete(self) -> None:
        row = self._acting_on()
        if row is not None:
            self._act("ask-delete", row.name)  # the core's refusals, else the folder's size

    def action_export(self) -> None:
        row = self._acting_on()
        if row is not None:
            self._act("export", row.name)

    def action_queue(self) -> None:
        view_host(self).show_queue()

    def renamed(self, old: str, new: str) -> None:
        """Run `old` is called `new` now: its colour and curves, and the highlight, go with it
        (once: the rename's answer and a refresh listing the new name may come either way)."""
        if self._renames.pop(old, None) is None:
            return
        self._expected_gone.add(old)
        if old in self.selected:
            self.selected[new] = self.selected.pop(old)
            if old in self.curves:
                self.curves[new] = self.curves.pop(old)
        self._highlight_next = new

    # -- the worker and its answers -----------------------------------------------------

    @work(thread=True, group="runs-action", exit_on_error=False)
    def _act(self, action: str, name: str, argument=None) -> None:
        try:
            result = act_on_run(self.paths, action, name, argument)
        except (UserError, ActionFailed, OSError) as exc:
            self.post_message(RunActionDone(action, name, error=one_line(exc)))
            return
        self.post_message(RunActionDone(action, name, result))

    def on_run_action_done(self, message: RunActionDone) -> None:
        action, name, result = message.action, message.name, message.result
        if message.error:
            self._renames.pop(name, None)
            if action == "delete":
                self._expected_gone.discard(name)
            self._tell(message.error, "error", title=f"Cannot {VERBS[action]} {name}")
        elif action == "generate":
            view_host(self).generate_from(result)
        elif action == "inspect":
            title = "bundled (pretrained)" if name == BUNDLED else f"{name} · {Path(result).stem}"
            view_host(self).inspect_checkpoint(result, title)  # (the titles the pickers give)
        elif action == "rename":
            new = Path(result).name
            self.renamed(name, new)
            self._tell(f"renamed run {name} to {new}")
            self._request_refresh()
        elif action == "ask-delete":
            folder, files, total = result

            def answered(yes: bool | None) -> None:
                if yes:
                    self._expected_gone.add(name)  # a refresh may miss it before the answer
                    self._act("delete", name, (files, total))

            self.app.push_screen(DeleteDialog(name, folder, files, total), answered)
        elif action == "delete":
            files, total = result
            self._select([name], False)
            self._tell(f"deleted run {name} ({count(files)} files, {size(total)})")
        elif action == "export":
            path, n_bytes = result
            self._tell(f"exported {name} to {path} ({size(n_bytes)})", title="Exported")

    # -- telling the person -------------------------------------------------------------

    def _tell(self, text: str, severity: SeverityLevel = "information", title: str = "") -> None:
        self.notify(text, title=title, severity=severity, markup=False)
