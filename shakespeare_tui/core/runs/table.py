"""Every run as a row of one table, for the Runs view and `shakespeare-tui runs` alike.

A row is built from a run's config.json and its MetricsTail (`build_row`; a RunCatalog keeps
them up to date). `COLUMNS` are the sortable columns under stable keys (the `--sort` names and
the `--json` keys), each with the text a table shows; `sort_rows` puts runs without a value
last, either way round; `filter_rows` keeps those matching typed text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.figures import UNKNOWN, compact, count, duration, local_time
from shakespeare_tui.core.file_json import JSONObject, json_object
from shakespeare_tui.core.runs.folders import BUNDLED, CONFIG, model_summary, read_json
from shakespeare_tui.core.runs.history import TRAINING, run_state, state_label
from shakespeare_tui.core.runs.lock import RunLock
from shakespeare_tui.core.runs.metrics_tail import MetricsTail, RunTally
from shakespeare_tui.core.units import in_units, loss_text

if TYPE_CHECKING:  # its module imports torch, which a table never needs
    from shakespeare_tui.core.model.checkpoint import CheckpointInfo

HALF_WRITTEN = "half-written"  # a folder without a readable config.json: being made, or broken
UNREADABLE = "unreadable"  # an entry of the runs folder that cannot be read at all


@dataclass(frozen=True)
class RunRow:
    """One run as the table shows it; None where the run does not say."""

    name: str
    state: str  # a finish reason, or training, interrupted, new, half-written, bundled
    state_text: str  # one line for a person
    path: str | None = None  # the run folder (None for the bundled checkpoint)
    model: str | None = None  # e.g. "LSTM E128/H640"
    cell: str | None = None
    embed: int | None = None
    hidden: int | None = None
    layers: int | None = None
    params: int | None = None
    dropout: float | None = None
    batch_size: int | None = None
    seq_len: int | None = None
    lr: float | None = None
    schedule: str | None = None
    best_val_loss: float | None = None  # nats per character
    best_epoch: int | None = None  # the epoch label of the best evaluation
    best_step: int | None = None
    epochs_done: int = 0
    step: int = 0  # the last step recorded
    chars_per_sec: float | None = None  # the last measured speed
    elapsed_s: float | None = None  # training time, resumes included
    device: str | None = None  # where it ran, e.g. "CPU · 2 threads"
    corpus: str | None = None
    created: str | None = None  # ISO 8601, UTC
    preset: str | None = None
    training_here: bool = False  # trained by this process (the app), not another one
    config: JSONObject = field(default_factory=dict, compare=False, repr=False)  # config.json

    @property
    def best_val_bits(self) -> float | None:
        return None if self.best_val_loss is None else in_units(self.best_val_loss, bits=True)

    @property
    def label(self) -> str:
        """The state in a word or two, as the table shows it."""
        return state_label(self.state)

    @property
    def training(self) -> bool:
        return self.state == TRAINING

    def to_json(self) -> JSONObject:
        """The row as plain JSON values (no NaN or infinity: those are null)."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "config"}
        out["best_val_bits"] = self.best_val_bits
        for key, value in out.items():
            if isinstance(value, float) and not math.isfinite(value):
                out[key] = None
        return out


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def chars_per_step(config: JSONObject) -> int | None:
    """Characters one training step reads (batch size × window), from a config.json."""
    train = json_object(config.get("train"))
    batch, window = _int(train.get("batch_size")), _int(train.get("seq_len"))
    return batch * window if batch and window else None


def run_state_of(
    path: Path, config: JSONObject | None, tally: RunTally, lock: RunLock | None = None
) -> tuple[str, str, bool]:
    """(state, its line, trained here) of a run: run_history's rule, plus a trainer in this
    process (which run_history leaves to the Train view) and a folder without a config."""
    lock = lock or RunLock(path)
    state, text = run_state(path, tally.finish, tally.records > 0, tally.step, lock)
    here = state != TRAINING and lock.held_in_this_process()
    if here:
        state, text = TRAINING, f"being trained in this program (step {tally.step:,} so far)"
    if config is None and state != TRAINING:
        state, text = HALF_WRITTEN, "no readable config.json yet: being made, or damaged"
    return state, text, here


