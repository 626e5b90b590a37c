"""The Train form's fields: what each holds, how it is checked as typed, and how the form's
settings become a run's config (the core's `build_config`, one rule for the app and the CLI)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from textual.validation import Function, Validator

from shakespeare_tui.core.config import (
    CUSTOM,
    MODEL_FIELDS,
    PRESETS,
    TrainConfig,
    build_config,
)
from shakespeare_tui.settings import TrainSettings

PRESET_NAMES = ("auto", *PRESETS, CUSTOM)
# What a named preset fixes (shown, locked); "custom" opens them.
PRESET_FIELDS = (*MODEL_FIELDS, "batch_size", "seq_len", "lr", "schedule")
# What a resume may change: the run's budgets, devices and reporting.
RESUME_FIELDS = (
    "epochs",
    "patience",
    "max_steps",
    "max_minutes",
    "eval_every",
    "device",
    "sample_length",
    "sample_temperature",
)
BF16_CHOICES = (("auto", None), ("on", True), ("off", False))
_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def _number(kind: type, low: float, high: float, *, optional: bool, low_open: bool = False):
    """A check of a typed number in [low, high] ((low, high] with `low_open`); blank is "none"
    for an optional field. Messages stay short enough to show whole under a narrow form."""
    below = f"above {low:g}" if low_open else f"{low:g} or more"
    word = "a whole number" if kind is int else "a number"

    def check(text: str) -> bool:
        text = text.strip()
        if not text:
            return optional
        try:
            value = kind(text) if kind is int else float(text)
        except ValueError:
            return False
        above = value > low if low_open else value >= low
        return above and value <= high

    blank = "; blank for none" if optional else ""
    return Function(check, f"{word}, {below}, at most {high:g}{blank}")


@dataclass(frozen=True)
class NumberField:
    name: str  # the TrainSettings attribute
    label: str
    kind: type  # int or float
    validators: tuple[Validator, ...]
    optional: bool = False  # blank means None
    placeholder: str = ""


def _field(name, label, kind, low, high, *, optional=False, low_open=False, placeholder=""):
    check = _number(kind, low, high, optional=optional, low_open=low_open)
    return NumberField(name, label, kind, (check,), optional, placeholder)


MODEL_NUMBERS = (
    _field("embed", "embed", int, 1, 4096),
    _field("hidden", "hidden", int, 1, 8192),
    _field("layers", "layers", int, 1, 8),
    _field("dropout", "dropout", float, 0, 0.95),
    _field("batch_size", "batch", int, 1, 4096),
    _field("seq_len", "seq len", int, 2, 4096),
    _field("lr", "lr", float, 0, 9.99, low_open=True),
)
RUN_NUMBERS = (
    _field("epochs", "epochs", int, 1, 100_000),
    _field("patience", "patience", int, 1, 100_000),
    _field("max_steps", "max steps", int, 1, 10**9, optional=True, placeholder="no limit"),
    _field(
        "max_minutes",
        "max min",
        float,
        0,
        10**6,
        optional=True,
        low_open=True,
        placeholder="no limit",
    ),
    _field("eval_every", "eval every", int, 0, 10**9, placeholder="steps; 0 = epoch ends"),
)
ADVANCED_NUMBERS = (
    _field("clip", "clip", float, 0, 1e6, low_open=True),
    _field("seed", "seed", int, 0, 2**63 - 1),
    _field("val_fraction", "val part", float, 0, 0.49, low_open=True),
    _field("sample_length", "sample len", int, 0, 100_000),
    _field("sample_temperature", "sample temp", float, 0, 2),
)
NUMBER_FIELDS = MODEL_NUMBERS + RUN_NUMBERS + ADVANCED_NUMBERS

LABELS = {f.name: f.label for f in NUMBER_FIELDS} | {
    "corpus": "corpus",
    "device": "device",
    "run": "run",
    "preset": "preset",
    "cell": "cell",
    "schedule": "schedule",
    "bf16": "bf16",
}
LABEL_WIDTH = 11


def label_of(field: str) -> str:
    """A setting's name as the form shows it (for errors about it)."""
    return LABELS.get(field, field.replace("_", " "))


def device_check() -> Validator:
    return Function(lambda v: bool(_DEVICE.match(v.strip())), "auto, cpu, cuda, cuda:N or mps")


def config_settings(settings: TrainSettings) -> dict:
    """What the form gives `build_config`: the run's own fields, and under "custom" the model
    and optimiser too (a named preset fixes those, whatever an older settings file says)."""
    values = {
        "corpus": settings.corpus.strip(),
        "device": settings.device.strip() or "auto",
        "epochs": settings.epochs,
        "patience": settings.patience,
        "max_steps": settings.max_steps,
        "max_minutes": settings.max_minutes,
        "eval_every": settings.eval_every,
        "clip": settings.clip,
        "bf16": dict(BF16_CHOICES).get(settings.bf16),
        "seed": settings.seed,
        "val_fraction": settings.val_fraction,
        "sample_length": settings.sample_length,
        "sample_temperature": settings.sample_temperature,
    }
    values = {k: v for k, v in values.items() if v is not None}
    if settings.preset == CUSTOM:
        values.update({k: getattr(settings, k) for k in PRESET_FIELDS})
    return values


def preset_hint(preset: str, sized_minutes: float | None = None) -> str:
    """The line under the preset: what it fixes, or that a budget will size the model."""
    if sized_minutes:
        return f"auto with {sized_minutes:g} min: the model is sized to the budget when it starts"
    if preset == CUSTOM:
        return "custom: every size below is yours"
    return f"{preset} fixes the sizes; typing over one makes it custom"


def form_config(settings: TrainSettings, device_type: str | None) -> TrainConfig:
    """The TrainConfig a new run trains, from validated form settings.

    `device_type` ("cuda", "mps", "cpu") resolves the "auto" preset as the CLI does.
    """
    preset = settings.preset if settings.preset in PRESET_NAMES else "auto"
    return build_config(preset, device_type, config_settings(settings))


def show_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
