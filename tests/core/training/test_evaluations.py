"""Evaluations between epoch ends (`eval_every`), samples asked for mid-run, and the record of
how a run ended: what lets a person see progress within minutes rather than once an epoch."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import torch

from shakespeare_tui.core.config import ModelConfig
from shakespeare_tui.core.events import (
    EpochEnded,
    SampleDrawn,
    StepLogged,
    TrainingFinished,
    ValidationStarted,
)
from shakespeare_tui.core.model.network import CharRNN
from shakespeare_tui.core.runs.folders import read_metrics
from shakespeare_tui.core.text import batches as data_module
from shakespeare_tui.core.text.batches import TextData
from shakespeare_tui.core.text.vocab import Vocabulary
from shakespeare_tui.core.training.engine import train
from tests.core.training.engine_runs import STEPS_PER_EPOCH, assert_same_weights, run


def evaluations(events) -> list[tuple[int, int, str]]:
    return [(e.step, e.epoch, e.kind) for e in events if isinstance(e, EpochEnded)]


def test_evaluations_come_every_n_steps_and_at_epoch_ends(make_config, paths):
    finished, events = run(make_config(eval_every=15, max_steps=50), paths, run_name="r")
    assert STEPS_PER_EPOCH == 35
    assert evaluations(events) == [
        (0, 0, "initial"),
        (15, 1, "interim"),
        (30, 1, "interim"),
        (35, 1, "epoch"),
        (45, 2, "interim"),
        (50, 2, "budget"),
    ]
    # Each is announced first (a CPU validation takes seconds), then recorded with its sample.
    kinds = [type(e) for e in events if isinstance(e, (ValidationStarted, EpochEnded))]
    assert kinds == [ValidationStarted, EpochEnded] * 6
    records = [r for r in read_metrics(finished.run_dir) if r["kind"] == "epoch"]
    assert [(r["step"], r["partial"]) for r in records] == [
        (0, False),
        (15, True),
        (30, True),
        (35, False),
        (45, True),
        (50, True),
    ]
    samples = (Path(finished.run_dir) / "samples.txt").read_text()
    assert samples.count("=== ") == 6 and "=== step 15 (epoch 1)" in samples
    # Every interim evaluation leaves a resumable last.pt of that step.
    saves = [(e.kind, e.step) for e in events if type(e).__name__ == "CheckpointSaved"]
    assert ("last", 15) in saves and ("last", 45) in saves


def test_a_budget_end_on_an_evaluation_step_is_evaluated_once(make_config, paths):
    _, events = run(make_config(eval_every=15, max_steps=45), paths, run_name="r")
    assert [s for s, _, _ in evaluations(events)] == [0, 15, 30, 35, 45]


def test_patience_counts_evaluations(make_config, paths, monkeypatch):
    losses = iter([5.0, 3.0, 3.5, 3.6, 3.7, 3.8, 3.9])
    monkeypatch.setattr(TextData, "validation_loss", lambda self, model, autocast: next(losses))
    finished, events = run(make_config(eval_every=10, patience=3), paths, run_name="r")
    assert finished.reason == "early-stopped"
    assert [e.patience_left for e in events if isinstance(e, EpochEnded)][1:] == [3, 2, 1, 0]
    assert finished.step == 35  # evaluations at 10, 20, 30 and the epoch end at 35
    assert "3 evaluations without improvement" in finished.message
    assert "best val 3.0000 at step 10 (epoch 1)" in finished.message


def test_stop_and_resume_with_interim_evaluations_equals_an_uninterrupted_run(
    make_config, tmp_path
):
    from shakespeare_tui.core.paths import Paths

    config = make_config(eval_every=15, max_steps=80)
    whole, _ = run(config, Paths.resolve(tmp_path / "a"), run_name="r")
    paths = Paths.resolve(tmp_path / "b")
    stopped, _ = run(config, paths, run_name="r", stop_at=50)
    resumed, events = run(None, paths, resume=stopped.last_checkpoint)
    assert (resumed.reason, resumed.step) == ("max-steps", 80)
    assert [s for s, _, _ in evaluations(events)] == [60, 70, 75, 80]
    assert_same_weights(whole.last_checkpoint, resumed.last_checkpoint)
    assert_same_weights(whole.best_checkpoint, resumed.best_checkpoint)


def test_a_sample_asked_for_mid_run_comes_from_the_weights_and_leaves_training_alone(
    make_config, tmp_path
):
    from shakespeare_tui.core.paths import Paths

    config = make_config(max_steps=40)
    plain, _ = run(config, Paths.resolve(tmp_path / "a"), run_name="r")

    sample_now = threading.Event()
    events: list = []

    def on_event(event):
        events.append(event)
        if isinstance(event, StepLogged) and event.step == 20:
            sample_now.set()

    asked = train(
        config,
        Paths.resolve(tmp_path / "b"),
        on_event=on_event,
        sample_now=sample_now,
        run_name="r",
    )
    drawn = [e for e in events if isinstance(e, SampleDrawn)]
    assert len(drawn) == 1 and drawn[0].step == 20  # served before the next step
    assert len(drawn[0].text) == config.sample_length
    assert isinstance(events[-1], TrainingFinished)  # drawn before the run's last event
    assert "step 20 · on request" in (Path(asked.run_dir) / "samples.txt").read_text()
    assert_same_weights(plain.last_checkpoint, asked.last_checkpoint)


def test_the_metrics_say_how_the_run_ended(make_config, paths):
    finished, _ = run(make_config(max_steps=20), paths, run_name="r")
    last = read_metrics(finished.run_dir)[-1]
    assert last["kind"] == "finish" and last["reason"] == "max-steps" and last["step"] == 20
    assert last["message"] == finished.message


def test_a_long_held_out_text_is_scored_on_the_same_bounded_subset(monkeypatch):
    vocab = Vocabulary.from_text("abcdefghij")
    torch.manual_seed(0)
    model = CharRNN(ModelConfig(vocab_size=len(vocab), embed=4, hidden=8)).eval()
    text = vocab.encode("".join("abcdefghij"[(i * 7) % 10] for i in range(20_000)))

    def make():
        return TextData(
            text, seq_len=16, batch_size=4, val_fraction=0.2, device=torch.device("cpu"), seed=0
        )

    full = make()
    assert full.val_scored == ((full.val_chars - 1) // 32) * 32
    monkeypatch.setattr(data_module, "VAL_LIMIT", 1_000)
    a, b = make(), make()
    assert a.val_scored == 992  # 32 streams of 31
    assert torch.equal(a._val_streams[0], b._val_streams[0])  # the same subset every time
    loss = a.validation_loss(model, contextlib.nullcontext)
    assert loss == b.validation_loss(model, contextlib.nullcontext)
    assert loss != full.validation_loss(model, contextlib.nullcontext)
