"""The runs table: one row per run folder written by hand, its states, sorting, filtering, and a
catalog that refreshes cheaply and survives folders that change under it."""

from __future__ import annotations

import json
import math
import shutil

import pytest

from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.runs import catalog as catalog_module
from shakespeare_tui.core.runs.catalog import RunCatalog
from shakespeare_tui.core.runs.lock import RunLock
from shakespeare_tui.core.runs.table import (
    COLUMNS,
    UNREADABLE,
    RunRow,
    column_key,
    filter_rows,
    read_row,
    sort_rows,
)
from tests.core.run_folders import evaluation, finish, locked_by_another_process, make_run, step


@pytest.fixture
def runs(tmp_path):
    runs = tmp_path / "runs"
    make_run(runs, "done", created="2026-11-28T10:00:00+00:00", records=[
        evaluation(0, 4.0, "initial", 0), step(10, speed=900.0), evaluation(35, 2.0, "epoch", 1),
        step(40, speed=1200.0), evaluation(70, 2.2, "epoch", 2), finish("completed", 70)])  # fmt: skip
    make_run(runs, "gru-early", cell="gru", hidden=64, corpus="tinyshakespeare",
             created="2026-11-28T11:00:00+00:00",
             records=[evaluation(0, 4.0, "initial", 0), step(10), evaluation(10, 1.5),
                      finish("early-stopped", 10)])  # fmt: skip
    make_run(runs, "Killed", created="2026-11-28T12:00:00+00:00",
             records=[evaluation(0, 4.0, "initial", 0), step(10)])  # fmt: skip
    make_run(runs, "fresh", created="2026-11-28T13:00:00+00:00")
    (runs / "half").mkdir()  # no config.json (yet)
    return runs


def rows_by_name(catalog) -> dict[str, RunRow]:
    return {r.name: r for r in catalog.rows}


def test_a_row_per_run_with_its_figures(runs):
    catalog = RunCatalog(runs)
    assert catalog.refresh()
    rows = rows_by_name(catalog)
    assert [r.name for r in catalog.rows] == ["fresh", "Killed", "gru-early", "done", "half"]
    done = rows["done"]
    assert (done.state, done.label) == ("completed", "finished")
    assert (done.cell, done.embed, done.hidden, done.layers, done.params) == (
        "lstm",
        16,
        32,
        1,
        8948,
    )
    assert (done.batch_size, done.seq_len, done.lr, done.schedule) == (16, 32, 0.01, "constant")
    assert (done.best_val_loss, done.best_epoch, done.best_step) == (2.0, 1, 35)
    assert done.best_val_bits == pytest.approx(2.0 / math.log(2))
    assert (done.chars_per_sec, done.elapsed_s, done.step, done.epochs_done) == (1200.0, 7.0, 70, 2)
    assert (done.device, done.corpus, done.model) == ("CPU · 1 thread", "plays", "LSTM E16/H32")
    assert rows["gru-early"].label == "early-stopped" and rows["gru-early"].cell == "gru"
    assert rows["Killed"].state == "interrupted" and rows["fresh"].state == "new"
    assert rows["half"].state == "half-written" and rows["half"].cell is None


def test_a_run_locked_by_another_process_or_by_this_one_is_training(runs):
    catalog = RunCatalog(runs)
    catalog.refresh()
    with locked_by_another_process(runs / "Killed"):
        assert catalog.refresh()  # the state changed alone
        row = catalog.row("Killed")
        assert row.training and row.label == "training" and not row.training_here
        assert "another process" in row.state_text
    assert catalog.refresh() and catalog.row("Killed").state == "interrupted"
    with RunLock(runs / "done"):
        catalog.refresh()
        assert catalog.row("done").training and catalog.row("done").training_here
    catalog.refresh()
    assert catalog.row("done").state == "completed"


def test_column_texts(runs):
    done = read_row(runs / "done")
    texts = {key: column.text(done) for key, column in COLUMNS.items()}
    assert texts["best_val_loss"] == "2.0000" and texts["best_val_bits"] == "2.8854"
    assert texts["batch"] == "16 × 32" and texts["chars_per_sec"] == "1,200"
    assert texts["elapsed"] == "0:07" and texts["state"] == "finished"
    assert COLUMNS["best_step"].text(read_row(runs / "fresh")) == "—"


