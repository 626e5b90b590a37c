"""The Generate view's controls: seed, temperature, top-k, length and prompt, checked as typed.

The limits and the words of every refusal are core/sampling/settings.py's own, so the app and the
CLI refuse the same values for the same reasons; the form only parses text and names the field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.validation import ValidationResult, Validator
from textual.widgets import Input

from shakespeare_tui.core.errors import SamplingError
from shakespeare_tui.core.sampling.settings import MAX_TEMPERATURE, SampleSettings
from shakespeare_tui.settings import GenerateSettings
from shakespeare_tui.widgets.field_input import FieldInput
from shakespeare_tui.widgets.fields import field_row, refusal, show_field_error

TEMPERATURE_STEP = 0.1


def _whole(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError("must be a whole number") from None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError("must be a number") from None


@dataclass(frozen=True)
class Field:
    id: str  # the Input's id
    label: str
    setting: str  # the SampleSettings field
    parse: Callable[[str], Any]  # to the setting's own kind (int, float, str or None)
    placeholder: str = ""


FIELDS = (
    Field("seed", "Seed", "seed", _whole, "random"),
    Field("temperature", "Temperature", "temperature", _number),
    Field("top-k", "Top-k", "top_k", _whole, "all characters"),
    Field("length", "Length", "length", lambda t: _whole(t) or 0),
    Field("prompt", "Prompt", "prompt", str, "(a new speech)"),
)
BY_SETTING = {f.setting: f for f in FIELDS}


class SettingValidator(Validator):
    """Parses one field and checks it with SampleSettings' own rules."""

    def __init__(self, field: Field) -> None:
        super().__init__()
        self.field = field

    def validate(self, value: str) -> ValidationResult:
        try:
            parsed = self.field.parse(value)
        except ValueError as exc:
            return self.failure(str(exc))
        settings = SampleSettings(**{self.field.setting: parsed})
        for problem in settings.problems():
            if problem.field == self.field.setting:
                return self.failure(problem.reason)
        return self.success()


class GenerateForm(Vertical):
    """The sampling controls; valid values are remembered in `settings` as they are typed."""

    def __init__(self, settings: GenerateSettings, **kwargs) -> None:
        super().__init__(**kwargs)
        self.settings = settings

    def compose(self) -> ComposeResult:
        s = self.settings
        values = {
            "seed": s.seed,
            "temperature": f"{float(s.temperature):g}",
            "top-k": "" if s.top_k is None else str(s.top_k),
            "length": str(s.length),
            "prompt": s.prompt,
        }
        for field in FIELDS:
            box = FieldInput(
                values[field.id],
                placeholder=field.placeholder,
                validators=[SettingValidator(field)],
                id=field.id,
                compact=True,
            )
            yield from field_row(field.id, field.label, box)

    def label_of(self, setting: str) -> str:
        return BY_SETTING[setting].label

    def read(self) -> SampleSettings:
        """The settings as typed, or SamplingError naming the first field that is wrong."""
        values = {}
        for field in FIELDS:
            text = self.query_one(f"#{field.id}", Input).value
            try:
                values[field.setting] = field.parse(text)
            except ValueError as exc:
                raise SamplingError(field.setting, str(exc)) from None
        settings = SampleSettings(**values)
        settings.check()
        return settings

    def show_problem(self, error: SamplingError) -> None:
        """Show a refusal found later (against the model's vocabulary) beside its field."""
        field = BY_SETTING.get(error.field)
        if field is not None:
            show_field_error(self, field.id, error.reason)

    def nudge_temperature(self, direction: int) -> None:
        box = self.query_one("#temperature", Input)
        try:
            value = float(box.value)
        except ValueError:
            value = self.settings.temperature
        value = min(MAX_TEMPERATURE, max(0.0, round(value + direction * TEMPERATURE_STEP, 1)))
        box.value = f"{value:.1f}"

    def set_seed(self, seed: int) -> None:
        self.query_one("#seed", Input).value = str(seed)

    def show_last_seed(self, seed: int) -> None:
        self.query_one("#seed", Input).placeholder = f"random (last: {seed})"

    def on_input_changed(self, event: Input.Changed) -> None:
        field = next((f for f in FIELDS if f.id == event.input.id), None)
        if field is None:
            return
        why = refusal(event.validation_result)
        show_field_error(self, field.id, why)
        if why:
            return
        value = field.parse(event.value)
        s = self.settings
        if field.setting == "seed":
            s.seed = event.value.strip()
        elif field.setting == "prompt":
            s.prompt = event.value
        else:
            setattr(s, field.setting, value)
