"""The one listing of runs and checkpoints (core/runs/listing.py): the same runs as list_runs,
each run's best and last, files opened by path first (a pipe or a folder refused from its
stat), and an equal answer when nothing changed."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.runs.checkpoints import FILE
from shakespeare_tui.core.runs.listing import Listing
from shakespeare_tui.core.runs.summary import list_runs


@pytest.fixture
def home(trained_run, tmp_path) -> Paths:
    paths, _, _ = trained_run
    copy = Paths.resolve(tmp_path / "home")
    shutil.copytree(paths.data, copy.data)
    return copy


@pytest.fixture(autouse=True)
def no_bundled(monkeypatch, tmp_path):
    from shakespeare_tui.core.runs import folders

    monkeypatch.setattr(folders, "bundled_checkpoint", lambda: tmp_path / "none.pt")


def _add_run(home: Paths, source: str, name: str, created: str) -> None:
    shutil.copytree(home.runs / source, home.runs / name)
    config = json.loads((home.runs / name / "config.json").read_text())
    config["created"] = created
    (home.runs / name / "config.json").write_text(json.dumps(config))


def test_the_listing_has_the_runs_list_runs_has_and_their_checkpoints(home):
    (source,) = [p.name for p in home.runs.iterdir()]
    _add_run(home, source, "newer", "2999-01-01T00:00:00+00:00")
    (home.runs / "half-written").mkdir()  # no config.json yet: not offered
    listed = Listing(home).refresh()
    assert listed.runs == tuple(list_runs(home))
    assert [r.name for r in listed.runs] == ["newer", source]
    titles = [e.title for e in listed.checkpoints]
    assert titles == ["newer · best", "newer · last", f"{source} · best", f"{source} · last"]
    assert all(e.ok for e in listed.checkpoints)


def test_nothing_changed_reads_as_an_equal_answer_and_a_new_run_as_another(home):
    listing = Listing(home)
    first = listing.refresh()
    assert listing.refresh() == first
    (source,) = [r.name for r in first.runs]
    _add_run(home, source, "later", "2999-01-01T00:00:00+00:00")
    assert listing.refresh() != first
    shutil.rmtree(home.runs / "later")
    assert listing.refresh() == first


def test_files_opened_by_path_come_first_and_a_pipe_or_folder_never_blocks(home, tmp_path):
    fifo = tmp_path / "pipe.pt"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.pt"
    folder.mkdir()
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    files = (str(fifo), str(folder), str(bad), str(tmp_path / "gone.pt"))
    listed = Listing(home).refresh(files)
    by_key = {e.key: e for e in listed.checkpoints}
    assert [e.key for e in listed.checkpoints][:3] == list(files[:3])  # the gone one: left out
    assert all(by_key[f].kind == FILE and not by_key[f].ok for f in files[:3])
    assert by_key[str(fifo)].info.error == "pipe.pt is a pipe (FIFO), not a checkpoint file"
    assert by_key[str(folder)].info.error == "folder.pt is a directory, not a checkpoint file"
    expected = "bad.pt is not a complete checkpoint (truncated or not a PyTorch file)"
    assert by_key[str(bad)].info.error == expected
    assert by_key[str(bad)].details == f"⚠ unreadable: {expected}"  # one line
