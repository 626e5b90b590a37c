"""Run folders: one per training run, with its config, metrics, samples and checkpoints.

runs/<name>/config.json     the TrainConfig and where it ran
runs/<name>/metrics.jsonl   one JSON object per logged step, and one per epoch (with val_loss)
runs/<name>/samples.txt     each epoch's sample
runs/<name>/best.pt         best validation loss so far
runs/<name>/last.pt         the latest state, resumable
runs/<name>/.lock           held by the process training this run
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import threading
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, TypedDict

from shakespeare_tui.core.atomic import atomic_write_bytes, atomic_write_text
from shakespeare_tui.core.config import MODEL_FIELDS, ModelConfig
from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.events import StepLogged
from shakespeare_tui.core.file_json import JSONObject
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.text.corpus import CorpusRecord

BUNDLED = "bundled"
# A run's two checkpoints: their kinds, as events, pickers and `--checkpoint RUN:KIND` name them,
# and their files.
BEST, LAST = "best", "last"
CHECKPOINT_FILES = {BEST: "best.pt", LAST: "last.pt"}
CONFIG, METRICS, SAMPLES = "config.json", "metrics.jsonl", "samples.txt"
_NAME_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


class RunConfigFile(TypedDict):
    """config.json, as `RunFolder.write_config` writes it. Read back, it is a JSONObject: a
    file may hold anything, so its readers check each part's kind."""

    train: dict[str, Any]  # TrainConfig.to_dict()
    corpus: CorpusRecord
    device: str  # where it trains, for a person
    created: str  # ISO 8601, UTC: when the run was first started
    vocab_size: int  # the model's, as train["model"] has it
    parameters: int
    steps_per_epoch: int


def bundled_checkpoint() -> Path:
    """The small pretrained checkpoint shipped inside the package."""
    return Path(str(resources.files("shakespeare_tui") / "assets" / "bundled.pt"))


def _now_utc() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def new_run_name(preset: str) -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S") + f"-{preset}"


