"""The neuron finder: the units that track each feature of the text, best first.

A table in the Inspect view's Finder tab. `find` ranks a replay's units in a worker
(core/inspection/neurons.py); the answer fills the table and is posted up (`Finder.Ranked`: the
lens opens on the unit that tracks line position best); enter on a row posts `Finder.UnitPicked`.
"""

from __future__ import annotations

from textual import on, work
from textual.message import Message
from textual.widgets import DataTable
from textual.worker import Worker, WorkerState

from shakespeare_tui.core.errors import one_line
from shakespeare_tui.core.inspection.neurons import find_units
from shakespeare_tui.messages import UnitsFound
from shakespeare_tui.views.inspect.status_line import StatusLine

FINDER_TOP = 3  # units per feature in the table


class Finder(DataTable):
    """feature · layer · unit · r, for the units the last `find` ranked."""

    class Ranked(Message):
        """The table shows a new answer: feature → `core.neurons.UnitScore`s, best first."""

        def __init__(self, found: dict) -> None:
            super().__init__()
            self.found = found

    class UnitPicked(Message):
        """The person chose a row: show its unit (a `core.neurons.UnitScore`) in the lens."""

        def __init__(self, score) -> None:
            super().__init__()
            self.score = score

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.found: dict = {}  # the answer shown: feature → UnitScores
        self.scores: list = []  # the UnitScore of each row
        self._asked = 0  # bumped per question; an answer to an older one is dropped

    def on_mount(self) -> None:
        self.add_columns("feature", "L", "unit", "r")

    def find(self, replay, quantity: str) -> None:
        """Rank `replay`'s units by `quantity` (the table keeps its rows until the answer)."""
        self._asked += 1
        self._rank(self._asked, replay, quantity)

    def forget(self) -> None:
        """Drop the answer being worked on: the text it is about is being replaced."""
        self._asked += 1

    def reset(self) -> None:
        """An empty table, for a new text."""
        self.forget()
        self.found, self.scores = {}, []
        self.clear()

    @work(thread=True, exclusive=True, group="inspect-find", exit_on_error=False)
    def _rank(self, asked: int, replay, quantity: str) -> None:
        self.post_message(UnitsFound(asked, quantity, find_units(replay, quantity, FINDER_TOP)))

    def on_units_found(self, message: UnitsFound) -> None:
        if message.request != self._asked:
            return
        self.found = message.found
        self.clear()
        self.scores = []
        for name, scores in message.found.items():
            for score in scores:
                self.add_row(name, str(score.layer), str(score.unit), f"{score.r:+.2f}")
                self.scores.append(score)
        self.post_message(self.Ranked(message.found))

    @on(DataTable.RowSelected)
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self.scores):
            self.post_message(self.UnitPicked(self.scores[event.cursor_row]))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        error = event.worker.error
        if event.state == WorkerState.ERROR and error is not None:
            self.post_message(StatusLine.Say(f"the finder failed: {one_line(error)}"))
