"""Killed mid-run: SIGKILL at random moments (some inside a checkpoint write), SIGTERM and SIGINT.

Each trial starts a headless training process (the CLI, forked from a process that has already
imported torch: see rel_support.TrainingZygote), waits for its first complete checkpoint, then signals
it: after a random 0–1.5 s, or exactly halfway through writing a checkpoint (the write is slowed
down so the signal lands inside it). Afterwards the newest complete checkpoint must load, nothing
the process finished saving may be lost, and `train --resume` must continue from it. SIGTERM and
SIGINT must save before exiting 130, at the step the process reached; a second SIGINT right after
the first ("I mean it") exits 130 at once, without saving but without damage, and says which
checkpoint remains.

The trials run two at a time; `pytest -s` shows the summary line. REL_SEED=N replays a run.
"""

from __future__ import annotations

import os
import random
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from rel_support import TINY, TrainingZygote

from shakespeare_tui.core.model.checkpoint import load_checkpoint
from shakespeare_tui.core.runs.folders import read_metrics
from shakespeare_tui.core.runs.lock import RunLock

pytestmark = pytest.mark.heavy(15)

# SIGKILL: half at a random moment, half halfway through a write; REL_KILL_TRIALS=40 for a soak
KILL_TRIALS = int(os.environ.get("REL_KILL_TRIALS", "10"))
GRACEFUL_TRIALS = 3  # each of SIGTERM and SIGINT
DOUBLE_SIGINT_TRIALS = 2
SLOW_WRITE_S = 0.25
SEED = int(os.environ.get("REL_SEED", time.time_ns() % 1_000_000))


@dataclass
class Trial:
    index: int
    sig: signal.Signals
    mid_write: bool  # wait for the halfway mark of a write, then signal at once
    slow: bool  # checkpoint writes take SLOW_WRITE_S longer
    delay: float  # otherwise: seconds after the first checkpoint
    home: Path
    returncode: int | None = None
    saved: list[tuple[str, int]] = field(default_factory=list)
    temps_after_kill: list[str] = field(default_factory=list)
    output: str = ""
    double: bool = False  # a second signal 50 ms after the first

    @property
    def run_dir(self) -> Path:
        return self.home / "runs" / "r"

    def last_saved(self, kind: str) -> int | None:
        """The step of the last `kind` save the process finished (renamed into place)."""
        steps = [step for k, step in self.saved if k == kind]
        return steps[-1] if steps else None


def _saved(log: Path) -> list[tuple[str, int]]:
    try:
        lines = log.read_text().splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        kind, _, step = line.partition(" ")
        if step.isdigit():
            out.append((kind, int(step)))
    return out


