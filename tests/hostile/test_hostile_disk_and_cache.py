"""A full disk as a run starts, resumes or is exported, and a damaged corpus cache: a full disk
is one line saying there is no space left for what was being written (exit 1, a runtime
failure, not bad input), with nothing changed; a cache entry that is damaged is encoded again,
and one that cannot be replaced is one line.

The disk is filled in the case's own process (hostile_support's `disk_full_under`: every file
or folder made under a folder fails with ENOSPC), as a full disk fails the first write.
"""

from __future__ import annotations

import json

import pytest

from tests.hostile.hostile_support import assert_no_escapes, assert_refused, snapshot

TINY = ["--preset", "tiny", "--threads", "1", "--max-steps", "2", "--quiet"]


def test_a_full_disk_when_a_new_run_starts(zygote, home, corpus_file):
    runs = home / "runs"
    before = snapshot(runs)
    outcome = zygote.run("train", "--corpus", corpus_file, *TINY, "--name", "new",
                         "--data-dir", home, faults={"disk_full_under": str(runs)})  # fmt: skip
    assert_refused(outcome, 1, f"no space left on the device for the run folder {runs / 'new'}")
    assert snapshot(runs) == before


def test_a_full_disk_when_a_run_resumes(zygote, home):
    run = home / "runs" / "trained"
    before = snapshot(run)
    outcome = zygote.run("train", "--resume", "trained", "--epochs", "4", "--threads", "1",
                         "--data-dir", home, faults={"disk_full_under": str(run)})  # fmt: skip
    assert_refused(outcome, 1, f"no space left on the device for the run folder {run}")
    assert snapshot(run) == before


def test_a_full_disk_when_exporting(zygote, home, tmp_path):
    out = tmp_path / "exports"
    out.mkdir()
    outcome = zygote.run("export", "trained", out / "x.pt", "--data-dir", home,
                         faults={"disk_full_under": str(out)})  # fmt: skip
    assert_refused(outcome, 1, f"no space left on the device for {out / 'x.pt'}")
    assert list(out.iterdir()) == []


# -- the corpus cache: a corpus over MAP_ABOVE_BYTES (4 kB here) is encoded into it -----------

MAPPED = {"map_above_bytes": 4096}


@pytest.fixture
def cached(zygote, home, corpus_file):
    """The corpus encoded into home's cache by a first run; (its map, its key)."""
    outcome = zygote.run("train", "--corpus", corpus_file, *TINY, "--name", "first",
                         "--data-dir", home, faults=MAPPED)  # fmt: skip
    assert outcome.code == 0, outcome
    maps = list((home / "cache" / "corpora").glob("*.map"))
    keys = list((home / "cache" / "corpora" / "keys").glob("*.json"))
    assert len(maps) == 1 and len(keys) == 1, (maps, keys)
    return maps[0], keys[0]


def _train_again(zygote, home, corpus_file):
    return zygote.run("train", "--corpus", corpus_file, *TINY[:-1], "--name", "again",
                      "--data-dir", home, faults=MAPPED)  # fmt: skip


def _damage_codes(map_file):
    with open(map_file, "r+b") as f:  # codes no character has: 255 in a map of ~50 characters
        f.write(b"\xff" * 64)


def _nest_key(key):
    key.write_text("[" * 100_000 + "]" * 100_000)


@pytest.mark.parametrize(
    "damage", [_damage_codes, lambda m: None], ids=["codes beyond its characters", "whole"]
)
def test_a_damaged_map_is_encoded_again(zygote, home, corpus_file, cached, damage):
    map_file, _ = cached
    damage(map_file)
    outcome = _train_again(zygote, home, corpus_file)
    assert outcome.code == 0, outcome
    encoded = "into the cache" in outcome.out.decode()  # "encoded … into the cache: … MB/s"
    assert encoded == (damage is _damage_codes), outcome  # a whole map is not encoded again
    assert map_file.read_bytes()[:64] != b"\xff" * 64


def test_a_key_nested_too_deeply_is_read_as_no_key(zygote, home, corpus_file, cached):
    _, key = cached
    _nest_key(key)
    outcome = _train_again(zygote, home, corpus_file)
    assert outcome.code == 0, outcome
    assert json.loads(key.read_text())["checksum"].startswith("sha256:")


def test_a_folder_in_the_place_of_a_map_is_one_line(zygote, home, corpus_file, cached):
    map_file, _ = cached
    map_file.unlink()
    map_file.mkdir()
    before = snapshot(home / "runs")
    outcome = _train_again(zygote, home, corpus_file)
    assert_refused(outcome, 2, "cannot keep the encoded copy", "remove what is there")
    assert snapshot(home / "runs") == before and map_file.is_dir()


def test_a_folder_in_the_place_of_a_lock_is_one_line(zygote, home, corpus_file, cached):
    _, key = cached
    key.with_suffix(".lock").unlink()
    key.with_suffix(".lock").mkdir()
    outcome = _train_again(zygote, home, corpus_file)
    assert_refused(outcome, 2, "cannot lock")
    assert_no_escapes(outcome)
