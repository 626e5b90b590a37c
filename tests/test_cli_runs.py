"""`shakespeare-tui runs`: the table and its JSON, sorting, `runs diff`, `runs rm` and `runs mv`,
with their refusals in one line (exit 2) and a failing disk (exit 1). Run folders are written by
hand; no training."""

from __future__ import annotations

import errno
import io
import json
import os

import pytest

from shakespeare_tui.cli import EXIT_FAILURE, EXIT_OK
from shakespeare_tui.core.runs.folders import bundled_checkpoint
from tests.cli_support import assert_one_line_error, cli
from tests.core.run_folders import evaluation, finish, locked_by_another_process, make_run, step

HAS_BUNDLED = bundled_checkpoint().is_file()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")


@pytest.fixture
def home(tmp_path):
    runs = tmp_path / "runs"
    make_run(runs, "small", created="2026-11-28T10:00:00+00:00",
             records=[step(10, speed=900.0), evaluation(35, 2.0, "epoch", 1),
                      finish("completed", 35)])  # fmt: skip
    make_run(runs, "big", hidden=64, lr=0.002, cell="gru", created="2026-11-28T11:00:00+00:00",
             records=[step(10, speed=500.0), evaluation(10, 1.5)])  # fmt: skip
    make_run(runs, "new", created="2026-11-28T12:00:00+00:00")
    return tmp_path


def runs(capsys, home, *args):
    return cli(capsys, "runs", *args, "--data-dir", home)


