"""Form rows shared by the Train and Generate forms: a label, a control, and the reason a value
is refused, shown under it in the words of the field."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.validation import ValidationResult
from textual.widget import Widget
from textual.widgets import Label, Static


def field_row(name: str, label: str, control: Widget) -> ComposeResult:
    """`label` and `control` on one line, and a hidden line for the field's error below."""
    with Horizontal(classes="form-row"):
        yield Label(label, classes="form-label")
        yield control
    yield Static("", id=f"{name}-error", classes="field-error", markup=False)


def show_field_error(form: Widget, name: str, text: str) -> None:
    """Show (or, with "", hide) why field `name`'s value is refused."""
    error = form.query_one(f"#{name}-error", Static)
    error.update(text)
    error.display = bool(text)


def refusal(result: ValidationResult | None) -> str:
    """Why a validation refused a value ("" if it did not): every reason, in one line."""
    if result is None or result.is_valid:
        return ""
    return "; ".join(result.failure_descriptions) or "not a valid value"
