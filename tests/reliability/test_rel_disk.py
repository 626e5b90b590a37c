"""Disk trouble: a checkpoint write that fails (disk full, I/O error) and a data dir that cannot exist.

A failed save must emit one CheckpointFailed per failed file with a clear message, leave the
previous checkpoint byte for byte, leave no temp file, and let training carry on.
"""

from __future__ import annotations

import errno
import os
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from rel_support import TINY, make_text

from shakespeare_tui.core.config import TrainConfig, apply_preset
from shakespeare_tui.core.events import CheckpointFailed, CheckpointSaved
from shakespeare_tui.core.model.checkpoint import load_checkpoint
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.training.engine import train


def tiny(corpus: Path, **overrides) -> TrainConfig:
    config = apply_preset(TrainConfig(corpus=str(corpus), device="cpu"), "tiny")
    settings = {"threads": 1, "epochs": 3, "patience": 100, "log_every": 5, "sample_length": 20}
    return replace(config, **{**settings, **overrides})


@pytest.fixture
def corpus(tmp_path) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text(make_text(12_000))
    return path


def _disk_full(monkeypatch, how: str, armed: dict) -> None:
    """While armed["on"], checkpoint writes fail the way `how` says."""
    if how == "rename":
        real = os.replace

        def replace_(src, dst, *a, **k):
            if armed["on"] and str(dst).endswith(".pt"):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real(src, dst, *a, **k)

        monkeypatch.setattr(os, "replace", replace_)
    elif how == "write":
        real = torch.save

        def save(obj, f, *a, **k):
            if armed["on"] and hasattr(f, "write"):
                f.write(b"PK\x03\x04 half a checkpoint")  # then the disk fills up
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real(obj, f, *a, **k)

        monkeypatch.setattr(torch, "save", save)
    else:  # fsync reports an I/O error
        real = os.fsync

        def fsync(fd):
            if armed["on"] and os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith(
                (".best.pt", ".last.pt")
            ):
                raise OSError(errno.EIO, os.strerror(errno.EIO))
            return real(fd)

        monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.parametrize("how", ["rename", "write", "fsync"])
def test_a_failed_checkpoint_write_keeps_the_previous_one(how, tmp_path, corpus, monkeypatch):
    armed = {"on": False}
    _disk_full(monkeypatch, how, armed)
    snapshots: dict[str, bytes] = {}
    failures: list[CheckpointFailed] = []
    intact: list[bool] = []

    def on_event(event):
        if isinstance(event, CheckpointSaved):
            snapshots[event.path] = Path(event.path).read_bytes()
            if event.kind == "last" and event.epoch == 1:
                armed["on"] = True  # epoch 2's saves fail; epoch 3's work again
        elif isinstance(event, CheckpointFailed):
            failures.append(event)
            intact.append(Path(event.path).read_bytes() == snapshots.get(event.path))
            if Path(event.path).name == "last.pt":
                armed["on"] = False

    finished = train(
        tiny(corpus), Paths.resolve(tmp_path / "home"), on_event=on_event, run_name="r"
    )
    assert finished.reason == "completed", finished.message
    run = tmp_path / "home" / "runs" / "r"
    failed_names = [Path(f.path).name for f in failures]
    assert "last.pt" in failed_names and len(failures) == len(set(failed_names)) <= 2
    reason = {"rename": "No space left", "write": "No space left", "fsync": "Input/output error"}
    for failure in failures:
        assert "\n" not in failure.message
        assert failure.message.startswith(f"could not save {Path(failure.path).name}")
        assert reason[how] in failure.message
    assert all(intact), "a failed save changed the previous checkpoint"
    assert not list(run.glob(".*.tmp")), "a failed save left its temp file"
    assert load_checkpoint(run / "last.pt").payload["progress"]["epoch"] == 3


def test_the_cli_reports_a_failed_save_and_carries_on(tmp_path, corpus, monkeypatch, cli):
    armed = {"on": True}
    _disk_full(monkeypatch, "rename", armed)
    home = tmp_path / "home"
    result = cli(
        "--data-dir",
        home,
        "train",
        "--corpus",
        corpus,
        *TINY,
        "--name",
        "r",
        "--epochs",
        "2",
        "--quiet",
    )
    assert result.code == 0, result
    text = " ".join(result.out.split())
    assert text.count("could not save last.pt: No space left on device") == 2, result.out
    assert "Traceback" not in result.out + result.err
    assert not (home / "runs" / "r" / "last.pt").exists()


def test_a_read_only_run_folder(tmp_path, corpus):
    if os.geteuid() == 0:
        pytest.skip("root writes through chmod; the monkeypatched failures above cover this")
    home = tmp_path / "home"
    failures = []

    def on_event(event):
        if isinstance(event, CheckpointSaved) and event.kind == "last":
            Path(event.path).parent.chmod(0o555)
        elif isinstance(event, CheckpointFailed):
            failures.append(event)

    try:
        finished = train(
            tiny(corpus, epochs=2), Paths.resolve(home), on_event=on_event, run_name="r"
        )
    finally:
        (home / "runs" / "r").chmod(0o755)
    assert finished.reason == "completed"
    assert failures and all("could not save" in f.message for f in failures)
    assert load_checkpoint(home / "runs" / "r" / "last.pt").payload["progress"]["epoch"] == 1


@pytest.mark.parametrize("where", ["proc", "under-a-file"])
def test_a_data_dir_that_cannot_be_created(where, tmp_path, corpus, cli):
    if where == "proc":
        data_dir = Path("/proc/shakespeare-tui-test")
    else:
        (tmp_path / "a-file").write_text("")
        data_dir = tmp_path / "a-file" / "home"
    result = cli("--data-dir", data_dir, "train", "--corpus", corpus, *TINY, "--max-steps", "2")
    assert result.code == 2, result
    assert len(result.err_lines) == 1 and "cannot create" in result.err, result.err
    assert "--data-dir" in result.err and "Traceback" not in result.err
    assert result.out == ""
