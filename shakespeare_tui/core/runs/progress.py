"""Where a run stands: the counters a checkpoint saves and a resume restores, and how it ended."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal, TypeGuard, get_args

from shakespeare_tui.core.config import TrainConfig
from shakespeare_tui.core.events import EpochEnded, FinishReason
from shakespeare_tui.core.file_json import JSONObject

EvalKind = Literal["initial", "epoch", "interim", "budget"]
EVAL_KINDS: tuple[EvalKind, ...] = get_args(EvalKind)


def is_eval_kind(value: object) -> TypeGuard[EvalKind]:
    return value in EVAL_KINDS


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _real(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# The kind of each field of RunProgress, as `from_dict` checks a saved one: (test, in words).
_KINDS: dict[str, tuple[Callable[[object], bool], str]] = {
    "step": (_whole, "a whole number"),
    "epoch": (_whole, "a whole number"),
    "epoch_step": (_whole, "a whole number"),
    "elapsed_s": (_real, "a number"),
    "best_val_loss": (lambda v: v is None or _real(v), "a number or null"),
    "best_epoch": (lambda v: v is None or _whole(v), "a whole number or null"),
    "best_step": (lambda v: v is None or _whole(v), "a whole number or null"),
    "stale_epochs": (_whole, "a whole number"),
    "epoch_loss_sum": (_real, "a number"),
    "schedule_steps": (_whole, "a whole number"),
    "schedule_fitted": (lambda v: isinstance(v, bool), "true or false"),
    "finished": (lambda v: v is None or isinstance(v, str), "text or null"),
}


@dataclass
class RunProgress:
    step: int = 0  # optimiser steps, the whole run
    epoch: int = 0  # completed epochs
    epoch_step: int = 0  # steps into the epoch in progress
    elapsed_s: float = 0.0  # training time, resumes included
    best_val_loss: float | None = None
    best_epoch: int | None = None
    best_step: int | None = None
    # Evaluations since the best one (named when only epoch ends were evaluated; a checkpoint
    # keeps the name).
    stale_epochs: int = 0
    epoch_loss_sum: float = 0.0  # summed step losses of the epoch in progress
    schedule_steps: int = 0  # the steps the learning-rate schedule spans
    schedule_fitted: bool = False  # the schedule was fitted to --max-minutes (once per run)
    finished: str | None = None  # the budget that ended the run, if one did

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> RunProgress:
        """A progress as `to_dict` saved it (a checkpoint's, a cache's). Fields it does not know
        are left out; a known one of another kind is a ValueError that names it (a file may
        hold anything, and a run cannot go on from a step of text)."""
        progress = cls()
        for name, value in data.items():
            if name in _KINDS:
                test, kind = _KINDS[name]
                if not test(value):
                    raise ValueError(f"{name} is not {kind}")
                setattr(progress, name, value)  # of the field's kind: checked just above
        return progress

    def count_validation(self, val: float, kind: EvalKind) -> tuple[int, bool]:
        """Count one evaluation; return the epoch it is labelled with and whether it is the best.

        "initial" is epoch 0, the untrained model (never the best); "epoch" ends an epoch;
        "interim" comes every `eval_every` steps within one and "budget" where a budget ended
        the run mid-epoch: both are labelled with the epoch in progress, and the budget's does
        not count against patience (a resume with a larger budget goes on from it).
        """
        epoch = 0 if kind == "initial" else self.epoch + 1
        if kind == "epoch":
            self.epoch = epoch
        improved = epoch >= 1 and (self.best_val_loss is None or val < self.best_val_loss)
        if improved:
            self.best_val_loss, self.best_epoch, self.best_step = val, epoch, self.step
            self.stale_epochs = 0
        elif kind in ("epoch", "interim"):
            self.stale_epochs += 1
        return epoch, improved

    def end_reason(
        self, config: TrainConfig, stop_requested: bool, elapsed_s: float
    ) -> FinishReason | None:
        """Why the run ends before the next step, if it does (checked before every step)."""
        if self.epoch >= config.epochs:
            return "completed"
        if self.stale_epochs >= config.patience:
            return "early-stopped"
        if stop_requested:
            return "stopped"
        if config.max_steps and self.step >= config.max_steps:
            return "max-steps"
        if config.max_minutes and elapsed_s >= config.max_minutes * 60:
            return "max-minutes"
        return None

    def evaluated(
        self,
        epoch: int,
        kind: EvalKind,
        improved: bool,
        train_loss: float | None,
        val: float,
        sample: str,
        elapsed_s: float,
        patience: int,
    ) -> tuple[JSONObject, EpochEnded]:
        """The evaluation just counted: its metrics.jsonl record and its event."""
        partial = kind in ("interim", "budget")
        record: JSONObject = {
            "kind": "epoch",
            "epoch": epoch,
            "step": self.step,
            "train_loss": train_loss,
            "val_loss": val,
            "elapsed_s": round(elapsed_s, 3),
            "partial": partial,
            "eval": kind,
        }
        event = EpochEnded(
            epoch=epoch,
            step=self.step,
            train_loss=train_loss if train_loss is not None else float("nan"),
            val_loss=val,
            best_val_loss=self.best_val_loss if self.best_val_loss is not None else val,
            best_epoch=self.best_epoch or 0,
            improved=improved,
            patience_left=patience - self.stale_epochs,
            sample=sample,
            elapsed_s=elapsed_s,
            kind=kind,
            best_step=self.best_step,
        )
        return record, event

    @property
    def best_text(self) -> str:
        if self.best_val_loss is None:
            return "no epoch finished"
        where = f"epoch {self.best_epoch}"
        if self.best_step is not None:
            where = f"step {self.best_step:,} (epoch {self.best_epoch})"
        return f"best val {self.best_val_loss:.4f} at {where}"


def finish_message(
    reason: FinishReason, progress: RunProgress, config: TrainConfig, device_label: str
) -> str:
    """One line for a person: why the run ended, and what to do next where there is something."""
    p, best = progress, progress.best_text
    if reason == "completed":
        return f"finished {config.epochs} epochs; {best}"
    if reason == "early-stopped":
        return f"early stop: {config.patience} evaluations without improvement; {best}"
    if reason == "stopped":
        return f"stopped at step {p.step:,} — saved, resume any time; {best}"
    if reason == "max-steps":
        return f"reached {config.max_steps:,} steps; {best}"
    if reason == "max-minutes":
        return f"reached {config.max_minutes:g} minutes; {best}"
    if reason == "diverged":
        return (
            f"the loss became NaN/inf at step {p.step:,}: lower the learning rate "
            f"(now {config.lr:g}); the saved checkpoints are untouched"
        )
    return (
        f"out of memory on {device_label} with batch {config.batch_size} × {config.seq_len} and "
        f"{config.model.summary}: try a smaller batch size, sequence length or hidden size"
    )
