"""What one rank of a torchrun job sees (distributed.py): its rows of each step's windows, a
run folder that writes nothing (rank 0 alone writes), and a fingerprint of its weights, saved
for every rank so that a checkpoint shows they were the same."""

from __future__ import annotations

import hashlib


class RankBatches:
    """This rank's rows of each step's windows; otherwise the data it wraps (a TextData built
    for the job's whole batch, world × batch_size, so its epoch counts the job's steps)."""

    def __init__(self, data, rank: int, world: int):
        self.data, self.rank, self.world = data, rank, world

    def batch(self):
        inputs, targets = self.data.batch()
        return inputs[self.rank :: self.world], targets[self.rank :: self.world]

    def __getattr__(self, name: str):
        return getattr(self.data, name)


class SilentFolder:
    """A rank other than 0's run folder: it reads like the real one and writes nothing."""

    def __init__(self, folder):
        self._folder = folder
        self.path = folder.path

    def start_fresh(self, *args) -> None: ...

    def write_config(self, *args) -> None: ...

    def log(self, *args) -> None: ...

    def log_step(self, *args) -> None: ...

    def add_sample(self, *args) -> None: ...

    def trim_metrics(self, step: int) -> list[dict]:
        return []  # only for the start event, which rank 0 alone sends

    def __getattr__(self, name: str):  # checkpoint(), existing_checkpoint(), file(): reads
        return getattr(self._folder, name)


def weights_sha256(model) -> str:
    """A fingerprint of the weights: every rank's is saved, and must be the same."""
    import torch  # here, not at the top: the CLI imports this module (via distributed.py) early

    digest = hashlib.sha256()
    for tensor in model.state_dict().values():
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy())
    return digest.hexdigest()
