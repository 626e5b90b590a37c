"""Training progress (epoch, step, speed, time, best loss, patience) and the samples log.

Both show a live run as its events come and a past run from its folder (`show_history`), and
both follow the screen's nats/bits choice: every loss on screen is in the same unit.
"""

from __future__ import annotations

import re
import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import ProgressBar, RichLog, Static

from shakespeare_tui.core.events import (
    CorpusEncoding,
    EpochEnded,
    ModelSized,
    SampleDrawn,
    SizingStarted,
    StepLogged,
    TrainingFinished,
    TrainingStarted,
    ValidationStarted,
)
from shakespeare_tui.core.figures import duration, params
from shakespeare_tui.core.runs.history import RunHistory, Sample
from shakespeare_tui.core.runs.metrics_tail import RunTally
from shakespeare_tui.core.units import loss_text

READY = "ready — press s to train"
# A step's numbers and bar are shown at most this often, the latest at the end of each wait: as
# often as a person reads them, where a small model logs 20 steps a second and each new line
# costs the screen a layout and a frame (15–30 ms of CPU on the Train view, measured here),
# taken from the training beside it.
STEP_SHOWN_EVERY_S = 0.25
# What `s` does next for a run that ended this way (shown after how it ended).
_NEXT = {
    "stopped": " · s resumes",
    "max-steps": " · s trains on",
    "max-minutes": " · s trains on",
    "completed": " · s trains on",
    "early-stopped": " · s trains on",
}
_VAL_IN_HEADING = re.compile(r"^(?P<where>.*?) · val (?P<val>\d+\.\d+)(?P<rest>.*)$")


def _headline(message: str) -> str:
    """How a run ended without the best loss, which the line below shows already."""
    for tail in ("; best val", "; no epoch finished"):
        message = message.split(tail)[0]
    return message


