"""A training run's state in a checkpoint: what `last.pt` and `best.pt` hold, and how it comes back.

Weights, optimiser, progress, history, and the three random streams (batches, dropout on the
CPU, dropout on the GPU), so that a resumed CPU run continues bit for bit. A job of many
processes (distributed.py) saves every rank's dropout streams too ("ranks"): the batch stream
is the same on all of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from shakespeare_tui.core.config import TrainConfig
from shakespeare_tui.core.errors import one_line
from shakespeare_tui.core.file_json import JSONObject, json_object
from shakespeare_tui.core.model.checkpoint import (
    Checkpoint,
    CheckpointPayload,
    RandomStreams,
    RankState,
    ResumeState,
    build_payload,
    damaged_state,
    resume_state,
)
from shakespeare_tui.core.model.network import CharRNN
from shakespeare_tui.core.runs.progress import RunProgress
from shakespeare_tui.core.text.batches import TextData
from shakespeare_tui.core.text.corpus import CorpusRecord
from shakespeare_tui.core.text.vocab import Vocabulary
from shakespeare_tui.core.training.rank_views import RankBatches, weights_sha256

if TYPE_CHECKING:  # for its type alone: distributed.py needs no state of a run
    from shakespeare_tui.core.training.distributed import Ranks

# What torch raises for a state of the right kind that does not fit (optimizer.load_state_dict,
# torch.set_rng_state): a damaged or hand-made checkpoint's, never one this program wrote.
_UNFIT = (ValueError, KeyError, TypeError, IndexError, RuntimeError)

CROSSED_DEVICES = "resumed on another kind of device: training continues, but not bit for bit"


def other_processes(saved: int, now: int) -> str:
    return (
        f"saved by {saved} process{'es' if saved != 1 else ''}, resumed by {now}: each step "
        "draws another set of windows, so the data order changes from here on"
    )


@dataclass
class TrainState:
    """The live objects of a run that a checkpoint captures."""

    model: CharRNN  # unwrapped (not DDP's): what is saved
    optimizer: torch.optim.Optimizer
    data: TextData | RankBatches  # its batch generator's state
    device: torch.device

    def payload(
        self,
        *,
        kind: str,
        vocab: Vocabulary,
        config: TrainConfig,
        progress: RunProgress,
        history: Iterable[JSONObject],
        corpus: CorpusRecord,
        device_label: str,
        val_loss: float | None,
        peers: list[RankState] | None = None,
    ) -> CheckpointPayload:
        """`peers`: every rank's `rank_state()`, in a job of many processes."""
        streams = self._rng()
        resume: ResumeState = {
            "optimizer": self.optimizer.state_dict(),
            "data_rng": self.data.rng_state(),
            "torch_rng": streams["torch_rng"],
            "cuda_rng": streams["cuda_rng"],
            "processes": len(peers) if peers else 1,
        }
        if peers:
            resume["ranks"] = peers
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

    def _rng(self) -> RandomStreams:
        cuda = self.device.type == "cuda"
        return {
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state(self.device) if cuda else None,
        }

    def rank_state(self) -> RankState:
        """This rank's dropout streams, and its weights' fingerprint (the same on every rank)."""
        streams = self._rng()
        return {
            "torch_rng": streams["torch_rng"],
            "cuda_rng": streams["cuda_rng"],
            "weights_sha256": weights_sha256(self.model),
        }

    def restore(
        self, checkpoint: Checkpoint, seed: int, ranks: Ranks | None = None
    ) -> tuple[RunProgress, list[JSONObject], list[str]]:
        """Load the checkpoint's state into the live objects; (progress, history, notes).

        `ranks`: this process's place in a job; a rank other than 0 takes its own dropout
        streams when the job has as many processes as the one that saved, else fresh ones.
        """
        notes = []
        name = checkpoint.path.name
        resume = resume_state(checkpoint.payload, name)
        self.model.load_state_dict(checkpoint.model.state_dict())
        try:
            self.optimizer.load_state_dict(resume["optimizer"])
        except torch.cuda.OutOfMemoryError:
            raise  # a RuntimeError, but the device's trouble, not the file's
        except _UNFIT as exc:
            raise damaged_state(
                name, f"its optimizer state does not fit the model: {one_line(exc)}"
            ) from None
        try:
            progress = RunProgress.from_dict(json_object(checkpoint.payload.get("progress")))
        except ValueError as exc:
            raise damaged_state(name, f"its progress's {exc}") from None
        try:
            self.data.set_rng_state(resume["data_rng"])
        except (RuntimeError, TypeError):
            # Saved on another kind of device (a GPU run resumed on the CPU): its batch stream
            # cannot continue here, so a fresh one starts, still seeded.
            self.data.generator.manual_seed(seed + progress.step)
            notes.append(CROSSED_DEVICES)
        rank, world = (ranks.rank, ranks.world) if ranks is not None else (0, 1)
        saved = resume["processes"]
        if saved != world:
            notes.append(other_processes(saved, world))
        streams: RandomStreams | None = resume
        if rank:  # rank 0's are the checkpoint's own, taken as it was written
            peers = resume.get("ranks") or []
            streams = peers[rank] if saved == world and rank < len(peers) else None
        if streams is not None:
            try:
                torch.set_rng_state(streams["torch_rng"])
                if self.device.type == "cuda" and streams["cuda_rng"] is not None:
                    torch.cuda.set_rng_state(streams["cuda_rng"], self.device)
            except _UNFIT as exc:
                raise damaged_state(
                    name, f"its dropout streams cannot be restored: {one_line(exc)}"
                ) from None
        progress.finished = None
        history = checkpoint.payload.get("history")
        # Its records (objects) only: a file may hold anything, and a resumed run reads them.
        records = [r for r in history if isinstance(r, dict)] if isinstance(history, list) else []
        return progress, records, notes
