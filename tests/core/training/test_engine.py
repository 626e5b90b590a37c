"""The training engine: it learns, stops and resumes bit for bit, and ends every run with one
TrainingFinished that says why (completed, early-stopped, max-steps, diverged, …)."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import threading
import types
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from shakespeare_tui.core.cells import CELLS
from shakespeare_tui.core.config import TrainConfig
from shakespeare_tui.core.errors import ResumeConflict, RunLockedError, UserError
from shakespeare_tui.core.events import (
    CheckpointSaved,
    EpochEnded,
    StepLogged,
    TrainingStarted,
)
from shakespeare_tui.core.model.checkpoint import load_checkpoint
from shakespeare_tui.core.runs.folders import read_metrics
from shakespeare_tui.core.text.batches import TextData
from shakespeare_tui.core.training import engine
from shakespeare_tui.core.training.engine import learning_rate, train
from tests.core.training.engine_runs import (
    STEPS_PER_EPOCH,
    assert_same_weights,
    run,
    saved,
    with_model,
)


def epoch_records(history) -> list[tuple]:
    """What must match between runs: everything but the wall-clock time."""
    return [
        (r["epoch"], r["step"], r["val_loss"], r.get("partial"))
        for r in history
        if r.get("kind") == "epoch"
    ]


def of(events, kind) -> list:
    return [e for e in events if isinstance(e, kind)]


# ---------------------------------------------------------------- a whole run


def test_training_lowers_the_validation_loss(trained_run):
    _, finished, events = trained_run
    epochs = of(events, EpochEnded)
    assert [e.epoch for e in epochs] == [0, 1, 2, 3]
    assert epochs[-1].val_loss < epochs[0].val_loss - 0.5
    assert finished.best_val_loss == min(e.val_loss for e in epochs[1:])
    assert math.isnan(epochs[0].train_loss)  # epoch 0 is the untrained model
    assert all(e.sample for e in epochs)


def test_a_run_reports_and_records_everything(trained_run):
    paths, finished, events = trained_run
    assert isinstance(events[0], TrainingStarted) and events[-1] is finished
    started = events[0]
    assert not started.resumed and started.step == 0
    assert started.steps_per_epoch == STEPS_PER_EPOCH
    assert started.model_summary == "LSTM E16/H32"
    assert (finished.reason, finished.epoch, finished.step) == ("completed", 3, 3 * STEPS_PER_EPOCH)

    steps = of(events, StepLogged)
    assert [s.step for s in steps][:4] == [10, 20, 30, 35]  # and the epoch's last step
    assert all(s.chars_per_sec > 0 and s.lr == pytest.approx(1e-2) for s in steps)

    run_dir = Path(finished.run_dir)
    assert run_dir == paths.runs / "trained"
    names = {p.name for p in run_dir.iterdir()}
    assert names == {"config.json", "metrics.jsonl", "samples.txt", "best.pt", "last.pt"}
    config = json.loads((run_dir / "config.json").read_text())
    assert config["train"]["preset"] == "tiny" and config["corpus"]["name"].endswith(".txt")
    records = read_metrics(run_dir)
    assert [r["epoch"] for r in records if r["kind"] == "epoch"] == [0, 1, 2, 3]
    assert len([r for r in records if r["kind"] == "step"]) == len(steps)
    assert (run_dir / "samples.txt").read_text().count("=== epoch") == 4
    assert saved(finished.last_checkpoint)["history"] == [
        r for r in records if r["kind"] == "epoch"
    ]


@pytest.mark.parametrize("cell", CELLS)
def test_every_cell_trains_samples_and_records_its_cell(make_config, paths, cell):
    finished, events = run(with_model(make_config(epochs=2), cell=cell), paths, run_name=cell)
    assert finished.reason == "completed", finished.message
    assert events[0].model_summary == f"{cell.upper()} E16/H32"
    epochs = of(events, EpochEnded)
    assert epochs[-1].val_loss < epochs[0].val_loss - 0.4
    assert all(e.sample for e in epochs)
    config = json.loads((Path(finished.run_dir) / "config.json").read_text())
    assert config["train"]["model"]["cell"] == cell
    assert load_checkpoint(finished.best_checkpoint).model_config.cell == cell


def test_same_seed_same_run(make_config, paths, trained_run):
    _, first, _ = trained_run
    again, _ = run(make_config(), paths)
    assert_same_weights(first.last_checkpoint, again.last_checkpoint)
    assert first.best_val_loss == again.best_val_loss


# ---------------------------------------------------------------- stop and resume


RESUME_CASES = {
    "fp32": {"bf16": False},
    "default-precision": {"bf16": None},
    "cosine-dropout-2-layers": {
        "bf16": False,
        "schedule": "cosine",
        "warmup_steps": 10,
        "model": {"layers": 2, "dropout": 0.2},
    },
    "gru": {"bf16": False, "model": {"cell": "gru"}},
    "rnn-dropout-2-layers": {"bf16": False, "model": {"cell": "rnn", "layers": 2, "dropout": 0.2}},
}


def case_config(make_config, case: str, **overrides) -> TrainConfig:
    settings = dict(RESUME_CASES[case])
    model = settings.pop("model", {})
    return with_model(make_config(**settings, **overrides), **model)


@pytest.mark.parametrize("case", list(RESUME_CASES))
def test_stop_and_resume_equals_an_uninterrupted_run(make_config, tmp_path, case):
    """Stopped at step 50 (mid epoch 2), resumed across the epoch-2 boundary to a mid-epoch-3
    budget of 80 steps: the same weights, bit for bit, and the same validation losses."""
    from shakespeare_tui.core.paths import Paths

    config = case_config(make_config, case, max_steps=80)
    whole, _ = run(config, Paths.resolve(tmp_path / "a"), run_name="r")
    assert (whole.reason, whole.step) == ("max-steps", 80)

    paths = Paths.resolve(tmp_path / "b")
    stopped, _ = run(config, paths, run_name="r", stop_at=50)
    assert (stopped.reason, stopped.step, stopped.epoch) == ("stopped", 50, 1)
    assert not (Path(stopped.run_dir) / ".lock").exists()
    resumed, events = run(None, paths, resume=stopped.last_checkpoint)

    started = events[0]
    assert started.resumed and (started.step, started.epoch) == (50, 1)
    assert [r["epoch"] for r in started.history if r["kind"] == "epoch"] == [0, 1]
    assert resumed.run_dir == stopped.run_dir
    assert (resumed.reason, resumed.step, resumed.epoch) == ("max-steps", 80, 2)
    assert_same_weights(whole.last_checkpoint, resumed.last_checkpoint)
    assert_same_weights(whole.best_checkpoint, resumed.best_checkpoint)
    a, b = saved(whole.last_checkpoint), saved(resumed.last_checkpoint)
    assert epoch_records(a["history"]) == epoch_records(b["history"])
    assert a["progress"]["best_val_loss"] == b["progress"]["best_val_loss"]
    assert resumed.best_val_loss == whole.best_val_loss
    # metrics.jsonl reads as one run: each step once, in order.
    steps = [r["step"] for r in read_metrics(resumed.run_dir) if r["kind"] == "step"]
    assert steps == sorted(set(steps)) and steps[-1] == 80


class StopBeforeStep:
    """A stop flag that reads as set from the check before step `n + 1` on (between logs)."""

    def __init__(self, n: int):
        self.calls, self.n = 0, n

    def is_set(self) -> bool:
        self.calls += 1
        return self.calls > self.n


def test_a_stop_between_progress_logs_loses_nothing(make_config, tmp_path):
    from shakespeare_tui.core.paths import Paths

    config = make_config(max_steps=80)
    whole, _ = run(config, Paths.resolve(tmp_path / "a"), run_name="r")
    paths = Paths.resolve(tmp_path / "b")
    events: list = []
    stopped = train(config, paths, run_name="r", stop=StopBeforeStep(47), on_event=events.append)
    assert (stopped.reason, stopped.step) == ("stopped", 47)
    assert [e.step for e in of(events, StepLogged)][-2:] == [40, 47]  # the last 7 steps logged
    resumed, _ = run(None, paths, resume=stopped.last_checkpoint)
    assert_same_weights(whole.last_checkpoint, resumed.last_checkpoint)
    a, b = saved(whole.last_checkpoint)["history"], saved(resumed.last_checkpoint)["history"]
    assert epoch_records(a) == epoch_records(b)
    for x, y in zip(a[1:], b[1:], strict=True):  # epoch 2 straddles the stop: same train loss
        assert x["train_loss"] == pytest.approx(y["train_loss"], rel=1e-5)


def test_resume_from_a_checkpoint_saved_at_an_epoch_end(make_config, tmp_path):
    from shakespeare_tui.core.paths import Paths

    config = make_config(max_steps=80)
    epoch_one = tmp_path / "epoch1.pt"
    whole, _ = run(
        config, Paths.resolve(tmp_path / "a"), run_name="r", keep={("last", 1): epoch_one}
    )
    assert saved(epoch_one)["progress"]["step"] == STEPS_PER_EPOCH

    paths = Paths.resolve(tmp_path / "b")
    resumed, events = run(None, paths, resume=epoch_one, run_name="again")
    assert events[0].resumed and events[0].step == STEPS_PER_EPOCH
    assert Path(resumed.run_dir) == paths.runs / "again"
    assert (resumed.reason, resumed.step) == ("max-steps", 80)
    assert_same_weights(whole.last_checkpoint, resumed.last_checkpoint)
    assert epoch_records(saved(whole.last_checkpoint)["history"]) == epoch_records(
        saved(resumed.last_checkpoint)["history"]
    )


def test_stop_exactly_at_an_epoch_end_then_resume(make_config, tmp_path):
    from shakespeare_tui.core.paths import Paths

    config = make_config(max_steps=2 * STEPS_PER_EPOCH)
    whole, _ = run(config, Paths.resolve(tmp_path / "a"), run_name="r")
    paths = Paths.resolve(tmp_path / "b")
    stopped, _ = run(config, paths, run_name="r", stop_at=STEPS_PER_EPOCH)
    assert (stopped.reason, stopped.step, stopped.epoch) == ("stopped", STEPS_PER_EPOCH, 1)
    resumed, _ = run(None, paths, resume=stopped.last_checkpoint)
    assert (resumed.step, resumed.epoch) == (whole.step, whole.epoch) == (70, 2)
    assert_same_weights(whole.last_checkpoint, resumed.last_checkpoint)
    history = saved(resumed.last_checkpoint)["history"]
    assert epoch_records(saved(whole.last_checkpoint)["history"]) == epoch_records(history)
    assert [r["epoch"] for r in history] == [0, 1, 2]  # epoch 1 validated once, not twice


def test_budget_end_mid_epoch_counts_every_step_in_its_train_loss(make_config, paths):
    """max-steps between two progress logs: the steps since the last log still count."""
    fine, _ = run(make_config(max_steps=45, log_every=1), paths, run_name="fine")
    coarse, _ = run(make_config(max_steps=45, log_every=10), paths, run_name="coarse")
    assert_same_weights(fine.last_checkpoint, coarse.last_checkpoint)
    partial = [saved(f.last_checkpoint)["history"][-1] for f in (fine, coarse)]
    assert all(r["partial"] and r["step"] == 45 for r in partial)
    assert partial[1]["train_loss"] == pytest.approx(partial[0]["train_loss"], rel=1e-5)


def test_resume_with_the_same_max_steps_ends_at_once(make_config, paths):
    first, _ = run(make_config(max_steps=45), paths, run_name="r")
    before = saved(first.last_checkpoint)
    metrics_before = (Path(first.run_dir) / "metrics.jsonl").read_text()

    again, events = run(None, paths, resume=first.last_checkpoint)

    assert (again.reason, again.step) == ("max-steps", 45)
    assert not of(events, StepLogged) and not of(events, EpochEnded)
    assert (Path(first.run_dir) / "metrics.jsonl").read_text() == metrics_before
    assert saved(again.last_checkpoint)["history"] == before["history"]

    longer, _ = run(None, paths, resume=first.last_checkpoint, resume_overrides={"max_steps": 60})
    assert (longer.reason, longer.step) == ("max-steps", 60)


def test_resume_of_a_completed_run_with_more_epochs(make_config, trained_run, tmp_path):
    from shakespeare_tui.core.paths import Paths

    _, finished, _ = trained_run
    paths = Paths.resolve(tmp_path / "copy")
    shutil.copytree(Path(finished.run_dir).parent.parent, paths.data)
    last = paths.runs / "trained" / "last.pt"

    same, events = run(None, paths, resume=last)
    assert same.reason == "completed" and same.step == finished.step
    assert not of(events, StepLogged)

    # A setting a resume cannot change is refused when it differs, and named with its value...
    with pytest.raises(ResumeConflict, match="seed 5 differs from this run's seed 1337"):
        run(None, paths, resume=last, resume_overrides={"epochs": 4, "seed": 5})
    # ...and accepted when it is the run's own (the starting command repeated with a resume).
    more, events = run(None, paths, resume=last, resume_overrides={"epochs": 4, "seed": 1337})
    assert (more.reason, more.epoch, more.step) == ("completed", 4, 4 * STEPS_PER_EPOCH)
    assert saved(more.last_checkpoint)["train_config"]["seed"] == 1337


def test_stop_before_the_first_step_then_resume(make_config, paths):
    stop = threading.Event()
    stop.set()
    stopped = train(make_config(max_steps=20), paths, stop=stop, run_name="r")
    assert (stopped.reason, stopped.step) == ("stopped", 0)
    assert stopped.last_checkpoint

    resumed, events = run(None, paths, resume=stopped.last_checkpoint)
    assert events[0].resumed and (resumed.reason, resumed.step) == ("max-steps", 20)
    history = saved(resumed.last_checkpoint)["history"]
    assert [(r["epoch"], r["partial"]) for r in history] == [(0, False), (1, True)]
    records = [r for r in read_metrics(resumed.run_dir) if r["kind"] == "epoch"]
    assert records == history  # the untrained model validated once, not once per start


def test_a_corpus_file_is_found_again_from_another_folder(make_config, tmp_path, monkeypatch):
    from shakespeare_tui.core.paths import Paths

    paths = Paths.resolve(tmp_path / "home")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    source = Path(make_config().corpus)
    shutil.copy(source, tmp_path / "a" / "text.txt")
    monkeypatch.chdir(tmp_path / "a")
    first, _ = run(replace(make_config(max_steps=10), corpus="text.txt"), paths, run_name="r")
    monkeypatch.chdir(tmp_path / "b")
    resumed, _ = run(None, paths, resume=first.last_checkpoint, resume_overrides={"max_steps": 20})
    assert (resumed.reason, resumed.step) == ("max-steps", 20)


def test_resume_of_a_gpu_run_on_the_cpu(make_config, paths, tmp_path):
    """A CUDA run saves a CUDA batch-RNG state (16 bytes), which a CPU generator refuses."""
    from shakespeare_tui.core.model.checkpoint import save_checkpoint

    stopped, _ = run(make_config(max_steps=40), paths, run_name="r", stop_at=20)
    payload = saved(stopped.last_checkpoint)
    payload["resume"]["data_rng"] = torch.zeros(16, dtype=torch.uint8)
    payload["resume"]["cuda_rng"] = torch.zeros(16, dtype=torch.uint8)
    save_checkpoint(stopped.last_checkpoint, payload)

    resumed, events = run(None, paths, resume=stopped.last_checkpoint)
    assert (resumed.reason, resumed.step) == ("max-steps", 40)
    assert any("another kind of device" in note for note in events[0].notes)


def test_resume_into_another_existing_run_is_refused(make_config, paths):
    a, _ = run(make_config(max_steps=10), paths, run_name="a")
    b, _ = run(make_config(max_steps=10), paths, run_name="b")
    before = {p.name: p.read_bytes() for p in Path(b.run_dir).iterdir()}
    with pytest.raises(UserError, match="already exists"):
        train(None, paths, resume=a.last_checkpoint, run_name="b")
    assert {p.name: p.read_bytes() for p in Path(b.run_dir).iterdir()} == before
    # Naming the checkpoint's own run, or a new one, is fine.
    same, _ = run(
        None, paths, resume=a.last_checkpoint, run_name="a", resume_overrides={"max_steps": 15}
    )
    assert same.run_dir == a.run_dir and same.step == 15
    new, _ = run(
        None, paths, resume=a.last_checkpoint, run_name="c", resume_overrides={"max_steps": 20}
    )
    assert Path(new.run_dir) == paths.runs / "c" and new.step == 20


def test_resume_trims_metrics_logged_after_the_checkpoint(make_config, paths):
    stopped, _ = run(make_config(max_steps=80), paths, run_name="r", stop_at=30)
    metrics = Path(stopped.run_dir) / "metrics.jsonl"
    with open(metrics, "a") as f:  # what a kill between a log and the next save leaves
        f.write(json.dumps({"kind": "step", "step": 40, "ghost": True}) + "\n")
        f.write('{"kind": "step", "st')  # and a torn line
    resumed, events = run(None, paths, resume=stopped.last_checkpoint)
    assert not any(r.get("ghost") for r in events[0].history)
    records = read_metrics(resumed.run_dir)
    assert not any(r.get("ghost") for r in records)
    assert [r["step"] for r in records if r["kind"] == "step"] == [
        10,
        20,
        30,
        35,
        40,
        50,
        60,
        70,
        80,
    ]


# ---------------------------------------------------------------- ends of a run


def test_non_finite_loss_ends_as_diverged_and_keeps_the_checkpoints(
    make_config, paths, monkeypatch
):
    """A NaN loss in epoch 2: the run says so, and best.pt/last.pt from epoch 1 are untouched."""
    calls = {"n": 0}

    def cross_entropy(*args, **kwargs):
        calls["n"] += 1
        loss = F.cross_entropy(*args, **kwargs)
        return loss * float("nan") if calls["n"] > STEPS_PER_EPOCH + 12 else loss

    copies = {("best", 1): paths.data / "best1.pt", ("last", 1): paths.data / "last1.pt"}
    monkeypatch.setattr(engine, "F", types.SimpleNamespace(cross_entropy=cross_entropy))
    finished, events = run(make_config(), paths, run_name="r", keep=copies)

    assert finished.reason == "diverged"
    assert "lower the learning rate" in finished.message
    assert finished.step == 50  # NaN from step 48, found at the next progress log
    assert (finished.epoch, finished.best_epoch) == (1, 1)
    best, last = Path(finished.best_checkpoint), Path(finished.last_checkpoint)
    assert best.read_bytes() == copies[("best", 1)].read_bytes()
    assert last.read_bytes() == copies[("last", 1)].read_bytes()
    assert all(torch.isfinite(p).all() for p in load_checkpoint(best).model.parameters())
    assert not (Path(finished.run_dir) / ".lock").exists()


def test_divergence_just_before_a_budget_end_is_not_saved(make_config, paths, monkeypatch):
    """NaN from step 48, after the last progress log (40), then max-steps 49: no NaN last.pt."""
    calls = {"n": 0}

    def cross_entropy(*args, **kwargs):
        calls["n"] += 1
        loss = F.cross_entropy(*args, **kwargs)
        return loss * float("nan") if calls["n"] > STEPS_PER_EPOCH + 12 else loss

    monkeypatch.setattr(engine, "F", types.SimpleNamespace(cross_entropy=cross_entropy))
    keep = {("last", 1): paths.data / "last1.pt"}
    finished, _ = run(make_config(max_steps=49), paths, run_name="r", keep=keep)
    assert finished.reason == "diverged"
    assert Path(finished.last_checkpoint).read_bytes() == keep[("last", 1)].read_bytes()
    load_checkpoint(finished.last_checkpoint)  # still loads: finite weights


def test_early_stopping_after_patience_epochs(make_config, paths, monkeypatch):
    losses = iter([4.0, 3.0, 3.1, 3.0, 3.2, 2.0])  # epoch 0, 1 (best), then no improvement

    monkeypatch.setattr(TextData, "validation_loss", lambda self, model, autocast: next(losses))
    finished, events = run(make_config(epochs=10, patience=3), paths, run_name="r")

    assert finished.reason == "early-stopped"
    assert (finished.epoch, finished.best_epoch, finished.best_val_loss) == (4, 1, 3.0)
    assert [e.patience_left for e in of(events, EpochEnded)] == [3, 3, 2, 1, 0]
    assert "3 evaluations without improvement" in finished.message
    assert saved(finished.best_checkpoint)["progress"]["epoch"] == 1


def test_all_epochs_complete(make_config, paths):
    finished, events = run(make_config(epochs=2), paths, run_name="r")
    assert (finished.reason, finished.epoch) == ("completed", 2)
    assert "finished 2 epochs" in finished.message
    kinds = [(e.kind, e.epoch) for e in of(events, CheckpointSaved)]
    assert ("last", 2) in kinds and ("best", 1) in kinds


def test_max_minutes_ends_the_run(make_config, paths):
    finished, _ = run(make_config(epochs=100, max_minutes=0.01), paths, run_name="r")
    assert finished.reason == "max-minutes"
    assert saved(finished.last_checkpoint)["progress"]["finished"] == "max-minutes"


# ---------------------------------------------------------------- the run lock


def test_lock_is_released_when_a_listener_raises(make_config, paths):
    def explode(event):
        if isinstance(event, StepLogged):
            raise RuntimeError("listener bug")

    with pytest.raises(RuntimeError):
        train(make_config(), paths, on_event=explode, run_name="r")
    assert not (paths.runs / "r" / ".lock").exists()


def test_a_run_held_by_a_live_process_is_refused(make_config, paths):
    stopped, _ = run(make_config(), paths, run_name="r", stop_at=10)
    lock = Path(stopped.run_dir) / ".lock"
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock.write_text(str(holder.pid))
        with pytest.raises(RunLockedError, match="another process"):
            train(None, paths, resume=stopped.last_checkpoint)
        assert lock.read_text() == str(holder.pid)  # not taken over
    finally:
        holder.kill()
        holder.wait()
    # The holder is dead now: its stale lock is taken over.
    resumed, _ = run(None, paths, resume=stopped.last_checkpoint, resume_overrides={"epochs": 1})
    assert resumed.reason == "completed"
    assert not lock.exists()


# ---------------------------------------------------------------- refusals


def test_an_existing_run_name_is_refused(make_config, trained_run):
    paths, _, _ = trained_run
    with pytest.raises(UserError, match="already exists"):
        train(make_config(), paths, run_name="trained")


@pytest.mark.parametrize("name", ["../escape", "a/b", "", ".hidden", "x" * 81])
def test_bad_run_names_are_refused(make_config, paths, name):
    with pytest.raises(UserError):
        train(make_config(), paths, run_name=name or " ")
    assert list(paths.runs.iterdir()) == []


def test_resume_needs_training_state_and_the_same_corpus(make_config, trained_run, tmp_path):
    from shakespeare_tui.core.model.checkpoint import save_checkpoint
    from shakespeare_tui.core.paths import Paths

    _, finished, _ = trained_run
    paths = Paths.resolve(tmp_path / "home")
    checkpoint = load_checkpoint(finished.last_checkpoint)
    payload = dict(checkpoint.payload, resume=None)
    weights_only = tmp_path / "weights-only.pt"
    save_checkpoint(weights_only, payload)
    with pytest.raises(UserError, match="no training state"):
        train(None, paths, resume=weights_only)

    other = tmp_path / "other.txt"
    text = Path(saved(finished.last_checkpoint)["train_config"]["corpus"]).read_text()
    other.write_text(text[::-1])
    changed = dict(checkpoint.payload)
    changed["train_config"] = dict(changed["train_config"], corpus=str(other))
    moved = tmp_path / "moved.pt"
    save_checkpoint(moved, changed)
    with pytest.raises(UserError, match="changed since this run started"):
        train(None, paths, resume=moved)


def test_nothing_to_train_is_refused(paths):
    with pytest.raises(UserError):
        train(None, paths)


# ---------------------------------------------------------------- the learning-rate schedule


def test_constant_schedule():
    config = TrainConfig(lr=3e-3, schedule="constant", warmup_steps=10)
    assert {learning_rate(config, s, 100) for s in (0, 5, 50, 99, 500)} == {3e-3}


def test_cosine_schedule_warms_up_then_decays_to_a_tenth():
    config = TrainConfig(lr=1e-2, schedule="cosine", warmup_steps=10)
    rates = [learning_rate(config, s, 110) for s in range(111)]
    assert rates[0] == pytest.approx(1e-3)
    assert rates[5] == pytest.approx(1e-3 + 0.5 * 9e-3)
    assert rates[10] == pytest.approx(1e-2)
    assert rates[60] == pytest.approx(5.5e-3)  # half-way down the cosine
    assert rates[110] == pytest.approx(1e-3)
    assert all(a < b for a, b in zip(rates[:10], rates[1:11], strict=True))
    assert all(a > b for a, b in zip(rates[10:110], rates[11:111], strict=True))
    assert learning_rate(config, 500, 110) == pytest.approx(1e-3)  # past the plan: stays low


def test_cosine_schedule_with_no_room_after_warm_up():
    config = TrainConfig(lr=1e-2, schedule="cosine", warmup_steps=50)
    for step in (0, 20, 49, 50, 60):
        rate = learning_rate(config, step, 30)
        assert 1e-3 - 1e-12 <= rate <= 1e-2 + 1e-12


def test_cosine_run_logs_the_scheduled_rates(make_config, paths):
    config = make_config(schedule="cosine", warmup_steps=20, max_steps=70, log_every=1)
    _, events = run(config, paths, run_name="r")
    logged = {e.step: e.lr for e in of(events, StepLogged)}
    assert logged[1] == pytest.approx(1e-3)  # the rate used for the first step (step 0)
    assert logged[21] == pytest.approx(1e-2)
    assert logged[70] == pytest.approx(learning_rate(config, 69, 70))
    assert logged[70] < 1.1e-3


# ---------------------------------------------------------------- the run's own files


def test_a_metrics_file_that_cannot_be_read_stops_the_resume_and_stays(
    make_config, paths, monkeypatch
):
    """A failed read must never become an empty history written over the real one."""
    import builtins

    from shakespeare_tui.core.runs import folders as runs

    stopped, _ = run(make_config(max_steps=20), paths, stop_at=10, run_name="r")
    metrics = Path(stopped.run_dir) / "metrics.jsonl"
    before = metrics.read_bytes()
    assert before.count(b"\n") >= 2

    def failing_open(file, mode="r", *args, **kwargs):
        if Path(file) == metrics and "r" in mode:
            raise OSError(5, "Input/output error")
        return builtins.open(file, mode, *args, **kwargs)

    monkeypatch.setattr(runs, "open", failing_open, raising=False)
    with pytest.raises(UserError, match="cannot read .*metrics.jsonl: Input/output error"):
        train(None, paths, resume=stopped.last_checkpoint)
    assert metrics.read_bytes() == before


def test_log_write_failures_are_reported_once_and_training_goes_on(make_config, paths, monkeypatch):
    import builtins

    from shakespeare_tui.core.events import LogWriteFailed
    from shakespeare_tui.core.runs import folders as runs

    def full_disk(file, mode="r", *args, **kwargs):
        if "a" in mode:
            raise OSError(28, "No space left on device")
        return builtins.open(file, mode, *args, **kwargs)

    monkeypatch.setattr(runs, "open", full_disk, raising=False)
    finished, events = run(make_config(max_steps=2 * STEPS_PER_EPOCH), paths, run_name="full")
    assert finished.reason == "max-steps" and finished.step == 2 * STEPS_PER_EPOCH
    failures = [e for e in events if isinstance(e, LogWriteFailed)]
    assert sorted(Path(e.path).name for e in failures) == ["metrics.jsonl", "samples.txt"]
    assert all("No space left on device" in e.message for e in failures)
    assert load_checkpoint(Path(finished.last_checkpoint)).payload["history"]  # still recorded


def test_a_run_and_its_resume_say_their_patience_as_they_start(make_config, paths):
    """The Train view's status line shows "patience" from TrainingStarted, after a resume too,
    with the resume's own patience where it changed it."""
    first, events = run(make_config(max_steps=45, patience=3), paths, run_name="r")
    assert of(events, TrainingStarted)[0].patience == 3
    _, events = run(None, paths, resume=first.last_checkpoint, resume_overrides={"max_steps": 50})
    assert of(events, TrainingStarted)[0].patience == 3
    _, events = run(
        None, paths, resume=first.last_checkpoint, resume_overrides={"max_steps": 55, "patience": 7}
    )
    assert of(events, TrainingStarted)[0].patience == 7
