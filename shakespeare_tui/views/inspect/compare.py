"""The finder comparing checkpoints: for each feature, each checkpoint's best unit and |r| in
its cell's own quantity, one column per checkpoint.

A new user found the RNN's best line-position unit at r 0.34 against the GRU's 0.88 and the
LSTM's 0.84 only by switching checkpoints by hand and pressing `v` five times (issue 19). Here
`a` adds a checkpoint beside the one inspected (two at most: three columns): a worker loads its
own copy, replays it over the same text after the same context (core/inspection/replay.py) and
ranks its units in its cell's DEFAULT_QUANTITY (core/inspection/neurons.py); the inspected
checkpoint's column is the finder's own answer. `CompareTable` is shown in the Finder tab in
place of the finder while any checkpoint is added (x drops them). Enter on a row posts
`CompareTable.Chosen` with the feature and the column the cursor is in (the first one added,
from the feature's or the inspected checkpoint's column): the screen shows the inspected
checkpoint's best unit for it in the lens and that column's in a second text panel below.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.message import Message
from textual.widgets import DataTable
from textual.worker import Worker, WorkerState, get_current_worker

from shakespeare_tui.core.cells import DEFAULT_QUANTITY
from shakespeare_tui.core.errors import UserError, one_line
from shakespeare_tui.core.inspection.neurons import FEATURES, UnitScore
from shakespeare_tui.core.runs.folders import BEST, BUNDLED
from shakespeare_tui.messages import CheckpointCompared
from shakespeare_tui.views.inspect.lens import SHORT_NAMES
from shakespeare_tui.views.inspect.status_line import StatusLine

if TYPE_CHECKING:
    from shakespeare_tui.core.inspection.replay import Replay
    from shakespeare_tui.core.runs.checkpoints import CheckpointEntry

MAX_ADDED = 2  # checkpoints beside the one inspected
FEATURE_WIDTH = 10  # a feature's name wraps at this width ("line position" on two rows)
PENDING = "…"  # a column whose replay is on its way


@dataclass
class Column:
    """One checkpoint's column: what it is, and its answer once replayed and ranked."""

    path: str
    title: str
    cell: str = ""
    layers: int = 1
    quantity: str = ""
    replay: Replay | None = None
    found: dict[str, list[UnitScore]] = field(default_factory=dict)

    @property
    def heading(self) -> str:
        """The cell and layer count: "LSTM", "GRU×2"."""
        if not self.cell:
            return PENDING
        return self.cell.upper() + (f"×{self.layers}" if self.layers > 1 else "")

    def best(self, feature: str) -> UnitScore | None:
        scores = self.found.get(feature) or []
        return scores[0] if scores else None

    def unit(self, score: UnitScore) -> str:
        return f"{score.layer}:{score.unit}" if self.layers > 1 else str(score.unit)


def distinct(columns: list[Column]) -> list[str]:
    """The columns' titles without the start they all share ("cells-lstm", "cells-gru" are
    "lstm", "gru"), so the part that tells them apart fits a narrow column."""
    titles = [c.title for c in columns]
    shared = os.path.commonprefix(titles) if len(titles) > 1 else ""
    if len(shared) < 3 or any(len(t) == len(shared) for t in titles):
        return titles
    return [t[len(shared) :].strip() or t for t in titles]


def short_name(entry: CheckpointEntry | None, title: str) -> str:
    """A column's title: the run's name ("… last" for its last checkpoint), "bundled", or
    the file's name; `title` when the picker does not list it."""
    if entry is None:
        return title
    if entry.run is not None:
        return entry.run.name + (f" {entry.kind}" if entry.kind != BEST else "")
    return "bundled" if entry.kind == BUNDLED else Path(entry.path).stem


