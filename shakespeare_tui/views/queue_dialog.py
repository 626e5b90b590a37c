"""The run queue as a dialog: what is queued, in order; move, cancel, clear, and start it.

It shows and edits the queue the Train view works (core/runs/run_queue.py); every change is saved at
once, so a quit or another process sees it. Closing it with `w` asks the Train view to work
the queue.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from shakespeare_tui.core.errors import ActionFailed, UserError, one_line
from shakespeare_tui.core.runs.run_queue import CANCELLED, DONE, FAILED, STOPPED, TRAINING, WAITING

STATE_STYLES = {WAITING: "", TRAINING: "bold green", DONE: "dim", STOPPED: "yellow",
                FAILED: "bold red", CANCELLED: "dim strike"}  # fmt: skip
HINT = "a in the Train view queues the form's run · shakespeare-tui queue FILE queues many"


class QueueScreen(ModalScreen[bool]):
    """Dismissed with True when the person asks to work the queue."""

    BINDINGS = [
        Binding("shift+up,K", "move(-1)", "Up", key_display="⇧↑", id="queue.up",
                tooltip="Move the queued run up"),
        Binding("shift+down,J", "move(1)", "Down", key_display="⇧↓", id="queue.down",
                tooltip="Move the queued run down"),
        Binding("x,delete", "cancel_entry", "Cancel", id="queue.cancel",
                tooltip="Cancel the queued run (it stays listed as cancelled)"),
        Binding("c", "clear", "Clear done", id="queue.clear",
                tooltip="Remove the runs that ended or were cancelled from the list"),
        Binding("w", "work", "Start", id="queue.work",
                tooltip="Train the queued runs, one after another"),
        Binding("escape,q", "close", "Close", id="queue.close", tooltip="Close the queue"),
    ]  # fmt: skip

    def __init__(self, queue, working: bool, locked_elsewhere: bool = False) -> None:
        super().__init__()
        self.queue = queue
        self.working = working  # this app is working the queue now
        self.locked_elsewhere = locked_elsewhere

    def compose(self) -> ComposeResult:
        with Vertical(id="queue-dialog"):
            yield Static(id="queue-title")
            yield DataTable(id="queue-table", cursor_type="row", zebra_stripes=True)
            yield Static(id="queue-note")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("#", "run", "state", "model", "budget", "note")
        self._fill()
        table.focus()

    def _fill(self, keep: int | None = None) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row if keep is None else keep
        table.clear()
        for n, entry in enumerate(self.queue.entries, 1):
            table.add_row(
                str(n), entry.run, Text(entry.state, style=STATE_STYLES.get(entry.state, "")),
                _model(entry.settings), entry.budget, Text(entry.note[:60], style="dim"),
                key=str(entry.id),
            )  # fmt: skip
        if self.queue.entries:
            table.move_cursor(row=max(0, min(row, len(self.queue.entries) - 1)))
        left = len(self.queue.open_entries)
        if self.locked_elsewhere:
            what = "another process is working it"
        elif self.working:
            what = "training"
        else:
            what = "w starts it" if left else "nothing left to train"
        title = f"Queue · {left} run{'s' * (left != 1)} to train · {what}"
        self.query_one("#queue-title", Static).update(Text(title, style="bold"))
        self.query_one("#queue-note", Static).update(Text(HINT, style="dim"))

    def _selected(self):
        table = self.query_one(DataTable)
        if not self.queue.entries:
            return None
        return self.queue.entries[min(table.cursor_row, len(self.queue.entries) - 1)]

    def _change(self, change, keep: int | None = None) -> None:
        if self.locked_elsewhere:
            self.notify("another process is working the queue: change it there", severity="warning")
            return
        try:
            change()  # a locked read-modify-write of queue.json as it is now
        except (UserError, ActionFailed, OSError) as exc:
            self.notify(one_line(exc), severity="error", markup=False)
            return
        self._fill(keep)

    def action_move(self, delta: int) -> None:
        entry = self._selected()
        if entry is not None:
            target = self.query_one(DataTable).cursor_row + delta
            self._change(lambda: self.queue.move(entry.id, delta), keep=target)

    def action_cancel_entry(self) -> None:
        entry = self._selected()
        if entry is not None:
            self._change(lambda: self.queue.cancel(entry.id))

    def action_clear(self) -> None:
        self._change(self.queue.clear_finished, keep=0)

    def action_work(self) -> None:
        if self.locked_elsewhere or self.working or not self.queue.open_entries:
            self.notify("nothing to start: " + ("it is being worked" if self.queue.open_entries
                        else "the queue is empty"), severity="warning")  # fmt: skip
            return
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)


def _model(settings: dict) -> str:
    """The model a queued run trains, as far as its settings say (the preset fills the rest)."""
    cell = str(settings.get("cell", "")).upper()
    size = "/".join(f"{k[0].upper()}{settings[k]}" for k in ("embed", "hidden") if k in settings)
    preset = settings.get("preset", "auto")
    return " ".join(p for p in (cell, size) if p) or str(preset)
