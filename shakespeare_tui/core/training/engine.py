"""The training engine: one function that trains a run, reporting plain events through a callback.

    finished = train(config, paths, on_event=print, stop=threading.Event())

It checks `stop` before every step and returns within one step of it being set, leaving a
resumable `last.pt`. Everything a resume needs is in that file: weights, optimiser, step, epoch,
data RNG, dropout RNG, best loss and patience, so a resumed CPU run ends bit for bit where an
uninterrupted one would.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F

from shakespeare_tui.core import device as devices
from shakespeare_tui.core.atomic import remove_stale_temps
from shakespeare_tui.core.config import SIZED, TrainConfig
from shakespeare_tui.core.device import Autocast
from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.events import (
    BUDGET_REASONS,
    FinishReason,
    LogWriteFailed,
    OnEvent,
    StepLogged,
    StopSignal,
    TrainingFinished,
    TrainingStarted,
)
from shakespeare_tui.core.file_json import JSONObject
from shakespeare_tui.core.model.checkpoint import Checkpoint
from shakespeare_tui.core.model.network import CharRNN
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.runs.folders import BEST, LAST, RunFolder
from shakespeare_tui.core.runs.lock import RunLock
from shakespeare_tui.core.runs.progress import RunProgress, finish_message
from shakespeare_tui.core.sizing.probe import size_run
from shakespeare_tui.core.text.batches import TextData
from shakespeare_tui.core.text.corpus import Corpus
from shakespeare_tui.core.training.distributed import RankFailed, Ranks
from shakespeare_tui.core.training.evaluation import Evaluator
from shakespeare_tui.core.training.rank_views import RankBatches
from shakespeare_tui.core.training.sample_now import SampleRequests
from shakespeare_tui.core.training.schedule import ScheduleFitter, learning_rate
from shakespeare_tui.core.training.setup import RunInputs, prepare_job
from shakespeare_tui.core.training.state import TrainState

__all__ = ["TrainingStep", "autocast_for", "learning_rate", "train"]


def autocast_for(device: torch.device, bf16: bool) -> Autocast:
    """What the engine's forward passes run in: bf16 autocast where chosen, else nothing."""
    if not bf16:
        return contextlib.nullcontext
    return lambda: torch.autocast(device.type, dtype=torch.bfloat16)


@dataclass
class TrainingStep:
    """One optimiser step on the next batch, as every run trains (benchmarks/training.py times
    this very step): forward under `autocast`, cross-entropy in float32, backward (inside
    `collective`, where DDP averages the gradients over the ranks), clipping, Adam.

    Returns the batch's loss, detached and still on the device: reading it waits for the
    device, so the run sums it there and reads the sum once per progress log.
    """

    net: torch.nn.Module  # what trains: the model, or DDP's wrapper of it
    model: torch.nn.Module  # the model itself, whose gradients are clipped
    optimizer: torch.optim.Optimizer
    data: TextData | RankBatches  # batch() gives (inputs, targets)
    clip: float
    vocab_size: int
    autocast: Autocast = contextlib.nullcontext
    collective: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext

    def __call__(self, lr: float) -> torch.Tensor:
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        inputs, targets = self.data.batch()
        with self.autocast():
            logits, _ = self.net(inputs)
        loss = F.cross_entropy(logits.float().view(-1, self.vocab_size), targets.reshape(-1))
        self.optimizer.zero_grad(set_to_none=True)
        with self.collective():
            loss.backward()  # type: ignore[no-untyped-call]  # torch's Tensor.backward has no annotations
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.clip)
        self.optimizer.step()
        return loss.detach()


