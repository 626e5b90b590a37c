"""Samples asked for during training: drawn from a copy of the weights, beside the training.

The trainer only copies the weights to the CPU between two steps (milliseconds for the models a
CPU trains); a short-lived thread builds its own model from the copy and samples, so training
never waits for the characters, and no model is shared across threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import torch

from shakespeare_tui.core.config import TrainConfig
from shakespeare_tui.core.events import OnEvent, SampleDrawn
from shakespeare_tui.core.model.network import CharRNN
from shakespeare_tui.core.sampling.sampler import default_start, sample_text
from shakespeare_tui.core.sampling.settings import SampleSettings
from shakespeare_tui.core.text.vocab import Vocabulary

DEFAULT_LENGTH = 200  # when the run's own samples are switched off (sample length 0)


class SampleRequests:
    """Serves `requested` (set by anyone, any thread) at the trainer's next step boundary."""

    def __init__(
        self,
        requested: threading.Event | None,
        emit: OnEvent,
        record: Callable[[str, str], None],
    ) -> None:
        self.requested = requested
        self._emit = emit
        self._record = record  # (heading, text) into the run's samples log
        self._threads: list[threading.Thread] = []

    def serve(
        self, model: torch.nn.Module, vocab: Vocabulary, config: TrainConfig, step: int, epoch: int
    ) -> None:
        """Called by the trainer between steps; cheap unless a sample was asked for."""
        if self.requested is None or not self.requested.is_set():
            return
        self.requested.clear()
        weights = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        thread = threading.Thread(
            target=self._draw,
            args=(weights, vocab, config, step, epoch),
            name="sample-now",
            daemon=True,
        )
        self._threads.append(thread)
        thread.start()

    def _draw(
        self,
        weights: dict[str, torch.Tensor],
        vocab: Vocabulary,
        config: TrainConfig,
        step: int,
        epoch: int,
    ) -> None:
        model = CharRNN(config.model)
        model.load_state_dict(weights)
        model.eval()
        settings = SampleSettings(
            length=config.sample_length or DEFAULT_LENGTH,
            temperature=config.sample_temperature,
            prompt=default_start(vocab),
        ).with_seed()
        text = sample_text(model, vocab, settings)
        self._record(f"step {step:,} · on request · seed {settings.seed}", text)
        self._emit(SampleDrawn(step, epoch, text, settings.temperature))

    def wait(self) -> None:
        """Let samples being drawn finish, so they come before the run's last event."""
        for thread in self._threads:
            thread.join()
        self._threads.clear()
