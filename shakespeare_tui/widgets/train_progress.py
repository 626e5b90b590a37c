"""Training progress (epoch, step, speed, time, best loss, patience) and the per-epoch samples log."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, RichLog, Static

from shakespeare_tui.core.events import EpochEnded, StepLogged, TrainingFinished, TrainingStarted


def clock(seconds: float | None) -> str:
    """0:42, 12:05, 1:02:03; "—" when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "—"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class TrainProgress(Vertical):
    """What the run is doing now: a bar through the epoch and three lines of numbers."""

    DEFAULT_CSS = """
    TrainProgress { height: auto; }
    TrainProgress > Static { height: 1; }
    TrainProgress ProgressBar { height: 1; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._epochs = 0
        self._steps_per_epoch = 0
        self._first: tuple[int, float] | None = None  # (step, elapsed) at this session's first log
        self._best: tuple[float, int] | None = None
        self._patience_left: int | None = None
        self._gpu_mb: float | None = None

    def compose(self) -> ComposeResult:
        yield Static("ready — press s to train", id="train-status")
        yield ProgressBar(total=1, show_eta=False, id="epoch-bar")
        yield Static("", id="train-numbers")
        yield Static("", id="train-best")

    def _set(self, widget_id: str, text: str) -> None:
        self.query_one(f"#{widget_id}", Static).update(text)

    def status(self, text: str) -> None:
        self._set("train-status", text)

    @property
    def status_text(self) -> str:
        return str(self.query_one("#train-status", Static).render())

    def started(self, event: TrainingStarted) -> None:
        self._epochs, self._steps_per_epoch = event.epochs, event.steps_per_epoch
        self._first, self._gpu_mb = None, None
        self._best, self._patience_left = None, None
        for record in event.history:
            val = record.get("val_loss")
            if record.get("kind") == "epoch" and record.get("epoch", 0) >= 1 and val is not None:
                if self._best is None or val < self._best[0]:
                    self._best = (val, int(record["epoch"]))
        verb = "resumed" if event.resumed else "training"
        self.status(
            f"{verb} {event.run_name} · {event.model_summary} · {event.parameters:,} params"
        )
        bar = self.query_one(ProgressBar)
        bar.update(total=max(1, event.steps_per_epoch), progress=0)
        self._set(
            "train-numbers",
            f"epoch {min(event.epoch + 1, event.epochs)}/{event.epochs} · step {event.step:,}",
        )
        self._show_best()

    def step(self, event: StepLogged) -> None:
        if self._first is None:
            self._first = (event.step, event.elapsed_s)
        self._gpu_mb = event.gpu_memory_mb
        self.query_one(ProgressBar).update(total=event.steps_per_epoch, progress=event.epoch_step)
        eta = None
        done = event.step - self._first[0]
        spent = event.elapsed_s - self._first[1]
        if done > 0 and spent > 0:
            left = (self._epochs - event.epoch) * event.steps_per_epoch + (
                event.steps_per_epoch - event.epoch_step
            )
            eta = left * spent / done
        self._set(
            "train-numbers",
            f"epoch {event.epoch}/{self._epochs} · step {event.step:,} · "
            f"{event.chars_per_sec:,.0f} chars/s · elapsed {clock(event.elapsed_s)} · "
            f"ETA {clock(eta)}",
        )
        self._show_best()

    def epoch(self, event: EpochEnded) -> None:
        if event.epoch >= 1:
            self._best = (event.best_val_loss, event.best_epoch)
            self._patience_left = event.patience_left
        self._show_best()

    def finished(self, event: TrainingFinished) -> None:
        if event.reason == "stopped":
            self.status(f"stopped — saved at step {event.step:,} · press s to resume")
        else:
            self.status(event.message)

    def _show_best(self) -> None:
        parts = []
        if self._best is not None:
            parts.append(f"best val {self._best[0]:.4f} (epoch {self._best[1]})")
        else:
            parts.append("best val —")
        if self._patience_left is not None:
            parts.append(f"patience: {self._patience_left} epoch(s) left")
        if self._gpu_mb is not None:
            parts.append(f"GPU memory {self._gpu_mb:,.0f} MB")
        self._set("train-best", " · ".join(parts))


class SamplesLog(RichLog):
    """Each epoch's sample, headed by its epoch and validation loss."""

    def __init__(self, **kwargs) -> None:
        super().__init__(wrap=True, markup=False, highlight=False, **kwargs)
        self.epochs_shown = 0

    def add_sample(self, event: EpochEnded) -> None:
        what = " (untrained)" if event.epoch == 0 else ""
        best = " ★ best" if event.improved else ""
        head = Text(f"── epoch {event.epoch}{what} · val {event.val_loss:.4f}{best} ──")
        head.stylize("bold")
        self.write(head)
        self.write(Text(event.sample or "(no sample)"))
        self.epochs_shown += 1
