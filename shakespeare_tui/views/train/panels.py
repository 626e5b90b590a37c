"""The Train view's right-hand side: the run shown, as its loss curve, where it has got to
(progress) and what it writes (samples).

A past run is drawn at once from its folder (`show_history`); a live one event by event as the
training worker posts them (`show_event`, the engine's plain events from core/events.py). Every
loss on the three panels is in one unit, nats or bits per character (`bits`).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive

from shakespeare_tui.core import events
from shakespeare_tui.core.runs.history import RunHistory
from shakespeare_tui.views.train.loss_chart import LossChart
from shakespeare_tui.views.train.progress import SamplesLog, TrainProgress


class RunPanels(Vertical):
    """The loss chart, the progress lines and the samples log of one run."""

    bits: reactive[bool] = reactive(False, init=False)
    """Every loss in bits per character instead of nats."""

    def compose(self) -> ComposeResult:
        yield LossChart(id="loss-chart")
        yield TrainProgress(id="train-progress")
        yield SamplesLog(id="samples")

    def watch_bits(self, bits: bool) -> None:
        self.query_one(LossChart).bits = bits
        self.query_one(TrainProgress).bits = bits
        self.query_one(SamplesLog).bits = bits

    def say(self, text: str) -> None:
        """What the run is doing, on the progress panel's status line."""
        self.query_one(TrainProgress).status(text)

    def clear(self) -> None:
        """Nothing shown: a new run, not started yet."""
        self.query_one(LossChart).clear()
        self.query_one(TrainProgress).clear()
        self.query_one(SamplesLog).clear()

    def starting(self, status: str, *, fresh: bool) -> None:
        """A run is about to train: a `fresh` one starts with empty panels, a resumed one keeps
        its history until the engine sends it again."""
        self.say(status)
        if fresh:
            self.query_one(LossChart).clear()
            self.query_one(SamplesLog).clear()

    def show_history(self, history: RunHistory) -> None:
        """A run no one trains here, as its folder tells it."""
        chart = self.query_one(LossChart)
        chart.clear()
        chart.load_history(history.records)
        self.query_one(TrainProgress).show_history(history)
        self.query_one(SamplesLog).show_samples(history.samples)

    def show_event(self, event: events.EngineEvent) -> None:
        """One of the live run's events, as it arrives."""
        chart = self.query_one(LossChart)
        progress = self.query_one(TrainProgress)
        samples = self.query_one(SamplesLog)
        match event:
            case events.CorpusEncoding():  # a large corpus, before the run starts
                progress.encoding(event)
            case events.SizingStarted():  # a time budget choosing the model
                progress.sizing(event)
            case events.ModelSized():
                progress.sized(event)
            case events.TrainingStarted():
                chart.clear()
                chart.load_history(event.history)
                if not event.resumed:
                    samples.clear()
                progress.started(event)
            case events.StepLogged():
                chart.add_step(event.step, event.train_loss)
                progress.step(event)
            case events.ValidationStarted():
                progress.evaluating(event)
            case events.EpochEnded():
                chart.add_eval(event.step, event.val_loss, event.epoch, epoch_end=not event.partial)
                progress.epoch(event)
                samples.add_sample(event)
            case events.SampleDrawn():
                samples.add_drawn(event)
            case events.TrainingFinished():
                progress.finished(event)
            case events.CheckpointSaved() | events.CheckpointFailed() | events.LogWriteFailed():
                pass  # nothing to draw: the screen tells the other views, or the person
