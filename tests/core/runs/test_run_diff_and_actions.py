"""Two runs compared; renaming and deleting a run, and every refusal: the bundled checkpoint, a
run being trained, a name that is no run folder, a link out of the runs folder."""

from __future__ import annotations

import os

import pytest

from shakespeare_tui.core.errors import RunLockedError, UserError
from shakespeare_tui.core.runs.actions import delete_run, folder_size, rename_run
from shakespeare_tui.core.runs.diff import NOT_SET, diff_runs, diff_settings, flatten_config
from shakespeare_tui.core.runs.lock import RunLock
from shakespeare_tui.core.runs.table import read_row
from tests.core.run_folders import evaluation, finish, locked_by_another_process, make_run, step


@pytest.fixture
def runs(tmp_path):
    runs = tmp_path / "runs"
    make_run(runs, "small", records=[step(10), evaluation(10, 2.0), finish("completed", 10)])
    make_run(runs, "big", hidden=64, lr=0.002, cell="gru", max_steps=500,
             records=[step(10, speed=500.0), evaluation(10, 1.5)])  # fmt: skip
    return runs


# ---------------------------------------------------------------- diff


def test_the_settings_that_differ_and_the_best_figures_side_by_side(runs):
    diff = diff_runs(read_row(runs / "small"), read_row(runs / "big"))
    settings = {d.key: d.texts for d in diff.settings}
    assert settings == {
        "lr": ("0.01", "0.002"),
        "max_steps": ("no limit", "500"),
        "model.cell": ("lstm", "gru"),
        "model.hidden": ("32", "64"),
    }
    figures = {title: (a, b) for title, a, b in diff.figures}
    assert figures["state"] == ("finished", "interrupted")
    assert figures["best val"] == ("2.0000", "1.5000") and figures["chars/s"] == ("1,000", "500")
    assert diff.better.name == "big"


def test_flattening_and_settings_only_one_run_has():
    config = {"train": {"lr": 0.01, "model": {"hidden": 8}, "preset_reason": "no GPU"},
              "corpus": {"name": "plays", "chars": 9}, "device": "CPU", "created": "x"}  # fmt: skip
    assert flatten_config(config) == {
        "lr": 0.01, "model.hidden": 8, "corpus.name": "plays", "corpus.chars": 9, "ran_on": "CPU"}  # fmt: skip
    older = {"train": {"lr": 0.01, "model": {"hidden": 8}}}
    (only,) = [d for d in diff_settings(config, older) if d.key == "corpus.name"]
    assert only.b is NOT_SET and only.texts == ("plays", "(not set)")
    assert diff_settings({"train": {"lr": 1}}, {"train": {"lr": 1.0}}) == []  # the same number
    assert [d.key for d in diff_settings({"train": {"bf16": True}}, {"train": {"bf16": 1}})] == [
        "bf16"]  # fmt: skip


# ---------------------------------------------------------------- rename


def test_rename_moves_the_folder_and_leaves_no_lock(runs):
    target = rename_run(runs, "small", "small-lstm")
    assert target == runs / "small-lstm" and (target / "metrics.jsonl").is_file()
    assert not (runs / "small").exists() and not (target / ".lock").exists()
    assert read_row(target).best_val_loss == 2.0


@pytest.mark.parametrize(
    "old, new, words",
    [
        ("small", "big", "a run named big exists already"),
        ("small", "small", "is called small already"),
        ("small", "../escape", "run name '../escape' must be"),
        ("small", "bundled", "bundled names the pretrained checkpoint"),
        ("bundled", "mine", "cannot be renamed"),
        ("ghost", "mine", "no run named 'ghost'"),
    ],
)
def test_rename_refusals(runs, old, new, words):
    with pytest.raises(UserError, match=words.replace("(", r"\(").replace(".", r"\.")):
        rename_run(runs, old, new)
    assert (runs / "small").is_dir() and (runs / "big").is_dir()


def test_a_run_being_trained_is_neither_renamed_nor_deleted(runs):
    with locked_by_another_process(runs / "big") as pid:
        for action in (lambda: rename_run(runs, "big", "x"), lambda: delete_run(runs, "big")):
            with pytest.raises(RunLockedError, match=f"another process \\(pid {pid}\\); stop it"):
                action()
    with RunLock(runs / "small"):  # trained by this program (the app)
        with pytest.raises(RunLockedError, match="trained by this program"):
            delete_run(runs, "small")
    assert (runs / "big" / "config.json").is_file() and (runs / "small" / "config.json").is_file()


# ---------------------------------------------------------------- delete


def test_delete_removes_only_that_folder(runs, tmp_path):
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    os.symlink(outside, runs / "small" / "link-out")  # a link inside: removed, not followed
    assert folder_size(runs / "small")[0] == 3  # config, metrics, the link
    delete_run(runs, "small")
    assert not (runs / "small").exists() and (runs / "big").is_dir()
    assert (outside / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in runs.iterdir()) == ["big"]  # no hidden leftover


def test_delete_refuses_links_and_names_outside_the_runs_folder(runs, tmp_path):
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "config.json").write_text("{}")
    os.symlink(outside, runs / "linked")
    with pytest.raises(UserError, match="is a link, not a run folder"):
        delete_run(runs, "linked")
    for name in ("..", "../precious", "/tmp", ".hidden"):
        with pytest.raises(UserError, match="must be 1–80 letters"):
            delete_run(runs, name)
    with pytest.raises(UserError, match="cannot be deleted"):
        delete_run(runs, "bundled")
    with pytest.raises(UserError, match="no run named"):
        delete_run(runs, "ghost")
    assert (outside / "config.json").is_file()
