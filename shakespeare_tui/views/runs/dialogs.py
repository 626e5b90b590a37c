"""The Runs view's two dialogs: a new name for a run, and "delete this run?"."""

from __future__ import annotations

from collections.abc import Collection

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Input, Label, Static

from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.figures import count, size
from shakespeare_tui.core.runs.folders import BUNDLED, check_run_name
from shakespeare_tui.widgets.field_input import FieldInput


class RunNameValidator(Validator):
    """A name a run can be renamed to: the CLI's rule, not "bundled", not a run's already."""

    def __init__(self, old: str, taken: Collection[str]) -> None:
        super().__init__()
        self.old, self.taken = old, set(taken)

    def validate(self, value: str) -> ValidationResult:
        value = value.strip()
        if value == self.old:
            return self.failure(f"it is called {value} already")
        if value == BUNDLED:
            return self.failure("bundled names the pretrained checkpoint")
        try:
            check_run_name(value)
        except UserError:
            return self.failure("1–80 letters, digits, '.', '_' or '-', from a letter or digit")
        if value in self.taken:
            return self.failure(f"a run named {value} exists already")
        return self.success()


class RenameDialog(ModalScreen[str | None]):
    """Type a run's new name; enter renames (if the name is valid), escape cancels."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="rename.cancel")]

    def __init__(self, old: str, taken: Collection[str]) -> None:
        super().__init__()
        self.old = old
        self._validator = RunNameValidator(old, taken)

    def compose(self) -> ComposeResult:
        with Vertical(id="rename-dialog", classes="runs-dialog"):
            yield Label(f"Rename run {self.old} to · enter renames · esc cancels")
            yield FieldInput(self.old, id="rename-input", validators=[self._validator],
                             validate_on=["changed", "submitted"])  # fmt: skip
            yield Static("", id="rename-error", classes="dialog-error")

    def on_input_changed(self, event: Input.Changed) -> None:
        result = event.validation_result
        why = "" if result is None or result.is_valid else result.failure_descriptions[0]
        self.query_one("#rename-error", Static).update(why if event.value != self.old else "")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        result = event.validation_result
        if result is not None and not result.is_valid:
            self.query_one("#rename-error", Static).update(result.failure_descriptions[0])
            return
        self.dismiss(event.value.strip())


class DeleteDialog(ModalScreen[bool]):
    """ "Delete run X (N files, size) in FOLDER?": y or the button deletes, n or escape keeps."""

    BINDINGS = [
        Binding("y", "dismiss(True)", "Delete", id="delete.yes"),
        Binding("n,escape", "dismiss(False)", "Keep", id="delete.no"),
    ]

    def __init__(self, name: str, folder: str, files: int, total: int) -> None:
        super().__init__()
        self.run_name = name
        self._what = (
            f"Delete run {name} ({count(files)} file{'s' * (files != 1)}, {size(total)})?\n"
            f"{folder} goes, with its checkpoints; nothing else is touched."
        )

    def compose(self) -> ComposeResult:
        with Vertical(id="delete-dialog", classes="runs-dialog"):
            yield Static(self._what, id="delete-question", markup=False)
            with Horizontal(classes="runs-dialog-buttons"):
                yield Button("Delete (y)", variant="error", id="delete-yes")
                yield Button("Keep (n)", id="delete-no")

    def on_mount(self) -> None:
        self.query_one("#delete-no", Button).focus()  # enter keeps: deleting takes a y

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "delete-yes")
