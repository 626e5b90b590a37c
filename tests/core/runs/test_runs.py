"""Run folders: finding checkpoints by run name, listing runs, and the lock that keeps two
trainers out of one run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from shakespeare_tui.core.errors import RunLockedError, UserError
from shakespeare_tui.core.runs.catalog import RunCatalog
from shakespeare_tui.core.runs.folders import (
    BUNDLED,
    CHECKPOINT_FILES,
    LAST,
    bundled_checkpoint,
    resolve_checkpoint,
)
from shakespeare_tui.core.runs.history import read_run_history
from shakespeare_tui.core.runs.lock import RunLock
from shakespeare_tui.core.runs.summary import list_runs, run_info


@pytest.fixture
def home(trained_run, tmp_path):
    """A copy of the trained run's data dir, safe to change."""
    from shakespeare_tui.core.paths import Paths

    paths, finished, _ = trained_run
    copy = Paths.resolve(tmp_path / "home")
    shutil.copytree(paths.data, copy.data)
    return copy


# ---------------------------------------------------------------- resolve_checkpoint


BEST_FILE, LAST_FILE = CHECKPOINT_FILES["best"], CHECKPOINT_FILES[LAST]


def test_a_run_name_resolves_to_its_best_or_last_checkpoint(home, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    run = home.runs / "trained"
    assert resolve_checkpoint("trained", home) == run / BEST_FILE
    assert resolve_checkpoint("trained", home, prefer="last") == run / LAST_FILE
    assert resolve_checkpoint(str(run), home) == run / BEST_FILE  # a folder path
    assert resolve_checkpoint(str(run / LAST_FILE), home) == run / LAST_FILE  # a file path
    (run / BEST_FILE).unlink()
    assert resolve_checkpoint("trained", home) == run / LAST_FILE  # falls back


def test_unknown_or_empty_runs_are_refused(home, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match="shakespeare-tui runs"):
        resolve_checkpoint("ghost", home)
    (home.runs / "empty").mkdir()
    with pytest.raises(UserError, match="no checkpoint yet"):
        resolve_checkpoint("empty", home)


def test_the_bundled_checkpoint(home):
    from shakespeare_tui.core.model.checkpoint import read_info

    if not bundled_checkpoint().is_file():
        with pytest.raises(UserError, match="reinstall"):
            resolve_checkpoint(BUNDLED, home)
        return
    assert resolve_checkpoint(BUNDLED, home) == bundled_checkpoint()
    info = read_info(bundled_checkpoint())
    assert info.ok, info.error
    assert not info.resumable


# ---------------------------------------------------------------- listing


def test_run_info_and_list_runs(home, trained_run):
    _, finished, _ = trained_run
    (home.runs / "half-made").mkdir()  # no config.json yet: skipped
    (home.runs / "junk.txt").write_text("not a run")
    runs = list_runs(home)
    assert [r.name for r in runs] == ["trained"]
    info = runs[0]
    assert info.model == "LSTM E16/H32" and info.preset == "tiny"
    assert info.epochs_done == 3
    assert info.best_val_loss == pytest.approx(finished.best_val_loss)
    assert (
        info.best == home.runs / "trained" / BEST_FILE
        and info.last == home.runs / "trained" / LAST_FILE
    )
    assert not info.training
    assert info.corpus.endswith("sonnets.txt")


@pytest.mark.parametrize("reason", [[1], {"a": 1}, 5, None])
def test_a_finish_record_whose_reason_is_not_text_reads_as_no_finish(home, reason):
    """A run's history never raises, whatever its file holds (a reason of another kind is
    one no run ended by: the run reads as interrupted, as one with no finish record does)."""
    folder = home.runs / "trained"
    with open(folder / "metrics.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"kind": "finish", "reason": reason, "message": "x"}) + "\n")
    history = read_run_history(folder)
    assert history.state == "interrupted" and history.epochs_done == 3
    catalog = RunCatalog(home.runs)
    catalog.refresh()
    assert catalog.row("trained").state == "interrupted"  # its row, not "unreadable"


def test_list_runs_newest_first_and_partial_epochs_not_counted(home):
    source = home.runs / "trained"
    newer = home.runs / "newer"
    shutil.copytree(source, newer)
    config = json.loads((newer / "config.json").read_text())
    config["created"] = "2999-01-01T00:00:00+00:00"
    (newer / "config.json").write_text(json.dumps(config))
    with open(newer / "metrics.jsonl", "a") as f:
        f.write(json.dumps({"kind": "epoch", "epoch": 4, "val_loss": 0.5, "partial": True}) + "\n")
    runs = list_runs(home)
    assert [r.name for r in runs] == ["newer", "trained"]
    assert runs[0].epochs_done == 3 and runs[0].best_val_loss == 0.5


def test_list_runs_without_a_runs_folder(tmp_path):
    from shakespeare_tui.core.paths import Paths

    assert list_runs(Paths.resolve(tmp_path / "nothing")) == []
    assert run_info(tmp_path) is None


# ---------------------------------------------------------------- the lock


def test_lock_is_exclusive_within_one_process(tmp_path):
    first = RunLock(tmp_path).acquire()
    assert (tmp_path / ".lock").read_text() == str(os.getpid())
    with pytest.raises(RunLockedError, match="this program"):
        RunLock(tmp_path).acquire(wait_s=0.05)
    assert first.held and (tmp_path / ".lock").exists()
    first.release()
    assert not (tmp_path / ".lock").exists()
    with RunLock(tmp_path):
        assert (tmp_path / ".lock").exists()
    assert not (tmp_path / ".lock").exists()


def test_a_second_trainer_in_the_process_waits_for_the_first(tmp_path):
    """The app restarting training: the stopping run lets go within a step, then it's taken."""
    first = RunLock(tmp_path).acquire()
    threading.Timer(0.2, first.release).start()
    t0 = time.monotonic()
    second = RunLock(tmp_path).acquire(wait_s=10)
    assert 0.1 < time.monotonic() - t0 < 5
    assert second.held and (tmp_path / ".lock").read_text() == str(os.getpid())
    first.release()  # a second release is harmless and leaves the new holder's lock alone
    assert (tmp_path / ".lock").exists()
    second.release()
    assert not (tmp_path / ".lock").exists()


def test_lock_of_another_live_process_is_refused_and_a_dead_ones_taken_over(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / ".lock").write_text(str(holder.pid))
        with pytest.raises(RunLockedError, match=str(holder.pid)):
            RunLock(tmp_path).acquire()
        config = {"train": {"model": {"cell": "lstm"}}, "created": "x"}
        (tmp_path / "config.json").write_text(json.dumps(config))
        assert run_info(tmp_path).training
    finally:
        holder.kill()
        holder.wait()
    assert not run_info(tmp_path).training
    with RunLock(tmp_path):
        assert (tmp_path / ".lock").read_text() == str(os.getpid())


def test_a_garbled_lock_file_is_taken_over(tmp_path):
    (tmp_path / ".lock").write_text("not a pid")
    with RunLock(tmp_path):
        assert (tmp_path / ".lock").read_text() == str(os.getpid())
    assert not Path(tmp_path / ".lock").exists()


def test_a_checkpoint_is_described_by_its_step():
    """The picker said "epoch 0" beside the trainer's "epoch 1" for a run in its first epoch."""
    from shakespeare_tui.core.model.checkpoint import CheckpointInfo
    from shakespeare_tui.core.runs.checkpoints import CheckpointEntry

    def details(epoch, step):
        info = CheckpointInfo("x.pt", True, val_loss=2.5, epoch=epoch, step=step,
                              model_summary="LSTM E16/H32")  # fmt: skip
        return CheckpointEntry(key="x.pt", path="x.pt", title="x", info=info).details

    assert details(0, 300) == "val 2.5000 · step 300 · LSTM E16/H32"
    assert details(2, 8_406) == "val 2.5000 · step 8,406 · LSTM E16/H32"


def test_a_resume_trim_keeps_every_line_it_does_not_understand(tmp_path):
    """A malformed line in the middle of metrics.jsonl (a missing colon), a value of another
    kind, a torn last line: the trim drops only the records past the checkpoint's step and keeps
    the rest as they were (it once rewrote the file without them)."""
    from shakespeare_tui.core.runs.folders import RunFolder

    lines = [
        '{"kind": "step", "step": 5}',
        '{"kind": "epoch", "step" 10, "val_loss": 2.0}',  # malformed: kept
        '{"kind": "step", "step": "ten"}',  # a step that is not a number: kept
        '{"kind": "step", "step": 10}',
        '{"kind": "step", "step": 15}',  # past the checkpoint: dropped
        '{"kind": "step", "st',  # torn by a kill: kept, on a line of its own
    ]
    (tmp_path / "metrics.jsonl").write_text("\n".join(lines))
    records = RunFolder(tmp_path, lambda *a: None).trim_metrics(10)
    assert [r["step"] for r in records] == [5, 10]
    kept = (tmp_path / "metrics.jsonl").read_text()
    assert kept == "\n".join(lines[:4] + lines[5:]) + "\n"


def test_a_trim_with_nothing_to_drop_leaves_the_file_untouched(tmp_path):
    from shakespeare_tui.core.runs.folders import RunFolder

    path = tmp_path / "metrics.jsonl"
    path.write_text('{"kind": "step", "step": 5}\nnot json\n')
    before = path.stat().st_mtime_ns, path.stat().st_ino
    RunFolder(tmp_path, lambda *a: None).trim_metrics(10)
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == before
