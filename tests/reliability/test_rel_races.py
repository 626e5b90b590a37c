"""Two processes on one file: every change a command reports as made is still there after.

Real processes (forked from one with torch loaded), lined up on a barrier (race_support.py)
and released together, or started at the moments a race is open; every wait bounded. The tiny
preset, one thread, small corpora.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from race_support import Racers, finish
from rel_support import make_text

from shakespeare_tui.core.runs.folders import read_metrics
from shakespeare_tui.core.runs.run_queue import DONE, TRAINING, RunQueue

TINY = {"preset": "tiny", "threads": 1, "bf16": False, "sample_length": 0, "log_every": 5}


@pytest.fixture(scope="module")
def racers():
    """The module's processes, forked from one that has torch and the CLI imported."""
    with Racers() as racers:
        yield racers


@pytest.fixture
def corpus(tmp_path) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text(make_text(12_000), encoding="utf-8")
    return path


def queue_file(path: Path, corpus: Path, *runs: dict, **defaults) -> Path:
    document = {"defaults": {**TINY, "corpus": str(corpus), **defaults}, "runs": list(runs)}
    path.write_text(json.dumps(document))
    return path


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def states(home: Path) -> dict[str, str]:
    return {e.run: e.state for e in RunQueue.load(home).entries}


def test_runs_added_by_many_processes_at_one_instant_are_all_queued(tmp_path, corpus, racers):
    """8 × `queue FILE --add` released together: each says it queued its run, and queue.json
    holds all 8 (it kept 3, 8 and 4 of them in three trials when each process loaded, added and
    saved without a lock)."""
    home = tmp_path / "home"
    n = 8
    argvs = [
        ["--data-dir", home, "queue", queue_file(tmp_path / f"q{i}.json", corpus, {"run": f"r{i}"}),
         "--add"]
        for i in range(n)
    ]  # fmt: skip
    results = racers.released_together(tmp_path / "barrier", argvs)
    for i, result in enumerate(results):
        assert result.code == 0, result.err
        assert f"queued 1 run: r{i}" in result.out
    assert sorted(states(home)) == sorted(f"r{i}" for i in range(n))


def test_runs_added_while_the_queue_is_worked_are_kept_and_trained(tmp_path, corpus, racers):
    """`queue` works a long run; `queue FILE --add` from another terminal meanwhile: the added
    runs stay in queue.json (the worker once wrote back its own copy at the end of its run) and
    are trained in their turn."""
    home = tmp_path / "home"
    long = queue_file(tmp_path / "long.json", corpus, {"run": "long"}, max_steps=100_000,
                      max_minutes=0.08)  # fmt: skip
    argv = ["--data-dir", home, "queue", long, "--quiet"]
    (worker,), go = racers.start_lined_up(tmp_path / "w", [argv])
    go.touch()
    wait_until(lambda: (home / "runs" / "long" / "metrics.jsonl").is_file()
               and states(home).get("long") == TRAINING, 60, "the long run to train")  # fmt: skip
    more = queue_file(tmp_path / "more.json", corpus, {"run": "added1"}, {"run": "added2"},
                      max_steps=2)  # fmt: skip
    (adder,), go_add = racers.start_lined_up(
        tmp_path / "a", [["--data-dir", home, "queue", more, "--add"]]
    )
    go_add.touch()
    added = finish([adder])[0]
    assert added.code == 0 and "queued 2 runs: added1, added2" in added.out, added.err
    assert states(home).get("long") == TRAINING, "the long run was still training"
    done = finish([worker], timeout=180)[0]
    assert done.code == 0, done.err
    assert states(home) == {"long": DONE, "added1": DONE, "added2": DONE}


def _trained(home: Path, corpus: Path, name: str, steps: int) -> Path:
    from shakespeare_tui.cli import main

    argv = ["--data-dir", home, "train", "--corpus", corpus, "--name", name, "--max-steps", steps]
    argv += ["--preset", "tiny", "--threads", "1", "--no-bf16", "--quiet", "--sample-length", "0"]
    argv += ["--eval-every", "10"]
    assert main([str(a) for a in argv]) == 0
    return home / "runs" / name


@pytest.mark.parametrize("action", ["rm", "mv"])
@pytest.mark.parametrize("when", ["as it loads its corpus", "at once"])
def test_a_delete_or_rename_racing_a_starting_resume_never_splits_or_revives_the_run(
    action, when, tmp_path, corpus, racers
):
    """`runs rm X` / `runs mv X Y` while `train --resume X` starts: whichever takes the run's
    lock first wins and the other is refused in one line. Never both: a deletion that said
    "deleted" stays deleted (the trainer, having read the run, once re-made runs/X with only
    its new steps), and a rename leaves the whole history in Y (it was split between Y and a
    new X). "as it loads its corpus" holds the trainer there, after it has begun reading the
    run: the race's widest moment."""
    home = tmp_path / "home"
    run = _trained(home, corpus, "x", 20)
    before = [r["step"] for r in read_metrics(run) if r.get("kind") == "step"]
    resume = ["--data-dir", home, "train", "--resume", "x", "--max-steps", 60, "--quiet"]
    other = ["--data-dir", home, "runs", "rm", "x", "--yes"] if action == "rm" else [
        "--data-dir", home, "runs", "mv", "x", "y"]  # fmt: skip
    marker = tmp_path / "loading-corpus"
    env = {"RACE_SLOW_CORPUS": str(marker)} if when != "at once" else None
    (trainer,), go = racers.start_lined_up(tmp_path / "t", [resume], env=env)
    (acting,), go_act = racers.start_lined_up(tmp_path / "a", [other])
    go.touch()
    if env:
        wait_until(marker.exists, 60, "the trainer to load its corpus")
    go_act.touch()
    acted, trained = finish([acting])[0], finish([trainer])[0]
    if acted.code == 0:  # the delete or rename won: the trainer must have been refused
        assert trained.code == 2 and len(trained.err.strip().splitlines()) == 1, trained
        assert not (home / "runs" / "x").exists(), "runs/x came back"
        if action == "mv":
            steps = [
                r["step"] for r in read_metrics(home / "runs" / "y") if r.get("kind") == "step"
            ]
            assert steps == before, "the renamed run keeps its whole history, nothing more"
    else:  # the trainer won: the other was refused and the run trained on, whole
        assert acted.code == 2 and len(acted.err.strip().splitlines()) == 1, acted
        assert "being trained" in acted.err
        assert trained.code == 0, trained.err
        steps = [r["step"] for r in read_metrics(home / "runs" / "x") if r.get("kind") == "step"]
        assert steps[: len(before)] == before and max(steps) == 60
    if when != "at once":
        assert acted.code == 2, "a run that has begun reading itself holds its lock"