def check_run_name(name: str) -> str:
    if not _NAME_OK.match(name):
        raise UserError(
            f"run name {name!r} must be 1–80 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if name == BUNDLED:  # a run of that name could never be resumed, renamed or removed
        raise UserError("bundled names the pretrained checkpoint; choose another name")
    return name


def read_json(path: str | os.PathLike[str]) -> JSONObject | None:
    """A JSON object from `path`, or None if missing, half-written or not an object."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        return None
    return data if isinstance(data, dict) else None


def read_metrics(run_dir: Path, *, strict: bool = False) -> list[JSONObject]:
    """metrics.jsonl's records; a torn last line (a kill mid-write) is skipped.

    A missing file has no records. Any other failure to read is "no records" for a listing, but
    raises UserError with `strict`: a resume rewrites the file from what it read, so it must
    never mistake an unreadable file for an empty one.
    """
    path = Path(run_dir) / METRICS
    records: list[JSONObject] = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    record = json.loads(line)
                except (ValueError, RecursionError):
                    continue
                if isinstance(record, dict):
                    records.append(record)
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        if strict:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise UserError(
                f"cannot read {path}: {reason}; nothing was changed (fix or move the file, then resume)"
            ) from None
        return []
    return records


def _record(line: bytes) -> JSONObject | None:
    """A metrics line as a record, or None if it is not one this program wrote."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    return record if isinstance(record, dict) else None


def _step_of(record: JSONObject) -> int | None:
    """A record's step, if it has one that is a number."""
    step = record.get("step", 0)
    if isinstance(step, bool) or not isinstance(step, (int, float)) or not math.isfinite(step):
        return None
    return int(step)


class RunFolder:
    """Writes one run's config, metrics and samples (the checkpoints go through `checkpoint`).

    Appends that fail are reported once per file through `on_failure(path, message)` and
    otherwise ignored: metrics and samples are a record for people; the checkpoints carry the
    history a resume needs.
    """

    def __init__(self, path: Path, on_failure: Callable[[str, str], None]):
        self.path = Path(path)
        self._on_failure = on_failure
        self._failed: set[str] = set()
        self._append_lock = threading.Lock()  # samples asked for mid-run come from a thread

    def file(self, name: str) -> Path:
        return self.path / name

    def checkpoint(self, kind: str) -> Path:
        return self.path / CHECKPOINT_FILES[kind]

    def existing_checkpoint(self, kind: str) -> str | None:
        path = self.checkpoint(kind)
        return str(path) if path.is_file() else None

    def start_fresh(self) -> None:
        """Empty metrics and samples for a new run."""
        for name in (METRICS, SAMPLES):
            atomic_write_text(self.path / name, "")

    def write_config(
        self,
        train: dict[str, Any],
        corpus: CorpusRecord,
        device: str,
        parameters: int,
        steps_per_epoch: int,
    ) -> None:
        """config.json: the run's settings and where it runs, keeping the date it was created."""
        existing = read_json(self.path / CONFIG) or {}
        created = existing.get("created")
        config: RunConfigFile = {
            "train": train,
            "corpus": corpus,
            "device": device,
            "created": created if isinstance(created, str) else _now_utc(),
            "vocab_size": train.get("model", {}).get("vocab_size"),
            "parameters": parameters,
            "steps_per_epoch": steps_per_epoch,
        }
        atomic_write_text(self.path / CONFIG, json.dumps(config, indent=2))

    def trim_metrics(self, step: int) -> list[JSONObject]:
        """Drop the records past `step` (a killed process logs past its last checkpoint) and
        return the records kept.

        Only records it understands and that say they come later are dropped: every other line
        (a hand edit, a torn write, a value of another kind) is kept as it was, so a resume
        never loses what it could not read. Reads strictly: a file that cannot be read stops the
        resume and stays as it was; a file with nothing to drop is not rewritten.
        """
        path = self.path / METRICS
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise UserError(
                f"cannot read {path}: {exc.strerror or exc}; nothing was changed (fix or move "
                "the file, then resume)"
            ) from None
        kept_lines: list[bytes] = []
        records: list[JSONObject] = []
        dropped = False
        for line in raw.splitlines(keepends=True):
            record = _record(line)
            at = _step_of(record) if record is not None else None
            if at is not None and at > step:
                dropped = True
                continue
            if record is not None and at is not None:
                records.append(record)
            kept_lines.append(line if line.endswith(b"\n") else line + b"\n")
        if dropped or (raw and not raw.endswith(b"\n")):
            # A torn last line gets its newline, so the next record starts a line of its own.
            atomic_write_bytes(path, b"".join(kept_lines))
        return records

    def log(self, record: JSONObject) -> None:
        self._append(METRICS, json.dumps(record) + "\n")

    def log_step(self, event: StepLogged) -> None:
        """One StepLogged as a "step" record."""
        record: JSONObject = {
            "kind": "step",
            "step": event.step,
            "epoch": event.epoch,
            "train_loss": round(event.train_loss, 5),
            "chars_per_sec": round(event.chars_per_sec, 1),
            "elapsed_s": round(event.elapsed_s, 3),
            "lr": event.lr,
        }
        self.log(record)

    def add_sample(self, heading: str, sample: str) -> None:
        self._append(SAMPLES, f"=== {heading} ===\n{sample}\n\n")

    def _append(self, name: str, text: str) -> None:
        try:
            with self._append_lock, open(self.path / name, "a", encoding="utf-8") as f:
                f.write(text)
        except OSError as exc:
            if name not in self._failed:
                self._failed.add(name)
                self._on_failure(
                    str(self.path / name),
                    f"cannot write {name}: {exc.strerror or exc}; training goes on, "
                    "the checkpoints keep the history",
                )


def model_summary(model: Mapping[str, object]) -> str:
    """ModelConfig.summary of a config.json's model, or "?" if it is not a valid model."""
    if not all(k in model for k in ("cell", "embed", "hidden")):
        return "?"
    # Of any kind until `validate` has looked: a file may hold anything.
    values: dict[str, Any] = {k: v for k, v in model.items() if k in MODEL_FIELDS}
    try:
        config = ModelConfig(**values)
        config.validate()
    except (TypeError, UserError):
        return "?"
    return config.summary


def restartable(folder: Path) -> bool:
    """A run killed before its first checkpoint: its config.json, and neither checkpoint. A
    resume starts it again from that config (there is nothing else to go on from)."""
    folder = Path(folder)
    config = read_json(folder / CONFIG)
    if config is None or not isinstance(config.get("train"), dict):
        return False
    return not any((folder / name).exists() for name in CHECKPOINT_FILES.values())


def resolve_resume(spec: str, paths: Paths) -> Path:
    """What `train --resume SPEC` continues from: a run's last.pt (else its best.pt), a
    checkpoint file, or a run folder killed before its first checkpoint (`restartable`: the
    folder itself). A last.pt that is not a file is named, never quietly passed over."""
    for candidate in _candidates(spec, paths):
        if candidate.is_dir():
            last = candidate / CHECKPOINT_FILES[LAST]
            if last.exists() and not last.is_file():
                raise UserError(
                    f"{last} is not a checkpoint file (a folder?); move it away, or resume from "
                    f"{candidate / CHECKPOINT_FILES[BEST]}"
                )
            if restartable(candidate):
                return candidate
    return resolve_checkpoint(spec, paths, prefer=LAST)


def _candidates(spec: str, paths: Paths) -> list[Path]:
    """Where SPEC may point: the path as typed, then (a plain name) the run of that name."""
    candidates = [Path(spec).expanduser()]
    if _NAME_OK.match(spec):
        candidates.append(paths.runs / spec)
    return candidates


def resolve_checkpoint(spec: str, paths: Paths, prefer: str = BEST) -> Path:
    """A checkpoint file from "bundled", a file path, a run folder, or a run name."""
    if spec == BUNDLED:
        path = bundled_checkpoint()
        if not path.is_file():
            raise UserError(
                "the bundled checkpoint is missing from this installation; reinstall shakespeare-tui"
            )
        return path
    for candidate in _candidates(spec, paths):
        if candidate.is_file():
            return candidate
        if candidate.is_dir():
            order = (BEST, LAST) if prefer == BEST else (LAST, BEST)
            for kind in order:
                if (candidate / CHECKPOINT_FILES[kind]).is_file():
                    return candidate / CHECKPOINT_FILES[kind]
            raise UserError(f"run {candidate.name} has no checkpoint yet")
    raise UserError(f"no checkpoint or run named {spec!r}; see `shakespeare-tui runs`")