def test_sorting_puts_runs_without_a_value_last_either_way(runs):
    catalog = RunCatalog(runs)
    catalog.refresh()
    up = [r.name for r in sort_rows(catalog.rows, "best_val_loss")]
    down = [r.name for r in sort_rows(catalog.rows, "best-val-loss", descending=True)]
    assert up[:2] == ["gru-early", "done"] and down[:2] == ["done", "gru-early"]
    assert set(up[2:]) == set(down[2:]) == {"fresh", "Killed", "half"}
    assert up[2:] == down[2:]  # the runs without one keep their order
    assert [r.name for r in sort_rows(catalog.rows, "name")] == [
        "done", "fresh", "gru-early", "half", "Killed"]  # any case  # fmt: skip
    assert [r.name for r in sort_rows(catalog.rows, "chars_per_sec", True)][0] == "done"
    for key in COLUMNS:  # every column sorts rows of every kind
        assert len(sort_rows(catalog.rows, key)) == 5


def test_a_bad_column_is_refused_with_the_choices():
    with pytest.raises(UserError, match="no column 'speed'; choose from name, state"):
        column_key("speed")


def test_filtering_by_typed_text(runs):
    catalog = RunCatalog(runs)
    catalog.refresh()

    def names(text):
        return sorted(r.name for r in filter_rows(catalog.rows, text))

    assert names("GRU") == ["gru-early"]  # the cell (and the name), any case
    assert names("tinyshake") == ["gru-early"]  # the corpus
    assert names("finished") == ["done"] and names("interrupted") == ["Killed"]
    assert names("lstm plays") == ["Killed", "done", "fresh"]  # every word
    assert names("kill") == ["Killed"] and names("") == sorted(r.name for r in catalog.rows)


def test_a_refresh_reads_only_what_changed(runs):
    catalog = RunCatalog(runs)
    catalog.refresh()
    assert not catalog.refresh()  # nothing new
    with open(runs / "Killed" / "metrics.jsonl", "a") as f:
        f.write(json.dumps(evaluation(20, 1.9)) + "\n" + json.dumps(step(30, speed=700.0)))
    assert catalog.refresh()  # the torn step record is not read yet
    row = catalog.row("Killed")
    assert (row.best_val_loss, row.step, row.chars_per_sec) == (1.9, 20, 1000.0)
    assert not catalog.refresh()


def test_folders_that_appear_go_or_are_renamed(runs):
    catalog = RunCatalog(runs)
    catalog.refresh()
    shutil.rmtree(runs / "done")
    (runs / "Killed").rename(runs / "renamed")
    (runs / "half" / "config.json").write_text("{half a config")
    make_run(runs, "new-one")
    (runs / ".deleting-x").mkdir()  # a deletion in progress: never a run
    assert catalog.refresh()
    rows = rows_by_name(catalog)
    assert "done" not in rows and "Killed" not in rows and ".deleting-x" not in rows
    assert rows["renamed"].state == "interrupted" and rows["new-one"].state == "new"
    assert rows["half"].state == "half-written"
    shutil.rmtree(runs)
    assert catalog.refresh() and catalog.rows == ()


def test_series_for_the_chart_with_characters_seen(runs):
    catalog = RunCatalog(runs)
    catalog.refresh()
    series = catalog.series("done")
    assert list(series.steps) == [10, 40] and list(series.val_loss) == [4.0, 2.0, 2.2]
    assert series.chars_seen(series.steps) == [10 * 16 * 32, 40 * 16 * 32]
    assert catalog.series("ghost") is None


def test_json_has_plain_values():
    row = RunRow(name="x", state="new", state_text="", best_val_loss=float("nan"))
    data = row.to_json()
    assert data["best_val_loss"] is None and data["best_val_bits"] is None
    assert "config" not in data and json.dumps(data, allow_nan=False)


