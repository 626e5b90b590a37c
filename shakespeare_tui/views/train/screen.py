"""The Train view: settings, a loss curve, progress, and the run's samples.

`s` starts a run (or resumes the selected one), stops it after the current step with a
resumable `last.pt`, and resumes it again; a run that already reached its end asks how much
further to go. Selecting a past run shows its whole history without training it, live while
another process trains it (follow.py). Training runs in a thread worker that talks to the UI
only through `post_message`; its stop signal is the worker's `cancelled_event`, which Textual
also sets when the app shuts down, so the engine never outlives the app. The run queue is
worked from here too (queue_worker.py): each queued run trains as any run of this view.

Every key of the view is in BINDINGS below, with its action in this class.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Header, Input
from textual.worker import Worker, WorkerError, WorkerState, get_current_worker

from shakespeare_tui.core.errors import EncodingStopped, UserError, one_line
from shakespeare_tui.core.events import (
    CheckpointFailed,
    CheckpointSaved,
    EpochEnded,
    LogWriteFailed,
    StepLogged,
    TrainingFinished,
    TrainingStarted,
)
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.runs.folders import LAST, resolve_checkpoint
from shakespeare_tui.core.runs.history import RunHistory, read_run_history
from shakespeare_tui.core.runs.run_queue import QueueEntry
from shakespeare_tui.core.sizing.cell_comparison import DEFAULT_MINUTES
from shakespeare_tui.core.units import loss_text
from shakespeare_tui.messages import (
    HeaderInfo,
    ListingRefreshed,
    QueueRead,
    RunHistoryRead,
    RunsListed,
    TorchReady,
    TrainingStatus,
    TrainingUpdate,
)
from shakespeare_tui.settings import TrainSettings
from shakespeare_tui.shared_listing import SharedListing, shared_listing
from shakespeare_tui.view_host import view_host
from shakespeare_tui.views.file_picker import FilePickerScreen
from shakespeare_tui.views.train.extend_dialog import ExtendScreen, extension_for
from shakespeare_tui.views.train.fields import form_config, label_of
from shakespeare_tui.views.train.follow import RunFollower
from shakespeare_tui.views.train.form import TrainForm
from shakespeare_tui.views.train.panels import RunPanels
from shakespeare_tui.views.train.progress import SamplesLog
from shakespeare_tui.views.train.queue_worker import CELLS_GROUP, QueueWorker, queued_run
from shakespeare_tui.widgets.keys_footer import KeysFooter

# The footer's keys by use, where the width holds only some (80 columns).
FOOTER_FIRST = ("train.toggle", "train.sample", "app.quit", "train.form", "train.queue_run",
                "app.generate", "train.bits", "app.inspect", "app.runs")  # fmt: skip
STOP_WAIT_S = 15.0  # the engine returns within one step; a big model on a slow CPU takes a while
STATUS_INTERVAL_S = 1.0  # the header's training line changes at most once a second


class TrainScreen(Screen):
    """Train a model and watch it learn."""

    AUTO_FOCUS = "#samples"  # not an Input, so single-letter keys work at once
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-normal"), (170, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall"), (48, "-very-tall")]
    # Ids for the keymap, tooltips for the help and the palette.
    BINDINGS = [
        Binding(
            "s",
            "toggle_training",
            "Start/stop",
            id="train.toggle",
            tooltip="Start training, stop it (saving a resumable checkpoint), or resume",
        ),
        Binding(
            "n",
            "sample_now",
            "Sample now",
            id="train.sample",
            tooltip="Draw a sample from the weights as they are now (training goes on)",
        ),
        Binding(
            "b",
            "toggle_bits",
            "Bits/nats",
            id="train.bits",
            tooltip="Show every loss in bits or nats per character",
        ),
        Binding(
            "ctrl+o",
            "pick_corpus",
            "Corpus file",
            show=False,  # a crowded footer; the help and the palette list it
            id="train.pick_corpus",
            tooltip="Choose the corpus from a folder tree",
        ),
        Binding(
            "f",
            "toggle_form",
            "Settings",
            id="train.form",
            tooltip="Hide or show the settings, giving the chart the whole width",
        ),
        Binding(
            "escape",
            "leave_input",
            "Leave field",
            show=False,
            id="train.leave_input",
            tooltip="Move focus out of the settings field",
        ),
        Binding(
            "a",
            "queue_run",
            "Queue",
            id="train.queue_run",
            tooltip="Add the form's run to the queue instead of starting it",
        ),
        Binding(
            "C",
            "compare_cells",
            "Compare cells",
            show=False,  # a crowded footer; the help and the palette list it
            id="train.compare_cells",
            tooltip="Compare the cells: queue a basic RNN, a GRU and an LSTM of equal parameters "
            f"and one recipe, each for the budget (max min, else {DEFAULT_MINUTES:g}) on the "
            "form's corpus, and train them; the Runs view (R) overlays them",
        ),
        Binding(
            "w",
            "work_queue",
            "Work queue",
            show=False,
            id="train.work_queue",
            tooltip="Train the queued runs one after another",
        ),
    ]

    def __init__(self, paths: Paths, settings: TrainSettings, trainer, **kwargs) -> None:
        super().__init__(**kwargs)
        self.paths = paths
        self.settings = settings
        self.trainer = trainer
        self.device_type: str | None = None
        self._worker: Worker | None = None
        self._sample_now: threading.Event | None = None
        self._run_name: str | None = None  # the run the worker trains, once it has started
        self._run_device = ""  # its device line: "CPU · 1 thread · bf16" (threads it trains in)
        self._shown_run: str | None = None  # the run whose history the panels show
        self._history: RunHistory | None = None  # the shown run as its folder tells it
        self._status_at = 0.0  # when the header's training line last changed
        self._follower = RunFollower(self, paths.runs)
        self._listing: SharedListing | None = None  # the app's list of runs, once mounted
        # A selection asked for (refresh_runs): (the reading that shows it, the run or None).
        self._wanted: tuple[int, str | None] | None = None
        self._history_asked: str | None = None  # the run whose history is being read
        # `s` came while the list or the chosen run's history was being read again (a run
        # just ended): it acts on them once they are read, not on what they were before.
        self._start_when_read = False
        self._queue = QueueWorker(
            self, paths, training=lambda: self.training, train=self._train_queued, say=self._say
        )

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="train-body"):
            yield TrainForm(self.settings, id="train-form")
            yield RunPanels(id="train-main")
        yield KeysFooter(FOOTER_FIRST)

    def on_mount(self) -> None:
        host = view_host(self)
        self.device_type = host.device_type
        host.torch_ready.subscribe(self, self._torch_ready)
        self.refresh_runs(self.settings.run or None)
        self._post_header()
        self._queue.read("offer")  # a queue left with runs to train is offered to continue

    def on_screen_resume(self) -> None:
        """Back in this view: list the runs again (another process may have started one)."""
        if self.is_mounted and not self.training:
            # The remembered choice: the Runs view may have just set it (continue a run).
            self.refresh_runs(view_host(self).settings.train.run or None)

    # -- state -----------------------------------------------------------------------------

    @property
    def training(self) -> bool:
        """Whether a training thread is running (it may be stopping)."""
        return self._worker is not None and self._worker.state in (
            WorkerState.PENDING,
            WorkerState.RUNNING,
        )

    @property
    def following(self) -> str | None:
        """The run shown live, read-only, while another process trains it."""
        return self._follower.following

    @property
    def _panels(self) -> RunPanels:
        return self.query_one(RunPanels)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "sample_now":
            return self.training
        if action == "pick_corpus":
            return not self.training and self.query_one(TrainForm).selected_run is None
        return True

    def refresh_runs(self, selected: str | None = None) -> None:
        """List the runs again and make `selected` the choice (None: keep it), reading the
        form from that run. The app's shared listing reads the folders in its worker
        (hundreds of long metrics files take a while)."""
        if self._listing is None:
            self._listing = shared_listing(self.app, self.paths)
            self._listing.subscribe(self)
        self._wanted = (self._listing.refresh(), selected)

    def on_listing_refreshed(self, message: ListingRefreshed) -> None:
        """The runs as listed now: a selection asked for is made once a reading that started
        after the asking comes; otherwise the selector is brought up to date (a run another
        process started is offered) without touching the choice or the fields."""
        runs = list(message.listed.runs)
        wanted = self._wanted
        if wanted is not None and message.reading >= wanted[0]:
            self._wanted = None
            self.on_runs_listed(RunsListed(runs, wanted[1]))
            self._start_if_asked()
            return
        form = self.query_one(TrainForm)
        chosen = form.selected_run
        if chosen is not None and chosen not in {r.name for r in runs} and not self.training:
            self.on_runs_listed(RunsListed(runs, None))  # gone: the form follows "new run"
        elif message.changed:
            form.update_runs(runs)

    def on_runs_listed(self, message: RunsListed) -> None:
        form = self.query_one(TrainForm)
        form.set_runs(message.runs, message.selected)
        if not self.training:
            self.settings = view_host(self).settings.train = form.values(self.settings)
            self._post_header()  # the header says what the form now holds, whenever torch loads
            run = form.selected_run
            # A run is re-read (it may have trained on); "new run" keeps what is shown, such
            # as why a start failed.
            if run is not None or self._shown_run is not None:
                self._show_run(run)

    def _show_run(self, run: str | None) -> None:
        """Show a run's history from its folder (read in a worker), or nothing for a new run."""
        self._shown_run = run
        if run != self.following:
            self._follower.stop()
        if run is None:
            self._history = self._history_asked = None
            self._panels.clear()
        else:
            self._history_asked = run
            self._read_history(run)

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def _read_history(self, run: str) -> None:
        self.post_message(RunHistoryRead(read_run_history(self.paths.runs / run)))

    def on_run_history_read(self, message: RunHistoryRead) -> None:
        """A run's history, read for the selection or by the follower."""
        history = message.history
        if history.name == self._history_asked:
            self._history_asked = None
        if self.training or history.name != self._shown_run:
            return  # a live run owns the panels, or the selection moved on
        self._history = history
        self._panels.show_history(history)
        self._follower.shown(history, training_here=self.training)
        self.query_one(TrainForm).show_run_state(history.name, self.following == history.name)
        self._start_if_asked()

    def _start_if_asked(self) -> None:
        if self._start_when_read and self._wanted is None and self._history_asked is None:
            self._start_when_read = False
            self.start_training()

    def _post_header(self) -> None:
        s = self.settings
        if s.preset == "auto" and self.device_type is None:
            model = "auto preset"
        else:
            model = f"{s.preset} · {form_config(s, self.device_type).model.summary}"
        self.app.post_message(HeaderInfo(s.corpus, model))

    def _say(self, text: str) -> None:
        self._panels.say(text)

    def _status(self, text: str, force: bool = False) -> None:
        """The training line every view's header shows (at most once a second)."""
        now = time.monotonic()
        if force or now - self._status_at >= STATUS_INTERVAL_S:
            self._status_at = now
            self.app.post_message(TrainingStatus(text, self._run_device if text else ""))

    # -- actions ---------------------------------------------------------------------------

    def action_leave_input(self) -> None:
        """Escape from a settings field (or dropdown) back to the log, so keys are commands."""
        focused = self.focused
        if focused is not None and self.query_one(TrainForm) in focused.ancestors:
            self.query_one(SamplesLog).focus()

    def action_toggle_bits(self) -> None:
        self._panels.bits = not self._panels.bits

    def action_toggle_form(self) -> None:
        form = self.query_one(TrainForm)
        form.display = not form.display
        if not form.display and self.focused is not None and form in self.focused.ancestors:
            self.query_one(SamplesLog).focus()

    def action_pick_corpus(self) -> None:
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

    def action_queue_run(self) -> None:
        """Queue the form's settings as a new run."""
        form = self.checked_form("Cannot queue")
        if form is None:
            return
        if form.selected_run is not None:
            self.notify("choose “new run” to queue one: a past run goes on with s",
                        title="Cannot queue", severity="warning")  # fmt: skip
            return
        self._queue.add(form.values(self.settings))

    def action_compare_cells(self) -> None:
        """Queue the notebook's lesson: the three cells, planned for a fair comparison."""
        form = self.checked_form("Cannot compare the cells")
        if form is not None:
            self._queue.add_cells(form.values(self.settings))

    def action_work_queue(self) -> None:
        self._queue.work()

    def show_queue(self) -> None:
        """The run queue's dialog (`Q`, from any view)."""
        self._queue.read("show")

    def on_queue_read(self, message: QueueRead) -> None:
        self._queue.read_done(message)

    def request_stop(self) -> None:
        """Ask the engine to stop after the current step; it saves a resumable last.pt."""
        if self.training and self._worker is not None:
            self._worker.cancelled_event.set()
            self._say("stopping after this step…")

    async def stop_and_wait(self, timeout: float = STOP_WAIT_S) -> None:
        """Stop training and wait (without blocking the UI) until the engine has returned."""
        worker = self._worker
        if worker is None or not self.training:
            return
        worker.cancelled_event.set()
        try:
            await asyncio.wait_for(asyncio.shield(worker.wait()), timeout)
        except (TimeoutError, WorkerError):
            # Quitting goes on: a step longer than `timeout` (the engine stops after it, and
            # the app's exit waits for its thread), a run that failed (the failure is told
            # where it happened), or a worker not started yet (it stops at once).
            pass
        if self._queue.entry is not None:  # quitting: the queue goes on from here next time
            self._queue.ended("stopped", "stopped by quitting")

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
        if self._wanted is not None or self._history_asked is not None:
            self._start_when_read = True  # see _start_if_asked
            return
        form = self.checked_form("Cannot start")
        if form is None:
            return
        self.settings = view_host(self).settings.train = form.values(self.settings)
        run = form.selected_run
        if run is not None and run == self.following:
            self.notify(f"{run} is being trained by another process: this view follows it, "
                        "read-only (stop it there to resume it here)",
                        title="Cannot resume", severity="warning", markup=False)  # fmt: skip
            return
        if run is None:
            self._start_new(self.settings)
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

    def _start_new(self, settings: TrainSettings) -> None:
        def new_run() -> dict[str, Any]:
            return {"config": form_config(settings, self._device_type_now(settings))}

        view_host(self).save_settings()
        self._start(new_run, run_name=self.settings.run or None, status="starting…", fresh=True)

    def _resume(self, run: str, overrides: dict) -> None:
        try:
            checkpoint = resolve_checkpoint(run, self.paths, prefer=LAST)
        except UserError as exc:
            self.notify(exc.worded(label_of), title="Cannot resume", severity="error")
            return
        view_host(self).save_settings()
        resumed = {"resume": str(checkpoint), "resume_overrides": overrides}
        self._start(lambda: resumed, run_name=run, status="starting…", fresh=False)

    def _train_queued(self, entry: QueueEntry, resume: Path | None) -> None:
        """Train a queue entry as a run of its own (going on from `resume` if given)."""
        self._start(
            partial(queued_run, entry, resume, self.device_type),
            run_name=entry.run,
            status=f"starting {entry.run} (queued)…",
            fresh=resume is None,
        )

    def _start(
        self,
        prepare: Callable[[], dict[str, Any]],
        *,
        run_name: str | None,
        status: str,
        fresh: bool,
    ) -> None:
        """Train in a worker what `prepare` says (called there: resolving "auto" may load
        torch) — the trainer's config, or the checkpoint to resume and what changes."""
        self._run_name = run_name  # a new run is named when it starts
        self._follower.stop()
        self.query_one(TrainForm).set_running(True)
        self._panels.starting(status, fresh=fresh)
        self._sample_now = threading.Event()
        self._worker = self._train(prepare, self._sample_now)
        self.refresh_bindings()

    @work(thread=True, exclusive=True, group="train", exit_on_error=False)
    def _train(self, prepare: Callable[[], dict[str, Any]], sample_now: threading.Event):
        worker = get_current_worker()
        run = {"config": None, "run_name": None, "resume": None, "resume_overrides": None}
        run.update(prepare())
        return self.trainer(
            run.pop("config"),
            self.paths,
            on_event=lambda event: self.post_message(TrainingUpdate(event)),
            stop=worker.cancelled_event,
            sample_now=sample_now,
            **run,
        )

    def _device_type_now(self, settings: TrainSettings) -> str | None:
        """The device type the "auto" preset resolves on (in the worker: torch may load here)."""
        if settings.preset != "auto":
            return None
        if self.device_type is not None and settings.device == "auto":
            return self.device_type
        from shakespeare_tui.core.device import resolve_device  # imports torch

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
        view_host(self).settings.train = self.settings
        self._post_header()
        self.refresh_bindings()
        if not self.training and form.selected_run != self._shown_run:
            self._show_run(form.selected_run)

    def on_training_update(self, message: TrainingUpdate) -> None:
        """An engine event of the run trained here: on the panels, and where the app shows it."""
        event = message.event
        self._panels.show_event(event)
        match event:
            case TrainingStarted():
                self._run_name = self._shown_run = event.run_name
                self._run_device = event.device
                self.app.post_message(HeaderInfo(event.corpus, event.model_summary))
                self.refresh_runs(event.run_name)  # the selector shows the run being trained
                self._status(f"training {event.run_name}", force=True)
                for note in event.notes:
                    self.notify(note, markup=False)
            case StepLogged():
                share = event.epoch_step / max(1, event.steps_per_epoch)
                self._status(f"training {self._run_name} · epoch {event.epoch} {share:.0%}")
            case EpochEnded():
                val = loss_text(event.val_loss, self._panels.bits, unit=True)
                self._status(f"training {self._run_name} · val {val}", force=True)
            case CheckpointSaved():
                view_host(self).checkpoints_changed.publish(event.path)
            case CheckpointFailed() | LogWriteFailed():
                self.notify(event.message, severity="warning", markup=False)
            case TrainingFinished():
                self._status("", force=True)
                if event.failed:
                    self.notify(event.message, title="Training failed", severity="error",
                                timeout=10, markup=False)  # fmt: skip
                elif event.reason != "stopped":
                    self.notify(event.message, title="Training finished", markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "history" and event.state == WorkerState.ERROR:
            self._history_asked = None  # (the panels stay as they were)
            self._start_if_asked()
            return
        if event.worker.group == CELLS_GROUP:
            self._queue.cells_ended(event.worker)
            return
        if event.worker.group != "train" or event.worker is not self._worker:
            return
        if event.state == WorkerState.ERROR and isinstance(event.worker.error, EncodingStopped):
            # Stopped by the person while the corpus was encoded: nothing failed.
            self._say(one_line(event.worker.error) + "; s starts again")
        elif event.state == WorkerState.ERROR and (error := event.worker.error) is not None:
            text = error.worded(label_of) if isinstance(error, UserError) else one_line(error)
            self._say(f"failed: {text}")
            self.notify(text, title="Training failed", severity="error", timeout=10, markup=False)
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            if self._queue.entry is not None:
                self._queue.run_ended(event.worker)
            self._status("", force=True)
            self.query_one(TrainForm).set_running(False)
            self.refresh_bindings()
            if self.is_attached:
                self.refresh_runs(self._run_name)