def test_the_table_has_a_state_column_and_the_bundled_row(capsys, home):
    code, out, err = runs(capsys, home)
    assert code == EXIT_OK, err
    lines = out.splitlines()
    assert lines[0].split()[:7] == ["run", "corpus", "model", "epochs", "done", "state", "params"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert "finished" in rows["small"] and "2.0000" in rows["small"] and "900" in rows["small"]
    assert "interrupted" in rows["big"] and "GRU E16/H64" in rows["big"]
    assert "new" in rows["new"]
    assert ("bundled" in rows) == HAS_BUNDLED
    names = [line.split()[0] for line in lines[1:]]
    assert names[-3:] == ["new", "big", "small"]  # newest first, after the bundled row


def test_json_is_a_list_of_objects_with_the_figures(capsys, home):
    code, out, err = runs(capsys, home, "--json")
    assert code == EXIT_OK, err
    data = json.loads(out)
    assert isinstance(data, list) and all(isinstance(o, dict) for o in data)
    by_name = {o["name"]: o for o in data}
    for o in data:
        assert {"name", "state", "cell", "params", "best_val_loss", "best_epoch",
                "chars_per_sec"} <= o.keys()  # fmt: skip
    small = by_name["small"]
    assert (small["state"], small["cell"], small["params"]) == ("completed", "lstm", 8948)
    assert (small["best_val_loss"], small["best_epoch"], small["chars_per_sec"]) == (2.0, 1, 900.0)
    assert by_name["new"]["best_val_loss"] is None and by_name["big"]["state"] == "interrupted"
    if HAS_BUNDLED:
        assert by_name["bundled"]["state"] == "bundled"


def test_sort_by_a_column_either_way_with_unknowns_last(capsys, home):
    def names(*args):
        code, out, err = runs(capsys, home, "--json", *args)
        assert code == EXIT_OK, err
        return [o["name"] for o in json.loads(out) if o["name"] != "bundled"]

    assert names("--sort", "best_val_loss") == ["big", "small", "new"]
    assert names("--sort", "best-val-loss", "--reverse") == ["small", "big", "new"]
    assert names("--sort", "name") == ["big", "new", "small"]


def test_a_bad_column_is_one_line_naming_the_choices(capsys, home):
    code, _, err = runs(capsys, home, "--sort", "speed")
    assert_one_line_error(code, err, "--sort", "no column 'speed'", "chars_per_sec")


def test_diff_shows_the_settings_that_differ_and_the_best_figures(capsys, home):
    code, out, err = runs(capsys, home, "diff", "small", "big")
    assert code == EXIT_OK, err
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    assert rows["setting"] == ["small", "big"]
    assert rows["lr"] == ["0.01", "0.002"] and rows["model.hidden"] == ["32", "64"]
    assert rows["model.cell"] == ["lstm", "gru"] and "seed" not in rows  # the same in both
    assert rows["state"] == ["finished", "interrupted"]
    assert out.splitlines()[-1] == "big is better by 0.5000 nats/char"


@pytest.mark.parametrize(
    "args, words",
    [
        (["diff", "small", "ghost"], ["no run named 'ghost'"]),
        (["diff", "small", "small"], ["small was given twice"]),
        (["diff", "small", "../x"], ["run name '../x' must be"]),
        (["diff", "small"], ["RUN_B"]),
        (["mv", "small", "big"], ["a run named big exists already"]),
        (["mv", "small", "no/slash"], ["must be 1–80 letters"]),
        (["mv", "bundled", "mine"], ["cannot be renamed"]),
        (["rm", "ghost", "--yes"], ["no run named 'ghost'"]),
        (["rm", "bundled", "--yes"], ["cannot be deleted"]),
        (["rm", "small", "--force"], ["--force"]),
    ],
)
def test_bad_names_are_one_line_and_exit_2(capsys, home, args, words):
    code, out, err = runs(capsys, home, *args)
    assert_one_line_error(code, err, *words)
    assert out == ""
    assert sorted(os.listdir(home / "runs")) == ["big", "new", "small"]


def test_mv_renames(capsys, home):
    code, out, err = runs(capsys, home, "mv", "small", "small-lstm")
    assert code == EXIT_OK, err
    assert out.startswith("renamed run small to small-lstm")
    assert sorted(os.listdir(home / "runs")) == ["big", "new", "small-lstm"]


def test_rm_without_a_terminal_needs_yes(capsys, home, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # piped: not a terminal
    code, _, err = runs(capsys, home, "rm", "small")
    assert_one_line_error(code, err, "not deleting run small", "pass --yes")
    assert (home / "runs" / "small").is_dir()
    code, out, err = runs(capsys, home, "rm", "small", "--yes")
    assert code == EXIT_OK, err
    assert out.startswith("deleted run small (2 files") and not (home / "runs" / "small").exists()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("answer, deleted", [("y\n", True), ("yes\n", True), ("n\n", False),
                                             ("\n", False), ("", False)])  # fmt: skip
def test_rm_on_a_terminal_asks_first(capsys, home, monkeypatch, answer, deleted):
    monkeypatch.setattr("sys.stdin", Terminal(answer))
    code, out, err = runs(capsys, home, "rm", "big")
    assert code == EXIT_OK, err
    assert err.startswith("delete run big (2 files") and err.rstrip().endswith("[y/N]")
    assert (home / "runs" / "big").exists() != deleted
    assert out.startswith("deleted run big" if deleted else "kept run big")


def test_a_run_being_trained_is_not_deleted_nor_asked_about(capsys, home, monkeypatch):
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    with locked_by_another_process(home / "runs" / "big") as pid:
        for args in (["rm", "big"], ["rm", "big", "--yes"], ["mv", "big", "other"]):
            code, _, err = runs(capsys, home, *args)
            assert_one_line_error(code, err, f"being trained by another process (pid {pid})")
            assert "[y/N]" not in err
        code, out, _ = runs(capsys, home, "--json")
        assert {o["name"]: o["state"] for o in json.loads(out)}["big"] == "training"
    assert (home / "runs" / "big" / "config.json").is_file()


def test_a_disk_that_refuses_is_a_runtime_failure(capsys, home, monkeypatch):
    def refuse(*_):
        raise OSError(errno.EACCES, "Permission denied")

    monkeypatch.setattr("shakespeare_tui.core.runs.actions.os.rename", refuse)
    code, _, err = runs(capsys, home, "rm", "small", "--yes")
    assert code == EXIT_FAILURE and err.splitlines() == [
        "shakespeare-tui: cannot delete run small: Permission denied"]  # fmt: skip
    assert (home / "runs" / "small" / "config.json").is_file()
