"""A run's evaluation step: validate, sample, keep best.pt/last.pt, and say whether to stop.

A mixin of the engine's run (core/training/engine.py), which holds the model, data, progress, folder
and ranks these use; on a job of many processes rank 0 alone validates and writes.
"""

from __future__ import annotations

import math
import time

from shakespeare_tui.core.events import (
    CheckpointFailed,
    CheckpointSaved,
    FinishReason,
    ValidationStarted,
)
from shakespeare_tui.core.model.checkpoint import save_checkpoint
from shakespeare_tui.core.runs.folders import BEST, LAST
from shakespeare_tui.core.runs.progress import EvalKind
from shakespeare_tui.core.sampling.sampler import epoch_sample


class Evaluation:
    """_evaluate(train_loss, kind) and _save(kind, val_loss) for the engine's _Run."""

    def _save(self, kind: str, val_loss: float | None) -> None:
        path = self.folder.checkpoint(kind)
        payload = self.state.payload(
            kind=kind,
            vocab=self.vocab,
            config=self.config,
            progress=self.progress,
            history=self.history,
            corpus=self.corpus.meta,
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

    def _evaluate(self, train_loss: float | None, kind: EvalKind) -> FinishReason | None:
        return self._on_rank0(lambda: self._evaluate_here(train_loss, kind))

    def _on_rank0(self, work):
        """`work()` (validating, saving) on rank 0 alone, with the unwrapped model."""
        self.peers = self.ranks.gather(self.state.rank_state)  # what a save keeps of each rank
        return self.ranks.on_rank0(work, self.progress)

    def _evaluate_here(self, train_loss: float | None, kind: EvalKind) -> FinishReason | None:
        """Validate, sample, save; return a finish reason when patience or epochs run out.

        `kind`: "initial" (epoch 0, the untrained model), "epoch" (an epoch's end), "interim"
        (every eval_every steps), "budget" (a budget ended the run mid-epoch).
        """
        p = self.progress
        self.emit(
            ValidationStarted(
                epoch=0 if kind == "initial" else p.epoch + 1,
                step=p.step,
                partial=kind in ("interim", "budget"),
            )
        )
        t0 = time.perf_counter()
        val = self.data.validation_loss(self.model, self._autocast)
        if not math.isfinite(val):
            return "diverged"
        epoch, improved = p.count_validation(val, kind)
        partial = kind in ("interim", "budget")
        sample = epoch_sample(
            self.model, self.vocab, self.config, epoch, p.step if partial else None
        )
        self.val_seconds = time.perf_counter() - t0
        record, event = p.evaluated(
            epoch, kind, improved, train_loss, val, sample, self._elapsed(), self.config.patience
        )
        self.history.append(record)
        self.folder.log(record)
        where = f"step {p.step:,} (epoch {epoch})" if partial else f"epoch {epoch}"
        self.folder.add_sample(f"{where} · val {val:.4f}", sample)
        self.emit(event)
        if kind == "initial":
            return None
        if improved:
            self._save(BEST, val)
        if kind == "budget":
            return None
        self._save(LAST, val)
        if kind == "epoch" and epoch >= self.config.epochs:
            return "completed"
        if event.patience_left <= 0:
            return "early-stopped"
        return None
