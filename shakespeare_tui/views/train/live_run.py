"""The Train view's live run: each engine event, as it arrives, on the chart, the progress
panel, the samples log, every view's header and, for the rare ones, a notification.

A mixin of TrainScreen; the events arrive wrapped in TrainingUpdate messages (posted by the
training worker), and are plain values from core/events.py.
"""

from __future__ import annotations

import time

from shakespeare_tui.core.events import (
    CheckpointFailed,
    CheckpointSaved,
    CorpusEncoding,
    EpochEnded,
    LogWriteFailed,
    ModelSized,
    SampleDrawn,
    SizingStarted,
    StepLogged,
    TrainingFinished,
    TrainingStarted,
    ValidationStarted,
)
from shakespeare_tui.core.units import loss_text
from shakespeare_tui.messages import HeaderInfo, TrainingStatus, TrainingUpdate
from shakespeare_tui.views.train.loss_chart import LossChart
from shakespeare_tui.views.train.progress import SamplesLog, TrainProgress

STATUS_INTERVAL_S = 1.0  # the header's training line changes at most once a second


class TrainEvents:
    """Engine events for TrainScreen (which holds `_run_name`, `_shown_run`, `refresh_runs`)."""

    _status_at = 0.0

    def _status(self, text: str, force: bool = False) -> None:
        """The training line every view's header shows (at most once a second)."""
        now = time.monotonic()
        if force or now - self._status_at >= STATUS_INTERVAL_S:
            self._status_at = now
            self.app.post_message(TrainingStatus(text))

    def on_training_update(self, message: TrainingUpdate) -> None:
        event = message.event
        chart = self.query_one(LossChart)
        progress = self.query_one(TrainProgress)
        samples = self.query_one(SamplesLog)
        if isinstance(event, CorpusEncoding):  # a large corpus, before the run starts
            progress.encoding(event)
        elif isinstance(event, SizingStarted):  # a time budget choosing the model
            progress.sizing(event)
        elif isinstance(event, ModelSized):
            progress.sized(event)
        elif isinstance(event, TrainingStarted):
            self._run_name = self._shown_run = event.run_name
            chart.clear()
            chart.load_history(event.history)
            if not event.resumed:
                samples.clear()
            progress.started(event)
            self.app.post_message(HeaderInfo(event.corpus, event.model_summary))
            self.refresh_runs(event.run_name)  # the selector shows the run being trained
            self._status(f"training {event.run_name}", force=True)
            for note in event.notes:
                self.notify(note, markup=False)
        elif isinstance(event, StepLogged):
            chart.add_step(event.step, event.train_loss)
            progress.step(event)
            share = event.epoch_step / max(1, event.steps_per_epoch)
            self._status(f"training {self._run_name} · epoch {event.epoch} {share:.0%}")
        elif isinstance(event, ValidationStarted):
            progress.evaluating(event)
        elif isinstance(event, EpochEnded):
            chart.add_eval(event.step, event.val_loss, event.epoch, epoch_end=not event.partial)
            progress.epoch(event)
            samples.add_sample(event)
            val = loss_text(event.val_loss, chart.bits, unit=True)
            self._status(f"training {self._run_name} · val {val}", force=True)
        elif isinstance(event, SampleDrawn):
            samples.add_drawn(event)
        elif isinstance(event, CheckpointSaved):
            self.app.checkpoints_changed.publish(event.path)
        elif isinstance(event, (CheckpointFailed, LogWriteFailed)):
            self.notify(event.message, severity="warning", markup=False)
        elif isinstance(event, TrainingFinished):
            progress.finished(event)
            self._status("", force=True)
            if event.failed:
                self.notify(
                    event.message,
                    title="Training failed",
                    severity="error",
                    timeout=10,
                    markup=False,
                )
            elif event.reason != "stopped":
                self.notify(event.message, title="Training finished", markup=False)