class _Run:
    """One training run's state; `train()` below is the whole public interface."""

    def __init__(
        self,
        inputs: RunInputs,
        on_event: OnEvent | None,
        stop: StopSignal | None,
        sample_now: threading.Event | None = None,
        ranks: Ranks | None = None,
    ) -> None:
        self.emit: OnEvent = on_event or (lambda event: None)
        self.stop: StopSignal = stop or threading.Event()
        self.ranks = ranks = ranks or Ranks()
        self.device, self.corpus, self.vocab = inputs.device, inputs.corpus, inputs.vocab
        # Processes and threads (core/layout.py): as the job was started, else the rule's.
        self.layout = ranks.layout_for(inputs.config, self.device.type)
        label = devices.configure(self.device, self.layout.threads)
        bf16 = inputs.config.bf16
        self.bf16 = devices.bf16_is_fast(self.device) if bf16 is None else bf16
        self.autocast = autocast_for(self.device, self.bf16)
        sizing = None
        if inputs.config.preset == SIZED and inputs.checkpoint is None:
            sizing = size_run(inputs, self.device, self.bf16, ranks, self.emit, self.stop)
        self.config = config = inputs.config
        self.notes = inputs.notes
        if self.layout.processes > 1 and not self.layout.forced:  # why its launcher started them
            self.notes.append(self.layout.reason)
        self.device_label = ranks.describe(label + (" · bf16" if self.bf16 else ""))
        codes = self.corpus.codes(self.vocab)  # in memory, or MappedCodes for a large corpus
        # Every rank draws the job's whole batch and trains on its share (distributed.py).
        job = replace(config, batch_size=ranks.job_batch(config.batch_size))
        self.data = ranks.shard(TextData.for_config(codes, job, self.device, self.corpus.name))
        self.steps_per_epoch = self.data.steps_per_epoch

        torch.manual_seed(config.seed)
        self.model = CharRNN(config.model).to(self.device)
        ranks.seed_dropout(config.seed)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.state = TrainState(self.model, self.optimizer, self.data, self.device)
        self.progress = RunProgress(schedule_steps=self._planned_steps())
        if sizing is not None:
            self.progress.elapsed_s = sizing.probe_s  # timing the sizes counts in the budget
        history: list[JSONObject] = []  # a record per validation, kept in every checkpoint
        self.resumed = inputs.checkpoint is not None
        if inputs.checkpoint is not None:
            history = self._restore(inputs.checkpoint)
        self.net = ranks.wrap(self.model, self.device)  # what trains; self.model is saved
        run_dir = inputs.run_dir
        assert run_dir is not None, "prepare_job gives every rank the folder rank 0 named"
        self.folder = ranks.own_folder(
            RunFolder(run_dir, lambda path, why: self.emit(LogWriteFailed(path, why)))
        )
        self.lock = inputs.lock or RunLock(run_dir)  # rank 0 took it before reading
        self.samples = SampleRequests(sample_now, self.emit, self.folder.add_sample)
        self.step = TrainingStep(
            self.net,
            self.model,
            self.optimizer,
            self.data,
            config.clip,
            config.model.vocab_size,
            self.autocast,
            ranks.collective,
        )
        self.evaluator = Evaluator(
            model=self.model,
            data=self.data,
            vocab=self.vocab,
            config=config,
            progress=self.progress,
            history=history,
            state=self.state,
            folder=self.folder,
            ranks=ranks,
            corpus_meta=self.corpus.meta,
            device_label=self.device_label,
            autocast=self.autocast,
            elapsed=self._elapsed,
            emit=self.emit,
        )

    # -- setup -----------------------------------------------------------------------------

    def _planned_steps(self) -> int:
        total = self.config.epochs * self.steps_per_epoch
        return min(total, self.config.max_steps) if self.config.max_steps else total

    def _restore(self, checkpoint: Checkpoint) -> list[JSONObject]:
        """The checkpoint's state into the run's objects; returns its history."""
        progress, history, notes = self.state.restore(checkpoint, self.config.seed, self.ranks)
        self.notes.extend(notes)
        # A longer budget on resume re-plans the schedule; a fitted one is kept.
        if not progress.schedule_fitted:
            progress.schedule_steps = self._planned_steps()
        self.progress = progress
        return history

    @property
    def run_dir(self) -> Path:
        return self.folder.path

    # -- the loop --------------------------------------------------------------------------

    def _elapsed(self) -> float:
        return self.elapsed_before + (time.perf_counter() - self.t_start)

    def run(self) -> TrainingFinished:
        with self.ranks.writer_holds(self.lock):
            if self.ranks.writer:
                remove_stale_temps(self.run_dir)  # half-written files of a killed process
            return self._run()

    def _run(self) -> TrainingFinished:
        config, p = self.config, self.progress
        resumed = self.resumed  # even from step 0: epoch 0 is in the checkpoint's history
        history = tuple(self.folder.trim_metrics(p.step)) if resumed else ()
        if not resumed:
            self.folder.start_fresh()
        self.folder.write_config(
            config.to_dict(),
            self.corpus.meta,
            self.device_label,
            config.model.parameter_count(),
            self.steps_per_epoch,
        )
        self.emit(
            TrainingStarted(
                run_name=self.run_dir.name,
                run_dir=str(self.run_dir),
                device=self.device_label,
                model_summary=config.model.summary,
                parameters=config.model.parameter_count(),
                corpus=self.corpus.name,
                corpus_chars=self.corpus.length,
                steps_per_epoch=self.steps_per_epoch,
                epochs=config.epochs,
                step=p.step,
                epoch=p.epoch,
                resumed=resumed,
                history=history,
                notes=tuple(self.notes),
                max_steps=config.max_steps,
                max_minutes=config.max_minutes,
                eval_every=config.eval_every,
                processes=self.ranks.world,
                batch_size=self.ranks.rows(config.batch_size),
                sizing_reason=config.preset_reason if config.sizing else "",
                patience=config.patience,
            )
        )
        self.elapsed_before = p.elapsed_s
        self.t_start = time.perf_counter()
        self.first_step = p.step
        reason = None
        try:
            if not resumed:  # epoch 0: the untrained model, for reference
                reason = self.evaluator.evaluate(None, "initial")
            reason = reason or self._loop()
        except torch.OutOfMemoryError:
            reason = "out-of-memory"
        p.elapsed_s = self._elapsed()
        return self._finish(reason)

    def _loop(self) -> FinishReason:
        config, p, model, ranks = self.config, self.progress, self.model, self.ranks
        evaluator = self.evaluator
        model.train()
        pending = torch.zeros((), device=self.device)  # summed on the device: no sync per step
        pending_n = 0
        last_log_t, last_log_step = time.perf_counter(), p.step
        fitter = ScheduleFitter(config, p.step, self.steps_per_epoch)
        lr = self.optimizer.param_groups[0]["lr"]

        def flush_log() -> bool:
            """Report the steps since the last log (one host sync); False if the loss blew up."""
            nonlocal pending_n, last_log_t, last_log_step
            mean = ranks.mean(pending).item() / pending_n  # every rank judges the same mean
            if not math.isfinite(mean):
                return False
            p.epoch_loss_sum += mean * pending_n
            now = time.perf_counter()
            self._log_step(mean, lr, (p.step - last_log_step) / max(now - last_log_t, 1e-9))
            pending.zero_()
            pending_n = 0
            last_log_t, last_log_step = now, p.step
            return True

        while True:
            # A stop asked of any rank, and rank 0's clock, stop every rank before one step.
            reason = p.end_reason(config, *ranks.agree(self.stop.is_set(), self._elapsed()))
            if reason:
                # The steps since the last progress log count too.
                if pending_n and not flush_log():
                    return "diverged"
                return reason
            lr = learning_rate(config, p.step, p.schedule_steps)
            loss = self.step(lr)
            p.step += 1
            p.epoch_step += 1
            pending += loss
            pending_n += 1

            fitted = fitter.after_step(p, self._elapsed(), evaluator.val_seconds)
            if fitted is not None:  # rank 0's measurement, as rank 0's clock ends the budget
                p.schedule_steps, p.schedule_fitted = ranks.from_rank0(fitted), True

            epoch_done = p.epoch_step >= self.steps_per_epoch
            if (p.step % config.log_every == 0 or epoch_done) and not flush_log():
                return "diverged"
            interim = config.eval_every and p.step % config.eval_every == 0
            if interim and not epoch_done and pending_n and not flush_log():
                return "diverged"
            if epoch_done or interim:
                train_loss = p.epoch_loss_sum / p.epoch_step
                if epoch_done:
                    p.epoch_step, p.epoch_loss_sum = 0, 0.0
                reason = evaluator.evaluate(train_loss, "epoch" if epoch_done else "interim")
                if reason:
                    return reason
                last_log_t = time.perf_counter()  # validation is not training speed
            self.samples.serve(model, self.vocab, config, p.step, p.epoch + 1)

    def _log_step(self, loss: float, lr: float, steps_per_sec: float) -> None:
        p, config = self.progress, self.config
        event = StepLogged(
            step=p.step,
            epoch=p.epoch + 1,
            epoch_step=p.epoch_step,
            steps_per_epoch=self.steps_per_epoch,
            train_loss=loss,
            chars_per_sec=steps_per_sec * self.ranks.job_batch(config.batch_size) * config.seq_len,
            elapsed_s=self._elapsed(),
            lr=lr,
            gpu_memory_mb=devices.gpu_memory_mb(self.device),
        )
        self.folder.log_step(event)
        self.emit(event)

    def _finish(self, reason: FinishReason) -> TrainingFinished:
        p, evaluator = self.progress, self.evaluator
        # A budget end validates what it has, like an early stop (once: a resume that ends at
        # once, its budget already spent, adds nothing).
        trained = p.step > self.first_step
        history = evaluator.history
        evaluated = bool(history) and history[-1].get("step") == p.step
        # Every rank ends for the same reason; only these two come with collectives.
        if reason in BUDGET_REASONS and p.epoch_step > 0 and trained:
            if not self.ranks.from_rank0(evaluated):
                partial_loss = p.epoch_loss_sum / p.epoch_step if p.epoch_loss_sum else None
                if evaluator.evaluate(partial_loss, "budget") == "diverged":
                    reason = "diverged"  # keep the last good checkpoint
        if reason in BUDGET_REASONS or reason == "stopped":
            p.finished = None if reason == "stopped" else reason
            evaluator.keep_last()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        self.samples.wait()
        message = finish_message(reason, p, self.config, self.device_label)
        # The run's state for whoever looks at the folder later (the app, `runs`); a resume
        # that ended before its first step changed nothing and says nothing.
        if trained or not self.resumed:
            self.folder.log(
                {
                    "kind": "finish",
                    "reason": reason,
                    "step": p.step,
                    "epoch": p.epoch,
                    "message": message,
                }
            )
        return TrainingFinished(
            reason=reason,
            message=message,
            step=p.step,
            epoch=p.epoch,
            best_val_loss=p.best_val_loss,
            best_epoch=p.best_epoch,
            run_dir=str(self.run_dir),
            last_checkpoint=evaluator.saved.get(LAST) or self.folder.existing_checkpoint(LAST),
            best_checkpoint=evaluator.saved.get(BEST) or self.folder.existing_checkpoint(BEST),
        )