class CompareTable(DataTable[Any]):
    """feature · one column per checkpoint: its best unit's |r| over the unit's number."""

    class Chosen(Message):
        """Show `feature`'s best unit of the inspected checkpoint in the lens and of `column`
        (a checkpoint added) in the second text panel."""

        def __init__(self, feature: str, column: Column) -> None:
            super().__init__()
            self.feature = feature
            self.column = column

    class Changed(Message):
        """The table was drawn again: a column came, went or got its answer (`note()` may
        say other quantities; with nothing added, nothing is compared)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="cell", zebra_stripes=True, header_height=2)
        self.main: Column | None = None  # the checkpoint inspected (the finder's answer)
        self.added: list[Column] = []  # the checkpoints beside it
        self._text: tuple[str, str] = ("", "")  # the text the added ones read, and its context
        self._asked: dict[str, int] = {}  # path → the request its answer must carry
        self._requests = 0
        self._width = 0

    @property
    def columns_shown(self) -> list[Column]:
        return [c for c in (self.main, *self.added) if c is not None]

    # -- what is compared --------------------------------------------------------------------

    def show_main(
        self,
        path: str,
        title: str,
        replay: Replay,
        quantity: str,
        found: dict[str, list[UnitScore]],
    ) -> None:
        """The inspected checkpoint's column: the finder's answer over `replay`'s text."""
        self.main = Column(path, title, replay.cell, replay.layers, quantity, replay, found)
        self.added = [c for c in self.added if c.path != path]  # it is no longer beside itself
        self._draw()

    def why_not(self, path: str) -> str:
        """Why the checkpoint at `path` cannot be added ("" if it can)."""
        if self.main is not None and path == self.main.path:
            return "that is the checkpoint inspected: choose another to compare"
        if any(c.path == path for c in self.added):
            return "that checkpoint is compared already"
        if len(self.added) >= MAX_ADDED:
            return f"{MAX_ADDED + 1} checkpoints side by side at most: x stops comparing"
        return ""

    def add(self, path: str, title: str) -> None:
        """Replay the checkpoint at `path` over the text shown, in a worker, beside the others."""
        self.added.append(Column(path, title))
        self._ask(path)
        self._draw()

    def read(self, text: str, context: str) -> None:
        """The text shown (read after `context`): the added checkpoints replay it if it is new."""
        if (text, context) == self._text:
            return
        self._text = (text, context)
        for column in self.added:
            column.replay, column.found = None, {}
            self._ask(column.path)
        self._draw()

    def drop_all(self) -> None:
        """Compare nothing any more."""
        self.added = []
        self._asked.clear()
        self._draw()

    def _ask(self, path: str) -> None:
        self._requests += 1
        self._asked[path] = self._requests
        if self._text[0]:
            self._replay(self._requests, path, *self._text)

    @work(thread=True, group="inspect-compare", exit_on_error=False)
    def _replay(self, request: int, path: str, text: str, context: str) -> None:
        # Imported here: both load torch, which the first frame must not wait for.
        from shakespeare_tui.core.inspection.neurons import find_units
        from shakespeare_tui.core.inspection.replay import replay
        from shakespeare_tui.core.model.checkpoint import load_checkpoint

        stop = get_current_worker().cancelled_event
        try:
            checkpoint = load_checkpoint(Path(path))
            if context and not all(c in checkpoint.vocab for c in context):
                context = ""  # (a model that never saw a newline reads the text from nothing)
            result = replay(checkpoint.model, checkpoint.vocab, text, context=context, stop=stop)
        except UserError as exc:
            self.post_message(CheckpointCompared(request, path, error=str(exc)))
            return
        quantity = DEFAULT_QUANTITY[result.cell]
        found = find_units(result, quantity)
        self.post_message(CheckpointCompared(request, path, replay=result, found=found))

    def on_checkpoint_compared(self, message: CheckpointCompared) -> None:
        if self._asked.get(message.path) != message.request:
            return
        column = next((c for c in self.added if c.path == message.path), None)
        if column is None:
            return
        if message.error:
            self.added.remove(column)
            self.post_message(StatusLine.Say(f"cannot compare {column.title}: {message.error}"))
        else:
            replay = message.replay
            column.cell, column.layers, column.replay = replay.cell, replay.layers, replay
            column.quantity, column.found = DEFAULT_QUANTITY[replay.cell], message.found
        self._draw()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        error = event.worker.error
        if event.state == WorkerState.ERROR and error is not None:
            self.post_message(StatusLine.Say(f"cannot compare: {one_line(error)}"))

    # -- the table ---------------------------------------------------------------------------

    def note(self) -> str:
        """What the numbers are, and which quantity each cell's are in."""
        quantities = dict.fromkeys(
            f"{c.cell.upper()} {SHORT_NAMES[c.quantity]}" for c in self.columns_shown if c.cell
        )
        return (
            f"Best unit and |r| per feature, in each cell's own quantity "
            f"({', '.join(quantities)}) · enter: two lenses · x: the finder"
        )

    def on_resize(self) -> None:
        if self.size.width != self._width:
            self._draw()

    def _draw(self) -> None:
        """The table again (a few rows): columns as wide as the width allows each title."""
        self._width = self.size.width
        self.post_message(self.Changed())
        at = self.cursor_coordinate
        self.clear(columns=True)
        columns = self.columns_shown
        if not columns:
            return
        room = max(5, (self._width - FEATURE_WIDTH - 4) // len(columns) - 2)
        self.add_column("feature", key="feature")
        for i, (column, title) in enumerate(zip(columns, distinct(columns), strict=True)):
            title = title if len(title) <= room else title[: room - 1] + "…"
            heading = Text(column.heading, style="bold")
            self.add_column(Text.assemble(heading, "\n", (title, "dim")), key=str(i))
        for feature in FEATURES:
            name = textwrap.wrap(feature.replace("_", " "), FEATURE_WIDTH)
            cells = [self._cell(column, feature) for column in columns]
            self.add_row("\n".join(name), *cells, height=max(2, len(name)), key=feature)
        self.cursor_coordinate = at

    @staticmethod
    def _cell(column: Column, feature: str) -> Text:
        if column.replay is None:
            return Text(PENDING, style="dim")
        score = column.best(feature)
        if score is None:  # constant over the text: r means nothing
            return Text("—", style="dim")
        return Text.assemble((f"{abs(score.r):.2f}", "bold"), "\n", (column.unit(score), "dim"))

    @on(DataTable.CellSelected)
    def _cell_chosen(self, event: DataTable.CellSelected) -> None:
        event.stop()
        features = list(FEATURES)
        row, col = event.coordinate.row, event.coordinate.column
        if not self.added or not 0 <= row < len(features):
            return
        # The feature's column, or the inspected checkpoint's: the first one added.
        column = self.added[max(0, col - 2)] if col >= 2 and col - 2 < len(self.added) else None
        self.post_message(self.Chosen(features[row], column or self.added[0]))
