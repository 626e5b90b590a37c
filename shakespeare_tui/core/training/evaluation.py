"""A run's evaluation step: validate, sample, keep best.pt/last.pt, and say whether to stop.

The engine's run (core/training/engine.py) makes one Evaluator with what it needs and calls it at
the run's start (the untrained model), at each epoch's end, every `eval_every` steps and where a
budget ends the run. On a job of many processes rank 0 alone validates and writes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TypeVar

from shakespeare_tui.core.config import TrainConfig
from shakespeare_tui.core.device import Autocast
from shakespeare_tui.core.events import (
    CheckpointFailed,
    CheckpointSaved,
    FinishReason,
    OnEvent,
    ValidationStarted,
)
from shakespeare_tui.core.file_json import JSONObject
from shakespeare_tui.core.model.checkpoint import RankState, save_checkpoint
from shakespeare_tui.core.model.network import CharRNN
from shakespeare_tui.core.runs.folders import BEST, LAST, RunFolder
from shakespeare_tui.core.runs.progress import EvalKind, RunProgress
from shakespeare_tui.core.sampling.sampler import epoch_sample
from shakespeare_tui.core.text.batches import TextData
from shakespeare_tui.core.text.corpus import CorpusRecord
from shakespeare_tui.core.text.vocab import Vocabulary
from shakespeare_tui.core.training.distributed import Ranks
from shakespeare_tui.core.training.rank_views import RankBatches, SilentFolder
from shakespeare_tui.core.training.state import TrainState

T = TypeVar("T")


class Evaluator:
    """Validates the model, samples from it and saves it, for one run.

    It keeps what the run's evaluations leave: `history` (a record per validation, the
    checkpoint's history), `saved` (the checkpoint files written, by kind) and `val_seconds`
    (how long the latest validation took, for the schedule's fit). `progress` is the run's
    own, which the evaluations advance (best loss, patience) as the training loop advances
    its step.
    """

    def __init__(
        self,
        *,
        model: CharRNN,
        data: TextData | RankBatches,
        vocab: Vocabulary,
        config: TrainConfig,
        progress: RunProgress,
        history: list[JSONObject],
        state: TrainState,
        folder: RunFolder | SilentFolder,
        ranks: Ranks,
        corpus_meta: CorpusRecord,
        device_label: str,
        autocast: Autocast,
        elapsed: Callable[[], float],
        emit: OnEvent,
    ) -> None:
        self.model = model  # unwrapped: what is validated, sampled and saved
        self.data, self.vocab, self.config = data, vocab, config
        self.progress, self.history = progress, history
        self.state, self.folder, self.ranks = state, folder, ranks
        self.corpus_meta, self.device_label = corpus_meta, device_label
        self.autocast, self.elapsed, self.emit = autocast, elapsed, emit
        self.saved: dict[str, str] = {}
        self.val_seconds = 0.0
        self.peers: list[RankState] | None = None  # every rank's RNG state, gathered before a save

    def evaluate(self, train_loss: float | None, kind: EvalKind) -> FinishReason | None:
        """Validate, sample, save (rank 0; every rank gets its answer): a finish reason when
        the loss diverged, patience or epochs ran out, else None.

        `kind`: "initial" (epoch 0, the untrained model), "epoch" (an epoch's end), "interim"
        (every eval_every steps), "budget" (a budget ended the run mid-epoch).
        """
        return self.on_rank0(lambda: self._evaluate_here(train_loss, kind))

    def keep_last(self) -> None:
        """last.pt from the weights as they are, with the latest validation loss (rank 0)."""

        def save_last() -> None:
            loss = self.history[-1].get("val_loss") if self.history else None
            if isinstance(loss, bool) or not isinstance(loss, int | float):
                loss = None  # a record restored from a checkpoint may hold anything
            self.save(LAST, loss)

        self.on_rank0(save_last)

    def on_rank0(self, work: Callable[[], T]) -> T | None:
        """`work()` (validating, saving) on rank 0 alone, with the unwrapped model; every
        rank gets its result."""
        self.peers = self.ranks.gather(self.state.rank_state)  # what a save keeps of each rank
        result: T | None = self.ranks.on_rank0(work, self.progress)
        return result

    def save(self, kind: str, val_loss: float | None) -> None:
        path = self.folder.checkpoint(kind)
        payload = self.state.payload(
            kind=kind,
            vocab=self.vocab,
            config=self.config,
            progress=self.progress,
            history=self.history,
            corpus=self.corpus_meta,
            device_label=self.device_label,
            val_loss=val_loss,
            peers=self.peers,
        )
        try:
            save_checkpoint(path, payload)
        except OSError as exc:
            self.emit(
                CheckpointFailed(str(path), f"could not save {path.name}: {exc.strerror or exc}")
            )
            return
        self.saved[kind] = str(path)
        p = self.progress
        self.emit(CheckpointSaved(str(path), kind, p.epoch, p.step, val_loss))

    def _evaluate_here(self, train_loss: float | None, kind: EvalKind) -> FinishReason | None:
        p = self.progress
        self.emit(
            ValidationStarted(
                epoch=0 if kind == "initial" else p.epoch + 1,
                step=p.step,
                partial=kind in ("interim", "budget"),
            )
        )
        t0 = time.perf_counter()
        val = self.data.validation_loss(self.model, self.autocast)
        if not math.isfinite(val):
            return "diverged"
        epoch, improved = p.count_validation(val, kind)
        partial = kind in ("interim", "budget")
        sample = epoch_sample(
            self.model, self.vocab, self.config, epoch, p.step if partial else None
        )
        self.val_seconds = time.perf_counter() - t0
        record, event = p.evaluated(
            epoch, kind, improved, train_loss, val, sample, self.elapsed(), self.config.patience
        )
        self.history.append(record)
        self.folder.log(record)
        where = f"step {p.step:,} (epoch {epoch})" if partial else f"epoch {epoch}"
        self.folder.add_sample(f"{where} · val {val:.4f}", sample)
        self.emit(event)
        if kind == "initial":
            return None
        if improved:
            self.save(BEST, val)
        if kind == "budget":
            return None
        self.save(LAST, val)
        if kind == "epoch" and epoch >= self.config.epochs:
            return "completed"
        if event.patience_left <= 0:
            return "early-stopped"
        return None