def _wait_for(predicate, proc, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if proc.poll() is not None:
            return predicate()
        time.sleep(0.01)
    return False


def _run_trial(zygote: TrainingZygote, trial: Trial, corpus: Path) -> Trial:
    trial.home.mkdir(parents=True)
    save_log, mark, out = trial.home / "saves.log", trial.home / "writing", trial.home / "out.log"
    env = {
        "REL_SAVE_LOG": str(save_log),
        "REL_SLOW_WRITE": str(SLOW_WRITE_S if trial.slow else 0),
        "REL_WRITING": str(mark),
    }
    argv = ["--data-dir", trial.home, "train", "--corpus", corpus, "--name", "r", *TINY]
    argv += ["--epochs", "10000", "--patience", "10000", "--quiet"]
    proc = zygote.start(argv, env, out)
    try:
        first = _wait_for(lambda: "last" in dict(_saved(save_log)), proc, timeout=90)
        assert first, f"trial {trial.index}: no checkpoint within 90 s: {out.read_text()[-800:]}"
        if trial.mid_write:
            mark.unlink(missing_ok=True)
            assert _wait_for(mark.exists, proc, timeout=30), "no checkpoint write started"
        else:
            time.sleep(trial.delay)
        assert proc.poll() is None, f"trial {trial.index} ended before the fault"
        proc.send_signal(trial.sig)
        if trial.double:
            time.sleep(0.05)
            if proc.poll() is None:
                proc.send_signal(trial.sig)
        trial.returncode = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    trial.saved = _saved(save_log)
    trial.temps_after_kill = sorted(p.name for p in trial.run_dir.glob(".*.tmp"))
    trial.output = out.read_text(errors="replace")
    return trial


def _plan(tmp_path: Path) -> list[Trial]:
    rng = random.Random(SEED)
    trials = []

    def add(sig, mid_write: bool, slow: bool, double: bool = False) -> None:
        i = len(trials)
        trials.append(
            Trial(i, sig, mid_write, slow, rng.uniform(0, 1.5), tmp_path / f"t{i}", double=double)
        )

    for i in range(KILL_TRIALS):  # odd: inside a write; every fourth: a random moment, slow writes
        add(signal.SIGKILL, mid_write=i % 2 == 1, slow=i % 4 != 0)
    for sig in (signal.SIGTERM, signal.SIGINT):
        for j in range(GRACEFUL_TRIALS):
            add(sig, mid_write=j == 0, slow=j == 0)
    for j in range(DOUBLE_SIGINT_TRIALS):  # Ctrl+C twice: "I mean it" — no save, but no damage
        add(signal.SIGINT, mid_write=j == 0, slow=True, double=True)
    return trials


def _metrics_steps(run_dir: Path) -> list[int]:
    return [r["step"] for r in read_metrics(run_dir) if r.get("kind") == "step"]


def test_killed_training_always_leaves_a_resumable_checkpoint(tmp_path, small_corpus, cli):
    trials = _plan(tmp_path)
    with TrainingZygote() as zygote, ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(lambda t: _run_trial(zygote, t, small_corpus), trials))

    lost = resumed = stale_locks = mid_write = 0
    for trial in done:
        what = f"trial {trial.index} ({trial.sig.name}, seed {SEED})"
        last = trial.run_dir / "last.pt"
        checkpoint = load_checkpoint(last)  # the newest complete checkpoint loads
        step = checkpoint.payload["progress"]["step"]
        mid_write += bool(trial.temps_after_kill)
        # Everything the process finished saving is still there.
        lost += step < trial.last_saved("last")
        if trial.last_saved("best") is not None:
            best = load_checkpoint(trial.run_dir / "best.pt")
            lost += best.payload["progress"]["step"] < trial.last_saved("best")
        if trial.sig == signal.SIGKILL:
            assert trial.returncode == -signal.SIGKILL, what
            stale_locks += RunLock(trial.run_dir).owner() is not None
        elif trial.double:
            assert trial.returncode == 130, f"{what}: {trial.output[-600:]}"
            assert "Traceback" not in trial.output, what
            # It says what survived, truly: the checkpoint a resume starts from, at its step
            # (unless the first stop had already saved and ended, which it then said).
            remains = f"last.pt, at step {step:,}, is what remains" in trial.output
            assert remains or f"stopped at step {step:,}" in trial.output, (
                f"{what}: {trial.output[-600:]}"
            )
        else:  # a graceful stop saves where it stopped, finishes its writes, lets go of the lock
            assert trial.returncode == 130, f"{what}: {trial.output[-600:]}"
            match = re.search(r"stopped at step (\d+)", trial.output)
            assert match, f"{what}: {trial.output[-600:]}"
            assert step == int(match.group(1)), f"{what}: last.pt is not the step reached"
            assert trial.saved[-1] == ("last", step), what
            assert not trial.temps_after_kill, f"{what}: left {trial.temps_after_kill}"
            assert not (trial.run_dir / ".lock").exists(), f"{what}: lock not released"

        result = cli(
            "--data-dir", trial.home, "train", "--resume", "r", "--max-steps", step + 2, "--quiet"
        )
        assert result.code == 0, f"{what}: resume failed: {result.err or result.out[-600:]}"
        assert f"step {step} " in " ".join(result.out.split()) + " ", f"{what}: not from {step}"
        assert load_checkpoint(last).payload["progress"]["step"] == step + 2, what
        assert not list(trial.run_dir.glob(".*.tmp")), f"{what}: stale temp files after resume"
        # The steps logged after the checkpoint by the killed process are dropped, not repeated.
        steps = _metrics_steps(trial.run_dir)
        assert steps == sorted(set(steps)) and steps[-1] == step + 2, f"{what}: {steps[-8:]}"
        resumed += 1

    graceful = 2 * GRACEFUL_TRIALS
    print(
        f"\nreliability: {len(done)} kill trials (SIGKILL {KILL_TRIALS}, SIGTERM "
        f"{GRACEFUL_TRIALS}, SIGINT {GRACEFUL_TRIALS}, double SIGINT {DOUBLE_SIGINT_TRIALS}; "
        f"{mid_write} landed mid-write), faults injected {len(done)}, checkpoints lost {lost}, "
        f"resumed {resumed}/{len(done)}, stale locks taken over {stale_locks}, "
        f"graceful saves {graceful}/{graceful} (seed {SEED})"
    )
    assert lost == 0
    assert mid_write >= KILL_TRIALS // 2, "the slowed writes were not hit"