def train(
    config: TrainConfig | None,
    paths: Paths,
    *,
    on_event: OnEvent | None = None,
    stop: threading.Event | None = None,
    sample_now: threading.Event | None = None,
    run_name: str | None = None,
    resume: str | Path | None = None,
    resume_overrides: Mapping[str, object] | None = None,
    corpus: Corpus | None = None,
    ranks: Ranks | None = None,
) -> TrainingFinished:
    """Train a new run (`config`) or continue one (`resume`: a checkpoint path).

    `resume_overrides` holds the settings the person gave with the resume (flat names, as
    `config.flat` makes them; "preset" too): those a resume may change apply, any other that
    differs from the run's own is refused with a ResumeConflict.

    Setting `sample_now` asks for a sample from the weights as they are (a SampleDrawn event).

    `ranks`: this process's place in a torchrun job (distributed.py); alone by default.

    Raises UserError for unusable input before training starts, and RankFailed when another
    process of a job stops. Runtime trouble (divergence, out of memory) ends the run with a
    TrainingFinished whose reason says so; the event stream always ends with that
    TrainingFinished.
    """
    if config is None and resume is None:
        raise UserError("nothing to train: give a config or a checkpoint to resume")
    ranks = ranks or Ranks()
    inputs = prepare_job(
        ranks,
        config,
        paths.ensure(),
        run_name=run_name,
        resume=resume,
        resume_overrides=resume_overrides,
        corpus=corpus,
        on_event=on_event,  # a large corpus's encoding progress, and `stop` to end it
        stop=stop,
    )
    try:
        run = _Run(inputs, on_event, stop, sample_now, ranks)
    except BaseException:
        inputs.release()  # the run never trained: its folder is free again
        raise
    try:
        finished = run.run()
    except RankFailed as exc:
        exc.run_dir = str(inputs.run_dir)
        raise
    run.emit(finished)
    return finished
