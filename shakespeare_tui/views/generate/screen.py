"""The Generate view: pick a checkpoint, set the sampling controls, stream text.

Torch is imported only inside the worker threads (reading checkpoint infos, loading a model,
sampling), never on the UI thread or at import time. The generation worker loads its own model
copy from the checkpoint file, so it can run while training goes on in another worker.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, OptionList
from textual.worker import Worker, WorkerState

from shakespeare_tui.core.errors import SamplingError, one_line
from shakespeare_tui.core.sampling.streaming import Pacer
from shakespeare_tui.messages import (
    CheckpointsScanned,
)
from shakespeare_tui.settings import GenerateSettings
from shakespeare_tui.views.generate.form import GenerateForm
from shakespeare_tui.views.generate.generated_text import GeneratedText
from shakespeare_tui.views.generate.keys import KEYS, offered
from shakespeare_tui.views.generate.status import GenerateStatus
from shakespeare_tui.views.generate.stream import GenerationStream
from shakespeare_tui.widgets.checkpoint_picker import CheckpointPicker

if TYPE_CHECKING:
    from shakespeare_tui.core.paths import Paths
    from shakespeare_tui.core.sampling.settings import SampleSettings


# Each chunk costs the UI thread a redraw of the output (5 ms at 80×24, 10 at 120×40, 20 at
# 200×50 in colour), and while the UI holds the GIL the sampler waits: chunks come at most 10
# times a second, and less often when drawing them would take more than 5% of the UI thread's
# time, so the app generates within ~10% of the CLI's speed (benchmarks/generation.py). At the
# CLI's 33 chunks a second the app ran at ~40% of it.
CHUNK_SECONDS = (0.1, 0.5)  # the shortest and longest interval
DRAWING_SHARE = 0.05
# Below this width the controls sit above the output instead of beside it (app.tcss).
NARROW_BELOW = 100
RESCAN_SECONDS = 10.0  # reading unchanged checkpoints is cached: a rescan costs a listing


MAX_OPENED = 10  # files opened by hand that the list keeps


def _header(path: str, settings: SampleSettings) -> str:
    """What a saved text was made with, so it can be made again."""
    top_k = settings.top_k if settings.top_k is not None else "all"
    return (
        f"# shakespeare-tui · {dt.datetime.now().isoformat(timespec='seconds')}\n"
        f"# checkpoint {path}\n"
        f"# seed {settings.seed if settings.seed is not None else 'random'} · temperature "
        f"{settings.temperature:g} · top-k {top_k} · length {settings.length:,}\n"
        f"# prompt {settings.prompt!r}\n"
    )


class GenerateScreen(GenerationStream, Screen):
    """Stream text from a checkpoint; the app mounts it as its "generate" mode."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW_BELOW, "-wide")]
    BINDINGS = KEYS

    def __init__(self, paths: Paths, settings: GenerateSettings, **kwargs) -> None:
        super().__init__(**kwargs)
        from shakespeare_tui.core.runs.checkpoints import InfoCache

        self.paths = paths
        self.settings = settings
        self._infos: InfoCache = {}
        self._models = None  # core.streaming.ModelCache, made in the first worker (torch)
        self._models_made = threading.Lock()
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
        self._pacer = Pacer(*CHUNK_SECONDS, share=DRAWING_SHARE)  # the stream's, one per `g`
        self._generate_when_scanned = False  # `g` came before the first scan ended
        self._made_with: str = ""  # what the output was generated with, for its saved header
        # (path, title, settings) asked for, and those of the output shown (seed set).
        self._asked: tuple | None = None
        self._made_from: tuple | None = None

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        return offered(action, generating=self.generating, in_field=isinstance(self.focused, Input))

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="generate-body"):
            with Vertical(id="generate-controls"):
                picker = CheckpointPicker(id="picker")
                picker.border_title = "Checkpoint"
                yield picker
                yield GenerateForm(self.settings, id="generate-form")
            with Vertical(id="generate-output-box"):
                output = GeneratedText(
                    id="output", colour_by_probability=self.settings.colour_by_probability
                )
                output.border_title = "Output"
                yield output
                yield GenerateStatus(id="generate-status")
        yield Footer()

    def on_mount(self) -> None:
        self._status.idle()
        self.query_one(CheckpointPicker).focus()
        changed = getattr(self.app, "checkpoints_changed", None)  # None in a bare test app
        if changed is not None:
            changed.subscribe(self, lambda _path: self.refresh_checkpoints())
        self._scan()
        # Runs trained elsewhere (the CLI, another app) appear without a key press.
        self.set_interval(RESCAN_SECONDS, self._scan)

    def on_screen_resume(self) -> None:
        if self._scanned:
            self._scan()

    def on_resize(self, event) -> None:
        # The view's keys fit in 80 columns only without the footer's spacing and its `^p`
        # (the command palette is still there, and the help names its key).
        footer = self.query_one(Footer)
        footer.compact = event.size.width < NARROW_BELOW
        footer.show_command_palette = not footer.compact

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
        from shakespeare_tui.core.runs.checkpoints import scan_checkpoints

        infos = dict(self._infos)  # a private copy: swapped in whole when the scan is done
        entries = scan_checkpoints(self.paths, infos, tuple(self.settings.files))
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
        from shakespeare_tui.core.runs.checkpoints import default_key

        picker = self.query_one(CheckpointPicker)
        key = default_key(message.entries, self.settings.checkpoint)
        with self.prevent(OptionList.OptionHighlighted):  # not the person's choice
            picker.show_entries(message.entries, key)
        self._scanned = True
        if self._generate_when_scanned:
            self._generate_when_scanned = False
            self.action_generate()

    @on(OptionList.OptionHighlighted, "#picker")
    def _checkpoint_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        entry = self.query_one(CheckpointPicker).entry_at(event.option_index)
        if entry is not None:
            self.settings.checkpoint = entry.key

    @on(Input.Submitted)
    def _field_submitted(self, event: Input.Submitted) -> None:
        if not self.generating:
            self.action_generate()

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
        if entry is None and not self._scanned:
            self._generate_when_scanned = True  # starts as soon as the list is there
            self._status.say("waiting for the checkpoint list…")
            return
        if entry is None:
            self._tell("Cannot generate: no checkpoint to use yet", severity="warning")
            return
        if not entry.ok:
            self._tell(
                f"{entry.title} is unreadable: {entry.info.error}",
                title="Cannot generate",
                severity="error",
            )
            return
        form = self.query_one(GenerateForm)
        try:
            settings = form.read()
        except SamplingError as exc:
            self._tell(exc.worded(form.label_of), title="Cannot generate", severity="error")
            return
        self.settings.checkpoint = entry.key  # generated from: remembered from now on
        self._made_with = _header(entry.path, settings)
        self._asked = (entry.path, entry.title, settings)
        self._generation += 1
        self._length = settings.length
        self._pacer = pacer = Pacer(*CHUNK_SECONDS, share=DRAWING_SHARE)
        self._status.loading(entry.title)
        self._worker = self._generate(self._generation, entry.path, entry.title, settings, pacer)
        self.refresh_bindings()  # `esc` stops now

    def action_stop(self) -> None:
        self._stop()

    def action_leave_field(self) -> None:
        self.query_one(CheckpointPicker).focus()

    def action_nudge_temperature(self, direction: int) -> None:
        self.query_one(GenerateForm).nudge_temperature(direction)

    def action_toggle_colour(self) -> None:
        output = self.query_one(GeneratedText)
        output.colour_by_probability = not output.colour_by_probability
        self.settings.colour_by_probability = output.colour_by_probability

    def action_replay_seed(self) -> None:
        if self._last_seed is None:
            self._tell("No seed yet: generate something first.", severity="warning")
            return
        self.query_one(GenerateForm).set_seed(self._last_seed)

    def action_save_output(self) -> None:
        text = self.query_one(GeneratedText).text
        if not text.strip():
            self._tell("Nothing to save yet.", severity="warning")
            return
        folder = self.paths.samples
        path = folder / f"{dt.datetime.now().strftime('%Y%m%d-%H%M%S-%f')}.txt"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(self._made_with + "\n" + text + "\n", encoding="utf-8")
        except OSError as exc:
            self._tell(f"Cannot save to {folder}: {exc.strerror or exc}", severity="error")
            return
        self._tell(f"Saved to {path}", title="Output saved")

    def action_rescan(self) -> None:
        self._scan()
        self.notify("looking for checkpoints…", timeout=2)

    def action_open_file(self) -> None:
        from shakespeare_tui.views.file_picker import FilePickerScreen

        def chosen(path: str | None) -> None:
            if not path:
                return
            files = [f for f in self.settings.files if f != path]
            self.settings.files = [path, *files][:MAX_OPENED]
            self.settings.checkpoint = path  # highlighted when the scan shows it
            self._scan()

        start = Path(self.settings.files[0]).parent if self.settings.files else Path.cwd()
        self.app.push_screen(FilePickerScreen("A checkpoint", start, (".pt",)), chosen)

    def action_inspect_output(self) -> None:
        """The output, with the checkpoint and the settings that wrote it, in the Inspect view."""
        text = self.query_one(GeneratedText).text
        opener = getattr(self.app, "inspect_text", None)  # None in a bare test app
        if self._made_from is None or not text or opener is None:
            self._tell("Nothing to inspect yet: generate something first.", severity="warning")
            return
        opener(*self._made_from[:2], text, "the text just generated", self._made_from[2])

    def _stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group not in ("generate", "scan"):
            return
        event.stop()
        if worker is self._scanning and worker.is_finished and self._scan_again:
            self._scan()
        if worker is self._worker and worker.is_finished:
            self.refresh_bindings()  # `esc` stops no more
        if event.state != WorkerState.ERROR:
            return
        error = worker.error
        if worker.group == "scan":
            self._tell(f"Cannot list checkpoints: {one_line(error)}", severity="error")
            return
        form = self.query_one(GenerateForm)
        if isinstance(error, SamplingError):
            form.show_problem(error)
            text = error.worded(form.label_of)
        else:
            text = one_line(error)
        if worker is self._worker:
            self._status.failed(text)
        self._tell(text, title="Cannot generate", severity="error")
        if not isinstance(error, SamplingError):
            self._scan()  # the file may have changed or gone: show the list as it is now

    # -- telling the person ---------------------------------------------------------------------

    def _tell(self, text: str, *, title: str = "", severity: str = "information") -> None:
        """A notification; its text is shown as is (a file name or prompt may hold [brackets])."""
        self.notify(text, title=title, severity=severity, markup=False)

    @property
    def _status(self) -> GenerateStatus:
        return self.query_one("#generate-status", GenerateStatus)
