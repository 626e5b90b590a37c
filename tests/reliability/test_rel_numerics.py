"""Numerical faults: a loss that becomes NaN stops training as "diverged", checkpoints untouched.

No learning rate the config allows (< 10) reliably makes the tiny model's loss NaN: gradient
clipping and Adam's normalised steps keep it finite (lr 9.9 with clipping off reached a loss of
~30, still finite). So the fault is injected: a model whose outputs turn NaN after a given
number of forward passes, in training or only in validation.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from rel_support import TINY, make_text

from shakespeare_tui.core.config import TrainConfig, apply_preset
from shakespeare_tui.core.events import CheckpointSaved
from shakespeare_tui.core.model.network import CharRNN
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.training import engine

STEPS_PER_EPOCH = 21  # 12,000 characters, tiny preset


def nan_after(calls: int, in_training: bool):
    class Exploding(CharRNN):
        seen = 0

        def forward(self, codes, state=None):
            logits, state = super().forward(codes, state)
            if self.training == in_training:
                type(self).seen += 1
                if type(self).seen > calls:
                    logits = logits * float("nan")
            return logits, state

    return Exploding


@pytest.fixture
def corpus(tmp_path) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text(make_text(12_000))
    return path


# Training: NaN from the 10th step of epoch 2. Validation: the 3rd validation pass (epoch 2's
# end; the passes before are "before training" and epoch 1) scores NaN on its first chunk.
CASES = {"training": (STEPS_PER_EPOCH + 9, True), "validation": (2, False)}


@pytest.mark.parametrize("where", list(CASES))
def test_a_nan_loss_stops_as_diverged_and_keeps_the_checkpoints(
    where, tmp_path, corpus, monkeypatch
):
    monkeypatch.setattr(engine, "CharRNN", nan_after(*CASES[where]))
    snapshots: dict[str, bytes] = {}

    def on_event(event):
        if isinstance(event, CheckpointSaved):
            snapshots[event.path] = Path(event.path).read_bytes()

    config = apply_preset(TrainConfig(corpus=str(corpus), device="cpu"), "tiny")
    config = replace(config, threads=1, epochs=5, patience=100, log_every=1, sample_length=10)
    finished = engine.train(
        config, Paths.resolve(tmp_path / "home"), on_event=on_event, run_name="r"
    )
    assert finished.reason == "diverged"
    assert "NaN" in finished.message and "\n" not in finished.message
    assert finished.epoch == 1
    run = tmp_path / "home" / "runs" / "r"
    assert set(snapshots) == {str(run / "best.pt"), str(run / "last.pt")}
    for path, data in snapshots.items():
        assert Path(path).read_bytes() == data, f"{path} changed after the loss diverged"


def test_the_cli_exits_1_with_one_line(tmp_path, corpus, monkeypatch, cli):
    monkeypatch.setattr(engine, "CharRNN", nan_after(STEPS_PER_EPOCH + 9, True))
    home = tmp_path / "home"
    result = cli("--data-dir", home, "train", "--corpus", corpus, *TINY, "--name", "r", "--quiet")
    assert result.code == 1, result
    assert len(result.err_lines) == 1, result.err
    assert "NaN" in result.err and "learning rate" in result.err
    assert "Traceback" not in result.err + result.out
    assert (home / "runs" / "r" / "best.pt").is_file()