def build_row(
    path: Path,
    config: JSONObject | None,
    tail: MetricsTail,
    known: tuple[str, str, bool] | None = None,
) -> RunRow:
    """The row of the run in `path` from its config.json (None: unreadable) and its metrics;
    `known`: its state as `run_state_of` gives it, where the caller has it already."""
    tally, path = tail.tally, Path(path)
    state, text, here = known or run_state_of(path, config, tally)
    if config is None:
        return RunRow(name=path.name, state=state, state_text=text, path=str(path))
    train = json_object(config.get("train"))
    model = json_object(train.get("model"))
    corpus = config.get("corpus")
    corpus_name = corpus.get("name") if isinstance(corpus, dict) else train.get("corpus")
    summary = model_summary(model)
    p = tally.progress
    return RunRow(
        name=path.name,
        state=state,
        state_text=text,
        path=str(path),
        model=summary if summary != "?" else None,
        cell=_str(model.get("cell")),
        embed=_int(model.get("embed")),
        hidden=_int(model.get("hidden")),
        layers=_int(model.get("layers")),
        params=_int(config.get("parameters")),
        dropout=_float(model.get("dropout")),
        batch_size=_int(train.get("batch_size")),
        seq_len=_int(train.get("seq_len")),
        lr=_float(train.get("lr")),
        schedule=_str(train.get("schedule")),
        best_val_loss=p.best_val_loss,
        best_epoch=p.best_epoch,
        best_step=p.best_step,
        epochs_done=p.epoch,
        step=tally.step,
        chars_per_sec=tally.chars_per_sec,
        elapsed_s=tally.elapsed_s,
        device=_str(config.get("device")),
        corpus=str(corpus_name) if corpus_name is not None else None,
        created=_str(config.get("created")),
        preset=_str(train.get("preset")),
        training_here=here,
        config=config,
    )


def unreadable_row(path: Path, reason: str) -> RunRow:
    """The row of an entry that cannot be read (a link loop, a file that breaks the reader):
    one row saying so, so the other runs are still listed."""
    path = Path(path)
    return RunRow(name=path.name, state=UNREADABLE, state_text=f"cannot be read: {reason}",
                  path=str(path))  # fmt: skip


def read_row(run_dir: Path) -> RunRow:
    """One run's row, read afresh (for a one-off look; a table keeps a RunCatalog)."""
    tail = MetricsTail(run_dir)
    tail.read()
    return build_row(Path(run_dir), read_json(Path(run_dir) / CONFIG), tail)


def bundled_row(info: CheckpointInfo) -> RunRow:
    """The pretrained checkpoint's row, from its CheckpointInfo (reading that loads torch)."""
    summary = info.model_summary or None
    cell = summary.split()[0].lower() if summary else None
    return RunRow(
        name=BUNDLED,
        state=BUNDLED,
        state_text="the pretrained checkpoint that ships with the program",
        model=summary,
        cell=cell,
        params=info.parameters or None,
        best_val_loss=info.val_loss,
        best_step=info.step,
        epochs_done=info.epoch,
        step=info.step,
        corpus=info.corpus or None,
        created=info.created or None,
    )


# ---------------------------------------------------------------- columns, sorting, filtering


# What a column sorts by: text, a number, or a tuple of them (a row without one: None).
SortValue = str | float | tuple[str | float, ...]


@dataclass(frozen=True)
class Column:
    key: str  # stable: `--sort` takes it, `--json` uses it where the column is one field
    title: str
    value: Callable[[RunRow], SortValue | None]  # what sorting compares; None sorts last
    text: Callable[[RunRow], str]  # what a table shows
    numeric: bool = False  # right-aligned in a table


# Formats the value of one RunRow field, whichever it is (a count, a loss, a time, text).
Format = Callable[[Any], str]


def _shown(fmt: Format, attr: str) -> Callable[[RunRow], str]:
    def text(row: RunRow) -> str:
        value = getattr(row, attr)
        return UNKNOWN if value is None else fmt(value)

    return text


