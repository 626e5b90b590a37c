"""Resume is exact: stopped anywhere and resumed, a CPU run ends bit for bit where an
uninterrupted run with the same seed ends (weights of best.pt and last.pt, `torch.equal`).

Dropout is on, so the saved torch RNG state matters as well as the data RNG and the optimiser.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from rel_support import TINY, TrainingZygote, make_text

from shakespeare_tui.core.config import TrainConfig, apply_preset
from shakespeare_tui.core.events import StepLogged
from shakespeare_tui.core.model.checkpoint import read_info
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.training.engine import train

STEPS = 70  # 21 steps per epoch: three epoch ends and a partial fourth
SEED = int(os.environ.get("REL_SEED", time.time_ns() % 1_000_000))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("exact") / "corpus.txt"
    path.write_text(make_text(12_000))
    return path


def _config(corpus: Path, cell: str = "lstm") -> TrainConfig:
    config = apply_preset(TrainConfig(corpus=str(corpus), device="cpu"), "tiny")
    config = replace(config, model=replace(config.model, cell=cell, dropout=0.1))
    return replace(
        config, threads=1, epochs=100, patience=100, log_every=1, max_steps=STEPS, sample_length=20
    )


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)["weights"]


def assert_same_weights(run: Path, reference: Path) -> None:
    for name in ("last.pt", "best.pt"):
        got, want = _weights(run / name), _weights(reference / name)
        assert got.keys() == want.keys()
        for key in want:
            assert torch.equal(got[key], want[key]), f"{name}: {key} differs"
    assert read_info(run / "last.pt").step == read_info(reference / "last.pt").step


@pytest.fixture(scope="module")
def reference(tmp_path_factory, corpus) -> Path:
    home = tmp_path_factory.mktemp("reference")
    threads = torch.get_num_threads()
    try:
        finished = train(_config(corpus), Paths.resolve(home), run_name="ref")
    finally:
        torch.set_num_threads(threads)
    assert finished.reason == "max-steps" and finished.step == STEPS
    return home / "runs" / "ref"


def _stop_at(step: int):
    stop = threading.Event()

    def on_event(event):
        if isinstance(event, StepLogged) and event.step == step:
            stop.set()

    return stop, on_event


def test_stopped_anywhere_and_resumed_ends_bit_for_bit(tmp_path, corpus, reference):
    rng = random.Random(SEED)
    plans = [[rng.randrange(1, STEPS)] for _ in range(3)]
    plans += [[21], sorted(rng.sample(range(1, STEPS), 2))]  # an epoch's end; two stops
    threads = torch.get_num_threads()
    try:
        for i, stops in enumerate(plans):
            paths = Paths.resolve(tmp_path / f"trial{i}")
            stop, on_event = _stop_at(stops[0])
            finished = train(_config(corpus), paths, run_name="r", stop=stop, on_event=on_event)
            assert finished.reason == "stopped" and finished.step == stops[0], (stops, finished)
            last = paths.runs / "r" / "last.pt"
            for at in [*stops[1:], None]:
                stop, on_event = _stop_at(at) if at else (None, None)
                finished = train(None, paths, resume=last, stop=stop, on_event=on_event)
            assert finished.reason == "max-steps", (stops, finished.message)
            assert_same_weights(paths.runs / "r", reference)
    finally:
        torch.set_num_threads(threads)
    print(
        f"\nresume exactness: {len(plans)} trials, stops at {plans}, all bit-identical (seed {SEED})"
    )


@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_every_cell_resumes_bit_for_bit(tmp_path, corpus, cell):
    """The other cells (the LSTM is the tests above): stopped at a random step, resumed."""
    at = random.Random(f"{SEED}-{cell}").randrange(1, STEPS)
    threads = torch.get_num_threads()
    try:
        whole = train(_config(corpus, cell), Paths.resolve(tmp_path / "whole"), run_name="r")
        assert whole.reason == "max-steps" and whole.step == STEPS
        paths = Paths.resolve(tmp_path / "stopped")
        stop, on_event = _stop_at(at)
        stopped = train(_config(corpus, cell), paths, run_name="r", stop=stop, on_event=on_event)
        assert stopped.reason == "stopped" and stopped.step == at
        finished = train(None, paths, resume=paths.runs / "r" / "last.pt")
        assert finished.reason == "max-steps", finished.message
        assert read_info(paths.runs / "r" / "last.pt").model_summary.startswith(cell.upper())
        assert_same_weights(paths.runs / "r", tmp_path / "whole" / "runs" / "r")
    finally:
        torch.set_num_threads(threads)


def test_sigint_to_a_process_then_resume_ends_bit_for_bit(tmp_path, corpus, cli):
    """The CLI end to end: SIGINT to a training process at random moments, resumed by the CLI."""
    rng = random.Random(SEED)
    args = ["train", "--corpus", corpus, *TINY, "--name", "r", "--dropout", "0.1"]
    args += ["--epochs", "100", "--patience", "100", "--max-steps", "300", "--quiet"]
    result = cli("--data-dir", tmp_path / "ref", *args)
    assert result.code == 0, result
    reference = tmp_path / "ref" / "runs" / "r"
    stopped_at = []
    with TrainingZygote() as zygote:
        for i in range(2):
            home = tmp_path / f"t{i}"
            home.mkdir()
            env = {"REL_SAVE_LOG": str(home / "saves.log")}
            proc = zygote.start(["--data-dir", home, *args], env, home / "out.log")
            deadline = time.monotonic() + 60
            while not (home / "saves.log").exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0, 0.5))
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=60) == 130, (home / "out.log").read_text()[-500:]
            step = read_info(home / "runs" / "r" / "last.pt").step
            assert 0 < step < 300
            stopped_at.append(step)
            result = cli("--data-dir", home, "train", "--resume", "r", "--quiet")
            assert result.code == 0, result
            assert_same_weights(home / "runs" / "r", reference)
    print(f"\nSIGINT at steps {stopped_at}, resumed: bit-identical to the uninterrupted run")
