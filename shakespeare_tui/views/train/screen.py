"""The Train view: settings, a loss curve, progress, and the run's samples.

`s` starts a run (or resumes the selected one), stops it after the current step with a
resumable `last.pt`, and resumes it again; a run that already reached its end asks how much
further to go. Selecting a past run shows its whole history without training it. Training runs
in a thread worker that talks to the UI only through `post_message`; its stop signal is the
worker's `cancelled_event`, which Textual also sets when the app shuts down, so the engine
never outlives the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Input
from textual.worker import Worker, WorkerState, get_current_worker

from shakespeare_tui.core.errors import EncodingStopped, UserError, one_line
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.runs.folders import LAST, resolve_checkpoint
from shakespeare_tui.core.runs.history import RunHistory, read_run_history
from shakespeare_tui.core.runs.summary import list_runs
from shakespeare_tui.messages import (
    HeaderInfo,
    RunHistoryRead,
    RunsListed,
    TorchReady,
    TrainingUpdate,
)
from shakespeare_tui.settings import TrainSettings
from shakespeare_tui.views.train.extend_dialog import ExtendScreen, extension_for
from shakespeare_tui.views.train.fields import form_config, label_of
from shakespeare_tui.views.train.follow import TrainFollow
from shakespeare_tui.views.train.form import TrainForm
from shakespeare_tui.views.train.keys import KEYS
from shakespeare_tui.views.train.live_run import TrainEvents
from shakespeare_tui.views.train.loss_chart import LossChart
from shakespeare_tui.views.train.progress import SamplesLog, TrainProgress
from shakespeare_tui.views.train.queue_worker import TrainQueue

STOP_WAIT_S = 15.0  # the engine returns within one step; a big model on a slow CPU takes a while


class TrainScreen(TrainEvents, TrainQueue, TrainFollow, Screen):
    """Train a model and watch it learn."""

    AUTO_FOCUS = "#samples"  # not an Input, so single-letter keys work at once
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-normal"), (170, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall"), (48, "-very-tall")]
    BINDINGS = KEYS

    def __init__(self, paths: Paths, settings: TrainSettings, trainer, **kwargs) -> None:
        super().__init__(**kwargs)
        self.paths = paths
        self.settings = settings
        self.trainer = trainer
        self.device_type: str | None = None
        self._worker: Worker | None = None
        self._sample_now: threading.Event | None = None
        self._run_name: str | None = None  # the run the worker trains, once it has started
        self._shown_run: str | None = None  # the run whose history the panels show
        self._history: RunHistory | None = None  # the shown run as its folder tells it
        self._status_at = 0.0

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="train-body"):
            yield TrainForm(self.settings, id="train-form")
            with Vertical(id="train-main"):
                yield LossChart(id="loss-chart")
                yield TrainProgress(id="train-progress")
                yield SamplesLog(id="samples")
        yield Footer()

    def on_resize(self) -> None:
        # Textual's footer spreads its keys out; at 80 columns they only fit packed, and without
        # its `^p` (the palette is still there, and the help names its key).
        footer = self.query_one(Footer)
        footer.compact = self.size.width < 110
        footer.show_command_palette = self.size.width >= 110

    def on_mount(self) -> None:
        self.device_type = self.app.device_type
        self.app.torch_ready.subscribe(self, self._torch_ready)
        self.refresh_runs(self.settings.run or None)
        self._post_header()
        self._read_queue("offer")  # a queue left with runs to train is offered to continue

    def on_screen_resume(self) -> None:
        """Back in this view: list the runs again (another process may have started one)."""
        if self.is_mounted and not self.training:
            # The remembered choice: the Runs view may have just set it (continue a run).
            self.refresh_runs(self.app.settings.train.run or None)

    # -- state -----------------------------------------------------------------------------

    @property
    def training(self) -> bool:
        """Whether a training thread is running (it may be stopping)."""
        return self._worker is not None and self._worker.state in (
            WorkerState.PENDING,
            WorkerState.RUNNING,
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "sample_now":
            return self.training
        if action == "pick_corpus":
            return not self.training and self.query_one(TrainForm).selected_run is None
        return True

    def refresh_runs(self, selected: str | None = None) -> None:
        """Read the run folders in a worker (hundreds of long metrics files take a while)."""
        self._list_runs(selected)

    @work(thread=True, exclusive=True, group="runs", exit_on_error=False)
    def _list_runs(self, selected: str | None) -> None:
        self.post_message(RunsListed(list_runs(self.paths), selected))

    def on_runs_listed(self, message: RunsListed) -> None:
        form = self.query_one(TrainForm)
        form.set_runs(message.runs, message.selected)
        if not self.training:
            self.settings = self.app.settings.train = form.values(self.settings)
            run = form.selected_run
            # A run is re-read (it may have trained on); "new run" keeps what is shown, such
            # as why a start failed.
            if run is not None or self._shown_run is not None:
                self._show_run(run)

    def _show_run(self, run: str | None) -> None:
        """Show a run's history from its folder (read in a worker), or nothing for a new run."""
        self._shown_run = run
        if run != self.following:
            self.stop_following()
        if run is None:
            self._history = None
            self.query_one(LossChart).clear()
            self.query_one(TrainProgress).clear()
            self.query_one(SamplesLog).clear()
        else:
            self._read_history(run)

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def _read_history(self, run: str) -> None:
        self.post_message(RunHistoryRead(read_run_history(self.paths.runs / run)))

    def on_run_history_read(self, message: RunHistoryRead) -> None:
        history = message.history
        if self.training or history.name != self._shown_run:
            return  # a live run owns the panels, or the selection moved on
        self._history = history
        chart = self.query_one(LossChart)
        chart.clear()
        chart.load_history(history.records)
        self.query_one(TrainProgress).show_history(history)
        self.query_one(SamplesLog).show_samples(history.samples)
        self.follow(history)

    def _post_header(self) -> None:
        s = self.settings
        if s.preset == "auto" and self.device_type is None:
            model = "auto preset"
        else:
            model = f"{s.preset} · {form_config(s, self.device_type).model.summary}"
        self.app.post_message(HeaderInfo(s.corpus, model))

    # -- actions ---------------------------------------------------------------------------

    def action_leave_input(self) -> None:
        """Escape from a settings field (or dropdown) back to the log, so keys are commands."""
        focused = self.focused
        if focused is not None and self.query_one(TrainForm) in focused.ancestors:
            self.query_one(SamplesLog).focus()

    def action_toggle_bits(self) -> None:
        bits = not self.query_one(LossChart).bits
        for widget in (LossChart, TrainProgress, SamplesLog):
            self.query_one(widget).bits = bits

    def action_toggle_form(self) -> None:
        form = self.query_one(TrainForm)
        form.display = not form.display
        if not form.display and self.focused is not None and form in self.focused.ancestors:
            self.query_one(SamplesLog).focus()

    def action_pick_corpus(self) -> None:
        from pathlib import Path

        from shakespeare_tui.views.file_picker import FilePickerScreen

        corpus = self.query_one("#corpus", Input)
        typed = Path(corpus.value.strip()).expanduser()
        start = typed.parent if typed.parent.is_dir() and str(typed.parent) != "." else Path.cwd()

        def chosen(path: str | None) -> None:
            if path:
                corpus.value = path  # checked as if typed
                corpus.focus()

        self.app.push_screen(FilePickerScreen("Corpus: a UTF-8 text file", start), chosen)

    def action_sample_now(self) -> None:
        if self.training and self._sample_now is not None:
            self._sample_now.set()
            self.notify("drawing a sample from the current weights…", timeout=2)

    def action_toggle_training(self) -> None:
        if self.training:
            self.request_stop()
        else:
            self.start_training()

    def request_stop(self) -> None:
        """Ask the engine to stop after the current step; it saves a resumable last.pt."""
        if self.training and self._worker is not None:
            self._worker.cancelled_event.set()
            self.query_one(TrainProgress).status("stopping after this step…")

    async def stop_and_wait(self, timeout: float = STOP_WAIT_S) -> None:
        """Stop training and wait (without blocking the UI) until the engine has returned."""
        worker = self._worker
        if worker is None or not self.training:
            return
        worker.cancelled_event.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(worker.wait()), timeout)
        if self._queue_entry is not None:  # quitting: the queue goes on from here next time
            self.queued_run_ended("stopped", "stopped by quitting")

    def checked_form(self, title: str) -> TrainForm | None:
        """The form if every field holds a usable value; else None, the first refusal told."""
        form = self.query_one(TrainForm)
        invalid = form.first_invalid()
        if invalid is not None:
            label, why = invalid
            self.notify(f"{label}: {why}", title=title, severity="error", markup=False)
            return None
        return form

    def start_training(self) -> None:
        form = self.checked_form("Cannot start")
        if form is None:
            return
        self.settings = self.app.settings.train = form.values(self.settings)
        run = form.selected_run
        if run is not None and run == self.following:
            self.notify(f"{run} is being trained by another process: this view follows it, "
                        "read-only (stop it there to resume it here)",
                        title="Cannot resume", severity="warning", markup=False)  # fmt: skip
            return
        if run is None:
            self._start(self.settings, None, None)
            return
        overrides = form.resume_overrides()
        info, history = form.selected_info, self._history
        if info is not None and history is not None and history.name == run:
            extension = extension_for(history.state, info.train, history.progress)
            given = overrides.get(extension.field) if extension else None
            if extension is not None and not (given and given > extension.current):

                def extend(result: dict | None) -> None:
                    if result:
                        self._resume(run, {**overrides, **result})

                self.app.push_screen(ExtendScreen(run, extension), callback=extend)
                return
        self._resume(run, overrides)

    def _resume(self, run: str, overrides: dict) -> None:
        try:
            checkpoint = resolve_checkpoint(run, self.paths, prefer=LAST)
        except UserError as exc:
            self.notify(exc.worded(label_of), title="Cannot resume", severity="error")
            return
        self._start(None, str(checkpoint), overrides)

    def _start(self, settings: TrainSettings | None, resume: str | None, overrides) -> None:
        self._run_name = self.settings.run or None  # a new run is named when it starts
        self.stop_following()
        self.query_one(TrainForm).set_running(True)
        self.query_one(TrainProgress).status("starting…")
        if resume is None:
            self.query_one(LossChart).clear()
            self.query_one(SamplesLog).clear()
        self.app.save_settings()
        self._sample_now = threading.Event()
        self._worker = self._train(settings, resume, overrides, self._sample_now)
        self.refresh_bindings()

    @work(thread=True, exclusive=True, group="train", exit_on_error=False)
    def _train(self, settings: TrainSettings | None, resume: str | None, overrides, sample_now):
        worker = get_current_worker()
        config = None
        if settings is not None:
            config = form_config(settings, self._device_type_now(settings))
        return self.trainer(
            config,
            self.paths,
            on_event=lambda event: self.post_message(TrainingUpdate(event)),
            stop=worker.cancelled_event,
            sample_now=sample_now,
            resume=resume,
            resume_overrides=overrides,
        )

    def _device_type_now(self, settings: TrainSettings) -> str | None:
        """The device type the "auto" preset resolves on (in the worker: torch may load here)."""
        if settings.preset != "auto":
            return None
        if self.device_type is not None and settings.device == "auto":
            return self.device_type
        from shakespeare_tui.core.device import resolve_device

        return resolve_device(settings.device).type

    # -- events ----------------------------------------------------------------------------

    def _torch_ready(self, message: TorchReady) -> None:
        self.device_type = message.device_type
        self.query_one(TrainForm).set_device_type(message.device_type)
        self._post_header()

    @on(TrainForm.Changed)
    def _form_changed(self) -> None:
        form = self.query_one(TrainForm)
        self.settings = form.values(self.settings)
        self.app.settings.train = self.settings
        self._post_header()
        self.refresh_bindings()
        if not self.training and form.selected_run != self._shown_run:
            self._show_run(form.selected_run)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "train" or event.worker is not self._worker:
            return
        if event.state == WorkerState.ERROR and isinstance(event.worker.error, EncodingStopped):
            # Stopped by the person while the corpus was encoded: nothing failed.
            self.query_one(TrainProgress).status(one_line(event.worker.error) + "; s starts again")
        elif event.state == WorkerState.ERROR:
            error = event.worker.error
            text = error.worded(label_of) if isinstance(error, UserError) else one_line(error)
            self.query_one(TrainProgress).status(f"failed: {text}")
            self.notify(text, title="Training failed", severity="error", timeout=10, markup=False)
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            if self._queue_entry is not None:
                result = event.worker.result if event.state == WorkerState.SUCCESS else None
                reason = getattr(result, "reason", None)
                why = getattr(result, "message", None) or (
                    one_line(event.worker.error) if event.state == WorkerState.ERROR else "stopped"
                )
                self.queued_run_ended(reason if result is not None else
                                      (None if event.state == WorkerState.ERROR else "stopped"),
                                      why)  # fmt: skip
            self._status("", force=True)
            self.query_one(TrainForm).set_running(False)
            self.refresh_bindings()
            if self.is_attached:
                self.refresh_runs(self._run_name)
