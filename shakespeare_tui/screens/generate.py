"""The Generate view: pick a checkpoint, set the sampling controls, stream text.

Torch is imported only inside the worker threads (reading checkpoint infos, loading a model,
sampling), never on the UI thread or at import time. The generation worker loads its own model
copy from the checkpoint file, so it can run while training goes on in another worker.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.validation import Integer, Length, Number
from textual.widgets import Footer, Header, Input, Label, OptionList, Static
from textual.worker import Worker, WorkerState, get_current_worker

from shakespeare_tui.settings import GenerateSettings
from shakespeare_tui.widgets.checkpoint_picker import (
    CheckpointEntry,
    CheckpointPicker,
    InfoCache,
    default_key,
    scan_checkpoints,
)
from shakespeare_tui.widgets.generated_text import BANDS, GeneratedText

if TYPE_CHECKING:
    from shakespeare_tui.core.paths import Paths

MAX_TEMPERATURE = 2.0  # the app offers 0–2 (the core allows up to 10)
MAX_LENGTH = 100_000
MAX_PROMPT = 10_000  # the model reads a prompt a character at a time: ~1,500 a second on a CPU
TEMPERATURE_STEP = 0.1
CHUNK_SECONDS = 0.03  # the worker posts what it sampled every ~30 ms: ~33 updates a second
CACHED_MODELS = 3  # loaded checkpoints kept, so a second `g` starts at once


# -- messages ------------------------------------------------------------------------------


class CheckpointsScanned(Message, bubble=False):
    """The scan worker read the checkpoint files."""

    def __init__(self, scan_id: int, entries: list[CheckpointEntry]) -> None:
        super().__init__()
        self.scan_id = scan_id
        self.entries = entries


class GenerationStarted(Message, bubble=False):
    """The model is loaded and the seed chosen; characters follow."""

    def __init__(self, generation: int, seed: int, prompt: str) -> None:
        super().__init__()
        self.generation = generation
        self.seed = seed
        self.prompt = prompt


class GenerationChunk(Message, bubble=False):
    """Characters sampled since the last chunk, with the probability the model gave each."""

    def __init__(self, generation: int, chars: str, probabilities: tuple[float, ...]) -> None:
        super().__init__()
        self.generation = generation
        self.chars = chars
        self.probabilities = probabilities


class GenerationFinished(Message, bubble=False):
    """The stream ended: all characters were sampled, or it was stopped."""

    def __init__(self, generation: int, seed: int | None, count: int, stopped: bool) -> None:
        super().__init__()
        self.generation = generation
        self.seed = seed
        self.count = count
        self.stopped = stopped


# -- the form ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    id: str
    label: str


FIELDS = (
    Field("seed", "Seed"),
    Field("temperature", "Temperature"),
    Field("top-k", "Top-k"),
    Field("length", "Length"),
    Field("prompt", "Prompt"),
)
FIELD_IDS = frozenset(field.id for field in FIELDS)


class GenerateScreen(Screen):
    """Stream text from a checkpoint; the app mounts it as its "generate" mode."""

    DEFAULT_CSS = """
    GenerateScreen {
        #generate-body { height: 1fr; }
        #generate-controls {
            width: 46;
            height: 1fr;
            padding: 0 1 0 0;
        }
        #picker { height: 1fr; min-height: 5; }
        .section-title { text-style: bold; padding: 0 1; }
        .field-row { height: 3; }
        .field-label { width: 13; padding: 1 0 0 1; }
        .field-row Input { width: 1fr; }
        .generate-field-error {
            color: $text-error;
            padding: 0 0 0 14;
            height: auto;
            display: none;
        }
        #generate-output-box { width: 1fr; height: 1fr; }
        #output { height: 1fr; border: round $primary 50%; }
        #output:focus { border: round $primary; }
        #generate-status { height: 1; padding: 0 1; color: $text-muted; }
    }
    """

    BINDINGS = [
        Binding(
            "g",
            "generate",
            "Generate",
            id="generate.start_stop",
            tooltip="Generate text from the chosen checkpoint; press again to stop.",
        ),
        Binding(
            "escape",
            "escape",
            "Stop",
            id="generate.escape",
            tooltip="Stop generating; in a field, leave it.",
        ),
        Binding(
            "left_square_bracket,minus",
            "nudge_temperature(-1)",
            "Colder",
            key_display="[",
            id="generate.colder",
            tooltip="Lower the temperature by 0.1: safer, more repetitive text.",
        ),
        Binding(
            "right_square_bracket,plus",
            "nudge_temperature(1)",
            "Warmer",
            key_display="]",
            id="generate.warmer",
            tooltip="Raise the temperature by 0.1: wilder text.",
        ),
        Binding(
            "c",
            "toggle_colour",
            "Colour",
            id="generate.colour",
            tooltip="Colour each character by the model's confidence (green) or surprise (red).",
        ),
        Binding(
            "r",
            "replay_seed",
            "Reuse seed",
            id="generate.reuse_seed",
            tooltip="Put the last seed into the seed field, so `g` replays the same text.",
        ),
        Binding(
            "ctrl+s",
            "save_output",
            "Save",
            id="generate.save",
            tooltip="Save the generated text to a file under the data directory.",
        ),
    ]

    def __init__(self, paths: Paths, settings: GenerateSettings, **kwargs) -> None:
        super().__init__(**kwargs)
        self.paths = paths
        self.settings = settings
        self._infos: InfoCache = {}
        self._models: dict[
            tuple[str, int, int], tuple
        ] = {}  # (path, mtime, size) → (vocab, stepper)
        self._models_lock = threading.Lock()
        self._generation = 0  # bumped per `g`; chunks of an older stream are dropped
        self._worker: Worker | None = None
        self._last_seed: int | None = None
        self._scanned = False
        self._scan_id = 0  # bumped per scan request; an out-of-date scan's answer is dropped
        self._scanning: Worker | None = None
        self._scan_again = False  # asked for while a scan ran: one more follows it
        self._streamed = 0  # characters shown of the current stream
        self._length = 0  # characters asked for
        self._status_at = 0.0  # when the progress in the status line was last redrawn

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        s = self.settings
        values = {
            "seed": s.seed,
            "temperature": str(float(s.temperature)),
            "top-k": "" if s.top_k is None else str(s.top_k),
            "length": str(s.length),
            "prompt": s.prompt,
        }
        placeholders = {"seed": "random", "top-k": "all characters", "prompt": "(a new speech)"}
        validators = {
            "seed": [Integer(minimum=0, maximum=2**63 - 1)],
            "temperature": [Number(minimum=0, maximum=MAX_TEMPERATURE)],
            "top-k": [Integer(minimum=1)],
            "length": [Integer(minimum=1, maximum=MAX_LENGTH)],
            "prompt": [
                Length(
                    maximum=MAX_PROMPT,
                    failure_description=f"at most {MAX_PROMPT:,} characters",
                )
            ],
        }
        yield Header()
        with Horizontal(id="generate-body"):
            with Vertical(id="generate-controls"):
                yield Label("Checkpoint", classes="section-title")
                yield CheckpointPicker(id="picker")
                for field in FIELDS:
                    with Horizontal(classes="field-row"):
                        yield Label(field.label, classes="field-label")
                        yield Input(
                            values[field.id],
                            placeholder=placeholders.get(field.id, ""),
                            validators=validators[field.id],
                            valid_empty=field.id in ("seed", "top-k", "prompt"),
                            id=field.id,
                        )
                    yield Static("", id=f"{field.id}-error", classes="generate-field-error")
            with Vertical(id="generate-output-box"):
                output = GeneratedText(id="output", colour_by_probability=s.colour_by_probability)
                output.border_title = "Output"
                output.border_subtitle = self._legend()
                yield output
                yield Static("g generates · c colours by confidence", id="generate-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(CheckpointPicker).focus()
        self._scan()

    # -- checkpoints ------------------------------------------------------------------------

    def refresh_checkpoints(self) -> None:
        """Rescan the runs (training saved a checkpoint), keeping the selection."""
        self._scan()

    def _scan(self) -> None:
        """Scan in a worker; requests made while one runs are folded into one more scan.

        A training run saves checkpoints every few tenths of a second with a tiny model, and
        a scan reads every run's metrics: one scan at a time keeps the worker threads (which
        `g` needs too) from filling up with scans that are out of date before they end.
        """
        self._scan_id += 1
        if self._scanning is not None and not self._scanning.is_finished:
            self._scan_again = True
            return
        self._scan_again = False
        self._scanning = self._scan_worker(self._scan_id)

    @work(thread=True, group="scan", exit_on_error=False)
    def _scan_worker(self, scan_id: int) -> None:
        infos = dict(self._infos)  # a private copy: swapped in whole when the scan is done
        entries = scan_checkpoints(self.paths, infos)
        self._infos = infos
        self.post_message(CheckpointsScanned(scan_id, entries))

    def on_checkpoints_scanned(self, message: CheckpointsScanned) -> None:
        """Show the scan, highlighting the remembered checkpoint or else the default one.

        `settings.checkpoint` holds only what the person chose (highlighted or generated
        from), so an automatic choice follows the files: a best saved by training that goes on
        becomes the preselected entry until the person picks one.
        """
        if message.scan_id != self._scan_id:
            return
        picker = self.query_one(CheckpointPicker)
        key = default_key(message.entries, self.settings.checkpoint)
        with self.prevent(OptionList.OptionHighlighted):  # not the person's choice
            picker.show_entries(message.entries, key)
        self._scanned = True

    @on(OptionList.OptionHighlighted, "#picker")
    def _checkpoint_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        entry = self.query_one(CheckpointPicker).entry_at(event.option_index)
        if entry is not None:
            self.settings.checkpoint = entry.key

    # -- the form -----------------------------------------------------------------------------

    @on(Input.Changed)
    def _field_changed(self, event: Input.Changed) -> None:
        field = event.input.id
        if field not in FIELD_IDS:
            return
        result = event.validation_result
        error = self.query_one(f"#{field}-error", Static)
        problems = [] if result is None else result.failure_descriptions
        error.update(Text("; ".join(problems)))
        error.display = bool(problems)
        if problems:
            return
        value = event.value.strip()
        s = self.settings
        if field == "seed":
            s.seed = value
        elif field == "temperature":
            s.temperature = float(value)
        elif field == "top-k":
            s.top_k = int(value) if value else None
        elif field == "length":
            s.length = int(value)
        elif field == "prompt":
            s.prompt = event.value

    @on(Input.Submitted)
    def _field_submitted(self, event: Input.Submitted) -> None:
        if not self.generating:
            self.action_generate()

    def _read_form(self) -> dict | None:
        """SampleSettings' fields, or None after telling the person which field is wrong.

        A dict, not SampleSettings: importing core.sampling imports torch, which the UI thread
        never does.
        """
        values = {}
        for field in FIELDS:
            box = self.query_one(f"#{field.id}", Input)
            result = box.validate(box.value)
            if result is not None and not result.is_valid:
                reason = "; ".join(result.failure_descriptions)
                self._tell(f"{field.label}: {reason}", title="Cannot generate", severity="error")
                return None
            values[field.id] = box.value if field.id == "prompt" else box.value.strip()
        return dict(
            length=int(values["length"]),
            temperature=float(values["temperature"]),
            top_k=int(values["top-k"]) if values["top-k"] else None,
            prompt=values["prompt"],
            seed=int(values["seed"]) if values["seed"] else None,
        )

    # -- actions ------------------------------------------------------------------------------

    @property
    def generating(self) -> bool:
        worker = self._worker
        return worker is not None and not worker.is_finished and not worker.is_cancelled

    def action_generate(self) -> None:
        """Start streaming, or stop the stream that is running."""
        if self.generating:
            self._stop()
            return
        entry = self.query_one(CheckpointPicker).selected_entry
        if entry is None:
            message = "scanning checkpoints…" if not self._scanned else "no checkpoint to use yet"
            self._tell(f"Cannot generate: {message}", severity="warning")
            return
        if not entry.ok:
            self._tell(
                f"{entry.title} is unreadable: {entry.info.error}",
                title="Cannot generate",
                severity="error",
            )
            return
        settings = self._read_form()
        if settings is None:
            return
        self.settings.checkpoint = entry.key  # generated from: remembered from now on
        self._generation += 1
        self._length = settings["length"]
        self._status(f"loading {entry.title}…")
        self._worker = self._generate(self._generation, entry.path, entry.title, settings)

    def action_escape(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one(CheckpointPicker).focus()
        elif self.generating:
            self._stop()

    def action_nudge_temperature(self, direction: int) -> None:
        box = self.query_one("#temperature", Input)
        try:
            value = float(box.value)
        except ValueError:
            value = self.settings.temperature
        value = min(MAX_TEMPERATURE, max(0.0, round(value + direction * TEMPERATURE_STEP, 1)))
        box.value = f"{value:.1f}"

    def action_toggle_colour(self) -> None:
        output = self.query_one(GeneratedText)
        output.colour_by_probability = not output.colour_by_probability
        self.settings.colour_by_probability = output.colour_by_probability
        output.border_subtitle = self._legend()

    def action_replay_seed(self) -> None:
        if self._last_seed is None:
            self._tell("No seed yet: generate something first.", severity="warning")
            return
        self.query_one("#seed", Input).value = str(self._last_seed)

    def action_save_output(self) -> None:
        text = self.query_one(GeneratedText).text
        if not text.strip():
            self._tell("Nothing to save yet.", severity="warning")
            return
        folder = Path(self.paths.data) / "samples"
        path = folder / f"{dt.datetime.now().strftime('%Y%m%d-%H%M%S-%f')}.txt"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            self._tell(f"Cannot save to {folder}: {exc.strerror or exc}", severity="error")
            return
        self._tell(f"Saved to {path}", title="Output saved")

    def _stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    # -- the generation worker ----------------------------------------------------------------

    def _load(self, path: str, title: str):
        """The vocabulary and stepper of a checkpoint, cached per file version."""
        import os

        from shakespeare_tui.core.checkpoint import load_checkpoint
        from shakespeare_tui.core.errors import CheckpointError
        from shakespeare_tui.core.model import CharStepper

        try:
            stat = os.stat(path)
        except FileNotFoundError:
            raise CheckpointError(
                f"{title} no longer exists (deleted or moved); the list was refreshed"
            ) from None
        except OSError as exc:
            raise CheckpointError(f"cannot read {title}: {exc.strerror or exc}") from None
        key = (path, stat.st_mtime_ns, stat.st_size)
        with self._models_lock:
            if key in self._models:
                return self._models[key]
        checkpoint = load_checkpoint(Path(path))
        loaded = (checkpoint.vocab, CharStepper(checkpoint.model))
        with self._models_lock:
            for old in [k for k in self._models if k[0] == path]:
                del self._models[old]
            self._models[key] = loaded
            while len(self._models) > CACHED_MODELS:
                del self._models[next(iter(self._models))]
        return loaded

    @work(thread=True, exclusive=True, group="generate", exit_on_error=False)
    def _generate(self, generation: int, path: str, title: str, form: dict) -> None:
        from shakespeare_tui.core.sampling import (
            SampleSettings,
            check_settings,
            generate,
            resolve_seed,
        )

        stop = get_current_worker().cancelled_event
        settings = SampleSettings(**form)
        vocab, stepper = self._load(path, title)
        check_settings(settings, vocab)  # a SamplingError reaches the person as a notification
        if stop.is_set():  # stopped while the model loaded: keep the text that is shown
            self.post_message(GenerationFinished(generation, None, 0, True))
            return
        settings = resolve_seed(settings)
        self.post_message(GenerationStarted(generation, settings.seed, settings.prompt))
        chars: list[str] = []
        probabilities: list[float] = []
        count = 0
        last = float("-inf")  # the first character goes out at once: text starts without a wait
        for sampled in generate(stepper, vocab, settings, stop=stop):
            chars.append(sampled.char)
            probabilities.append(sampled.probability)
            now = time.monotonic()
            if now - last >= CHUNK_SECONDS:
                count += len(chars)
                self.post_message(GenerationChunk(generation, "".join(chars), tuple(probabilities)))
                chars.clear()
                probabilities.clear()
                last = now
        if chars:
            count += len(chars)
            self.post_message(GenerationChunk(generation, "".join(chars), tuple(probabilities)))
        self.post_message(GenerationFinished(generation, settings.seed, count, stop.is_set()))

    def on_generation_started(self, message: GenerationStarted) -> None:
        if message.generation != self._generation:
            return
        self._last_seed = message.seed
        self.query_one("#seed", Input).placeholder = f"random (last: {message.seed})"
        output = self.query_one(GeneratedText)
        output.clear()
        output.append(message.prompt)
        self._streamed = 0
        self._status_at = 0.0
        reading = f"reading the {len(message.prompt):,}-character prompt · "
        self._status(
            f"{reading if len(message.prompt) > 500 else 'generating · '}"
            f"seed {message.seed} · g or esc stops"
        )

    def on_generation_chunk(self, message: GenerationChunk) -> None:
        if message.generation != self._generation:
            return
        self.query_one(GeneratedText).append(message.chars, message.probabilities)
        self._streamed += len(message.chars)
        now = time.monotonic()
        if now - self._status_at >= 0.25:  # a long stream shows how far it is, 4 times a second
            self._status_at = now
            self._status(
                f"generating · {self._streamed:,} of {self._length:,} · seed {self._last_seed}"
                " · g or esc stops"
            )

    def on_generation_finished(self, message: GenerationFinished) -> None:
        if message.generation != self._generation:
            return
        if message.seed is None:
            self._status("stopped before the first character")
            return
        how = "stopped after" if message.stopped else "done:"
        self._status(
            f"{how} {message.count:,} characters · seed {message.seed} · r reuses the seed"
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group not in ("generate", "scan"):
            return
        event.stop()
        if worker is self._scanning and worker.is_finished and self._scan_again:
            self._scan()
        if event.state != WorkerState.ERROR:
            return
        from shakespeare_tui.core.errors import UserError

        error = worker.error
        text = str(error) if isinstance(error, UserError) else f"{type(error).__name__}: {error}"
        text = (text.splitlines() or ["unknown error"])[0]
        if worker.group == "scan":
            self._tell(f"Cannot list checkpoints: {text}", severity="error")
            return
        if worker is self._worker:
            self._status(f"not generated: {text}")
        self._tell(text, title="Cannot generate", severity="error")
        self._scan()  # the file may have changed or gone: show the list as it is now

    # -- status line --------------------------------------------------------------------------

    def _legend(self) -> str:
        if not self.settings.colour_by_probability:
            return ""
        return "confident " + "".join(f"[{colour}]█[/]" for _, colour in BANDS) + " surprised"

    def _tell(self, text: str, *, title: str = "", severity: str = "information") -> None:
        """A notification; its text is shown as is (a file name or prompt may hold [brackets])."""
        self.notify(text, title=title, severity=severity, markup=False)

    def _status(self, text: str) -> None:
        self.query_one("#generate-status", Static).update(Text(text))
