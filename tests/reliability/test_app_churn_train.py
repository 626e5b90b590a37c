"""Churn: start and stop training in the app many times over, resuming one run each time.

No cycle may raise, fail a worker or show an error; threads and open files must not pile up;
every stop must leave a complete, resumable last.pt. Cycles are driven by calling the view's
action (the pilot's `press` waits for the UI to go idle, ~2 s a key beside a busy trainer), and
every PRESS_EVERY-th cycle by real `s` key presses. `CHURN_CYCLES` (default 30,
enough for a leak of a thread or a file a cycle to show; 100 or more for a soak) sets the count.
"""

from __future__ import annotations

import os

# Idle OpenMP threads must sleep, or training beside the UI thread crawls (two spinning torch
# threads beside it trained ~4× slower than headless here; sleeping, at headless speed).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import asyncio  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from textual.worker import Worker, WorkerState  # noqa: E402

from shakespeare_tui.app import make_app  # noqa: E402
from shakespeare_tui.core.events import StepLogged, TrainingFinished, TrainingStarted  # noqa: E402
from shakespeare_tui.messages import TrainingUpdate  # noqa: E402
from tests.app.harness import poll  # noqa: E402

pytestmark = pytest.mark.heavy(20)

CYCLES = int(os.environ.get("CHURN_CYCLES", "30"))
PRESS_EVERY = 10  # every tenth cycle goes through real key presses
FD_SLACK = 8  # one-off handles (first torch use, the app's own) between before and after
SIZE = (120, 40)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def app_threads() -> int:
    """Live threads, less the event loop's default executor ("asyncio_N"): Textual runs thread
    workers there, and the pool (bounded, reused) lives as long as the test's event loop."""
    return sum(not t.name.startswith("asyncio_") for t in threading.enumerate())


def busy_threads() -> list[str]:
    """Other threads whose stack is in this project's code: a worker that never ended."""
    frames = sys._current_frames()
    busy = []
    for thread in threading.enumerate():
        frame = frames.get(thread.ident)
        if thread is threading.current_thread() or frame is None:
            continue
        if any("shakespeare_tui" in f.filename for f in traceback.extract_stack(frame)):
            busy.append(thread.name)
    return busy


async def eventually(predicate, timeout: float = 5.0) -> bool:
    """Wait (outside any app) until `predicate()` holds; False after `timeout`."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open files in /proc")
async def test_start_stop_churn_in_the_app(paths, tiny_settings):

    import torch  # noqa: F401 - loaded before the "before" counts: its own files are not a leak

    from shakespeare_tui.core.model.checkpoint import load_checkpoint

    # Enough epochs that the run never ends by itself during the cycles.
    settings = replace(
        tiny_settings, train=replace(tiny_settings.train, epochs=100_000, patience=100_000)
    )
    events: list = []
    worker_ends: dict[Worker, WorkerState] = {}
    errors: list[str] = []

    def hook(message) -> None:
        if isinstance(message, TrainingUpdate):
            events.append(message.event)
        elif isinstance(message, Worker.StateChanged) and message.worker.group == "train":
            if message.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
                worker_ends[message.worker] = message.state

    def probe() -> tuple[str, str]:
        return ("CPU · 1 thread", "cpu")

    async def wait(predicate, what: str) -> None:
        await poll(predicate, f"cycle {cycle}: {what}", 30.0)

    threads_before = app_threads()
    fds_before = open_fds()
    app = make_app(paths, settings=settings, probe=probe)
    t0 = time.monotonic()
    fds_early = None
    checkpoints: list[str] = []
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        app.notify = lambda message, severity="information", **kw: (
            errors.append(str(message)) if severity == "error" else None
        )
        screen = app.screen
        await pilot.pause()
        for cycle in range(CYCLES):
            by_key = cycle % PRESS_EVERY == 0
            mark = len(events)

            def since(kind, mark=mark):
                return [e for e in events[mark:] if isinstance(e, kind)]

            if by_key:
                await pilot.press("s")
            else:
                screen.action_toggle_training()
            await wait(lambda: since(StepLogged), "a training step")  # noqa: B023
            started = since(TrainingStarted)
            assert started and started[0].resumed == (cycle > 0), started
            if by_key:
                await pilot.press("s")
            else:
                screen.action_toggle_training()
            await wait(lambda: since(TrainingFinished) and not screen.training, "the stop")  # noqa: B023
            finished = since(TrainingFinished)[-1]
            assert finished.reason == "stopped", finished.message
            assert finished.last_checkpoint is not None
            checkpoints.append(finished.last_checkpoint)
            last = load_checkpoint(Path(finished.last_checkpoint))
            assert last.resumable and last.payload["progress"]["step"] == finished.step
            assert not errors, f"cycle {cycle}: {errors}"
            if cycle == min(4, CYCLES - 1):
                fds_early = open_fds()
        fds_late = open_fds()
        await pilot.press("q")
    elapsed = time.monotonic() - t0

    assert app.return_code in (0, None), app.return_code
    assert not errors, errors
    assert len(worker_ends) == CYCLES, f"{len(worker_ends)} train workers ended of {CYCLES}"
    bad = [s for s in worker_ends.values() if s not in (WorkerState.SUCCESS, WorkerState.CANCELLED)]
    assert not bad, bad
    assert len(set(checkpoints)) == 1  # every cycle resumed the same run
    steps = [e.step for e in events if isinstance(e, TrainingFinished)]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)  # each resume went on

    await eventually(lambda: app_threads() <= threads_before)
    threads_after = app_threads()
    fds_after = open_fds()
    print(
        f"\nchurn: {CYCLES} cycles in {elapsed:.1f}s ({elapsed / CYCLES * 1000:.0f} ms each); "
        f"threads {threads_before} → {threads_after}; open files {fds_before} → {fds_after} "
        f"(after cycle 5: {fds_early}, after the last: {fds_late}); final step {steps[-1]}; "
        f"all threads now {threading.active_count()}"
    )
    assert threads_after <= threads_before, f"threads {threads_before} → {threads_after}"
    assert await eventually(lambda: not busy_threads()), f"threads still training: {busy_threads()}"
    assert fds_late - fds_early <= 2, f"open files grew over the cycles: {fds_early} → {fds_late}"
    assert fds_after - fds_before <= FD_SLACK, f"open files {fds_before} → {fds_after}"
