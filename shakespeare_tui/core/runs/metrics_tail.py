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
import re
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from shakespeare_tui.core.file_json import JSONObject
from shakespeare_tui.core.runs.folders import METRICS
from shakespeare_tui.core.runs.progress import EvalKind, RunProgress, is_eval_kind

# How the engine starts a step record (json.dumps' default separators, "kind" first): what
# lets a read skip them without parsing them.
_STEP = b'{"kind": "step"'
_CHECK_BYTES = 64  # compared before reading on, to notice a file rewritten in place
_LINES_PER_CALL = 2000  # parsed by one json.loads call (see _loads)
_NOT_STEP = re.compile(rb"\n(?!" + re.escape(_STEP) + rb")[^\n]*")  # a line of any other kind


def eval_kind(record: JSONObject) -> EvalKind:
    """How an "epoch" record was evaluated (records written before the "eval" field say less)."""
    kind = record.get("eval")
    if is_eval_kind(kind):
        return kind
    if record.get("epoch") == 0:
        return "initial"
    return "budget" if record.get("partial") else "epoch"


def _number(value: object) -> float | None:
    """`value` as a float if it is an int or a float: `type(x) is`, not isinstance (a bool is
    no number here), and this runs for every evaluation of 200 long runs on a first load."""
    return float(value) if type(value) is int or type(value) is float else None


class RunTally:
    """What a run's records add up to, counted one record at a time, in the engine's own way
    (RunProgress for the best and the patience), so a run reads the same whether its file is
    read whole (run_history) or as it grows (MetricsTail)."""

    def __init__(self) -> None:
        self.progress = RunProgress()
        self.records = 0  # records counted (a summary-only read skips most step records)
        self.step = 0  # the last step recorded
        self.finish: JSONObject | None = None  # the "finish" record, unless trained on since
        self.elapsed_s: float | None = None  # the last recorded training time
        self.chars_per_sec: float | None = None  # the last measured speed
        self.first_epoch_step: object = None  # the step of the first epoch's end, as recorded

    def add(self, record: JSONObject) -> tuple[int, bool] | None:
        """Count one record; for a validation, return its epoch label and whether it is the best."""
        self.records += 1
        kind, step = record.get("kind"), record.get("step")
        whole = step if type(step) is int else None  # `type(x) is`: a bool is no step
        if whole is not None and whole > self.step:
            self.step = whole
        elapsed = _number(record.get("elapsed_s"))
        if elapsed is not None:
            self.elapsed_s = elapsed
        counted = None
        if kind == "step":
            self.finish = None  # trained on after a finish: resumed since
            speed = _number(record.get("chars_per_sec"))
            if speed is not None:
                self.chars_per_sec = speed
        elif kind == "epoch":
            self.finish = None
            evaluated = eval_kind(record)
            if self.first_epoch_step is None and record.get("epoch") == 1 and evaluated == "epoch":
                self.first_epoch_step = step
            val = _number(record.get("val_loss"))
            if val is not None:
                self.progress.step = whole if whole is not None else self.step
                counted = self.progress.count_validation(val, evaluated)
        elif kind == "finish":
            self.finish = record
        self.progress.step = self.step
        self.progress.elapsed_s = self.elapsed_s or 0.0
        return counted

    _SAVED = ("records", "step", "finish", "elapsed_s", "chars_per_sec", "first_epoch_step")

    def to_dict(self) -> JSONObject:
        return {**{k: getattr(self, k) for k in self._SAVED}, "progress": self.progress.to_dict()}

    @classmethod
    def from_dict(cls, data: JSONObject) -> RunTally:
        tally = cls()
        for key in cls._SAVED:
            setattr(tally, key, data[key])
        progress = data["progress"]
        if not isinstance(progress, dict):
            raise TypeError("a tally's progress is not an object")
        tally.progress = RunProgress.from_dict(progress)
        return tally


@dataclass
class Series:
    """A run's curves as a chart draws them; losses in nats per character."""

    steps: array[int] = field(default_factory=lambda: array("q"))  # one per step record
    train_loss: array[float] = field(default_factory=lambda: array("d"))
    elapsed_s: array[float] = field(default_factory=lambda: array("d"))  # NaN where not recorded
    eval_steps: array[int] = field(default_factory=lambda: array("q"))  # one per validation
    eval_epochs: array[int] = field(default_factory=lambda: array("q"))  # its label; 0: untrained
    val_loss: array[float] = field(default_factory=lambda: array("d"))
    eval_elapsed_s: array[float] = field(default_factory=lambda: array("d"))
    chars_per_step: int | None = None  # batch size × window, from the run's config

    def chars_seen(self, steps: Iterable[int]) -> list[int] | None:
        """Characters trained on after each of `steps`, if the run's batch and window are known."""
        if not self.chars_per_step:
            return None
        return [s * self.chars_per_step for s in steps]

    def add(self, record: JSONObject, counted: tuple[int, bool] | None) -> None:
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
            val = _number(record.get("val_loss"))
            assert val is not None  # RunTally.add counts a number only
            self.val_loss.append(val)
            self.eval_elapsed_s.append(elapsed)


