"""A run's whole story from its folder, for looking at a past run without training it.

What the chart, the progress panel and the samples log of a run show — its metrics, where it
stands (best, patience), its samples, and how it ended — read from metrics.jsonl, samples.txt
and config.json. Counting goes through RunProgress, the engine's own rule, so a past run reads
exactly as it did while it trained.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from shakespeare_tui.core.events import FINISH_REASONS
from shakespeare_tui.core.file_json import JSONObject, json_object
from shakespeare_tui.core.runs.folders import CONFIG, SAMPLES, read_json, read_metrics
from shakespeare_tui.core.runs.lock import RunLock
from shakespeare_tui.core.runs.metrics_tail import RunTally
from shakespeare_tui.core.runs.progress import RunProgress

_SAMPLE_HEAD = re.compile(r"^=== (.*) ===$")
MAX_SAMPLES = 200  # the newest ones; a long run's samples.txt can hold thousands

# How a run stands when no process trains it and its last record is not a "finish".
INTERRUPTED = "interrupted"
TRAINING = "training"
NEW = "new"
# The words a table shows for a state: the engine's finish reasons as they are, but "finished".
_LABELS = {"completed": "finished", "out-of-memory": "out of memory"}


def state_label(state: str) -> str:
    """A state in a word or two: "finished", "early-stopped", "training", "interrupted"…"""
    return _LABELS.get(state, state)


@dataclass(frozen=True)
class Sample:
    heading: str  # e.g. "epoch 3 · val 1.5123" or "step 400 (epoch 1) · val 1.7"
    text: str


@dataclass(frozen=True)
class RunHistory:
    name: str
    records: tuple[JSONObject, ...]  # metrics.jsonl's records, in order
    samples: tuple[Sample, ...]
    state: str  # a FinishReason, or TRAINING, INTERRUPTED, NEW
    state_text: str  # one line for a person
    step: int  # the last step recorded
    epochs_done: int  # completed epochs
    epochs: int  # the epochs the run was set to train
    patience: int
    steps_per_epoch: int | None  # None for a run that has not said (and ended no epoch)
    progress: RunProgress  # best, patience count, as the engine counted them
    sizing_reason: str = ""  # how a time budget chose the model ("sized for 10 min: …"), or ""

    @property
    def patience_left(self) -> int | None:
        if self.progress.best_val_loss is None:
            return None
        return self.patience - self.progress.stale_epochs


def read_samples(run_dir: Path, limit: int = MAX_SAMPLES) -> tuple[Sample, ...]:
    """samples.txt as (heading, text) pairs, the newest `limit`; missing or unreadable: none."""
    try:
        text = (Path(run_dir) / SAMPLES).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ()
    samples: list[Sample] = []
    heading: str | None = None
    lines: list[str] = []
    for line in text.split("\n"):
        match = _SAMPLE_HEAD.match(line)
        if match:
            if heading is not None:
                samples.append(Sample(heading, "\n".join(lines).rstrip("\n")))
            heading, lines = match.group(1), []
        elif heading is not None:
            lines.append(line)
    if heading is not None:
        samples.append(Sample(heading, "\n".join(lines).rstrip("\n")))
    return tuple(samples[-limit:])


def read_run_history(run_dir: Path) -> RunHistory:
    """Everything about the run in `run_dir` a person looks at; never raises."""
    run_dir = Path(run_dir)
    config = read_json(run_dir / CONFIG) or {}
    train = json_object(config.get("train"))
    epochs = _int(train.get("epochs"), 0)
    patience = _int(train.get("patience"), 0)
    records = tuple(read_metrics(run_dir))
    tally = RunTally()
    for record in records:
        tally.add(record)
    progress, step = tally.progress, tally.step
    state, text = run_state(run_dir, tally.finish, bool(records), step)
    steps_per_epoch = _int(config.get("steps_per_epoch"), 0) or tally.first_epoch_step
    return RunHistory(
        name=run_dir.name,
        records=records,
        samples=read_samples(run_dir),
        state=state,
        state_text=text,
        step=step,
        epochs_done=progress.epoch,
        epochs=epochs,
        patience=patience,
        steps_per_epoch=steps_per_epoch if isinstance(steps_per_epoch, int) else None,
        progress=progress,
        sizing_reason=_sizing_reason(train),
    )


def _sizing_reason(train: JSONObject) -> str:
    """A sized run's reason, as it said it when it started (config.json; core/sizing/rule.py)."""
    reason = train.get("preset_reason")
    return reason if isinstance(train.get("sizing"), dict) and isinstance(reason, str) else ""


def run_state(
    run_dir: Path,
    finish: JSONObject | None,
    any_records: bool,
    step: int,
    lock: RunLock | None = None,
) -> tuple[str, str]:
    """(state, one line for a person) of the run in `run_dir`, from its last "finish" record
    (None if it trained on after one), whether it has any records, and its last step; `lock`:
    the folder's RunLock, for a caller that asks every second."""
    if (lock or RunLock(run_dir)).held_by_other_process():
        return TRAINING, f"being trained by another process (step {step:,} so far)"
    if finish is not None:
        reason, message = finish.get("reason"), finish.get("message")
        if isinstance(reason, str) and reason in FINISH_REASONS:  # (a list is unhashable)
            return reason, message if isinstance(message, str) else reason
    if not any_records:
        return NEW, "not trained yet"
    return INTERRUPTED, (
        f"ended without a word after step {step:,} (killed?); s resumes from its last checkpoint"
    )


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default
