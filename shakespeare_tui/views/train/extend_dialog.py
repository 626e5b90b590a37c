"""Asked when `s` would resume a run that has already reached its end: how far to take it.

A run that used its step or time budget, trained all its epochs or ran out of patience would
stop again at once; this dialog names what ended it and proposes a larger value, which the
resume then applies (all of these are settings a resume may change).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.validation import Number
from textual.widgets import Button, Input, Label, Static

from shakespeare_tui.core.config import TrainConfig
from shakespeare_tui.core.figures import count
from shakespeare_tui.core.runs.progress import RunProgress
from shakespeare_tui.core.training.budgets import BUDGET_FIELDS, extended
from shakespeare_tui.widgets.field_input import FieldInput
from shakespeare_tui.widgets.fields import refusal


@dataclass(frozen=True)
class Extension:
    field: str  # the setting that ended the run: max_steps, max_minutes, epochs, patience
    current: float
    proposed: float
    what: str  # "reached its budget of 300 steps"
    unit: str  # "steps"


def extension_for(state: str, train: dict, progress: RunProgress) -> Extension | None:
    """What to raise so a run that ended for `state` can go on (None: it can simply resume).

    The proposal is the core's (`budgets.extended`, as the CLI's hint gives it)."""
    field = BUDGET_FIELDS.get(state)
    if field is None:
        return None
    try:
        config = TrainConfig.from_dict(train)
    except (TypeError, ValueError):
        return None
    current = getattr(config, field)
    proposed = extended(progress, config).get(field)
    if current is None or proposed is None:
        return None
    what, unit = {
        "max_steps": (f"reached its budget of {count(current)} steps", "steps"),
        "max_minutes": (f"used its {current:g} minutes", "minutes in all"),
        "epochs": (f"trained all its {current} epochs", "epochs in all"),
        "patience": (
            f"stopped early after {current} evaluations without improvement",
            "evaluations of patience",
        ),
    }[field]
    return Extension(field, current, proposed, what, unit)


class ExtendScreen(ModalScreen[dict | None]):
    """Returns {field: value} to resume with, or None to leave the run as it is."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="extend.cancel")]

    def __init__(self, run: str, extension: Extension) -> None:
        super().__init__()
        self.run = run
        self.extension = extension

    def compose(self) -> ComposeResult:
        e = self.extension
        integer = e.field != "max_minutes"
        with Vertical(id="extend-dialog"):
            yield Static(f"{self.run} {e.what}. Go on to:", markup=False)
            with Horizontal(classes="form-row"):
                yield FieldInput(
                    f"{e.proposed:g}",
                    validators=[Number(minimum=e.current, failure_description="")],
                    type="integer" if integer else "number",
                    id="extend-value",
                    compact=True,
                )
                yield Label(e.unit, classes="extend-unit")
            yield Static("", id="extend-error", classes="field-error", markup=False)
            with Horizontal(id="extend-buttons"):
                yield Button("Train on", variant="primary", id="extend-ok", compact=True)
                yield Button("Cancel", id="extend-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def _value(self) -> float | None:
        widget = self.query_one(Input)
        result = widget.validate(widget.value)
        error = self.query_one("#extend-error", Static)
        try:
            value = float(widget.value)
        except ValueError:
            value = None
        if value is None or refusal(result) or value <= self.extension.current:
            error.update(f"more than {self.extension.current:g}")
            error.display = True
            return None
        return value

    def _accept(self) -> None:
        value = self._value()
        if value is None:
            return
        field = self.extension.field
        self.dismiss({field: value if field == "max_minutes" else int(value)})

    def on_input_submitted(self) -> None:
        self._accept()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "extend-ok":
            self._accept()
        else:
            self.dismiss(None)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
