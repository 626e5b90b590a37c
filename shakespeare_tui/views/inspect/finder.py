"""The neuron finder: the units that track each feature of the text, best first.

A table in the Inspect view's Finder tab. `find` ranks a replay's units in a worker
(core/inspection/neurons.py); the answer fills the table and is posted up (`Finder.Ranked`: the
lens opens on the unit that tracks line position best); enter on a row posts `Finder.UnitPicked`.
A feature the text never shows (the bundled plays have no brackets) ranks no unit: its row says
so instead of a number. The table is three columns (a unit as L:N when the model has more than
one layer), so its r values fit whole beside the text at 80 columns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.message import Message
from textual.widgets import DataTable
from textual.worker import Worker, WorkerState

from shakespeare_tui.core.errors import one_line
from shakespeare_tui.core.inspection.neurons import UnitScore, find_units, text_features
from shakespeare_tui.messages import UnitsFound
from shakespeare_tui.views.inspect.status_line import StatusLine

if TYPE_CHECKING:
    from shakespeare_tui.core.inspection.replay import Replay

FINDER_TOP = 3  # units per feature in the table


class Finder(DataTable[Any]):
    """feature · unit · r, for the units the last `find` ranked."""

    class Ranked(Message):
        """The table shows a new answer: feature → `core.neurons.UnitScore`s, best first."""

        def __init__(self, found: dict[str, list[UnitScore]]) -> None:
            super().__init__()
            self.found = found

    class UnitPicked(Message):
        """The person chose a row: show its unit (a `core.neurons.UnitScore`) in the lens."""

        def __init__(self, score: UnitScore) -> None:
            super().__init__()
            self.score = score

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.found: dict[str, list[UnitScore]] = {}  # the answer shown: feature → UnitScores
        self.scores: list[UnitScore | None] = []  # each row's (None: a feature's note)
        self._asked = 0  # bumped per question; an answer to an older one is dropped
        self._layers = 1  # of the model asked about: more than one, and units read L:N

    def on_mount(self) -> None:
        self.add_column("feature")
        self.add_column("unit")
        self.add_column("r")

    def find(self, replay: Replay, quantity: str) -> None:
        """Rank `replay`'s units by `quantity` (the table keeps its rows until the answer)."""
        self._asked += 1
        self._layers = replay.layers
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
    def _rank(self, asked: int, replay: Replay, quantity: str) -> None:
        found = find_units(replay, quantity, FINDER_TOP)
        features = text_features(replay.text) if not all(found.values()) else {}
        constant = {name: float(features[name][0]) for name, s in found.items() if not s}
        self.post_message(UnitsFound(asked, quantity, found, constant))

    def on_units_found(self, message: UnitsFound) -> None:
        if message.request != self._asked:
            return
        self.found = message.found
        self.clear()
        self.scores = []
        for name, scores in message.found.items():
            for score in scores:
                unit = f"{score.layer}:{score.unit}" if self._layers > 1 else str(score.unit)
                self.add_row(name, Text(unit, justify="right"), Text(f"{score.r:+.2f}"))
                self.scores.append(score)
            if not scores:  # r means nothing for a feature that does not vary
                where = "everywhere in" if message.constant.get(name) else "never in"
                note = Text.assemble(name, (f"\n {where} this text", "dim"))
                self.add_row(note, "", "", height=2)
                self.scores.append(None)
        self.post_message(self.Ranked(message.found))

    @on(DataTable.RowSelected)
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self.scores):
            score = self.scores[event.cursor_row]
            if score is not None:
                self.post_message(self.UnitPicked(score))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        error = event.worker.error
        if event.state == WorkerState.ERROR and error is not None:
            self.post_message(StatusLine.Say(f"the finder failed: {one_line(error)}"))
