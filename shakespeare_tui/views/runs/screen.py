"""The Runs view: every run in a table, the selected runs' curves overlaid on one chart, the
differences between two of them, and what can be done with a run.

A worker catches a RunCatalog up with the runs folder every REFRESH_S seconds (a few stats per
run when nothing changed; only what was appended is parsed, so a run trained by another process
updates live) and builds the selected runs' curves (core/runs/curves.py). The UI thread filters,
sorts and draws. Renaming, deleting, exporting and finding a run's checkpoint touch files, so
they run in workers too (views/runs/actions.py); selecting runs and setting the chart up are
in views/runs/chart_keys.py.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static
from textual.worker import Worker, WorkerState, get_current_worker

from shakespeare_tui.core.errors import one_line
from shakespeare_tui.core.runs.catalog import CACHE_FILE, RunCatalog
from shakespeare_tui.core.runs.curves import X_AXES, run_curves
from shakespeare_tui.core.runs.diff import diff_runs
from shakespeare_tui.core.runs.table import RunRow, filter_rows, sort_rows
from shakespeare_tui.messages import BundledRowRead, RunsRefreshed
from shakespeare_tui.views.runs.actions import RunActions
from shakespeare_tui.views.runs.chart import RunsChart
from shakespeare_tui.views.runs.chart_keys import ChartKeys
from shakespeare_tui.views.runs.keys import KEYS, offered
from shakespeare_tui.views.runs.panel import RunPanel
from shakespeare_tui.views.runs.table import MARK, SHOWN, SORT_KEYS, TABLE_COLUMNS, RunsTable

if TYPE_CHECKING:
    from shakespeare_tui.core.paths import Paths
    from shakespeare_tui.core.runs.curves import RunCurves
    from shakespeare_tui.settings import RunsSettings

REFRESH_S = 2.0  # between catch-ups with the runs folder
# A first look at many long runs shows the rows read after FIRST_ROWS_S, then more every
# MORE_ROWS_S (each showing costs the UI thread, which shares the GIL with the reading).
FIRST_ROWS_S, MORE_ROWS_S = 0.3, 1.0
DESCENDING_FIRST = {"created"}  # columns whose first sort is descending (newest first)


class RunsScreen(ChartKeys, RunActions, Screen):
    """The app's "runs" mode."""

    AUTO_FOCUS = "#runs-table"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-normal"), (170, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall"), (50, "-very-tall")]
    BINDINGS = KEYS

    def __init__(self, paths: Paths, settings: RunsSettings, refresh_s: float | None = None):
        super().__init__()
        self.paths = paths
        self.settings = settings
        if settings.sort not in SHOWN:
            settings.sort, settings.descending = "created", True
        if settings.x_axis not in X_AXES:
            settings.x_axis = "step"
        self.refresh_s = refresh_s or REFRESH_S
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

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        return offered(action, in_field=isinstance(self.focused, Input))

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="runs-bar"):
            yield Input(placeholder="/ filter: name, cell, corpus, state", id="runs-filter",
                        compact=True)  # fmt: skip
            yield Static("reading the runs folder…", id="runs-status")
        yield RunsTable(id="runs-table")
        with Horizontal(id="runs-lower"):
            yield RunsChart(id="runs-chart")
            with VerticalScroll(id="runs-side"):
                yield RunPanel(id="runs-panel")
        yield Static(id="runs-controls")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(RunsTable)
        table.set_sort(self.settings.sort, self.settings.descending)
        chart = self.query_one(RunsChart)
        chart.x_axis, chart.log_y = self.settings.x_axis, self.settings.log_y
        self.query_one("#runs-side").can_focus = False
        self._show_controls()
        self._request_refresh()  # the bundled checkpoint's row follows the first table
        self.set_interval(self.refresh_s, self._tick)

    def on_resize(self) -> None:
        footer = self.query_one(Footer)
        footer.compact = self.size.width < 110
        footer.show_command_palette = self.size.width >= 110
        self._show_controls()

    def on_screen_resume(self) -> None:
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
        from shakespeare_tui.core.runs.checkpoints import bundled_entry
        from shakespeare_tui.core.runs.table import bundled_row

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
        if event.state != WorkerState.ERROR:
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
        two = len(chosen) == 2 and all(chosen)
        self.set_class(two, "-two")
        bits = self.query_one(RunsChart).bits
        if two:
            colours = (self.selected[chosen[0].name], self.selected[chosen[1].name])
            panel.show_diff(diff_runs(chosen[0], chosen[1]), colours, bits)
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
        if field.value:
            field.value = ""  # its Changed shows every run again
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

    def _tell(self, text: str, severity: str = "information", title: str = "") -> None:
        self.notify(text, title=title, severity=severity, markup=False)
