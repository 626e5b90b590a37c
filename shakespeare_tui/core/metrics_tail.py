"""A run's metrics.jsonl read as it grows: each read parses only what was appended since the last.

A Runs table keeps one reader per run folder and refreshes them all every second or so, while
another process may be appending to one, a resume rewriting one (atomically, by a rename), or a
person renaming or deleting a folder. So a reader:

- keeps the offset just past the last complete line and reads on from there; a torn last line (a
  writer mid-line, or one killed mid-line) stays unread until its newline arrives;
- starts over when the file was replaced or cut: another inode, a smaller size, or different
  bytes just before the offset;
- says when the folder has gone (deleted or renamed), and never raises.

It always keeps the run's summary (`RunTally`: the best validation loss and where, the last speed
and elapsed time, how the run finished). The series a chart draws are kept once asked for
(`want_series`): step records are 19 lines in 20, and 200 long runs must load within a second,
so until then a read parses only the last step record of what it reads.
"""

from __future__ import annotations

import json
import os
from array import array
from dataclasses import dataclass, field
from pathlib import Path

from shakespeare_tui.core.progress import RunProgress
from shakespeare_tui.core.runs import METRICS

# How the engine starts each record (json.dumps' default separators, "kind" first): what lets
# a read skip step records without parsing them.
_STEP = b'{"kind": "step"'
_EVAL = b'{"kind": "epoch"'
_FINISH = b'{"kind": "finish"'
_CHECK_BYTES = 64  # compared before reading on, to notice a file rewritten in place


def eval_kind(record: dict) -> str:
    """How an "epoch" record was evaluated (records written before the "eval" field say less)."""
    kind = record.get("eval")
    if kind in ("initial", "epoch", "interim", "budget"):
        return kind
    if record.get("epoch") == 0:
        return "initial"
    return "budget" if record.get("partial") else "epoch"


def _number(value) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


class RunTally:
    """What a run's records add up to, counted one record at a time, in the engine's own way
    (RunProgress for the best and the patience), so a run reads the same whether its file is
    read whole (run_history) or as it grows (MetricsTail)."""

    def __init__(self) -> None:
        self.progress = RunProgress()
        self.records = 0  # records counted (a summary-only read skips most step records)
        self.step = 0  # the last step recorded
        self.finish: dict | None = None  # the "finish" record, unless trained on since
        self.elapsed_s: float | None = None  # the last recorded training time
        self.chars_per_sec: float | None = None  # the last measured speed
        self.first_epoch_step: object = None  # the step of the first epoch's end, as recorded

    def add(self, record: dict) -> tuple[int, bool] | None:
        """Count one record; for a validation, return its epoch label and whether it is the best."""
        self.records += 1
        kind = record.get("kind")
        if isinstance(record.get("step"), int):
            self.step = max(self.step, record["step"])
        if kind == "finish":
            self.finish = record
        elif kind in ("step", "epoch"):
            self.finish = None  # trained on after a finish: resumed since
        elapsed = _number(record.get("elapsed_s"))
        if elapsed is not None:
            self.elapsed_s = elapsed
        counted = None
        if kind == "step":
            speed = _number(record.get("chars_per_sec"))
            self.chars_per_sec = speed if speed is not None else self.chars_per_sec
        elif kind == "epoch":
            evaluated = eval_kind(record)
            if self.first_epoch_step is None and record.get("epoch") == 1 and evaluated == "epoch":
                self.first_epoch_step = record.get("step")
            val = _number(record.get("val_loss"))
            if val is not None:
                step = record.get("step")
                whole = isinstance(step, int) and not isinstance(step, bool)
                self.progress.step = step if whole else self.step
                counted = self.progress.count_validation(val, evaluated)
        self.progress.step = self.step
        self.progress.elapsed_s = self.elapsed_s or 0.0
        return counted


@dataclass
class Series:
    """A run's curves as a chart draws them; losses in nats per character."""

    steps: array = field(default_factory=lambda: array("q"))  # one per step record
    train_loss: array = field(default_factory=lambda: array("d"))
    elapsed_s: array = field(default_factory=lambda: array("d"))  # NaN where not recorded
    eval_steps: array = field(default_factory=lambda: array("q"))  # one per validation
    eval_epochs: array = field(default_factory=lambda: array("q"))  # its label; 0: untrained
    val_loss: array = field(default_factory=lambda: array("d"))
    eval_elapsed_s: array = field(default_factory=lambda: array("d"))
    chars_per_step: int | None = None  # batch size × window, from the run's config

    def chars_seen(self, steps) -> list[int] | None:
        """Characters trained on after each of `steps`, if the run's batch and window are known."""
        if not self.chars_per_step:
            return None
        return [s * self.chars_per_step for s in steps]

    def add(self, record: dict, counted: tuple[int, bool] | None) -> None:
        step = record.get("step")
        if not isinstance(step, int):
            return
        elapsed = _number(record.get("elapsed_s"))
        elapsed = float("nan") if elapsed is None else elapsed
        if record.get("kind") == "step":
            loss = _number(record.get("train_loss"))
            self.steps.append(step)
            self.train_loss.append(float("nan") if loss is None else loss)
            self.elapsed_s.append(elapsed)
        elif counted is not None:
            self.eval_steps.append(step)
            self.eval_epochs.append(counted[0])
            self.val_loss.append(float(record["val_loss"]))
            self.eval_elapsed_s.append(elapsed)


