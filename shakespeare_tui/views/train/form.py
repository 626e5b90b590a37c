"""The Train view's settings form: run, corpus, preset, model, budgets; validated as typed.

A named preset ("auto" follows the device: notebook on a GPU, cpu elsewhere) shows its model
and optimiser in the fields; typing over one of them makes the run "custom", and the line under
the preset says so. With an existing run selected, `s` resumes it and only the budgets, device
and samples apply: the other fields show the run's own values, locked. Field specs and the
settings → config rule are in fields.py.
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import partial
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.validation import Function
from textual.widgets import Collapsible, Input, Select, Static
from textual.worker import Worker, WorkerState

from shakespeare_tui.core.cells import CELLS
from shakespeare_tui.core.config import CUSTOM, SCHEDULES, SIZED, ModelConfig, preset_values
from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.figures import params, size
from shakespeare_tui.core.model.estimate import (
    TYPICAL_VOCAB,
    TimedRun,
    grounded_speed,
    parameters,
    training_bytes,
)
from shakespeare_tui.core.runs.summary import RunInfo
from shakespeare_tui.core.shown_text import shown
from shakespeare_tui.core.sizing.rule import ladder_summary
from shakespeare_tui.core.text.corpus import NAMED_CORPORA
from shakespeare_tui.core.text.vocab_size import corpus_vocab_size
from shakespeare_tui.settings import TrainSettings
from shakespeare_tui.views.train.fields import (
    ADVANCED_NUMBERS,
    BF16_CHOICES,
    LABELS,
    MODEL_NUMBERS,
    NUMBER_FIELDS,
    PRESET_FIELDS,
    PRESET_NAMES,
    RESUME_FIELDS,
    RUN_NUMBERS,
    NumberField,
    device_check,
    form_config,
    preset_hint,
    show_value,
)
from shakespeare_tui.widgets.field_input import FieldInput
from shakespeare_tui.widgets.fields import field_row, refusal, show_field_error

NEW_RUN = "new"
HINT_RESUME = "s resumes it: only budgets, device and samples can change"
HINT_FOLLOWED = "another process trains it: shown live here, read-only"


def _run_options(runs: list[RunInfo]) -> list[tuple[str, str]]:
    """The run selector's options; names and models come from files: shown escaped."""
    return [("new run", NEW_RUN)] + [
        (shown(f"{r.name} · {r.model} · {r.step:,} steps"), r.name) for r in runs
    ]


def corpus_problem(text: str) -> str:
    """Why the corpus field cannot be trained on ("" if it can), without reading the file."""
    text = text.strip()
    if not text:
        return "plays, tinyshakespeare, or a path to a text file"
    if text in NAMED_CORPORA:
        return ""
    path = Path(text).expanduser()
    if path.is_dir():
        return "a folder: give a text file in it"
    if not path.is_file():
        return "no such file (or plays, tinyshakespeare)"
    return ""


