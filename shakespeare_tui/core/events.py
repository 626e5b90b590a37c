"""What the training engine reports, as plain values: no tensors, no model, safe to pass to any thread.

`EngineEvent` is every event a run can send; `OnEvent` is what receives them, and `StopSignal`
what a long job (a run, an encoding, an analysis) checks to end early.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, get_args

from shakespeare_tui.core.file_json import JSONObject

# Why a run ended. "stopped" leaves it resumable; the budget reasons can be extended by a
# larger budget; the failures keep the last good checkpoints untouched.
FinishReason = Literal[
    "completed",  # all epochs done
    "early-stopped",  # patience ran out
    "stopped",  # the person asked (Ctrl+C, `s`, quit)
    "max-steps",  # the --max-steps budget
    "max-minutes",  # the --max-minutes budget
    "diverged",  # the loss became NaN/inf
    "out-of-memory",  # the device ran out of memory
]
FINISH_REASONS: frozenset[str] = frozenset(get_args(FinishReason))
FAILED_REASONS: frozenset[str] = frozenset({"diverged", "out-of-memory"})
BUDGET_REASONS: frozenset[str] = frozenset({"max-steps", "max-minutes"})


@dataclass(frozen=True)
class CorpusEncoding:
    """A corpus too large to hold is being encoded into the cache (once per version of the file;
    core/text/corpus_map.py): sent a few times a second, and once with done_bytes == total_bytes."""

    done_bytes: int  # of the file, read so far
    total_bytes: int
    mb_per_s: float  # decimal megabytes of the file a second, since the encoding began
    corpus: str = ""  # the corpus as the person named it

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the rate so far; None until there is a rate."""
        if self.mb_per_s <= 0:
            return None
        return max(0, self.total_bytes - self.done_bytes) / (self.mb_per_s * 1e6)

    def summary(self) -> str:
        """ "45% of 2.1 GB · 310 MB/s · ETA 0:04", for the CLI's bar and the app alike."""
        from shakespeare_tui.core.figures import duration, size

        share = self.done_bytes / max(1, self.total_bytes)
        return (
            f"{share:.0%} of {size(self.total_bytes)} · {self.mb_per_s:,.0f} MB/s · "
            f"ETA {duration(self.eta_s)}"
        )


@dataclass(frozen=True)
class SizingStarted:
    """A run with a time budget and no size of its own is timing the model sizes it may take
    (core/sizing/rule.py): a few seconds, counted in the budget."""

    budget_minutes: float
    rungs: int  # sizes it may time


@dataclass(frozen=True)
class ModelSized:
    """The size a budget chose, and why ("sized for 10 min: LSTM E96/H512 · ~6.8 M characters…")."""

    model_summary: str
    reason: str


@dataclass(frozen=True)
class TrainingStarted:
    run_name: str
    run_dir: str
    device: str  # a person-readable description, e.g. "CPU · 2 threads"
    model_summary: str  # e.g. "LSTM E128/H640"
    parameters: int
    corpus: str
    corpus_chars: int
    steps_per_epoch: int
    epochs: int
    step: int  # > 0 when resumed
    epoch: int  # completed epochs
    resumed: bool
    history: tuple[JSONObject, ...] = ()  # earlier metrics records (metrics.jsonl's objects)
    notes: tuple[str, ...] = ()  # e.g. "no GPU: using the cpu preset"
    max_steps: int | None = None  # the run's budgets, for the ETA
    max_minutes: float | None = None
    eval_every: int = 0
    processes: int = 1  # a torchrun job's; each trains on `batch_size` windows a step
    batch_size: int = 0
    sizing_reason: str = ""  # how a time budget chose the model (core/sizing/rule.py), if it did
    # Evaluations without a better loss before the run stops (its config's, overrides included):
    # with `history`, what a resumed run has left. None: not said (then the run's folder says).
    patience: int | None = None


@dataclass(frozen=True)
class StepLogged:
    step: int  # optimiser steps so far, the whole run
    epoch: int  # the epoch in progress, from 1
    epoch_step: int  # steps done in this epoch
    steps_per_epoch: int
    train_loss: float  # mean over the steps since the last event, nats/char
    chars_per_sec: float  # of the whole job, every process's windows
    elapsed_s: float  # training time of the whole run, resumes included
    lr: float
    gpu_memory_mb: float | None = None


@dataclass(frozen=True)
class ValidationStarted:
    """The held-out text is about to be evaluated: seconds on a CPU or a large corpus, with no
    step events meanwhile, so a reporter can say "validating…" rather than look stuck."""

    epoch: (
        int  # the epoch it will be labelled with: 0 for the untrained model, else as EpochEnded's
    )
    step: int
    partial: bool = False  # within an epoch (every --eval-every steps, or a budget's end)


@dataclass(frozen=True)
class EpochEnded:
    """An evaluation: at an epoch's end, or within one (`kind`); the name predates the latter."""

    epoch: int
    step: int
    train_loss: float
    val_loss: float
    best_val_loss: float
    best_epoch: int
    improved: bool
    patience_left: int
    sample: str
    elapsed_s: float
    # "initial" (epoch 0, untrained), "epoch" (an epoch's end), "interim" (every eval_every
    # steps), "budget" (--max-steps/--max-minutes ended the run mid-epoch)
    kind: str = "epoch"
    best_step: int | None = None

    @property
    def partial(self) -> bool:
        """Evaluated within an epoch, not at its end."""
        return self.kind in ("interim", "budget")


@dataclass(frozen=True)
class SampleDrawn:
    """A sample asked for during training, drawn from a copy of the weights at `step`."""

    step: int
    epoch: int  # the epoch in progress
    text: str
    temperature: float


@dataclass(frozen=True)
class CheckpointSaved:
    path: str
    kind: str  # "best" or "last"
    epoch: int
    step: int
    val_loss: float | None


@dataclass(frozen=True)
class CheckpointFailed:
    path: str
    message: str  # one line; the previous file is intact


@dataclass(frozen=True)
class LogWriteFailed:
    """metrics.jsonl or samples.txt could not be appended to (reported once per file and run)."""

    path: str
    message: str  # one line; training goes on, the checkpoints still carry the history


@dataclass(frozen=True)
class TrainingFinished:
    reason: FinishReason
    message: str  # one line for a person
    step: int
    epoch: int
    best_val_loss: float | None
    best_epoch: int | None
    run_dir: str
    last_checkpoint: str | None
    best_checkpoint: str | None

    @property
    def failed(self) -> bool:
        return self.reason in FAILED_REASONS


EngineEvent = (
    CorpusEncoding
    | SizingStarted
    | ModelSized
    | TrainingStarted
    | StepLogged
    | ValidationStarted
    | EpochEnded
    | SampleDrawn
    | CheckpointSaved
    | CheckpointFailed
    | LogWriteFailed
    | TrainingFinished
)


class OnEvent(Protocol):
    """Where a run's events go: called on the thread that trains, so it must not block (the
    app posts a message, the CLI prints a line)."""

    def __call__(self, event: EngineEvent, /) -> None: ...


class StopSignal(Protocol):
    """What a long job checks to end early: a `threading.Event`, or a worker's
    `cancelled_event`, set from another thread."""

    def is_set(self) -> bool: ...