@dataclass(frozen=True)
class Delta:
    """What one read found; false when nothing changed."""

    records: tuple[JSONObject, ...] = ()  # new records, in order (summary-only: those it parsed)
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
        self.bytes_read = 0  # parsed so far, all reads together
        self._start_over()

    def _start_over(self) -> None:
        self.tally = RunTally()
        self.series: Series | None = None
        if self._series_wanted:
            self.series = Series(chars_per_step=self.chars_per_step)
        self.torn = 0  # bytes of a line still being written, after the last newline
        self._offset = 0  # just past the last complete line read
        self._file: tuple[int, int] | None = None  # (device, inode) of the file being read
        self._seen: tuple[int, int, int, int] | None = None  # its stat at the last read
        self._check = b""  # the bytes just before the offset

    def state(self) -> JSONObject | None:
        """Where this reader stands, for a later process to read on from (`restore`)."""
        if self._file is None:
            return None
        return {"file": list(self._file), "offset": self._offset, "check": self._check.hex(),
                "tally": self.tally.to_dict()}  # fmt: skip

    def restore(self, state: JSONObject) -> None:
        """Stand where `state` says, as if the file had been read up to there: the next read
        checks that the file is the same and still ends so there (else it starts over)."""
        self._start_over()
        if self.series is not None:
            return  # the series are not saved: read the file
        try:
            tally, file, offset, check = (state[k] for k in ("tally", "file", "offset", "check"))
            if not (
                isinstance(tally, dict)
                and isinstance(file, list)
                and isinstance(offset, int | float | str)
                and isinstance(check, str)
            ):
                raise TypeError("not a reader's state")
            self.tally = RunTally.from_dict(tally)
            device, inode = file
            self._file = (device, inode)
            self._offset, self._check = int(offset), bytes.fromhex(check)
        except (KeyError, TypeError, ValueError, AttributeError):
            self._start_over()  # a cache from another version: read the file

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
        end = data.rfind(b"\n") + 1  # data[:end]: the complete lines (not sliced: megabytes)
        self.torn = len(data) - end
        self._offset += end
        self.bytes_read += end
        self._check = (self._check + data[max(0, end - _CHECK_BYTES) : end])[-_CHECK_BYTES:]
        records = _all_records(data) if self.series is not None else _summary_records(data, end)
        for record in records:
            counted = self.tally.add(record)
            if self.series is not None:
                self.series.add(record, counted)
        return Delta(tuple(records), reset=reset, presence=was_gone)

    def _continues(self, f: BinaryIO, st: os.stat_result) -> bool:
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


def _loads(lines: list[bytes]) -> list[JSONObject]:
    """The JSON objects among `lines`, in order; a line that is not one is skipped."""
    lines = [line for line in lines if line]
    # A few thousand lines a call: about twice as fast as a call per line, and short enough
    # that a reader thread lets go of the GIL often (one call for a long run's whole file
    # held it for tens of milliseconds, and the UI thread waited that long to draw).
    out: list[JSONObject] = []
    for start in range(0, len(lines), _LINES_PER_CALL):
        out += _loads_some(lines[start : start + _LINES_PER_CALL])
    return out


def _loads_some(lines: list[bytes]) -> list[JSONObject]:
    try:
        values = json.loads(b"[" + b",".join(lines) + b"]")
    except (ValueError, RecursionError):  # RecursionError: a line of ten thousand "["
        values = None
    if not isinstance(values, list) or len(values) != len(lines):
        values = []
        for line in lines:
            try:
                values.append(json.loads(line))
            except (ValueError, RecursionError):
                continue
    return [v for v in values if isinstance(v, dict)]


def _all_records(data: bytes) -> list[JSONObject]:
    return _loads(data.split(b"\n")[:-1])  # the last piece: after the last newline


def _summary_records(data: bytes, end: int) -> list[JSONObject]:
    """The records of data[:end] a summary needs, in order: all but the step records, and the
    last of those."""
    if not end:
        return []
    first_end = data.index(b"\n")
    first = data[:first_end]
    last = data.rfind(b"\n" + _STEP, first_end, end)  # the last step line but the first
    while last != -1 and not _loads([data[last + 1 : data.index(b"\n", last + 1)]]):
        last = data.rfind(b"\n" + _STEP, first_end, last)  # torn mid-file: the one before
    if last == -1:  # the first line is the only step record, or there is none
        return _loads([first] + _not_steps(data, first_end, end - 1))
    after = data.index(b"\n", last + 1)
    head = [] if first.startswith(_STEP) else [first]
    middle = _not_steps(data, first_end, last) + [data[last + 1 : after]]
    return _loads(head + middle + _not_steps(data, after, end - 1))


def _not_steps(data: bytes, start: int, end: int) -> list[bytes]:
    """The lines after the newlines in data[start:end] that are not step records."""
    # One pass of the regex engine: splitting a long file into lines, or searching it once
    # per kind of record, costs more than parsing what is found.
    return [m[1:] for m in _NOT_STEP.findall(data, start, end) if len(m) > 1]