def _column(
    key: str,
    title: str,
    fmt: Format = str,
    attr: str | None = None,
    value: Callable[[RunRow], SortValue | None] | None = None,
    numeric: bool = False,
) -> Column:
    field_name = attr or key
    sort_value = value or (lambda r: getattr(r, field_name))
    return Column(key, title, sort_value, _shown(fmt, field_name), numeric)


def _model_order(row: RunRow) -> tuple[str, int, int, int] | None:
    if row.cell is None:
        return None
    return (row.cell, row.hidden or 0, row.embed or 0, row.layers or 0)


def _batch(row: RunRow) -> tuple[int, int] | None:
    if row.batch_size is None or row.seq_len is None:
        return None
    return (row.batch_size * row.seq_len, row.batch_size)


COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        _column("name", "run"),
        Column("state", "state", lambda r: r.label, lambda r: r.label),
        _column("cell", "cell"),
        _column("model", "model", value=_model_order),
        _column("embed", "E", count, numeric=True),
        _column("hidden", "H", count, numeric=True),
        _column("layers", "layers", count, numeric=True),
        _column("params", "params", compact, numeric=True),
        _column("dropout", "dropout", lambda v: f"{v:g}", numeric=True),
        Column(
            "batch",
            "batch × window",
            _batch,
            lambda r: UNKNOWN if _batch(r) is None else f"{r.batch_size} × {r.seq_len}",
        ),  # fmt: skip
        _column("lr", "lr", lambda v: f"{v:g}", numeric=True),
        _column("schedule", "schedule"),
        _column("best_val_loss", "best val", lambda v: loss_text(v, bits=False), numeric=True),
        # Bits from nats by the one rule, so the two columns never disagree in the last digit.
        _column(
            "best_val_bits",
            "bits",
            lambda v: loss_text(v, bits=True),
            attr="best_val_loss",
            value=lambda r: r.best_val_bits,
            numeric=True,
        ),  # fmt: skip
        _column("best_epoch", "best epoch", count, numeric=True),
        _column("best_step", "best step", count, numeric=True),
        _column("epochs_done", "epochs done", count, numeric=True),
        _column("step", "steps", count, numeric=True),
        _column("chars_per_sec", "chars/s", count, numeric=True),
        _column("elapsed", "elapsed", duration, attr="elapsed_s", numeric=True),
        _column("device", "device"),
        _column("corpus", "corpus"),
        _column("created", "created", local_time),
        _column("preset", "preset"),
    )
}


def column_key(text: str) -> str:
    """A column's key from what a person typed ("best-val-loss" too); UserError if none."""
    key = text.strip().lower().replace("-", "_")
    if key not in COLUMNS:
        raise UserError(f"no column {text!r}; choose from {', '.join(COLUMNS)}")
    return key


def _sortable(value: SortValue | None) -> SortValue | None:
    return value.casefold() if isinstance(value, str) else value


def sort_rows(rows: Iterable[RunRow], key: str, descending: bool = False) -> list[RunRow]:
    """Rows by one column (stable); rows without a value come last in either direction."""
    column = COLUMNS[column_key(key)]
    rows = list(rows)
    known = [(v, r) for r in rows if (v := _sortable(column.value(r))) is not None]
    known.sort(key=lambda pair: pair[0], reverse=descending)
    return [r for _, r in known] + [r for r in rows if column.value(r) is None]


def newest_first(rows: Iterable[RunRow]) -> list[RunRow]:
    """The default order, as `list_runs` has it: newest created first."""
    return sorted(rows, key=lambda r: (r.created or "", r.name), reverse=True)


def filter_rows(rows: Iterable[RunRow], text: str) -> list[RunRow]:
    """The rows whose name, cell, corpus or state hold every word of `text` (any case)."""
    words = text.casefold().split()
    if not words:
        return list(rows)

    def haystack(r: RunRow) -> str:
        return "\n".join(x or "" for x in (r.name, r.cell, r.corpus, r.state, r.label)).casefold()

    return [r for r in rows if all(w in haystack(r) for w in words)]