class TrainForm(VerticalScroll):
    """Every setting of a new run, or the few a resume may change."""

    # Tab goes from field to field (each one scrolls into view as it is focused); the form
    # itself is no stop, which showed nothing but a lit scrollbar between the log and the run.
    can_focus = False

    class Changed(Message):
        """A setting changed to a valid value (or the run selection changed)."""

        def __init__(self, form: TrainForm) -> None:
            super().__init__()
            self.form = form

    def __init__(self, settings: TrainSettings, **kwargs) -> None:
        super().__init__(**kwargs)
        self._initial = settings
        self.device_type: str | None = None  # known once torch has loaded
        self.device_label: str | None = None  # "CPU · 2 threads", likewise
        self._locked = False
        self._runs: dict[str, RunInfo] = {}
        self._options: list[tuple[str, str]] = []  # the run selector's, as last set
        self._vocab: dict[str, int | None] = {}  # corpus → its characters, as counted
        self._elsewhere: dict[str, bool] = {}  # run → trained by another process, as last seen
        self._filled_for: str | None = None  # the run whose values the fields show (None: new)
        # What the fields held for a new run while a past run's values are shown, so "new
        # run" gets them back rather than inheriting that run's budgets.
        self._new_run_fields: dict[str, object] = {}

    # -- building --------------------------------------------------------------------------

    def _row(self, name: str, control) -> ComposeResult:
        yield from field_row(name, LABELS[name], control)

    def _select(self, name: str, options, value) -> ComposeResult:
        yield from self._row(
            name, Select(options, value=value, allow_blank=False, id=name, compact=True)
        )

    def _number(self, field: NumberField) -> ComposeResult:
        control = FieldInput(
            show_value(self._shown.get(field.name, getattr(self._initial, field.name))),
            placeholder=field.placeholder,
            validators=list(field.validators),
            id=field.name,
            compact=True,
        )
        yield from self._row(field.name, control)

    def compose(self) -> ComposeResult:
        s = self._initial
        preset = s.preset if s.preset in PRESET_NAMES else "auto"
        # A named preset's fields hold its values from the start (the device may change
        # "auto"'s later), so nothing reads as typed over.
        self._shown = {} if preset == CUSTOM else preset_values(preset, self.device_type)
        yield from self._select("run", [("new run", NEW_RUN)], NEW_RUN)
        yield Static("", id="run-hint", classes="form-hint", markup=False)
        corpus = FieldInput(
            s.corpus,
            placeholder="plays, tinyshakespeare or a file",
            suggester=SuggestFromList(list(NAMED_CORPORA)),
            validators=[Function(lambda v: not corpus_problem(v), "")],
            id="corpus",
            compact=True,
            tooltip="plays (bundled), tinyshakespeare (downloaded once) or a text file's path",
        )
        yield from self._row("corpus", corpus)
        yield from self._select("preset", [(p, p) for p in PRESET_NAMES], preset)
        yield Static("", id="preset-hint", classes="form-hint", markup=False)
        cell = self._shown.get("cell", s.cell if s.cell in CELLS else "lstm")
        yield from self._select("cell", [(c.upper(), c) for c in CELLS], cell)
        for field in MODEL_NUMBERS:
            yield from self._number(field)
        yield Static("", id="estimate", classes="form-hint", markup=False)
        for field in RUN_NUMBERS:
            yield from self._number(field)
        device = FieldInput(
            s.device,
            validators=[device_check(), Function(self._device_here, "")],
            suggester=SuggestFromList(["auto", "cpu", "cuda", "mps"]),
            id="device",
            compact=True,
        )
        yield from self._row("device", device)
        # Built with the class Textual gives a collapsed Collapsible when it mounts: added then,
        # it restyled the ~70 widgets inside once more as the view started.
        with Collapsible(title="advanced", id="advanced", collapsed=True, classes="-collapsed"):
            schedule = self._shown.get("schedule", s.schedule)
            schedule = schedule if schedule in SCHEDULES else "cosine"
            yield from self._select("schedule", [(x, x) for x in SCHEDULES], schedule)
            bf16 = s.bf16 if s.bf16 in dict(BF16_CHOICES) else "auto"
            yield from self._select("bf16", [(k, k) for k, _ in BF16_CHOICES], bf16)
            for field in ADVANCED_NUMBERS:
                yield from self._number(field)

    def on_mount(self) -> None:
        # A named preset shows its own values; custom keeps the remembered ones.
        self._apply_preset(self.query_one("#preset", Select).value)
        self._read_vocab(self.query_one("#corpus", Input).value)
        self._new_run_fields = self._field_values()
        if self._initial.run:
            # Remembered with a past run selected: the fields are that run's, so a new run
            # starts from the default budgets, not from its.
            self._filled_for = self._initial.run
            defaults = TrainSettings()
            for name in RESUME_FIELDS:
                self._new_run_fields[name] = show_value(getattr(defaults, name))
        self._update_enabled()

    # -- reading ---------------------------------------------------------------------------

    @property
    def selected_run(self) -> str | None:
        value = self.query_one("#run", Select).value
        return None if value in (NEW_RUN, Select.NULL) else str(value)

    @property
    def selected_info(self) -> RunInfo | None:
        run = self.selected_run
        return self._runs.get(run) if run else None

    def _why(self, widget: Input) -> str:
        if widget.id == "corpus":
            return corpus_problem(widget.value)
        if widget.id == "device":
            return self._device_problem(widget.value)
        return refusal(widget.validate(widget.value))

    def first_invalid(self) -> tuple[str, str] | None:
        """(field label, why) of the first enabled field that does not validate."""
        for widget in self.query(Input):
            if widget.disabled:
                continue
            reason = self._why(widget)
            if reason:
                return LABELS[widget.id], reason
        return None

    def values(self, base: TrainSettings) -> TrainSettings:
        """`base` updated with every field that holds a valid value."""
        changes: dict = {
            name: str(self.query_one(f"#{name}", Select).value)
            for name in ("preset", "cell", "schedule", "bf16")
        }
        changes["run"] = self.selected_run or ""
        for field in NUMBER_FIELDS:
            widget = self.query_one(f"#{field.name}", Input)
            if self._why(widget):
                continue
            text = widget.value.strip()
            if not text:
                changes[field.name] = None
            else:
                changes[field.name] = int(text) if field.kind is int else float(text)
        for name in ("corpus", "device"):
            widget = self.query_one(f"#{name}", Input)
            if widget.value.strip() and not self._why(widget):
                changes[name] = widget.value.strip()
        return replace(base, **changes)

    def resume_overrides(self) -> dict:
        s = self.values(self._initial)
        values = {k: getattr(s, k) for k in RESUME_FIELDS}
        # A blank budget on a resume means "as the run had it", not "none".
        return {k: v for k, v in values.items() if v is not None}

    # -- writing ---------------------------------------------------------------------------

    def set_device_type(self, device_type: str) -> None:
        self.device_type = device_type
        self.device_label = getattr(self.app, "device_label", None)  # set before this call
        if self.query_one("#preset", Select).value == "auto" and not self.selected_run:
            self._apply_preset("auto")
        device = self.query_one("#device", Input)
        self._show_error("device", self._device_problem(device.value))
        self._update_estimate()  # its speed needs the device (also with a past run selected)

    def set_running(self, running: bool) -> None:
        self._locked = running
        self._update_enabled()

    def set_runs(self, runs: list[RunInfo], selected: str | None = None) -> None:
        """Offer these runs to resume; keep (or make) `selected` the choice."""
        self._runs = {r.name: r for r in runs}
        self._elsewhere = {r.name: r.training for r in runs}
        select = self.query_one("#run", Select)
        current = selected if selected is not None else self.selected_run
        options = self._options = _run_options(runs)
        with self.prevent(Select.Changed):
            select.set_options(options)
            select.value = current if current in self._runs else NEW_RUN
        self._fill_from_run(self.selected_run)
        self._update_enabled()

    def update_runs(self, runs: list[RunInfo]) -> None:
        """Offer these runs (a list read again), keeping the choice and every field as they
        are; not while the list is open under the person's cursor."""
        runs_before, self._runs = self._runs, {r.name: r for r in runs}
        if self._runs != runs_before:
            self._update_estimate()  # a run timed since may ground its speed
        elsewhere = {r.name: r.training for r in runs}
        if elsewhere != self._elsewhere:
            self._elsewhere = elsewhere
            self._update_enabled()
        select = self.query_one("#run", Select)
        options = _run_options(runs)
        if options == self._options or select.expanded:
            return
        current = self.selected_run
        self._options = options
        with self.prevent(Select.Changed):
            select.set_options(options)
            select.value = current if current in self._runs else NEW_RUN

    def show_run_state(self, run: str, trained_elsewhere: bool) -> None:
        """What a fresh read of run `run` says: whether another process trains it (then the
        form offers nothing to change and no resume)."""
        if self._elsewhere.get(run) != trained_elsewhere:
            self._elsewhere[run] = trained_elsewhere
            self._update_enabled()

    @property
    def trained_elsewhere(self) -> bool:
        """Whether the selected run is being trained by another process."""
        run = self.selected_run
        return run is not None and self._elsewhere.get(run, False)

    def _field_values(self) -> dict[str, object]:
        """Every field's value as shown (the run selector's aside)."""
        return {
            w.id: w.value
            for w in self.query("Input, Select")
            if isinstance(w, (Input, Select)) and w.id is not None and w.id != "run"
        }

    def _set_fields(self, values: dict) -> None:
        with self.prevent(Input.Changed, Select.Changed):
            for name, value in values.items():
                widget = self.query_one(f"#{name}")
                if isinstance(widget, Select):
                    widget.value = value
                elif isinstance(widget, Input):
                    widget.value = value if isinstance(value, str) else show_value(value)
                self._show_error(name, "")

    def _apply_preset(self, name) -> None:
        """Show a named preset's model and optimiser in the fields."""
        if name != CUSTOM and name in PRESET_NAMES:
            values = preset_values(name, self.device_type)
            self._set_fields({k: values[k] for k in PRESET_FIELDS})

    def _fill_from_run(self, run: str | None) -> None:
        """Show run `run`'s own settings; for a new run (None), what the fields held before a
        past run's were shown."""
        info = self._runs.get(run) if run else None
        if info is None and run is not None:
            return  # not listed (yet): the fields stay as they are
        if self._filled_for is None and info is not None:
            self._new_run_fields = self._field_values()
        elif self._filled_for is not None and info is None:
            self._set_fields(self._new_run_fields)
        self._filled_for = run
        if info is None:
            return
        train = info.train
        model = train.get("model")
        if not isinstance(model, dict):
            model = {}
        values = {
            k: model[k] for k in ("cell", "embed", "hidden", "layers", "dropout") if k in model
        }
        names = (*PRESET_FIELDS, *RESUME_FIELDS, "corpus", "clip", "seed", "val_fraction")
        values.update({k: train[k] for k in names if k in train and k not in values})
        if train.get("preset") in PRESET_NAMES:
            values["preset"] = train["preset"]
        elif train.get("preset") == SIZED:  # what was chosen: auto, with a time budget
            values["preset"] = "auto"
        if "bf16" in train:
            bf16_words: dict[object, str] = {None: "auto", True: "on", False: "off"}
            values["bf16"] = bf16_words.get(train["bf16"], "auto")
        known = {w.id for w in self.query("Input, Select")}
        self._set_fields({k: v for k, v in values.items() if k in known})

    def _update_enabled(self) -> None:
        resuming = self.selected_run is not None
        elsewhere = self.trained_elsewhere
        for widget in self.query("Input, Select"):
            name = widget.id
            if self._locked:
                enabled = False
            elif name == "run":
                enabled = True
            elif elsewhere:
                enabled = False
            elif resuming:
                enabled = name in RESUME_FIELDS
            else:
                enabled = True
            widget.disabled = not enabled
        self._update_hints()

    def _update_hints(self) -> None:
        preset = str(self.query_one("#preset", Select).value)
        resuming = self.selected_run is not None
        run_hint = self.query_one("#run-hint", Static)
        run_hint.update(
            HINT_FOLLOWED if self.trained_elsewhere else HINT_RESUME if resuming else ""
        )
        run_hint.display = resuming
        self.query_one("#preset-hint", Static).update(preset_hint(preset))
        self.query_one("#preset-hint", Static).display = not resuming
        self._update_estimate()

    def _update_estimate(self) -> None:
        """≈ parameters, memory to train, and a speed scaled from a run on this device."""
        try:
            values = self.values(self._initial)
            if self.selected_run is not None:  # the fields hold the run's own sizes
                values = replace(values, preset=CUSTOM)
            config = form_config(values, self.device_type)
        except UserError:
            # The settings as build_config refuses them (a setting it does not know). A
            # half-typed field is no such case: `values` leaves out what does not validate.
            return
        sized = config.preset == SIZED and self.selected_run is None
        preset = str(self.query_one("#preset", Select).value)
        minutes = config.max_minutes if sized else None
        self.query_one("#preset-hint", Static).update(preset_hint(preset, minutes))
        if sized:
            self.query_one("#estimate", Static).update(ladder_summary(config))
            return
        vocab = self._vocab_size(config.corpus)
        count = parameters(config.model, vocab or TYPICAL_VOCAB)
        # The model's own count once its vocabulary is known (the corpus read, or the run's).
        shown = params(count) if vocab else f"≈ {params(count)}"
        parts = [shown, f"{size(training_bytes(config, vocab or TYPICAL_VOCAB))} to train"]
        if self.device_label is not None:
            target = "CPU" if config.device == "cpu" else self.device_label
            speed = grounded_speed(
                config.model, config.batch_size, config.seq_len, target, self._timed_runs()
            )
            if speed is not None:
                parts.append(speed.text)
        self.query_one("#estimate", Static).update(" · ".join(parts))

    def _vocab_size(self, corpus: str) -> int | None:
        """The vocabulary the model will have: the selected run's, else the corpus's once read
        (a worker reads it: `_read_vocab`); None while unknown."""
        info = self.selected_info
        if info is not None:
            model = info.train.get("model")
            vocab = model.get("vocab_size") if isinstance(model, dict) else None
            return vocab if isinstance(vocab, int) and vocab > 0 else None
        return self._vocab.get(corpus.strip())

    def _read_vocab(self, corpus: str) -> None:
        """Count the corpus's characters in a worker, once per corpus named."""
        paths = getattr(self.app, "paths", None)
        corpus = corpus.strip()
        if paths is None or corpus in self._vocab or corpus_problem(corpus):
            return
        count = partial(corpus_vocab_size, corpus, paths.cache)
        self.run_worker(count, name=corpus, group="vocab", thread=True, exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "vocab" and event.state == WorkerState.SUCCESS:
            self._vocab[worker.name] = worker.result
            self._update_estimate()

    def _timed_runs(self) -> list[TimedRun]:
        """The listed runs that measured their speed, as the estimate compares them."""
        timed = []
        for info in self._runs.values():
            train, model = info.train, info.train.get("model")
            if not (info.chars_per_sec and isinstance(model, dict)):
                continue
            try:
                config = ModelConfig(**{k: v for k, v in model.items() if k != "vocab_size"})
                batches = _whole(train["batch_size"]), _whole(train["seq_len"])
            except (KeyError, TypeError, ValueError):
                continue  # a hand-edited config: not comparable
            timed.append(TimedRun(info.chars_per_sec, config, *batches, info.device))
        return timed

    def _show_error(self, name: str, text: str) -> None:
        show_field_error(self, name, text)

    def _device_here(self, text: str) -> bool:
        return not self._device_problem(text)

    def _device_problem(self, text: str) -> str:
        text = text.strip()
        result = device_check().validate(text)
        if not result.is_valid:
            return refusal(result)
        if self.device_type is None or text in ("auto", "cpu"):
            return ""
        if text.startswith("cuda") and self.device_type != "cuda":
            return "no CUDA GPU on this machine: auto or cpu"
        if text == "mps" and self.device_type != "mps":
            return "no Apple GPU on this machine: auto or cpu"
        return ""

    # -- events ----------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.value != event.input.value:
            return  # overtaken: the field has been set again since
        name = event.input.id
        if name is None:
            return  # (every field has an id: its name)
        why = self._why(event.input)
        self._show_error(name, why)
        if name in PRESET_FIELDS and not why:
            self._become_custom(name, event.value)
        if not why:
            if name == "corpus":
                self._read_vocab(event.value)
            self._update_estimate()
            self.post_message(self.Changed(self))

    def _become_custom(self, name: str, value) -> None:
        """Typing another value over a preset's makes the run custom (the hint says so)."""
        preset = self.query_one("#preset", Select)
        if preset.value == CUSTOM or self.selected_run is not None or self._locked:
            return
        own = preset_values(str(preset.value), self.device_type).get(name)
        try:
            same = own == (type(own)(value) if own is not None else value)
        except (TypeError, ValueError):
            same = False
        if not same:
            with self.prevent(Select.Changed):
                preset.value = CUSTOM
            self._update_hints()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        name = event.select.id
        if name == "preset":
            self._apply_preset(event.value)
        elif name == "run":
            self._fill_from_run(self.selected_run)
        elif name in PRESET_FIELDS:
            self._become_custom(name, event.value)
        self._update_enabled()
        self.post_message(self.Changed(self))


def _whole(value: object) -> int:
    """`int(value)` for a value read from a run's config.json, which may be anything: a kind
    int() does not take (null, a list…) raises TypeError, as int() itself would, and Infinity or
    NaN (json reads both) a ValueError, not int()'s OverflowError for infinity."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"not a finite number: {value}")
    if isinstance(value, (int, float, str)):
        return int(value)
    raise TypeError(f"not a number: {type(value).__name__}")
