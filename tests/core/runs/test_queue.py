"""The run queue: queue files read and checked, the queue kept across processes, its order."""

from __future__ import annotations

import json

import pytest

from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.runs.run_queue import (
    CANCELLED,
    DONE,
    FAILED,
    STOPPED,
    TRAINING,
    WAITING,
    RunQueue,
    checked_settings,
    entry_config,
    entry_resume_overrides,
    read_queue_file,
    resume_point,
    state_after,
)

TOML = """
[defaults]
max_minutes = 2
corpus = "plays"

[[runs]]
run = "rnn"
cell = "rnn"
hidden = 700

[[runs]]
name = "gru"
cell = "gru"
max-minutes = 3

[[runs]]
preset = "tiny"
"""


def test_a_toml_queue_file_gives_each_run_its_settings(tmp_path):
    path = tmp_path / "cells.toml"
    path.write_text(TOML)
    runs = read_queue_file(path)
    assert [name for name, _ in runs] == ["rnn", "gru", None]
    assert runs[0][1] == {"max_minutes": 2, "corpus": "plays", "cell": "rnn", "hidden": 700}
    assert runs[1][1]["max_minutes"] == 3, "a run's own value wins; dashes read as underscores"
    assert runs[2][1]["preset"] == "tiny"


def test_a_json_list_is_a_queue_file_too(tmp_path):
    path = tmp_path / "q.json"
    path.write_text(json.dumps([{"run": "a", "max_steps": 50}, {"cell": "gru"}]))
    assert read_queue_file(path) == [("a", {"max_steps": 50}), (None, {"cell": "gru"})]


@pytest.mark.parametrize(
    "name, content, why",
    [
        ("q.toml", "[[runs]]\ncell = 'transformer'\n", "run 1: cell must be one of"),
        ("q.toml", "[[runs]]\nhiden = 3\n", "run 1: 'hiden' is not a setting"),
        ("q.toml", "[[runs]]\nrun='a'\n[[runs]]\nrun='a'\n", "run 2 (a): the name a is used twice"),
        ("q.toml", "[[runs]]\nrun='no/slash'\n", "run 1 (no/slash): run name"),
        ("q.toml", "[[runs]]\npreset = 'huge'\n", "preset 'huge' is not one of"),
        ("q.toml", "[[runs]\n", "is not valid TOML"),
        ("q.json", "{", "is not valid JSON"),
        ("q.json", "[]", "lists no runs"),
        ("q.json", '{"runs": [3]}', "run 1 must be a table"),
        ("q.toml", "[[runs]]\nmax_minutes = -1\n", "max_minutes must be positive"),
        ("q.toml", "[[runs]]\nhidden = 'big'\n", "run 1"),
    ],
)
def test_a_bad_queue_file_is_one_line_naming_the_run(tmp_path, name, content, why):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(UserError, match=why.replace("(", r"\(").replace(")", r"\)")) as caught:
        read_queue_file(path)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)


