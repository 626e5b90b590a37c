"""Asked at launch when the queue still has runs to train: go on now, or later."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label


class QueueOfferScreen(ModalScreen[bool]):
    """Dismissed with True to work the queue now."""

    BINDINGS = [Binding("escape", "later", "Later", id="queue_offer.later",
                        tooltip="Leave the queue for now (w in the Train view goes on)")]  # fmt: skip

    def __init__(self, left: int, next_run: str) -> None:
        super().__init__()
        self.left, self.next_run = left, next_run

    def compose(self) -> ComposeResult:
        runs = f"{self.left} queued run{'s' * (self.left != 1)}"
        with Vertical(id="queue-offer"):
            yield Label(f"The queue has {runs} to train, {self.next_run} next.")
            yield Label("Go on with it now? (w in the Train view does it later)", classes="dim")
            with Horizontal(id="queue-offer-buttons"):
                yield Button("Go on", id="go", variant="primary")
                yield Button("Later", id="later")

    def on_mount(self) -> None:
        self.query_one("#go", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "go")

    def action_later(self) -> None:
        self.dismiss(False)
