"""The Inspect view's small dialogs: a text to inspect, a unit to look at, a checkpoint to
compare."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label, OptionList, Static, TextArea

from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.inspection.unit_address import UnitAddress, parse_unit, read_unit
from shakespeare_tui.core.runs.checkpoints import CheckpointEntry
from shakespeare_tui.widgets.checkpoint_picker import CheckpointPicker
from shakespeare_tui.widgets.field_input import FieldInput

if TYPE_CHECKING:
    from shakespeare_tui.core.text.vocab import Vocabulary


class UnitValidator(Validator):
    """A unit that exists: "N" (of the lens's layer) or "L:N", inside the model's layers."""

    def __init__(self, layers: int, hidden: int, layer: int) -> None:
        super().__init__()
        self.layers, self.hidden, self.layer = layers, hidden, layer

    def validate(self, value: str) -> ValidationResult:
        try:
            read_unit(value, self.layers, self.hidden, self.layer)
        except UserError as exc:
            return self.failure(str(exc))
        return self.success()


class UnitDialog(ModalScreen[UnitAddress | None]):
    """Type a unit number; enter shows it in the lens, escape cancels."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="unit.cancel")]

    def __init__(self, layers: int, hidden: int, layer: int) -> None:
        super().__init__()
        self._validator = UnitValidator(layers, hidden, layer)
        self._layer = layer
        self._range = f"0–{hidden - 1}" + (
            f", or layer:unit (layers 0–{layers - 1})" if layers > 1 else ""
        )

    def compose(self) -> ComposeResult:
        with Vertical(id="unit-dialog", classes="inspect-dialog"):
            yield Label(f"Unit to show in the lens ({self._range})")
            yield FieldInput(placeholder="unit", id="unit-input", validators=[self._validator])
            # Plain text: the error quotes what was typed.
            yield Static("", id="unit-error", classes="dialog-error", markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        result = event.validation_result
        if result is not None and not result.is_valid:
            self.query_one("#unit-error", Static).update(result.failure_descriptions[0])
            return
        self.dismiss(parse_unit(event.value, self._layer))


class TextDialog(ModalScreen[str | None]):
    """Type or paste a text; ctrl+s inspects it, escape cancels. With the model's `vocab`, a
    character it never saw is named under the text as soon as it is typed or pasted (the bundled
    plays have no brackets, so a pasted "(" would be refused)."""

    BINDINGS = [
        Binding("ctrl+s", "accept", "Inspect", id="text.accept", priority=True),
        Binding("escape", "dismiss(None)", "Cancel", id="text.cancel"),
    ]

    def __init__(self, text: str = "", vocab: Vocabulary | None = None) -> None:
        super().__init__()
        self._text = text
        self._vocab = vocab

    def compose(self) -> ComposeResult:
        with Vertical(id="text-dialog", classes="inspect-dialog"):
            yield Label("Text to inspect: type or paste it · ctrl+s inspects · esc cancels")
            yield TextArea(self._text, id="text-input", soft_wrap=True)
            yield Static("", id="text-error", classes="dialog-error", markup=False)

    def on_mount(self) -> None:
        self._check(self._text)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._check(event.text_area.text)

    def _check(self, text: str) -> None:
        """Name the characters the model never saw (one line; empty if none)."""
        unknown = self._vocab.unknown("".join(dict.fromkeys(text))) if self._vocab else []
        line = ""
        if unknown:
            shown = ", ".join(repr(c) for c in unknown[:8]) + (" …" if len(unknown) > 8 else "")
            line = f"this model never saw {shown}: its corpus has none"
        self.query_one("#text-error", Static).update(line)

    def action_accept(self) -> None:
        self.dismiss(self.query_one(TextArea).text)


class CompareDialog(ModalScreen[CheckpointEntry | None]):
    """Choose a checkpoint to compare beside the one inspected; enter adds it, escape cancels."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="compare.cancel")]

    def __init__(self, entries: list[CheckpointEntry]) -> None:
        super().__init__()
        self._entries = entries

    def compose(self) -> ComposeResult:
        with Vertical(id="compare-dialog", classes="inspect-dialog"):
            yield Label("A checkpoint to compare · enter adds it · esc cancels")
            yield CheckpointPicker(id="compare-picker")

    def on_mount(self) -> None:
        picker = self.query_one(CheckpointPicker)
        picker.show_entries(self._entries, self._entries[0].key if self._entries else None)
        picker.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        entry = self.query_one(CheckpointPicker).selected_entry
        if entry is not None:
            self.dismiss(entry)