def test_a_missing_or_binary_file_is_named(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        read_queue_file(tmp_path / "none.toml")
    (tmp_path / "b.toml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(UserError, match="not UTF-8"):
        read_queue_file(tmp_path / "b.toml")


def test_the_queue_survives_a_new_process_and_keeps_its_order(tmp_path):
    queue = RunQueue.load(tmp_path)
    assert queue.entries == []
    a = queue.add({"cell": "rnn", "max_minutes": 1}, "a")
    b = queue.add({"cell": "gru", "max_minutes": 1}, "b")
    c = queue.add({"preset": "tiny"})
    queue.move(c.id, -2)
    again = RunQueue.load(tmp_path)
    assert [e.run for e in again.entries] == [c.run, "a", "b"]
    assert again.entries[1].settings == {"cell": "rnn", "max_minutes": 1}
    assert again.next_open().id == c.id
    again.cancel(c.id)
    again.mark(a.id, TRAINING)
    assert again.next_open().id == a.id, "a run left training goes on first"
    with pytest.raises(UserError, match="is training"):
        again.cancel(a.id)
    again.mark(a.id, DONE, "reached 60 steps")
    assert again.next_open().id == b.id
    again.clear_finished()
    assert [e.run for e in again.entries] == ["b"] and a.budget == "1 min"


def test_names_are_unique_among_runs_and_queued_ones(tmp_path):
    runs = tmp_path / "runs"
    (runs / "taken").mkdir(parents=True)
    queue = RunQueue.load(tmp_path)
    with pytest.raises(UserError, match="already exists or is queued"):
        queue.add({}, "taken", runs)
    queue.add({}, "mine", runs)
    with pytest.raises(UserError, match="already exists or is queued"):
        queue.add({}, "mine", runs)
    first, second = (
        queue.add({"preset": "tiny"}, None, runs),
        queue.add({"preset": "tiny"}, None, runs),
    )
    assert first.run != second.run and first.run.endswith("-tiny")


def test_a_bad_setting_never_waits_in_the_queue(tmp_path):
    queue = RunQueue.load(tmp_path)
    with pytest.raises(UserError, match="hidden must be"):
        queue.add({"hidden": 0})
    assert queue.entries == []


def test_an_unreadable_queue_is_reported_and_left_alone(tmp_path):
    path = tmp_path / "queue.json"
    path.write_text("{not json")
    with pytest.raises(UserError, match="not a queue"):
        RunQueue.load(tmp_path)
    assert path.read_text() == "{not json"
    path.write_text(json.dumps({"format": "shakespeare-tui queue", "version": 1,
                                "entries": [{"id": 1, "run": "a", "settings": {},
                                             "state": "flying"}]}))  # fmt: skip
    with pytest.raises(UserError, match="unknown state 'flying'"):
        RunQueue.load(tmp_path)


def test_where_an_entry_goes_on_from(tmp_path):
    queue = RunQueue.load(tmp_path)
    entry = queue.add({}, "r")
    (tmp_path / "runs" / "r").mkdir(parents=True)
    assert resume_point(entry, tmp_path / "runs") is None  # waiting: a fresh start
    (tmp_path / "runs" / "r" / "last.pt").write_bytes(b"x")
    assert resume_point(entry, tmp_path / "runs") is None
    stopped = queue.mark(entry.id, STOPPED)
    assert resume_point(stopped, tmp_path / "runs") == tmp_path / "runs" / "r" / "last.pt"
    assert [state_after(r) for r in ("stopped", "diverged", "max-minutes", "completed")] == [
        STOPPED, FAILED, DONE, DONE,
    ]  # fmt: skip
    assert WAITING != CANCELLED


def test_an_entry_becomes_the_config_its_settings_say(tmp_path):
    """The one place a queue entry becomes a TrainConfig (the CLI's `queue` and the app's)."""
    queue = RunQueue(tmp_path / "queue.json")
    entry = queue.add({"preset": "tiny", "hidden": 48, "max_steps": 30, "device": "cpu"}, "a")
    config = entry_config(entry)
    assert (config.model.hidden, config.max_steps, config.device) == (48, 30, "cpu")
    assert config.preset == "custom"  # its model is not the tiny preset's any more
    # "auto" resolved on the device type the caller already knows, without a probe.
    auto = queue.add({"max_steps": 50}, "b")
    assert entry_config(auto, auto_device_type="cuda").preset == "notebook"
    assert entry_config(auto, auto_device_type="cpu").preset == "cpu"
    # Going on, it keeps its settings; only those a resume may change go with it.
    assert entry_resume_overrides(entry) == {"max_steps": 30, "device": "cpu"}


def test_a_stop_while_its_corpus_is_encoded_leaves_the_run_waiting(tmp_path):
    import threading
    from types import SimpleNamespace

    from shakespeare_tui.core.errors import EncodingStopped
    from shakespeare_tui.core.runs.run_queue import work_queue

    queue = RunQueue.load(tmp_path)
    entry = queue.add({"preset": "tiny"}, "big")
    stop = threading.Event()

    def train_entry(entry, resume):
        stop.set()  # Ctrl+C came while the large corpus was being encoded
        raise EncodingStopped("stopped while encoding big.txt (40% done); nothing was kept")

    paths = SimpleNamespace(runs=tmp_path / "runs")
    assert work_queue(queue, paths, train_entry, stop) == "stopped"
    again = RunQueue.load(tmp_path).entries[0]
    assert again.id == entry.id and again.state == WAITING and "encoding" in again.note


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"hidden": "big"}, "hidden must be a whole number, not 'big'"),
        ({"hidden": 32.5}, "hidden must be a whole number, not 32.5"),
        ({"corpus": 5}, "corpus must be text, not 5"),
        ({"bf16": 1}, "bf16 must be true or false, not 1"),
        ({"max_minutes": "5"}, "max_minutes must be a number, not '5'"),
        ({"hiden": 3}, "'hiden' is not a setting; did you mean 'hidden'?"),
    ],
)
def test_a_value_of_the_wrong_kind_or_a_near_miss_names_the_setting(settings, words):
    """It said "a setting has the wrong kind of value ('<' not supported between instances of
    'str' and 'int')" without saying which; and such an entry was accepted by --add, then
    wedged the queue."""
    with pytest.raises(UserError) as caught:
        checked_settings(settings)
    assert str(caught.value) == words


def test_two_entries_of_one_id_are_refused_not_looped_over(tmp_path):
    queue = RunQueue.load(tmp_path)
    queue.add({"preset": "tiny"}, "a")
    queue.add({"preset": "tiny"}, "b")
    path = tmp_path / "queue.json"
    document = json.loads(path.read_text())
    document["entries"][1]["id"] = document["entries"][0]["id"]
    path.write_text(json.dumps(document))
    with pytest.raises(UserError, match="two entries share an id"):
        RunQueue.load(tmp_path)