@dataclass(frozen=True)
class Delta:
    """What one read found; false when nothing changed."""

    records: tuple[dict, ...] = ()  # new records, in order (summary-only: those it parsed)
    reset: bool = False  # the file was replaced or cut: what was read before no longer holds
    presence: bool = False  # the folder went away or came back (see MetricsTail.gone)

    def __bool__(self) -> bool:
        return bool(self.records or self.reset or self.presence)


class MetricsTail:
    """Reads one run folder's metrics.jsonl incrementally. Not thread-safe: one reader thread."""

    def __init__(self, run_dir: Path, *, series: bool = False) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / METRICS
        self.gone = False  # the folder is not there (deleted, or renamed away)
        self.error: str | None = None  # why the last read failed, if it did
        self._series_wanted = series
        self.chars_per_step: int | None = None  # passed on to the series
        self._start_over()

    def _start_over(self) -> None:
        self.tally = RunTally()
        self.series: Series | None = None
        if self._series_wanted:
            self.series = Series(chars_per_step=self.chars_per_step)
        self.torn = 0  # bytes of a line still being written, after the last newline
        self._offset = 0  # just past the last complete line read
        self._file: tuple[int, int] | None = None  # (device, inode) of the file being read
        self._seen: tuple | None = None  # its stat at the last read: unchanged, nothing to do
        self._check = b""  # the bytes just before the offset

    def want_series(self) -> Series:
        """The run's series, reading the whole file once if they were not kept until now."""
        if self.series is None:
            self._series_wanted = True
            self._start_over()
            self.read()
        assert self.series is not None
        self.series.chars_per_step = self.chars_per_step
        return self.series

    def read(self) -> Delta:
        """Read what was appended since the last read; never raises."""
        try:
            st = os.stat(self.path)
        except OSError as exc:
            return self._missing(exc)
        was_gone, self.gone, self.error = self.gone, False, None
        seen = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        if seen == self._seen:
            return Delta()
        try:
            with open(self.path, "rb") as f:
                st = os.fstat(f.fileno())
                reset = not self._continues(f, st)
                if reset:
                    reset = self._offset > 0 or self.tally.records > 0
                    self._start_over()
                    self._file = (st.st_dev, st.st_ino)
                f.seek(self._offset)
                data = f.read()
        except OSError as exc:
            return self._missing(exc)
        self._seen = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        end = data.rfind(b"\n") + 1
        chunk = data[:end]
        self.torn = len(data) - end
        self._offset += end
        self._check = (self._check + chunk[-_CHECK_BYTES:])[-_CHECK_BYTES:]
        records = _all_records(chunk) if self.series is not None else _summary_records(chunk)
        for record in records:
            counted = self.tally.add(record)
            if self.series is not None:
                self.series.add(record, counted)
        return Delta(tuple(records), reset=reset, presence=was_gone)

    def _continues(self, f, st) -> bool:
        """Whether the open file is the one read so far, unchanged up to the offset."""
        if self._file != (st.st_dev, st.st_ino) or st.st_size < self._offset:
            return False
        if not self._check:
            return True
        f.seek(self._offset - len(self._check))
        return f.read(len(self._check)) == self._check

    def _missing(self, exc: OSError) -> Delta:
        """No file to read: the folder went away (keep what was read), or the file did (a run
        that has not logged yet: nothing), or it cannot be read (say why, keep what was read)."""
        if not isinstance(exc, (FileNotFoundError, NotADirectoryError)):
            self.error = f"cannot read {self.path}: {exc.strerror or exc}"
            return Delta()
        if not self.run_dir.is_dir():
            changed, self.gone = not self.gone, True
            self._seen = None
            return Delta(presence=changed)
        had, came_back = self._offset > 0 or self.tally.records > 0, self.gone
        self.gone = False
        if had:
            self._start_over()
        return Delta(reset=had, presence=came_back)


def _loads(lines: list[bytes]) -> list[dict]:
    """The JSON objects among `lines`, in order; a line that is not one is skipped."""
    if not lines:
        return []
    try:  # one call for all the lines: about twice as fast as one call per line
        values = json.loads(b"[" + b",".join(lines) + b"]")
    except ValueError:
        values = None
    if not isinstance(values, list) or len(values) != len(lines):
        values = []
        for line in lines:
            try:
                values.append(json.loads(line))
            except ValueError:
                continue
    return [v for v in values if isinstance(v, dict)]


def _all_records(chunk: bytes) -> list[dict]:
    return _loads(chunk.split(b"\n")[:-1])


def _summary_records(chunk: bytes) -> list[dict]:
    """The records a summary needs, in order: all but the step records, and the last of those.

    The engine's other records are found by searching for how they start, without splitting
    the chunk into lines; a chunk with lines of any other shape is split and looked at whole.
    """
    body = b"\n" + chunk  # every line now follows a newline
    picked: list[tuple[int, bytes]] = []
    for prefix in (_EVAL, _FINISH):
        needle = b"\n" + prefix
        i = body.find(needle)
        while i != -1:
            end = body.index(b"\n", i + 1)
            picked.append((i, body[i + 1 : end]))
            i = body.find(needle, end)
    steps = body.count(b"\n" + _STEP)
    if steps + len(picked) != chunk.count(b"\n"):
        lines = chunk.split(b"\n")[:-1]
        last = max((k for k, line in enumerate(lines) if line.startswith(_STEP)), default=-1)
        return _loads([x for k, x in enumerate(lines) if k == last or not x.startswith(_STEP)])
    if steps:
        i = body.rfind(b"\n" + _STEP)
        picked.append((i, body[i + 1 : body.index(b"\n", i + 1)]))
        picked.sort()
    return _loads([line for _, line in picked])
