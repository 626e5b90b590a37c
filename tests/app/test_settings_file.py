"""settings.json is the person's as much as ours: a save keeps what it does not understand,
replaces only what the app set, and never rewrites a file it could not read (issue 23 item 4)."""

from __future__ import annotations

import json
import multiprocessing
import os

import pytest
from textual.widgets import Input

from shakespeare_tui.app import make_app
from shakespeare_tui.settings import MAX_BYTES, AppSettings

SIZE = (120, 40)


def test_a_save_keeps_unknown_keys_and_values_it_could_not_use(tmp_path):
    path = tmp_path / "settings.json"
    person = {
        "my_notes": {"todo": ["try a GRU"]},
        "mode": "generate",
        "train": {"epochs": "many", "hidden": 512, "my_flag": True},
        "runs": {"smoothing": "lots"},
    }
    path.write_text(json.dumps(person))
    settings = AppSettings.load(path)
    assert settings.train.hidden == 512 and settings.train.epochs == 20  # default where unusable
    assert any("my_notes" in w for w in settings.load_warnings)
    assert any("train.epochs" in w for w in settings.load_warnings)
    assert any("train.my_flag" in w for w in settings.load_warnings)
    settings.mode = "runs"  # what switching views saves
    assert settings.save(path)
    saved = json.loads(path.read_text())
    assert saved["my_notes"] == person["my_notes"]
    assert saved["train"] == person["train"], "unchanged values are left as the person wrote them"
    assert saved["runs"] == {"smoothing": "lots"}
    assert saved["mode"] == "runs"


@pytest.mark.parametrize("mode", [["runs"], {"view": "runs"}, 3, None, "nowhere"])
def test_a_mode_that_is_no_view_starts_the_train_view_and_says_so(tmp_path, mode):
    """A list or an object as the mode raised TypeError (unhashable) as the app started."""
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"mode": mode}))
    settings = AppSettings.load(path)
    assert settings.mode == "train" and not settings.load_error
    assert any(w.startswith("mode ") and "is not a view" in w for w in settings.load_warnings)


def test_a_value_the_app_sets_replaces_only_that_value(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"train": {"epochs": "many", "lr": 0.01}}))
    settings = AppSettings.load(path)
    settings.train.epochs = 9
    assert settings.save(path)
    assert json.loads(path.read_text())["train"] == {"epochs": 9, "lr": 0.01}


@pytest.mark.parametrize(
    "content",
    [
        b"[" * 100_000 + b"]" * 100_000,  # nested deeper than the parser goes
        b"{not json",
        b"\xff\xfe{}",
    ],
)
def test_a_file_that_cannot_be_read_is_reported_and_never_rewritten(tmp_path, content):
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    settings = AppSettings.load(path)
    assert settings.load_error and "\n" not in settings.load_error
    settings.mode = "runs"
    assert settings.save(path) is False
    assert path.read_bytes() == content


def test_a_file_too_large_for_settings_is_not_read_nor_rewritten(tmp_path):
    path = tmp_path / "settings.json"
    with open(path, "wb") as f:  # sparse: as large as the limit allows, plus one byte
        f.truncate(MAX_BYTES + 1)
    settings = AppSettings.load(path)
    assert "too large" in settings.load_error and "MiB" in settings.load_error
    assert settings.save(path) is False
    assert path.stat().st_size == MAX_BYTES + 1


def _save_after(barrier, path: str, change: str) -> None:
    settings = AppSettings.load(path)
    if change == "theme":
        settings.theme = "nord"
    else:
        settings.train.epochs = 11
    barrier.wait(timeout=30)
    assert settings.save(path)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork to line the processes up")
def test_two_apps_saving_at_once_keep_both_changes(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"mode": "train"}))
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(2)
    workers = [
        context.Process(target=_save_after, args=(barrier, str(path), change))
        for change in ("theme", "epochs")
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert [w.exitcode for w in workers] == [0, 0]
    saved = AppSettings.load(path)
    assert saved.theme == "nord" and saved.train.epochs == 11


async def test_the_app_starts_on_a_file_nested_too_deep_and_says_so(paths, probe):
    paths.settings_file.parent.mkdir(parents=True, exist_ok=True)
    paths.settings_file.write_text("[" * 100_000 + "]" * 100_000)
    app = make_app(paths, probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screen.query(Input)  # the Train view is up
        shown = [n.message for n in app._notifications]
        assert any("nested too deeply" in m and "leaving the file as it is" in m for m in shown)


async def test_the_app_says_once_what_it_did_not_use(paths, probe):
    paths.settings_file.parent.mkdir(parents=True, exist_ok=True)
    paths.settings_file.write_text(json.dumps({"my_notes": 1, "train": {"epochs": "many"}}))
    app = make_app(paths, probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shown = [n.message for n in app._notifications]
        assert any("my_notes" in m and "train.epochs" in m and "kept in the file" in m
                   for m in shown)  # fmt: skip
