"""The Train view's settings form: run, corpus, preset, model, optimisation; validated as typed.

The preset decides what is editable: a named preset ("auto" follows the device: notebook on a
GPU, cpu elsewhere) fixes the model and optimiser, and the fields show its values; "custom"
opens them all. With an existing run selected, `s` resumes it and only epochs, patience and
device apply. How the settings become a run's config is the core's rule (`build_config`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.validation import Function, Integer, Number, Validator
from textual.widgets import Input, Select

from shakespeare_tui.core.config import (
    CELLS,
    CUSTOM,
    MODEL_FIELDS,
    PRESETS,
    TrainConfig,
    build_config,
    preset_values,
)
from shakespeare_tui.core.runs import RunInfo
from shakespeare_tui.settings import TrainSettings
from shakespeare_tui.widgets.fields import field_row, refusal, show_field_error

NEW_RUN = "new"
PRESET_NAMES = ("auto", *PRESETS, CUSTOM)
OPTIM_FIELDS = ("batch_size", "seq_len", "lr")  # the optimiser settings the form shows
RESUME_FIELDS = ("epochs", "patience", "device")
_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def _positive_lr(text: str) -> bool:
    try:
        return 0 < float(text) < 10
    except ValueError:
        return False


@dataclass(frozen=True)
class NumberField:
    name: str  # the TrainSettings attribute
    label: str
    kind: type  # int or float
    validators: tuple[Validator, ...]


NUMBER_FIELDS = (
    NumberField("embed", "embed", int, (Integer(1, 4096),)),
    NumberField("hidden", "hidden", int, (Integer(1, 8192),)),
    NumberField("layers", "layers", int, (Integer(1, 8),)),
    NumberField("dropout", "dropout", float, (Number(0, 0.95),)),
    NumberField("batch_size", "batch", int, (Integer(1, 4096),)),
    NumberField("seq_len", "seq len", int, (Integer(2, 4096),)),
    NumberField(
        "lr",
        "lr",
        float,
        (Number(), Function(_positive_lr, "Must be above 0 and below 10.")),
    ),
    NumberField("epochs", "epochs", int, (Integer(1, 100_000),)),
    NumberField("patience", "patience", int, (Integer(1, 100_000),)),
)
LABELS = {f.name: f.label for f in NUMBER_FIELDS} | {
    "corpus": "corpus",
    "device": "device",
    "run": "run",
    "preset": "preset",
    "cell": "cell",
}


def label_of(field: str) -> str:
    """A setting's name as the form shows it (for errors about it)."""
    return LABELS.get(field, field.replace("_", " "))


def config_settings(settings: TrainSettings) -> dict:
    """What the form gives `build_config`: the run's own fields, and under "custom" the model
    and optimiser too (a named preset fixes those, whatever an older settings file says)."""
    values = {
        "corpus": settings.corpus.strip(),
        "device": settings.device.strip() or "auto",
        "epochs": settings.epochs,
        "patience": settings.patience,
    }
    if settings.preset == CUSTOM:
        values.update({k: getattr(settings, k) for k in (*MODEL_FIELDS, *OPTIM_FIELDS)})
    return values


def form_config(settings: TrainSettings, device_type: str | None) -> TrainConfig:
    """The TrainConfig a new run trains, from validated form settings.

    `device_type` ("cuda", "mps", "cpu") resolves the "auto" preset as the CLI does.
    """
    preset = settings.preset if settings.preset in PRESET_NAMES else "auto"
    return build_config(preset, device_type, config_settings(settings))


