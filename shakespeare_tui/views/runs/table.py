"""The Runs view's table: a row per run (core/runs/table.py's columns, as `runs` prints them),
a coloured mark on the selected runs, an arrow on the sorted column.

`show` is given the rows in the order to show them: rows that went are removed, new ones
added, changed cells updated one by one and the rows put in order in place, so a refresh where
one run trained on, or a new sort, costs what changed. The highlighted run stays highlighted,
wherever it moved to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from shakespeare_tui.core.figures import UNKNOWN
from shakespeare_tui.core.runs.history import TRAINING
from shakespeare_tui.core.runs.table import COLUMNS, HALF_WRITTEN, Column, RunRow
from shakespeare_tui.core.shown_text import shown
from shakespeare_tui.views.runs.chart import PALETTE


def _best_at(row: RunRow) -> str:
    if row.best_step is None:
        return UNKNOWN
    epoch = f"e{row.best_epoch} · " if row.best_epoch is not None else ""
    return f"{epoch}{row.best_step:,}"


def _lr(row: RunRow) -> str:
    return UNKNOWN if row.lr is None else f"{row.lr:g} {row.schedule or ''}".rstrip()


# The table's columns, most telling first (80 columns show the run, its state and how good it
# got): COLUMNS' own, and two that join a pair (DataTable draws every column of a row it
# draws, so fewer columns answer keys sooner). Each sorts as the core column SORT_KEYS names.
TABLE_COLUMNS = {
    **{k: COLUMNS[k] for k in ("name", "state", "best_val_loss", "best_val_bits")},
    "best_at": Column("best_at", "best at", lambda r: r.best_step, _best_at, numeric=True),
    **{k: COLUMNS[k] for k in ("model", "params", "dropout", "batch")},
    "lr": Column("lr", "lr", lambda r: r.lr, _lr),
    **{k: COLUMNS[k] for k in ("chars_per_sec", "elapsed", "device", "corpus", "created")},
}
SHOWN = tuple(TABLE_COLUMNS)
SORT_KEYS = {"best_at": "best_step"}  # the others sort as the core column of their key
KEPT_CELLS = 20_000  # renderings of cells kept (a few screens of rows, every column)
MARK = "mark"  # the first column: ● in the colour of a selected run's curves
STATE_STYLES = {TRAINING: "bold green", "diverged": "bold red", "out-of-memory": "bold red",
                "interrupted": "yellow", HALF_WRITTEN: "italic dim", "bundled": "dim",
                "new": "dim"}  # fmt: skip


def state_cell(row: RunRow) -> Text:
    """The state as the table shows it: who trains a run being trained, coloured by kind."""
    text = row.label
    if row.state == TRAINING:
        text = "training here" if row.training_here else "training elsewhere"
    return Text(text, style=STATE_STYLES.get(row.state, ""))


def row_cells(row: RunRow, colour: int | None) -> tuple[Text, ...]:
    mark = Text("●", style=f"bold {PALETTE[colour % len(PALETTE)]}") if colour is not None else ""
    cells = [Text(mark) if isinstance(mark, str) else mark]
    for key, column in TABLE_COLUMNS.items():
        if key == "state":
            cells.append(state_cell(row))
        elif key == "name":
            cells.append(Text(shown(row.name), style="bold" if colour is not None else ""))
        else:  # a run's words come from its files: control characters are shown escaped
            text = shown(column.text(row))
            cells.append(Text(text, justify="right" if column.numeric else "left"))
    return tuple(cells)


class RunsTable(DataTable):
    """Every run, one a row, keyed by its name."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, fixed_columns=2, **kwargs)
        self._names: list[str] = []  # the rows shown, in order
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._made_from: dict[str, tuple[RunRow, int | None]] = {}  # what each row's cells show
        self._sort: tuple[str, bool] | None = None  # the arrow in the headers
        self._drawn: dict[tuple, tuple] = {}  # a cell's place → (its value, its rendering)

    def on_mount(self) -> None:
        self.add_column(Text(" "), key=MARK, width=1)
        for key in SHOWN:
            self.add_column(self._title(key), key=key)

    def _title(self, key: str) -> Text:
        """A column's header: its title and the sort arrow, or room for it (so putting the
        arrow on another column changes no width)."""
        column = TABLE_COLUMNS[key]
        descending = self._sort[1] if self._sort is not None and self._sort[0] == key else None
        arrow = "  " if descending is None else " ▼" if descending else " ▲"
        return Text(column.title + arrow, style="" if descending is None else "bold",
                    justify="right" if column.numeric else "left")  # fmt: skip

    @property
    def names(self) -> list[str]:
        """The runs shown, top to bottom."""
        return list(self._names)

    @property
    def highlighted_name(self) -> str | None:
        if not self._names or not 0 <= self.cursor_row < len(self._names):
            return None
        return self._names[self.cursor_row]

    def cells_of(self, name: str) -> tuple[str, ...]:
        """The row's cells as plain text (for tests and people reading the code)."""
        return tuple(c.plain for c in self._cells.get(name, ()))

    def set_sort(self, key: str, descending: bool) -> None:
        """Put the arrow on the column sorted by (the rows come sorted from `show`)."""
        if self._sort == (key, descending):
            return
        self._sort = (key, descending)
        if self.is_mounted:
            for column_key in SHOWN:
                self.columns[ColumnKey(column_key)].label = self._title(column_key)
            self._update_count += 1  # (DataTable's render caches hold the old headers)
            self.refresh()

    def show(
        self, rows: Sequence[RunRow], colours: Mapping[str, int], highlight: str | None = None
    ) -> None:
        """Show `rows` in this order, marking the runs in `colours` (name → palette index);
        highlight `highlight` if given and shown, else the run highlighted until now.

        Rows are added, removed and changed cell by cell, and reordered in place: DataTable
        measures every cell of a row it is given, which for 200 rows costs a frame or ten."""
        before = self.highlighted_name
        row_before = self.cursor_row
        names = [r.name for r in rows]
        wanted = set(names)
        for name in [n for n in self._names if n not in wanted]:
            self.remove_row(name)
            self._cells.pop(name)
            self._made_from.pop(name)
        listed = set(self._cells)
        for row in rows:
            colour = colours.get(row.name)
            made_from = self._made_from.get(row.name)
            if made_from is not None and made_from[0] is row and made_from[1] == colour:
                continue  # unchanged
            cells = row_cells(row, colour)
            self._made_from[row.name] = (row, colour)
            if row.name not in listed:
                self.add_row(*cells, key=row.name)
            else:
                self._update(row.name, self._cells[row.name], cells)
            self._cells[row.name] = cells
        current = [n for n in self._names if n in wanted] + [n for n in names if n not in listed]
        if current != names:
            position = {shown(name): i for i, name in enumerate(names)}  # (the cells' text)
            self.sort("name", key=lambda cell: position[cell.plain])
        self._names = names
        target = highlight if highlight in wanted else before
        if names:
            at = names.index(target) if target in wanted else min(row_before, len(names) - 1)
            if at != self.cursor_row or target != before:
                self.move_cursor(row=max(0, at), animate=False)

    def _render_cell(self, row_index, column_index, base_style, width, cursor=False, hover=False):
        """DataTable's, kept per cell: DataTable forgets every rendered cell when any one
        changes (its cache key holds a count of updates), and a selection or a refresh
        changes a cell or two of 16 × 11 shown. A cell is drawn again when its value (the
        object), its place, its style or its width changed. (DataTable's own method, of the
        pinned Textual: see pyproject.toml.)"""
        if row_index < 0 or column_index < 0:  # headers, row labels: DataTable's own way
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        value = (
            None
            if row_key is None or column_key is None
            else self._data.get(row_key, {}).get(column_key)
        )
        place = (row_key, column_key, row_index, base_style, width, cursor, hover,
                 self._show_hover_cursor, self._pseudo_class_state)  # fmt: skip
        kept = self._drawn.get(place)
        if kept is not None and kept[0] is value:
            return kept[1]
        lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        if len(self._drawn) > KEPT_CELLS:
            self._drawn.clear()
        self._drawn[place] = (value, lines)
        return lines

    def _update(self, name: str, old: tuple[Text, ...], new: tuple[Text, ...]) -> None:
        for key, a, b in zip((MARK, *SHOWN), old, new, strict=True):
            if a != b:
                # Measuring is for a cell wider than its column: otherwise DataTable measures
                # the whole column again whenever a value gets shorter.
                wider = b.cell_len > self.columns[ColumnKey(key)].content_width
                self.update_cell(name, key, b, update_width=wider)
