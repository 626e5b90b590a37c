"""`shakespeare-tui queue`: a queue file's runs trained one after another, headless; the queue
kept in the data folder, continued after a stop; bad files refused in one line."""

from __future__ import annotations

import json

import pytest

from shakespeare_tui.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from shakespeare_tui.core.runs.folders import read_json, read_metrics
from shakespeare_tui.core.runs.run_queue import DONE, STOPPED, RunQueue
from tests.cli_support import assert_one_line_error, cli, wide_console  # noqa: F401

pytestmark = pytest.mark.usefixtures("wide_console")

TINY = {"preset": "tiny", "threads": 1, "bf16": False, "eval_every": 10, "sample_length": 10,
        "log_every": 5}  # fmt: skip


def queue_file(tmp_path, corpus_file, *runs, suffix=".json"):
    path = tmp_path / f"q{suffix}"
    defaults = {**TINY, "corpus": str(corpus_file), "max_steps": 15}
    path.write_text(json.dumps({"defaults": defaults, "runs": list(runs)}))
    return path


def test_a_queue_file_trains_its_runs_one_after_another(capsys, paths, tmp_path, corpus_file):
    path = queue_file(tmp_path, corpus_file, {"run": "g", "cell": "gru"}, {"run": "l"})
    code, out, err = cli(capsys, "--data-dir", paths.data, "queue", path, "--quiet")
    assert code == EXIT_OK, err
    assert "queued 2 runs: g, l" in out and "queue done: 2 done" in out
    queue = RunQueue.load(paths.data)
    assert [(e.run, e.state) for e in queue.entries] == [("g", DONE), ("l", DONE)]
    assert read_json(paths.runs / "g" / "config.json")["train"]["model"]["cell"] == "gru"
    assert read_json(paths.runs / "l" / "config.json")["train"]["model"]["cell"] == "lstm"
    steps = [r["step"] for r in read_metrics(paths.runs / "g") if r.get("kind") == "step"]
    assert max(steps) == 15, "each run has its own budget"
    code, out, _ = cli(capsys, "--data-dir", paths.data, "queue")
    assert code == EXIT_OK and "nothing is queued" in out


def test_add_list_and_a_stopped_run_that_goes_on(capsys, paths, tmp_path, corpus_file):
    path = queue_file(tmp_path, corpus_file, {"run": "a"})
    code, out, _ = cli(capsys, "--data-dir", paths.data, "queue", path, "--add")
    assert code == EXIT_OK and "queued 1 run: a" in out
    assert not (paths.runs / "a").exists(), "--add trains nothing"
    code, out, _ = cli(capsys, "--data-dir", paths.data, "queue", "--list")
    assert code == EXIT_OK and "waiting" in out and "15 steps" in out
    # Trained to 10 steps, then stopped (as Ctrl+C leaves it): the queue goes on from there.
    from shakespeare_tui.core.config import build_config
    from shakespeare_tui.core.training.engine import train

    queue = RunQueue.load(paths.data)
    entry = queue.entries[0]
    settings = {k: v for k, v in entry.settings.items() if k != "preset"}
    config = build_config("tiny", "cpu", {**settings, "max_steps": 10})
    train(config, paths, run_name="a")
    queue.mark(entry.id, STOPPED)
    code, out, err = cli(capsys, "--data-dir", paths.data, "queue", "--quiet")
    assert code == EXIT_OK, err
    assert "a continues" in out
    steps = [r["step"] for r in read_metrics(paths.runs / "a") if r.get("kind") == "step"]
    assert max(steps) == 15 and steps == sorted(steps), "resumed, not restarted"


def test_a_bad_queue_file_is_one_line_and_queues_nothing(capsys, paths, tmp_path, corpus_file):
    path = queue_file(tmp_path, corpus_file, {"run": "ok"}, {"run": "bad", "hidden": -4})
    code, _, err = cli(capsys, "--data-dir", paths.data, "queue", path)
    assert_one_line_error(code, err, "run 2 (bad)", "hidden")
    assert RunQueue.load(paths.data).entries == []
    (tmp_path / "q.toml").write_text("[[runs]\n")
    code, _, err = cli(capsys, "--data-dir", paths.data, "queue", tmp_path / "q.toml")
    assert_one_line_error(code, err, "not valid TOML")
    code, _, err = cli(capsys, "--data-dir", paths.data, "queue", "--add")
    assert code == EXIT_USAGE and "--add needs a queue FILE" in err


def test_a_queue_already_being_worked_is_refused(capsys, paths, tmp_path, corpus_file):
    path = queue_file(tmp_path, corpus_file, {"run": "x"})
    cli(capsys, "--data-dir", paths.data, "queue", path, "--add")
    lock = RunQueue.load(paths.data).lock().acquire()
    try:
        code, _, err = cli(capsys, "--data-dir", paths.data, "queue")
    finally:
        lock.release()
    assert code == EXIT_FAILURE and "being worked by another process" in err
    assert not (paths.runs / "x").exists()
