"""Runs left in odd states — killed before their first checkpoint, a queue entry that cannot
train, a checkpoint that is not a file — are gone on with or refused in one line, never left
stuck (issue 24 items 5, 7 and 8)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from shakespeare_tui.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from shakespeare_tui.core.runs.folders import read_json, read_metrics
from shakespeare_tui.core.runs.run_queue import DONE, FAILED, TRAINING, RunQueue
from tests.cli_support import cli

TRAIN = ["train", "--preset", "tiny", "--threads", "1", "--no-bf16", "--quiet"]
TRAIN += ["--sample-length", "0", "--eval-every", "10"]


def one_line(code: int, err: str, expected: int = EXIT_USAGE) -> str:
    assert code == expected, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def killed_before_its_first_checkpoint(capsys, paths, corpus_file, name: str) -> Path:
    """A run folder as a kill in the first steps leaves it: config.json and a few metrics."""
    code, _, err = cli(capsys, "--data-dir", paths.data, *TRAIN, "--corpus", corpus_file,
                       "--max-steps", 12, "--name", name)  # fmt: skip
    assert code == EXIT_OK, err
    run = paths.runs / name
    for checkpoint in ("best.pt", "last.pt"):
        (run / checkpoint).unlink()
    return run


def test_resume_starts_a_run_killed_before_its_first_checkpoint_again(capsys, paths, corpus_file):
    run = killed_before_its_first_checkpoint(capsys, paths, corpus_file, "early")
    created = read_json(run / "config.json")["created"]
    code, out, err = cli(capsys, "--data-dir", paths.data, "train", "--resume", "early")
    assert code == EXIT_OK, err
    assert "starts again from its settings" in out
    assert (run / "last.pt").is_file() and read_json(run / "config.json")["created"] == created
    steps = [r["step"] for r in read_metrics(run) if r.get("kind") == "step"]
    assert steps == sorted(steps) and max(steps) == 12, "one run from step 0, not two mixed"


def test_the_queue_goes_on_with_a_run_killed_before_its_first_checkpoint(
    capsys, paths, corpus_file
):
    killed_before_its_first_checkpoint(capsys, paths, corpus_file, "early")
    queue = RunQueue.load(paths.data)
    settings = {"preset": "tiny", "threads": 1, "bf16": False, "corpus": str(corpus_file),
                "max_steps": 12, "sample_length": 0}  # fmt: skip
    entry = queue.add(settings, "late")  # a name of its own, then renamed to the killed run's
    queue.change(lambda entries: entries.__setitem__(0, entry.__class__(
        entry.id, "early", entry.settings, TRAINING)))  # fmt: skip
    code, out, err = cli(capsys, "--data-dir", paths.data, "queue", "--quiet")
    assert code == EXIT_OK, err
    assert [(e.run, e.state) for e in RunQueue.load(paths.data).entries] == [("early", DONE)]


def test_a_hand_edited_entry_that_cannot_train_is_marked_failed_and_the_queue_goes_on(
    capsys, paths, corpus_file
):
    queue = RunQueue.load(paths.data)
    settings = {"preset": "tiny", "threads": 1, "bf16": False, "corpus": str(corpus_file),
                "max_steps": 5, "sample_length": 0}  # fmt: skip
    queue.add(settings, "bad")
    queue.add(settings, "good")
    document = json.loads((paths.data / "queue.json").read_text())
    document["entries"][0]["settings"]["hidden"] = "x"  # as a person's editor might leave it
    (paths.data / "queue.json").write_text(json.dumps(document))
    code, out, err = cli(capsys, "--data-dir", paths.data, "queue", "--quiet")
    assert code == EXIT_FAILURE, err
    states = {e.run: (e.state, e.note) for e in RunQueue.load(paths.data).entries}
    assert states["good"][0] == DONE
    assert states["bad"][0] == FAILED and "hidden" in states["bad"][1]
    assert "\n" not in states["bad"][1]


def test_clear_removes_an_entry_a_kill_left_training(capsys, paths):
    queue = RunQueue.load(paths.data)
    entry = queue.add({"preset": "tiny"}, "stuck")
    queue.mark(entry.id, TRAINING)  # no process works the queue: a kill left it so
    code, out, _ = cli(capsys, "--data-dir", paths.data, "queue", "--clear")
    assert code == EXIT_OK and "the queue is empty" in out
    assert RunQueue.load(paths.data).entries == []


def test_bundled_is_no_name_for_a_run(capsys, paths, corpus_file):
    code, _, err = cli(capsys, "--data-dir", paths.data, *TRAIN, "--corpus", corpus_file,
                       "--max-steps", 2, "--name", "bundled")  # fmt: skip
    assert "pretrained checkpoint" in one_line(code, err)
    assert not (paths.runs / "bundled").exists()


def test_a_last_checkpoint_that_is_not_a_file_is_named_not_passed_over(capsys, paths, corpus_file):
    code, _, err = cli(capsys, "--data-dir", paths.data, *TRAIN, "--corpus", corpus_file,
                       "--max-steps", 10, "--name", "r")  # fmt: skip
    assert code == EXIT_OK, err
    last = paths.runs / "r" / "last.pt"
    last.unlink()
    last.mkdir()
    code, _, err = cli(capsys, "--data-dir", paths.data, "train", "--resume", "r")
    line = one_line(code, err)
    assert "last.pt is not a checkpoint file" in line and "best.pt" in line


def test_a_run_without_its_config_json_resumes_in_its_own_folder(capsys, paths, corpus_file):
    code, _, err = cli(capsys, "--data-dir", paths.data, *TRAIN, "--corpus", corpus_file,
                       "--max-steps", 10, "--name", "r")  # fmt: skip
    assert code == EXIT_OK, err
    (paths.runs / "r" / "config.json").unlink()
    code, out, err = cli(capsys, "--data-dir", paths.data, "train", "--resume", "r",
                         "--max-steps", 20)  # fmt: skip
    assert code == EXIT_OK, err
    assert sorted(p.name for p in paths.runs.iterdir()) == ["r"]
    assert (paths.runs / "r" / "config.json").is_file()
    shutil.rmtree(paths.runs / "r")
