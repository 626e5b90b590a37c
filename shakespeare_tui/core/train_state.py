"""A training run's state in a checkpoint: what `last.pt` and `best.pt` hold, and how it comes back.

Weights, optimiser, progress, history, and the three random streams (batches, dropout on the
CPU, dropout on the GPU), so that a resumed CPU run continues bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from shakespeare_tui.core.checkpoint import Checkpoint, build_payload
from shakespeare_tui.core.progress import RunProgress

CROSSED_DEVICES = "resumed on another kind of device: training continues, but not bit for bit"


@dataclass
class TrainState:
    """The live objects of a run that a checkpoint captures."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    data: object  # TextData: its batch generator's state
    device: torch.device

    def payload(
        self,
        *,
        kind: str,
        vocab,
        config,
        progress: RunProgress,
        history,
        corpus: dict,
        device_label: str,
        val_loss: float | None,
    ) -> dict:
        resume = {
            "optimizer": self.optimizer.state_dict(),
            "data_rng": self.data.rng_state(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state(self.device)
            if self.device.type == "cuda"
            else None,
        }
        return build_payload(
            kind=kind,
            model=self.model,
            vocab=vocab,
            train_config=config.to_dict(),
            progress=progress.to_dict(),
            history=list(history),
            corpus=corpus,
            val_loss=val_loss,
            device=device_label,
            resume=resume,
        )

    def restore(self, checkpoint: Checkpoint, seed: int) -> tuple[RunProgress, list, list[str]]:
        """Load the checkpoint's state into the live objects; (progress, history, notes)."""
        notes = []
        self.model.load_state_dict(checkpoint.model.state_dict())
        resume = checkpoint.payload["resume"]
        self.optimizer.load_state_dict(resume["optimizer"])
        progress = RunProgress.from_dict(checkpoint.payload["progress"])
        try:
            self.data.set_rng_state(resume["data_rng"])
        except (RuntimeError, TypeError):
            # Saved on another kind of device (a GPU run resumed on the CPU): its batch stream
            # cannot continue here, so a fresh one starts, still seeded.
            self.data.generator.manual_seed(seed + progress.step)
            notes.append(CROSSED_DEVICES)
        torch.set_rng_state(resume["torch_rng"])
        if self.device.type == "cuda" and resume.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(resume["cuda_rng"], self.device)
        progress.finished = None
        return progress, list(checkpoint.payload.get("history") or []), notes