class TrainForm(VerticalScroll):
    """Every setting of a new run, or the few a resume may change."""

    class Changed(Message):
        """A setting changed to a valid value (or the run selection changed)."""

        def __init__(self, form: TrainForm) -> None:
            super().__init__()
            self.form = form

    def __init__(self, settings: TrainSettings, **kwargs) -> None:
        super().__init__(**kwargs)
        self._initial = settings
        self.device_type: str | None = None  # known once torch has loaded
        self._locked = False
        self._runs: dict[str, RunInfo] = {}

    def _row(self, name: str, control) -> ComposeResult:
        yield from field_row(name, LABELS[name], control)

    def compose(self) -> ComposeResult:
        s = self._initial
        yield from self._row(
            "run",
            Select(
                [("new run", NEW_RUN)], value=NEW_RUN, allow_blank=False, id="run", compact=True
            ),
        )
        yield from self._row(
            "corpus",
            Input(
                s.corpus,
                placeholder="plays, tinyshakespeare or a file",
                suggester=SuggestFromList(["plays", "tinyshakespeare"]),
                validators=[Function(lambda v: bool(v.strip()), "Give a corpus.")],
                id="corpus",
                compact=True,
            ),
        )
        preset = s.preset if s.preset in PRESET_NAMES else "auto"
        yield from self._row(
            "preset",
            Select(
                [(p, p) for p in PRESET_NAMES],
                value=preset,
                allow_blank=False,
                id="preset",
                compact=True,
            ),
        )
        cell = s.cell if s.cell in CELLS else "lstm"
        yield from self._row(
            "cell",
            Select(
                [(c.upper(), c) for c in CELLS],
                value=cell,
                allow_blank=False,
                id="cell",
                compact=True,
            ),
        )
        for field in NUMBER_FIELDS:
            yield from self._row(
                field.name,
                Input(
                    _show(getattr(s, field.name)),
                    validators=list(field.validators),
                    id=field.name,
                    compact=True,
                ),
            )
        yield from self._row(
            "device",
            Input(
                s.device,
                validators=[
                    Function(
                        lambda v: bool(_DEVICE.match(v.strip())),
                        "auto, cpu, cuda, cuda:N or mps.",
                    )
                ],
                suggester=SuggestFromList(["auto", "cpu", "cuda", "mps"]),
                id="device",
                compact=True,
            ),
        )

    def on_mount(self) -> None:
        # A named preset shows its own values; custom keeps the remembered ones.
        self._apply_preset(self.query_one("#preset", Select).value)
        self._update_enabled()

    # -- reading ---------------------------------------------------------------------------

    @property
    def selected_run(self) -> str | None:
        value = self.query_one("#run", Select).value
        return None if value in (NEW_RUN, Select.NULL) else str(value)

    def first_invalid(self) -> tuple[str, str] | None:
        """(field label, why) of the first enabled field that does not validate."""
        for widget in self.query(Input):
            if widget.disabled:
                continue
            reason = refusal(widget.validate(widget.value))
            if reason:
                return LABELS[widget.id], reason
        return None

    def values(self, base: TrainSettings) -> TrainSettings:
        """`base` updated with every field that holds a valid value."""
        changes: dict = {
            "preset": str(self.query_one("#preset", Select).value),
            "cell": str(self.query_one("#cell", Select).value),
            "run": self.selected_run or "",
        }
        for field in NUMBER_FIELDS:
            widget = self.query_one(f"#{field.name}", Input)
            result = widget.validate(widget.value)
            if result is None or result.is_valid:
                changes[field.name] = field.kind(float(widget.value))
        for name in ("corpus", "device"):
            widget = self.query_one(f"#{name}", Input)
            if widget.value.strip():
                changes[name] = widget.value.strip()
        return replace(base, **changes)

    def resume_overrides(self) -> dict:
        s = self.values(self._initial)
        return {k: getattr(s, k) for k in RESUME_FIELDS}

    # -- writing ---------------------------------------------------------------------------

    def set_device_type(self, device_type: str) -> None:
        self.device_type = device_type
        if self.query_one("#preset", Select).value == "auto" and not self.selected_run:
            self._apply_preset("auto")

    def set_running(self, running: bool) -> None:
        self._locked = running
        self._update_enabled()

    def set_runs(self, runs: list[RunInfo], selected: str | None = None) -> None:
        """Offer these runs to resume; keep (or make) `selected` the choice."""
        self._runs = {r.name: r for r in runs}
        select = self.query_one("#run", Select)
        current = selected if selected is not None else self.selected_run
        options = [("new run", NEW_RUN)] + [
            (f"{r.name} · {r.model} · {r.epochs_done} ep", r.name) for r in runs
        ]
        with self.prevent(Select.Changed):
            select.set_options(options)
            select.value = current if current in self._runs else NEW_RUN
        self._fill_from_run(self.selected_run)
        self._update_enabled()

    def _set_fields(self, values: dict) -> None:
        with self.prevent(Input.Changed, Select.Changed):
            for name, value in values.items():
                widget = self.query_one(f"#{name}")
                if isinstance(widget, Select):
                    widget.value = value
                else:
                    widget.value = _show(value)
                self._show_error(name, "")

    def _apply_preset(self, name) -> None:
        """Show a named preset's model and optimiser in the (locked) fields."""
        if name != CUSTOM and name in PRESET_NAMES:
            values = preset_values(name, self.device_type)
            self._set_fields({k: values[k] for k in (*MODEL_FIELDS, *OPTIM_FIELDS)})

    def _fill_from_run(self, run: str | None) -> None:
        info = self._runs.get(run) if run else None
        if info is None:
            return
        train = info.train
        model = train.get("model") if isinstance(train.get("model"), dict) else {}
        values = {k: model[k] for k in MODEL_FIELDS if k in model}
        values.update(
            {k: train[k] for k in (*OPTIM_FIELDS, *RESUME_FIELDS, "corpus") if k in train}
        )
        if train.get("preset") in PRESET_NAMES:
            values["preset"] = train["preset"]
        self._set_fields(values)

    def _update_enabled(self) -> None:
        preset = self.query_one("#preset", Select).value
        resuming = self.selected_run is not None
        for widget in self.query("Input, Select"):
            name = widget.id
            if self._locked:
                enabled = False
            elif name == "run":
                enabled = True
            elif resuming:
                enabled = name in RESUME_FIELDS
            elif name in MODEL_FIELDS or name in OPTIM_FIELDS:
                enabled = preset == CUSTOM
            else:
                enabled = True
            widget.disabled = not enabled

    def _show_error(self, name: str, text: str) -> None:
        show_field_error(self, name, text)

    # -- events ----------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        why = refusal(event.validation_result)
        self._show_error(event.input.id, why)
        if not why:
            self.post_message(self.Changed(self))

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id == "preset":
            self._apply_preset(event.value)
        elif event.select.id == "run":
            self._fill_from_run(self.selected_run)
        self._update_enabled()
        self.post_message(self.Changed(self))


def _show(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