def test_a_cache_lets_the_next_catalog_read_only_what_was_appended(runs, tmp_path):
    cache = tmp_path / "cache" / "run-table.json"
    first = RunCatalog(runs, cache)
    first.SAVE_AFTER_BYTES = 1  # these files are tiny
    first.refresh()
    assert cache.is_file()
    grown = json.dumps(evaluation(20, 1.7)) + "\n"
    with open(runs / "Killed" / "metrics.jsonl", "a") as f:
        f.write(grown)
    rewritten = runs / "done" / "metrics.jsonl"  # a resume trims it: a new file
    records = rewritten.read_text().splitlines(keepends=True)[:3]
    rewritten.unlink()
    rewritten.write_text("".join(records))
    second = RunCatalog(runs, cache)
    second.refresh()
    assert second.tail("Killed").bytes_read == len(grown)  # read on from where the first stood
    assert second.row("Killed").best_val_loss == 1.7
    assert second.tail("fresh").bytes_read == 0
    assert second.row("done").best_val_loss == 2.0 and second.row("done").step == 35
    assert second.row("done").state == "interrupted"  # its finish record was trimmed
    fresh_eyes = RunCatalog(runs)
    fresh_eyes.refresh()
    assert [r.to_json() for r in second.rows] == [r.to_json() for r in fresh_eyes.rows]


def test_a_broken_cache_is_ignored(runs, tmp_path):
    cache = tmp_path / "run-table.json"
    cache.write_text('{"version": 1, "runs": {"x": 3, "%s": {"offset": "?"}}}' % (runs / "done"))
    catalog = RunCatalog(runs, cache)
    catalog.refresh()
    assert catalog.row("done").best_val_loss == 2.0


def test_a_refresh_with_a_time_budget_leaves_the_rest_for_the_next(runs, monkeypatch, tmp_path):
    """A first look at many long runs shows what it read within its budget (one run at
    least), then the rest, each read on from where the cache says; a save meanwhile keeps the
    cache's word on the runs not read yet."""
    cache = tmp_path / "cache.json"
    first_look = RunCatalog(runs, cache)
    first_look.refresh()
    first_look.save()
    catalog = RunCatalog(runs, cache)
    catalog.refresh(budget_s=0)  # the clock ran out as the first run was read
    assert len(catalog.rows) == 1 and catalog.pending == 4
    first = catalog.rows[0].name
    catalog.save()
    assert len(json.loads(cache.read_text())["runs"]) == 3  # done, gru-early, Killed: records
    restored = []
    real = catalog_module.MetricsTail.restore

    def restore(tail, state):
        restored.append(tail.run_dir.name)
        real(tail, state)

    monkeypatch.setattr(catalog_module.MetricsTail, "restore", restore)
    while catalog.pending:
        catalog.refresh(budget_s=0)
    assert set(restored) == {"done", "gru-early", "Killed"} - {first}
    assert rows_by_name(catalog) == rows_by_name(first_look)


def test_one_unreadable_entry_is_one_row_and_the_others_are_listed(runs):
    """A symlink loop in the runs folder (`ln -s loopy runs/loopy`) and a config.json nested
    thousands deep once hid every run; now each is one row marked unreadable."""
    (runs / "loopy").symlink_to("loopy")
    (runs / "deep").mkdir()
    (runs / "deep" / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    catalog = RunCatalog(runs)
    catalog.refresh()
    rows = rows_by_name(catalog)
    assert {"done", "gru-early", "Killed", "fresh", "half"} <= set(rows)
    assert rows["loopy"].state == UNREADABLE and "symbolic links" in rows["loopy"].state_text
    assert rows["deep"].state in (UNREADABLE, "half-written")


def test_a_run_whose_files_break_the_reader_is_one_unreadable_row(runs, monkeypatch):
    def broken(*args, **kwargs):
        raise OverflowError("cannot convert float infinity to integer")

    monkeypatch.setattr(catalog_module, "build_row", broken)
    catalog = RunCatalog(runs)
    catalog.refresh()
    rows = rows_by_name(catalog)
    assert rows and {r.state for r in rows.values()} == {UNREADABLE}
    assert "infinity" in rows["done"].state_text
