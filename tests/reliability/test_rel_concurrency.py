"""Two at once, stale locks, and run folders caught half-written.

A second trainer on a run that a live process is training gets one line about the lock and
exit 2, while the first carries on; a lock left by a killed process is taken over; listing runs
never fails on folders that a crash left half-written.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rel_support import TINY, child_env, run_cli_process

from shakespeare_tui.core.model.checkpoint import read_info
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.runs.summary import list_runs, run_info

pytestmark = pytest.mark.heavy(15)


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_a_second_trainer_is_refused_while_the_first_carries_on(tmp_path, small_corpus, cli):
    home = tmp_path / "home"
    run = home / "runs" / "r"
    argv = ["--data-dir", home, "train", "--corpus", small_corpus, *TINY, "--name", "r"]
    first = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shakespeare_tui",
            *map(str, argv),
            "--epochs",
            "10000",
            "--patience",
            "10000",
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=child_env(),
    )
    try:
        _wait(lambda: read_info(run / "last.pt").ok and (run / ".lock").exists(), 90, "training")
        pid = str(first.pid)

        second = cli("--data-dir", home, "train", "--resume", "r", "--quiet")
        assert second.code == 2 and len(second.err_lines) == 1, second
        assert "being trained by another process" in second.err and pid in second.err

        same_name = cli(*argv, "--quiet")
        assert same_name.code == 2 and len(same_name.err_lines) == 1, same_name
        assert "r" in same_name.err and "Traceback" not in same_name.err

        code, out, err = run_cli_process(["--data-dir", home, "train", "--resume", "r", "--quiet"])
        lines = [line for line in err.splitlines() if line.strip()]
        assert code == 2 and len(lines) == 1 and pid in err, (code, err)

        listing = cli("--data-dir", home, "runs")
        row = next(line for line in listing.out.splitlines() if line.startswith("r "))
        assert listing.code == 0 and "training" in row.split()  # its state column
        assert run_info(run).training

        # The first is unharmed: it keeps saving newer checkpoints, then stops cleanly.
        step = read_info(run / "last.pt").step
        _wait(lambda: read_info(run / "last.pt").step > step, 60, "the first trainer to go on")
        assert first.poll() is None
        first.send_signal(signal.SIGINT)
        assert first.wait(timeout=60) == 130, first.stderr.read()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert not (run / ".lock").exists()
    assert (
        cli(
            "--data-dir",
            home,
            "train",
            "--resume",
            "r",
            "--max-steps",
            read_info(run / "last.pt").step + 1,
            "--quiet",
        ).code
        == 0
    )


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize("content", ["dead-pid", "garbage", "empty"])
def test_a_stale_lock_is_taken_over(content, tmp_path, small_corpus, cli):
    home = tmp_path / "home"
    result = cli(
        "--data-dir",
        home,
        "train",
        "--corpus",
        small_corpus,
        *TINY,
        "--name",
        "r",
        "--max-steps",
        "3",
        "--quiet",
    )
    assert result.code == 0, result
    lock = home / "runs" / "r" / ".lock"
    lock.write_text(
        {"dead-pid": str(_dead_pid()), "garbage": "not a pid\x00", "empty": ""}[content]
    )
    assert not run_info(lock.parent).training
    result = cli("--data-dir", home, "train", "--resume", "r", "--max-steps", "5", "--quiet")
    assert result.code == 0, result
    assert read_info(lock.parent / "last.pt").step == 5
    assert not lock.exists()


def _good_run(home: Path, cli, corpus: Path) -> Path:
    result = cli(
        "--data-dir",
        home,
        "train",
        "--corpus",
        corpus,
        *TINY,
        "--name",
        "good",
        "--epochs",
        "1",
        "--quiet",
    )
    assert result.code == 0, result
    return home / "runs" / "good"


def test_listing_survives_half_written_run_folders(tmp_path, small_corpus, cli):
    home = tmp_path / "home"
    good = _good_run(home, cli, small_corpus)
    runs = home / "runs"
    config = (good / "config.json").read_bytes()
    metrics = (good / "metrics.jsonl").read_bytes()

    def folder(name: str, files: dict[str, bytes]) -> None:
        (runs / name).mkdir()
        for file, data in files.items():
            (runs / name / file).write_bytes(data)

    folder("empty", {})
    folder("truncated-config", {"config.json": config[: len(config) // 2]})
    folder("torn-metrics", {"config.json": config, "metrics.jsonl": metrics[:-7]})
    folder("config-not-object", {"config.json": b"[1, 2, 3]"})
    folder("config-null", {"config.json": b"null"})
    odd = json.loads(config)
    odd.update(train={"model": {"cell": 5, "layers": "x"}}, corpus="not a dict", created=None)
    folder("odd-types", {"config.json": json.dumps(odd).encode()})
    bad_records = b'{"kind": "epoch", "epoch": "x", "val_loss": "y"}\n[1]\n"s"\n{"kind": "epoch", "epoch": null}\n'
    folder("odd-metrics", {"config.json": config, "metrics.jsonl": bad_records})
    folder("binary", {"config.json": os.urandom(300), "metrics.jsonl": os.urandom(300)})
    folder(
        "temp-files",
        {"config.json": config, ".last.pt.abc.tmp": b"PK\x03\x04half", ".config.json.x.tmp": b"{"},
    )
    folder(
        "bad-checkpoints", {"config.json": config, "last.pt": b"PK\x03\x04trunc", "best.pt": b""}
    )
    (runs / ".half-written.tmp").write_bytes(b"x")
    (runs / "a-file").write_bytes(b"not a folder")

    names = {r.name for r in list_runs(Paths.resolve(home))}
    assert {"good", "torn-metrics", "temp-files", "bad-checkpoints"} <= names
    assert not {"empty", "truncated-config", "config-not-object", "config-null", "a-file"} & names
    result = cli("--data-dir", home, "runs")
    assert result.code == 0 and "Traceback" not in result.err, result
    assert result.err == ""

    # Every prefix of a real config.json and metrics.jsonl (a crash can stop a write anywhere).
    probe = runs / "probe"
    probe.mkdir()
    for cut in range(0, len(config) + 1, 7):
        (probe / "config.json").write_bytes(config[:cut])
        run_info(probe)
    (probe / "config.json").write_bytes(config)
    for cut in range(0, len(metrics) + 1, max(1, len(metrics) // 150)):
        (probe / "metrics.jsonl").write_bytes(metrics[:cut])
        assert run_info(probe) is not None
    list_runs(Paths.resolve(home))


RACER = """
import os, sys, time
from shakespeare_tui.core.errors import RunLockedError
from shakespeare_tui.core.runs.lock import RunLock

