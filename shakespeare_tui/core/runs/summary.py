"""A run in one line: the summary the Generate view's and Train view's lists show.

(The app lists them through core/runs/listing.py, which reads each run once for every list.)

Counted as the engine counts (RunProgress), from the run's config.json and metrics.jsonl.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shakespeare_tui.core.file_json import JSONObject, json_object
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.runs.folders import BEST, CHECKPOINT_FILES, LAST, model_summary, read_json
from shakespeare_tui.core.runs.lock import RunLock
from shakespeare_tui.core.runs.metrics_tail import MetricsTail, RunTally


@dataclass(frozen=True)
class RunInfo:
    name: str
    path: Path
    corpus: str
    model: str
    preset: str
    epochs_done: int
    best_val_loss: float | None
    device: str
    created: str
    best: Path | None
    last: Path | None
    training: bool  # locked by a live process
    train: JSONObject  # config.json's "train": the run's settings as saved (possibly hand-edited)
    chars_per_sec: float | None = None  # the last measured training speed
    step: int = 0  # the last step recorded


def run_info(run_dir: Path) -> RunInfo | None:
    """A run's summary, or None if the folder is not a run (yet): never raises."""
    run_dir = Path(run_dir)
    config = read_json(run_dir / "config.json")
    if config is None:
        return None
    # Counted as the engine counts (RunProgress), reading step records but the last unparsed:
    # a long run's file is mostly those.
    tail = MetricsTail(run_dir)
    tail.read()
    return run_info_from(run_dir, config, tail.tally, RunLock(run_dir).held_by_other_process())


def run_info_from(run_dir: Path, config: JSONObject, tally: RunTally, training: bool) -> RunInfo:
    """The summary of the run in `run_dir` from its config.json, its metrics' tally and whether
    another process trains it (core/runs/catalog.py reads those once for every list)."""
    train = json_object(config.get("train"))
    model = json_object(train.get("model"))
    corpus = config.get("corpus")
    return RunInfo(
        name=run_dir.name,
        path=run_dir,
        corpus=str(corpus.get("name", train.get("corpus", "?")))
        if isinstance(corpus, dict)
        else str(train.get("corpus", "?")),
        model=model_summary(model),
        preset=str(train.get("preset", "?")),
        epochs_done=tally.progress.epoch,
        best_val_loss=tally.progress.best_val_loss,
        device=str(config.get("device", "?")),
        created=str(config.get("created", "")),
        best=_file_or_none(run_dir / CHECKPOINT_FILES[BEST]),
        last=_file_or_none(run_dir / CHECKPOINT_FILES[LAST]),
        training=training,
        train=train,
        chars_per_sec=tally.chars_per_sec,
        step=tally.step,
    )


def _file_or_none(path: Path) -> Path | None:
    return path if path.is_file() else None


def list_runs(paths: Paths) -> list[RunInfo]:
    """Every run under the data dir, newest first; half-written folders are skipped."""
    try:
        folders = [p for p in paths.runs.iterdir() if p.is_dir()]
    except OSError:
        return []
    infos = [info for p in folders if (info := run_info(p)) is not None]
    return sorted(infos, key=lambda r: (r.created, r.name), reverse=True)
