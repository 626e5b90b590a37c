"""Following a run that another process trains: a headless `train` in a subprocess, watched
live in the Train view, read-only, until it ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

from shakespeare_tui.app import make_app
from shakespeare_tui.core.runs.lock import RunLock
from shakespeare_tui.views.train.loss_chart import LossChart
from shakespeare_tui.views.train.progress import TrainProgress

STEPS = 1_000_000  # stopped by SIGINT long before


def headless(paths, corpus_file) -> subprocess.Popen:
    env = dict(os.environ, SHAKESPEARE_TUI_HOME=str(paths.data))
    command = [sys.executable, "-m", "shakespeare_tui", "train", "--preset", "tiny",
               "--corpus", str(corpus_file), "--name", "elsewhere", "--max-steps", str(STEPS),
               "--eval-every", "50", "--epochs", "10000", "--patience", "10000", "--threads", "1", "--sample-length", "20", "--quiet"]  # fmt: skip
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def test_a_run_trained_elsewhere_is_followed_live(paths, tiny_settings, probe, until):
    process = headless(paths, corpus_file=tiny_settings.train.corpus)
    folder = paths.runs / "elsewhere"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
            RunLock(folder).held_by_other_process() and (folder / "metrics.jsonl").is_file()
        ):
            time.sleep(0.1)
        settings = replace(tiny_settings, train=replace(tiny_settings.train, run="elsewhere"))
        app = make_app(paths, settings=settings, probe=probe)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            progress = screen.query_one(TrainProgress)
            await until(pilot, lambda: screen.following == "elsewhere", 30, "following")
            assert "being trained by another process" in progress.status_text
            first = screen._history.step
            await until(pilot, lambda: screen._history.step > first + 20, 60, "new steps shown")
            assert screen.query_one(LossChart).point_count > 20, "the chart shows them"
            await pilot.press("s")  # read-only: its lock refuses a second trainer
            await pilot.pause()
            assert process.poll() is None, "s here never touches the run trained there"
            assert screen.following == "elsewhere" and not screen.training
            process.send_signal(signal.SIGINT)  # Ctrl+C there: it saves and stops
            await until(pilot, lambda: process.poll() is not None, 60, "the run's end")
            await until(pilot, lambda: screen.following is None, 30, "following stopped")
            assert screen._history.state == "stopped"
            assert "stopped" in progress.status_text
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    assert process.returncode == 130, process.stderr.read().decode()