class TrainProgress(Vertical):
    """What the run is doing now: a status line, a bar through the epoch, numbers, the best."""

    DEFAULT_CSS = """
    TrainProgress { height: auto; }
    TrainProgress > Static { height: auto; }
    TrainProgress #train-sizing { color: $text-muted; }
    TrainProgress ProgressBar { height: 1; }
    """

    bits: reactive[bool] = reactive(False)
    """Show losses in bits per character."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._epochs = 0
        self._first: tuple[int, float] | None = None  # (step, elapsed) at this session's first log
        self._best: tuple[float, int, int | None] | None = None  # (loss, epoch, step)
        self._patience_left: int | None = None
        self._patience_of: tuple[str, int] | None = None  # (run, its patience) as last shown
        self._gpu_mb: float | None = None
        self._max_steps: int | None = None
        self._max_minutes: float | None = None
        self._step_due: StepLogged | None = None  # the latest step, not shown yet
        self._step_shown_at = 0.0  # time.monotonic() when a step was last shown
        self._step_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(READY, id="train-status", markup=False)
        yield ProgressBar(total=1, show_eta=False, id="epoch-bar")
        yield Static("", id="train-numbers", markup=False)
        yield Static("", id="train-best", markup=False)
        yield Static("", id="train-sizing", markup=False)

    def _sizing(self, text: str) -> None:
        """How a time budget chose the model; the line is hidden for other runs."""
        line = self.query_one("#train-sizing", Static)
        line.update(text)
        line.display = bool(text)

    def on_mount(self) -> None:
        self._sizing("")

    def _set(self, widget_id: str, text: str) -> None:
        self.query_one(f"#{widget_id}", Static).update(text)

    def status(self, text: str) -> None:
        self._set("train-status", text)

    @property
    def status_text(self) -> str:
        return str(self.query_one("#train-status", Static).render())

    def watch_bits(self) -> None:
        if self.is_mounted:
            self._show_best()

    # -- a past run ------------------------------------------------------------------------

    def clear(self) -> None:
        self._drop_step()
        self._epochs, self._first, self._gpu_mb = 0, None, None
        self._best, self._patience_left = None, None
        self.status(READY)
        self.query_one(ProgressBar).update(total=1, progress=0)
        self._set("train-numbers", "")
        self._sizing("")
        self._show_best()

    def show_history(self, history: RunHistory) -> None:
        """A run no one is training here: where it got to, its best, and how it ended."""
        self.clear()
        self._epochs = history.epochs
        p = history.progress
        if p.best_val_loss is not None:
            self._best = (p.best_val_loss, p.best_epoch or 0, p.best_step)
        self._patience_left = history.patience_left
        self._patience_of = (history.name, history.patience)
        self.status(_headline(history.state_text) + _NEXT.get(history.state, ""))
        steps = [r for r in history.records if r.get("kind") == "step"]
        last = steps[-1] if steps else {}
        bar = self.query_one(ProgressBar)
        steps_per_epoch = history.steps_per_epoch
        if steps_per_epoch:
            done = history.step - history.epochs_done * steps_per_epoch
            bar.update(total=steps_per_epoch, progress=max(0, min(done, steps_per_epoch)))
        in_epoch = min(history.epochs_done + 1, max(1, history.epochs))
        parts = [f"epoch {in_epoch}/{history.epochs}", f"step {history.step:,}"]
        speed, elapsed = last.get("chars_per_sec"), last.get("elapsed_s")
        if isinstance(speed, (int, float)):
            parts.append(f"{speed:,.0f} chars/s")
        if isinstance(elapsed, (int, float)):
            parts.append(f"trained {duration(elapsed)}")
        self._set("train-numbers", " · ".join(parts))
        self._sizing(history.sizing_reason)
        self._show_best()

    # -- a live run ------------------------------------------------------------------------

    def encoding(self, event: CorpusEncoding) -> None:
        """A large corpus being encoded into the cache, before its run starts."""
        self.status(f"encoding {event.corpus} into the cache… {event.summary()}")
        self.query_one(ProgressBar).update(total=event.total_bytes, progress=event.done_bytes)

    def sizing(self, event: SizingStarted) -> None:
        """A time budget is choosing the model: a few seconds, counted in the budget."""
        self.status(f"sizing the model for {event.budget_minutes:g} min…")
        self._sizing(f"timing up to {event.rungs} model sizes on this machine")

    def sized(self, event: ModelSized) -> None:
        self._sizing(event.reason)

    def started(self, event: TrainingStarted) -> None:
        self._drop_step()
        self._epochs = event.epochs
        self._max_steps, self._max_minutes = event.max_steps, event.max_minutes
        self._first, self._gpu_mb = None, None
        self._best, self._patience_left = None, None
        # A resumed run's best and patience so far, counted as the engine counts them.
        tally = RunTally()
        for record in event.history:
            tally.add(record)
        p = tally.progress
        if p.best_val_loss is not None:
            self._best = (p.best_val_loss, p.best_epoch or 0, p.best_step)
            patience = event.patience
            if patience is None and self._patience_of and self._patience_of[0] == event.run_name:
                patience = self._patience_of[1]  # as its folder said, just before the resume
            if patience:
                self._patience_left = patience - p.stale_epochs
        verb = "resumed" if event.resumed else "training"
        self.status(f"{verb} {event.run_name} · {event.model_summary} · {params(event.parameters)}")
        bar = self.query_one(ProgressBar)
        epoch_step = event.step - event.epoch * event.steps_per_epoch
        bar.update(total=max(1, event.steps_per_epoch), progress=max(0, epoch_step))
        in_epoch = min(event.epoch + 1, event.epochs)
        self._set("train-numbers", f"epoch {in_epoch}/{event.epochs} · step {event.step:,}")
        self._sizing(event.sizing_reason)
        self._show_best()

    def evaluating(self, event: ValidationStarted) -> None:
        self._show_step()
        what = "the untrained model" if event.epoch == 0 else f"step {event.step:,}"
        self._set("train-best", f"validating {what}…")

    def step(self, event: StepLogged) -> None:
        """A step logged: shown now, or with the latest at the end of STEP_SHOWN_EVERY_S."""
        if self._first is None:
            self._first = (event.step, event.elapsed_s)
        self._step_due = event
        wait = STEP_SHOWN_EVERY_S - (time.monotonic() - self._step_shown_at)
        if wait <= 0:
            self._show_step()
        elif self._step_timer is None:
            self._step_timer = self.set_timer(wait, self._show_step)

    def _drop_step(self) -> None:
        """Forget a step not shown yet (another run, or none, is shown now)."""
        self._step_due = None
        if self._step_timer is not None:
            self._step_timer.stop()
            self._step_timer = None

    def _show_step(self) -> None:
        """Show the latest step logged, if it is not on screen yet."""
        event, first = self._step_due, self._first
        self._drop_step()
        if event is None or first is None:
            return
        self._step_shown_at = time.monotonic()
        self._gpu_mb = event.gpu_memory_mb
        self.query_one(ProgressBar).update(total=event.steps_per_epoch, progress=event.epoch_step)
        eta = None
        done = event.step - first[0]
        spent = event.elapsed_s - first[1]
        if done > 0 and spent > 0:
            left = (self._epochs - event.epoch) * event.steps_per_epoch + (
                event.steps_per_epoch - event.epoch_step
            )
            if self._max_steps:
                left = min(left, self._max_steps - event.step)
            eta = max(0, left) * spent / done
            if self._max_minutes:
                eta = min(eta, self._max_minutes * 60 - event.elapsed_s)
        self._set(
            "train-numbers",
            f"epoch {event.epoch}/{self._epochs} · step {event.step:,} · "
            f"{event.chars_per_sec:,.0f} chars/s · elapsed {duration(event.elapsed_s)} · "
            f"run ETA {duration(eta)}",
        )
        self._show_best()

    def epoch(self, event: EpochEnded) -> None:
        self._show_step()
        if event.epoch >= 1:
            self._best = (event.best_val_loss, event.best_epoch, event.best_step)
            self._patience_left = event.patience_left
        self._show_best()

    def finished(self, event: TrainingFinished) -> None:
        self._show_step()
        self.status(_headline(event.message) + _NEXT.get(event.reason, ""))
        self._show_best()

    def _show_best(self) -> None:
        parts = []
        if self._best is not None:
            loss, epoch, step = self._best
            where = f"step {step:,}" if step is not None else f"epoch {epoch}"
            parts.append(f"best val {loss_text(loss, self.bits, unit=True)} at {where}")
        else:
            parts.append("best val —")
        if self._patience_left is not None:
            s = "" if self._patience_left == 1 else "s"
            parts.append(f"patience {self._patience_left} evaluation{s}")
        if self._gpu_mb is not None:
            parts.append(f"GPU memory {self._gpu_mb:,.0f} MB")
        self._set("train-best", " · ".join(parts))


class SamplesLog(RichLog):
    """The run's samples, each headed by where it was drawn and its validation loss."""

    bits: reactive[bool] = reactive(False)
    """Show validation losses in bits per character."""

    def __init__(self, **kwargs) -> None:
        super().__init__(wrap=True, markup=False, highlight=False, **kwargs)
        # (heading without the loss, loss in nats or None, note, text): rewritten on `bits`.
        self._entries: list[tuple[str, float | None, str, str]] = []

    @property
    def epochs_shown(self) -> int:
        return len(self._entries)

    def clear(self) -> SamplesLog:
        self._entries = []
        return super().clear()

    def add_sample(self, event: EpochEnded) -> None:
        if event.epoch == 0:
            where = "epoch 0 (untrained)"
        elif event.partial:
            where = f"step {event.step:,} (epoch {event.epoch})"
        else:
            where = f"epoch {event.epoch}"
        self._add(where, event.val_loss, " ★ best" if event.improved else "", event.sample)

    def add_drawn(self, event: SampleDrawn) -> None:
        self._add(f"step {event.step:,} · on request", None, "", event.text)

    def show_samples(self, samples: tuple[Sample, ...]) -> None:
        """A past run's samples.txt (headings as written there, in nats)."""
        self.clear()
        for sample in samples:
            match = _VAL_IN_HEADING.match(sample.heading)
            if match:
                self._add(match["where"], float(match["val"]), match["rest"], sample.text)
            else:
                self._add(sample.heading, None, "", sample.text)

    def _add(self, where: str, val: float | None, note: str, text: str) -> None:
        self._entries.append((where, val, note, text))
        self._write(*self._entries[-1])

    def _write(self, where: str, val: float | None, note: str, text: str) -> None:
        unit = " bits" if self.bits else ""
        loss = f" · val {loss_text(val, self.bits)}{unit}" if val is not None else ""
        head = Text(f"── {where}{loss}{note} ──")
        head.stylize("bold")
        self.write(head)
        self.write(Text(text or "(no sample)"))

    def watch_bits(self) -> None:
        entries = self._entries
        super().clear()
        for entry in entries:
            self._write(*entry)
