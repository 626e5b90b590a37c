"""What the engine's tests share: training a run while watching its events, and comparing the
weights of two checkpoints."""

from __future__ import annotations

import shutil
import threading
from dataclasses import replace

import torch

from shakespeare_tui.core.config import TrainConfig
from shakespeare_tui.core.events import CheckpointSaved, StepLogged
from shakespeare_tui.core.training.engine import train

STEPS_PER_EPOCH = 35  # the shared 20,000-character corpus with the tiny preset


def with_model(config: TrainConfig, **model) -> TrainConfig:
    return replace(config, model=replace(config.model, **model))


def run(config, paths, *, stop_at: int | None = None, keep=None, **kwargs):
    """Train, stopping once a StepLogged at `stop_at` or later arrives; return (finished, events).

    `keep`: {(kind, epoch): destination} copies a checkpoint the moment it is saved.
    """
    events: list = []
    stop = threading.Event()

    def on_event(event):
        events.append(event)
        if stop_at is not None and isinstance(event, StepLogged) and event.step >= stop_at:
            stop.set()
        if keep and isinstance(event, CheckpointSaved) and (event.kind, event.epoch) in keep:
            shutil.copy(event.path, keep[(event.kind, event.epoch)])

    finished = train(config, paths, on_event=on_event, stop=stop, **kwargs)
    assert events[-1] is finished
    return finished, events


def saved(path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def assert_same_weights(a, b) -> None:
    wa, wb = saved(a)["weights"], saved(b)["weights"]
    assert wa.keys() == wb.keys()
    for name in wa:
        assert torch.equal(wa[name], wb[name]), f"{name} differs"