folder, start = sys.argv[1], float(sys.argv[2])
time.sleep(max(0.0, start - time.time() - 0.02))  # asleep, not spinning 6 on 2 cores...
while time.time() < start:  # ...then spinning for the last 20 ms, to leave at the instant
    pass
try:
    with RunLock(folder):
        t0 = time.time()
        time.sleep(0.3)
        with open(os.path.join(folder, f"held.{os.getpid()}"), "w") as f:
            f.write(f"{t0} {time.time()}")
except RunLockedError:
    pass
"""


@pytest.mark.parametrize("lock", ["none", "stale"])
def test_racing_processes_never_hold_one_lock_together(lock, tmp_path):
    """Six processes take one run's lock at the same instant, fresh or over a stale lock."""
    for round_ in range(2):
        folder = tmp_path / f"{lock}{round_}"
        folder.mkdir()
        if lock == "stale":
            (folder / ".lock").write_text(str(_dead_pid()))
        start = time.time() + 0.7
        racers = [
            subprocess.Popen(
                [sys.executable, "-c", RACER, str(folder), str(start)], env=child_env()
            )
            for _ in range(6)
        ]
        for racer in racers:
            assert racer.wait(timeout=60) == 0
        spans = [tuple(map(float, p.read_text().split())) for p in folder.glob("held.*")]
        assert spans, "nobody got the lock"
        overlaps = [
            (a, b)
            for i, a in enumerate(spans)
            for b in spans[i + 1 :]
            if a[0] < b[1] and b[0] < a[1]
        ]
        assert not overlaps, f"{len(overlaps)} pairs of processes held the lock together"
