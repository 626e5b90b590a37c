"""A checkpoint list shows a validation loss only for the weights it was measured on: a last.pt
saved between evaluations (a stop) shows none, not the loss of earlier weights."""

from __future__ import annotations

import threading
from dataclasses import replace

from shakespeare_tui.core.events import StepLogged
from shakespeare_tui.core.model.checkpoint import read_info
from shakespeare_tui.core.runs.checkpoints import CheckpointEntry
from shakespeare_tui.core.training.engine import train
from tests.conftest import tiny_config


def test_a_last_checkpoint_saved_between_evaluations_has_no_loss_of_its_own(paths, corpus_file):
    stop = threading.Event()

    def on_event(event):
        if isinstance(event, StepLogged) and event.step >= 30:
            stop.set()  # as the Train view's s does: the engine saves last.pt and returns

    config = replace(tiny_config(corpus_file, eval_every=20, log_every=5), epochs=1000)
    finished = train(config, paths, on_event=on_event, stop=stop, run_name="stopped")
    assert finished.reason == "stopped" and finished.step > 20
    best, last = read_info(finished.best_checkpoint), read_info(finished.last_checkpoint)
    assert best.val_loss is not None and best.step == 20
    assert last.step == finished.step and last.val_loss is None
    entry = CheckpointEntry(key=last.path, path=last.path, title="stopped · last", info=last,
                            kind="last")  # fmt: skip
    assert entry.details.startswith("val —")


def test_a_last_checkpoint_evaluated_where_it_was_saved_keeps_its_loss(paths, corpus_file):
    config = tiny_config(corpus_file, eval_every=20, max_steps=40)
    finished = train(config, paths, run_name="budget")
    assert finished.reason == "max-steps"
    last = read_info(finished.last_checkpoint)
    assert last.step == 40 and last.val_loss is not None
