"""What one rank of a torchrun job sees (distributed.py): its rows of each step's windows, a
run folder that writes nothing (rank 0 alone writes), and a fingerprint of its weights, saved
for every rank so that a checkpoint shows they were the same."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for their types alone: the CLI imports this module (via distributed.py)
    # early, before torch is needed
    import torch

    from shakespeare_tui.core.device import Autocast
    from shakespeare_tui.core.events import StepLogged
    from shakespeare_tui.core.file_json import JSONObject
    from shakespeare_tui.core.runs.folders import RunFolder
    from shakespeare_tui.core.text.batches import TextData
    from shakespeare_tui.core.text.corpus import CorpusRecord


class RankBatches:
    """This rank's rows of each step's windows; otherwise the data it wraps (a TextData built
    for the job's whole batch, world × batch_size, so its epoch counts the job's steps)."""

    def __init__(self, data: TextData, rank: int, world: int) -> None:
        self.data, self.rank, self.world = data, rank, world

    def batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        inputs, targets = self.data.batch()
        return inputs[self.rank :: self.world], targets[self.rank :: self.world]

    # The rest is the job's data as it is: one epoch, one validation, one batch stream.

    @property
    def steps_per_epoch(self) -> int:
        return self.data.steps_per_epoch

    @property
    def generator(self) -> torch.Generator:
        return self.data.generator

    def validation_loss(self, model: torch.nn.Module, autocast: Autocast) -> float:
        return self.data.validation_loss(model, autocast)

    def rng_state(self) -> torch.Tensor:
        return self.data.rng_state()

    def set_rng_state(self, state: torch.Tensor) -> None:
        self.data.set_rng_state(state)


class SilentFolder:
    """A rank other than 0's run folder: it reads like the real one and writes nothing."""

    def __init__(self, folder: RunFolder) -> None:
        self._folder = folder
        self.path = folder.path

    def start_fresh(self) -> None: ...

    def write_config(
        self,
        train: dict[str, Any],  # TrainConfig.to_dict(), as RunFolder.write_config takes it
        corpus: CorpusRecord,
        device: str,
        parameters: int,
        steps_per_epoch: int,
    ) -> None: ...

    def log(self, record: JSONObject) -> None: ...

    def log_step(self, event: StepLogged) -> None: ...

    def add_sample(self, heading: str, sample: str) -> None: ...

    def trim_metrics(self, step: int) -> list[JSONObject]:
        return []  # only for the start event, which rank 0 alone sends

    # What it reads, it reads from the real folder.

    def file(self, name: str) -> Path:
        return self._folder.file(name)

    def checkpoint(self, kind: str) -> Path:
        return self._folder.checkpoint(kind)

    def existing_checkpoint(self, kind: str) -> str | None:
        return self._folder.existing_checkpoint(kind)


def weights_sha256(model: torch.nn.Module) -> str:
    """A fingerprint of the weights: every rank's is saved, and must be the same."""
    import torch  # here, not at the top: the CLI imports this module (via distributed.py) early

    digest = hashlib.sha256()
    for tensor in model.state_dict().values():
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy())
    return digest.hexdigest()
