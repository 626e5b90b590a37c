"""Fixtures of the app tests: a scripted trainer, the device probe, waiting, the Runs view's
app, and the data dir of the Generate view's tests (harness.py hosts the views).

`corpus_file` (a small generated text) and `paths` (a fresh data dir) come from tests/conftest.py.
"""

from __future__ import annotations

import os

# Idle OpenMP threads must sleep, or training beside the UI thread crawls (two spinning torch
# threads beside it trained ~4× slower than headless here; sleeping, at headless speed): torch
# reads this once when it loads, so set it before any test imports torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import shutil  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from shakespeare_tui.core.events import (  # noqa: E402
    CheckpointSaved,
    EpochEnded,
    StepLogged,
    TrainingFinished,
    TrainingStarted,
)
from tests.app.harness import fixed_probe, wait_for  # noqa: E402, F401 (the fixtures below use them)


class ScriptedTrainer:
    """Stands in for `core.engine.train`: emits a fixed run mid-way through epoch 3, then waits.

    It honours `stop` as the engine does (returns a "stopped" TrainingFinished), and records the
    calls it got so tests can check what the view asked for.
    """

    def __init__(self, finish: bool = False) -> None:
        self.calls: list[dict] = []
        self.finish = finish
        self.started = threading.Event()

    def events(self):
        yield TrainingStarted(
            run_name="20260101-120000-tiny",
            run_dir="runs/20260101-120000-tiny",
            device="CPU · 2 threads",
            model_summary="LSTM E16/H32",
            parameters=9_242,
            corpus="plays",
            corpus_chars=4_800_000,
            steps_per_epoch=100,
            epochs=5,
            step=0,
            epoch=0,
            resumed=False,
        )
        yield _epoch(0, 0, 4.17, "Fh;kqI'wLpe ZxNo\nyTGm!ab zz")
        loss = 4.1
        for step in range(10, 251, 10):
            epoch = (step - 1) // 100 + 1
            loss = loss * 0.93 + 0.12
            yield StepLogged(
                step=step,
                epoch=epoch,
                epoch_step=step - (epoch - 1) * 100,
                steps_per_epoch=100,
                train_loss=loss + (0.05 if step % 20 else -0.05),
                chars_per_sec=51_200.0,
                elapsed_s=step * 0.01,
                lr=0.01,
            )
            if step % 100 == 0:
                e = step // 100
                sample = {
                    1: "KING:\nThe sore an the wime,\nAnd thou the lof.",
                    2: "HAMLET:\nTo be, or not to be, that is thee.\nWhe nobler in the mind",
                }[e]
                yield _epoch(e, step, loss + 0.1, sample)
                yield CheckpointSaved("runs/x/best.pt", "best", e, step, loss + 0.1)

    def __call__(
        self,
        config,
        paths,
        *,
        on_event=None,
        stop=None,
        sample_now=None,
        run_name=None,
        resume=None,
        resume_overrides=None,
    ):
        self.calls.append({"config": config, "resume": resume, "overrides": resume_overrides})
        for event in self.events():
            on_event(event)
        self.started.set()
        if not self.finish:
            stop.wait()
        finished = TrainingFinished(
            reason="stopped" if not self.finish else "completed",
            message="stopped at step 250 — saved, resume any time"
            if not self.finish
            else "finished",
            step=250,
            epoch=2,
            best_val_loss=2.3,
            best_epoch=2,
            run_dir="runs/x",
            last_checkpoint="runs/x/last.pt",
            best_checkpoint="runs/x/best.pt",
        )
        on_event(finished)
        return finished


def _epoch(epoch: int, step: int, val: float, sample: str) -> EpochEnded:
    return EpochEnded(
        epoch=epoch,
        step=step,
        train_loss=float("nan") if epoch == 0 else val - 0.1,
        val_loss=val,
        best_val_loss=val,
        best_epoch=epoch,
        improved=epoch >= 1,
        patience_left=5,
        sample=sample,
        elapsed_s=step * 0.01,
    )


@pytest.fixture
def scripted() -> ScriptedTrainer:
    return ScriptedTrainer()


@pytest.fixture
def make_scripted():
    """ScriptedTrainer's class, for tests that want one that finishes on its own."""
    return ScriptedTrainer


@pytest.fixture
def probe():
    return fixed_probe


@pytest.fixture
def until():
    """`await until(pilot, predicate, timeout, what)`: see wait_for."""
    return wait_for


@pytest.fixture
def runs_app(paths, probe, monkeypatch):
    """The app on the Runs view over the three runs of runs_fixtures; it records notifications."""
    from shakespeare_tui.app import make_app
    from shakespeare_tui.settings import AppSettings
    from shakespeare_tui.views.runs import screen as runs_screen
    from tests.app.runs_fixtures import make_three

    monkeypatch.setattr(runs_screen, "REFRESH_S", 0.2)  # live updates show within a test
    make_three(paths.runs)
    app = make_app(paths, settings=AppSettings(mode="runs"), probe=probe)
    app.notes = []
    real_notify = app.notify

    def notify(message, *, title="", **kwargs):
        app.notes.append(f"{title}: {message}" if title else str(message))
        real_notify(message, title=title, **kwargs)

    app.notify = notify
    return app


@pytest.fixture
def no_bundled(monkeypatch, tmp_path):
    """Hide the installed bundled checkpoint: lists of checkpoints must not depend on it (a
    module takes it with `pytestmark = pytest.mark.usefixtures("no_bundled")`)."""
    from shakespeare_tui.core.runs import folders as core_runs

    monkeypatch.setattr(core_runs, "bundled_checkpoint", lambda: tmp_path / "none.pt")


@pytest.fixture
def home(trained_run, tmp_path) -> Path:
    """A data dir holding a copy of the session's tiny trained run (tests/conftest.py) as "t".

    A copy, so a test may add runs or break files.
    """
    paths, finished, _ = trained_run
    assert finished.best_checkpoint and finished.last_checkpoint
    copy = tmp_path / "home"
    (copy / "runs").mkdir(parents=True)
    shutil.copytree(Path(finished.run_dir), copy / "runs" / "t")
    return copy
