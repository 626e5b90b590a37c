"""The training engine: one function that trains a run, reporting plain events through a callback.

    finished = train(config, paths, on_event=print, stop=threading.Event())

It checks `stop` before every step and returns within one step of it being set, leaving a
resumable `last.pt`. Everything a resume needs is in that file: weights, optimiser, step, epoch,
data RNG, dropout RNG, best loss and patience, so a resumed CPU run ends bit for bit where an
uninterrupted one would.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F

from shakespeare_tui.core import device as devices
from shakespeare_tui.core.checkpoint import (
    atomic_write,
    build_payload,
    load_checkpoint,
    remove_stale_temps,
    save_checkpoint,
)
from shakespeare_tui.core.config import TrainConfig, apply_preset
from shakespeare_tui.core.corpus import NAMED_CORPORA, Corpus, load_corpus
from shakespeare_tui.core.data import TextData
from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.events import (
    CheckpointFailed,
    CheckpointSaved,
    EpochEnded,
    StepLogged,
    TrainingFinished,
    TrainingStarted,
)
from shakespeare_tui.core.model import CharRNN
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.runs import (
    BEST,
    LAST,
    RunLock,
    check_run_name,
    new_run_name,
    read_metrics,
)
from shakespeare_tui.core.sampling import SampleSettings, default_start, sample_text
from shakespeare_tui.core.vocab import Vocabulary

# Fields a resume may change; everything else comes from the checkpoint.
RESUMABLE_OVERRIDES = (
    "epochs",
    "patience",
    "max_steps",
    "max_minutes",
    "device",
    "threads",
    "log_every",
)
NO_GPU_NOTE = "no GPU found: training the cpu preset (--preset notebook for the notebook's model)"
# Steps timed to fit a cosine schedule into --max-minutes (after a few warm-up steps).
_CALIBRATE_FROM, _CALIBRATE_TO = 5, 25


def learning_rate(config: TrainConfig, step: int, total_steps: int) -> float:
    """Constant, or linear warm-up then cosine decay to a tenth of the base rate."""
    base = config.lr
    if config.schedule == "constant":
        return base
    if step < config.warmup_steps:
        return base * (0.1 + 0.9 * step / config.warmup_steps)
    span = max(1, total_steps - config.warmup_steps)
    progress = min(1.0, (step - config.warmup_steps) / span)
    return base / 10 + 0.5 * (base - base / 10) * (1 + math.cos(math.pi * progress))


def resolve_preset(config: TrainConfig, device: torch.device) -> TrainConfig:
    """ "auto": the notebook's model on a GPU, the CPU preset elsewhere."""
    if config.preset != "auto":
        return config
    return apply_preset(config, "notebook" if device.type == "cuda" else "cpu")


class _Run:
    """One training run's state; `train()` below is the whole public interface."""

    def __init__(self, config, paths, on_event, stop, run_name, resume, resume_overrides, corpus):
        self.emit = on_event or (lambda event: None)
        self.stop = stop or threading.Event()
        self.paths = paths.ensure()
        checkpoint = None
        if resume:
            checkpoint = load_checkpoint(Path(resume))
            if not checkpoint.resumable:
                raise UserError(f"{resume} holds no training state to resume (only weights)")
            saved = TrainConfig.from_dict(checkpoint.payload.get("train_config") or {})
            allowed = {
                k: v for k, v in (resume_overrides or {}).items() if k in RESUMABLE_OVERRIDES
            }
            config = replace(saved, **allowed)
        config.validate()
        self.device = devices.resolve_device(config.device)
        self.notes = []
        if config.preset == "auto" and self.device.type != "cuda":
            self.notes.append(NO_GPU_NOTE)
        config = resolve_preset(config, self.device)

        self.corpus: Corpus = corpus or load_corpus(config.corpus, self.paths.cache)
        if checkpoint is None and corpus is None and config.corpus not in NAMED_CORPORA:
            # A file is recorded by its absolute path, so a resume finds it from any folder.
            config = replace(config, corpus=self.corpus.source)
        if checkpoint is not None:
            self.vocab = checkpoint.vocab
            expected = (checkpoint.payload.get("corpus") or {}).get("checksum")
            if expected and expected != self.corpus.checksum:
                raise UserError(
                    f"the corpus {self.corpus.name} changed since this run started; "
                    "resume with the same text or start a new run"
                )
        else:
            self.vocab = Vocabulary.from_text(self.corpus.text)
        unknown = self.vocab.unknown(self.corpus.text)
        if unknown:
            raise UserError(
                f"the corpus has characters the checkpoint's vocabulary lacks: {unknown[:8]}"
            )
        model_config = replace(config.model, vocab_size=len(self.vocab))
        self.config = config = replace(config, model=model_config)

        self.device_label = devices.configure(self.device, config.threads)
        self.bf16 = devices.bf16_is_fast(self.device) if config.bf16 is None else config.bf16
        if self.bf16:
            self.device_label += " · bf16"
        self.data = TextData(
            self.vocab.encode(self.corpus.text),
            seq_len=config.seq_len,
            batch_size=config.batch_size,
            val_fraction=config.val_fraction,
            device=self.device,
            seed=config.seed,
            corpus_name=self.corpus.name,
        )
        self.steps_per_epoch = self.data.steps_per_epoch

        torch.manual_seed(config.seed)
        self.model = CharRNN(model_config).to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.progress = {
            "step": 0,
            "epoch": 0,  # completed epochs
            "epoch_step": 0,
            "elapsed_s": 0.0,
            "best_val_loss": None,
            "best_epoch": None,
            "stale_epochs": 0,  # epochs since the best one
            "epoch_loss_sum": 0.0,
            "schedule_steps": self._planned_steps(),
            "schedule_fitted": False,
            "finished": None,
        }
        self.history: list[dict] = []
        self.resumed = checkpoint is not None
        if checkpoint is not None:
            self._restore(checkpoint)
            self.run_dir = self._resume_dir(Path(resume), run_name)
        else:
            name = check_run_name(run_name) if run_name else new_run_name(config.preset)
            self.run_dir = self.paths.runs / name
            if self.run_dir.exists() and any(self.run_dir.iterdir()):
                raise UserError(
                    f"run {name} already exists; choose another --run name or --resume it"
                )
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.lock = RunLock(self.run_dir)

    # -- setup -----------------------------------------------------------------------------

    def _planned_steps(self) -> int:
        total = self.config.epochs * self.steps_per_epoch
        return min(total, self.config.max_steps) if self.config.max_steps else total

    def _restore(self, checkpoint) -> None:
        self.model.load_state_dict(checkpoint.model.state_dict())
        resume = checkpoint.payload["resume"]
        self.optimizer.load_state_dict(resume["optimizer"])
        try:
            self.data.set_rng_state(resume["data_rng"])
        except (RuntimeError, TypeError):
            # Saved on another kind of device (a GPU run resumed on the CPU): its batch stream
            # cannot continue here, so a fresh one starts, still seeded.
            step = int(checkpoint.payload["progress"].get("step", 0))
            self.data.generator.manual_seed(self.config.seed + step)
            self.notes.append(
                "resumed on another kind of device: training continues, but not bit for bit"
            )
        torch.set_rng_state(resume["torch_rng"])
        if self.device.type == "cuda" and resume.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(resume["cuda_rng"], self.device)
        self.progress.update(checkpoint.payload["progress"])
        self.progress["finished"] = None
        # A longer budget on resume re-plans the schedule; a fitted one is kept.
        if not self.progress["schedule_fitted"]:
            self.progress["schedule_steps"] = self._planned_steps()
        self.history = list(checkpoint.payload.get("history") or [])

    def _resume_dir(self, resume: Path, run_name: str | None) -> Path:
        """Continue in the checkpoint's own run folder; a loose file starts a new folder."""
        folder = resume.parent if resume.is_file() else resume
        if (folder / "config.json").is_file() and not run_name:
            return folder
        name = check_run_name(run_name) if run_name else new_run_name(self.config.preset)
        target = self.paths.runs / name
        same = target.is_dir() and folder.is_dir() and target.samefile(folder)
        if not same and target.exists() and any(target.iterdir()):
            raise UserError(f"run {name} already exists; choose another --run name")
        return target

    # -- files -----------------------------------------------------------------------------

    def _write_config(self) -> None:
        config = {
            "train": self.config.to_dict(),
            "corpus": self._corpus_meta(),
            "device": self.device_label,
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "vocab_size": len(self.vocab),
            "parameters": self.config.model.parameter_count(),
        }
        existing = (
            (self.run_dir / "config.json").read_text()
            if (self.run_dir / "config.json").exists()
            else ""
        )
        if existing:
            with contextlib.suppress(ValueError):
                config["created"] = json.loads(existing).get("created", config["created"])
        text = json.dumps(config, indent=2).encode()
        atomic_write(self.run_dir / "config.json", lambda f: f.write(text))

    def _corpus_meta(self) -> dict:
        return {
            "name": self.corpus.name,
            "checksum": self.corpus.checksum,
            "chars": len(self.corpus.text),
        }

    def _trim_metrics(self) -> list[dict]:
        """Drop records logged after the checkpoint we resume from (a kill leaves some)."""
        step = self.progress["step"]
        records = [r for r in read_metrics(self.run_dir) if r.get("step", 0) <= step]
        text = "".join(json.dumps(r) + "\n" for r in records).encode()
        atomic_write(self.run_dir / "metrics.jsonl", lambda f: f.write(text))
        return records

    def _log(self, record: dict) -> None:
        try:
            with open(self.run_dir / "metrics.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
        except OSError:
            pass  # metrics are a convenience; checkpoints carry the history that matters

    def _save(self, kind: str, val_loss: float | None) -> None:
        path = self.run_dir / (BEST if kind == "best" else LAST)
        resume = {
            "optimizer": self.optimizer.state_dict(),
            "data_rng": self.data.rng_state(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state(self.device)
            if self.device.type == "cuda"
            else None,
        }
        payload = build_payload(
            kind=kind,
            model=self.model,
            vocab=self.vocab,
            train_config=self.config.to_dict(),
            progress=dict(self.progress),
            history=list(self.history),
            corpus=self._corpus_meta(),
            val_loss=val_loss,
            device=self.device_label,
            resume=resume,
        )
        try:
            save_checkpoint(path, payload)
        except OSError as exc:
            self.emit(
                CheckpointFailed(str(path), f"could not save {path.name}: {exc.strerror or exc}")
            )
            return
        self.saved[kind] = str(path)
        self.emit(
            CheckpointSaved(
                str(path), kind, self.progress["epoch"], self.progress["step"], val_loss
            )
        )

    # -- the loop --------------------------------------------------------------------------

    def _autocast(self):
        if not self.bf16:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    def _sample(self, epoch: int) -> str:
        if self.config.sample_length == 0:
            return ""
        settings = SampleSettings(
            length=self.config.sample_length,
            temperature=self.config.sample_temperature,
            prompt=default_start(self.vocab),
            seed=self.config.seed + epoch,
        )
        was_training = self.model.training
        self.model.eval()
        try:
            return sample_text(self.model, self.vocab, settings)
        finally:
            self.model.train(was_training)

    def _end_epoch(
        self, train_loss: float | None, partial: bool = False, initial: bool = False
    ) -> str | None:
        """Validate, sample, save; return a finish reason when patience or epochs run out.

        `initial`: epoch 0, the untrained model; `partial`: a budget ended mid-epoch.
        """
        p = self.progress
        t0 = time.perf_counter()
        val = self.data.validation_loss(self.model, self._autocast)
        if not math.isfinite(val):
            return "diverged"
        # A partial epoch (a budget ran out mid-epoch) is labelled with the epoch in progress.
        epoch = 0 if initial else p["epoch"] + 1
        if not (initial or partial):
            p["epoch"] = epoch
        improved = epoch >= 1 and (p["best_val_loss"] is None or val < p["best_val_loss"])
        if improved:
            p["best_val_loss"], p["best_epoch"], p["stale_epochs"] = val, epoch, 0
        elif epoch >= 1 and not partial:
            p["stale_epochs"] += 1
        sample = self._sample(epoch)
        self.val_seconds = time.perf_counter() - t0
        record = {
            "kind": "epoch",
            "epoch": epoch,
            "step": p["step"],
            "train_loss": train_loss,
            "val_loss": val,
            "elapsed_s": round(self._elapsed(), 3),
            "partial": partial,
        }
        self.history.append(record)
        self._log(record)
        self._append_sample(epoch, val, sample)
        patience_left = self.config.patience - p["stale_epochs"]
        self.emit(
            EpochEnded(
                epoch=epoch,
                step=p["step"],
                train_loss=train_loss if train_loss is not None else float("nan"),
                val_loss=val,
                best_val_loss=p["best_val_loss"] if p["best_val_loss"] is not None else val,
                best_epoch=p["best_epoch"] or 0,
                improved=improved,
                patience_left=patience_left,
                sample=sample,
                elapsed_s=self._elapsed(),
                partial=partial,
            )
        )
        if epoch == 0:
            return None
        if improved:
            self._save("best", val)
        if partial:
            return None
        self._save("last", val)
        if epoch >= self.config.epochs:
            return "completed"
        if patience_left <= 0:
            return "early-stopped"
        return None

    def _append_sample(self, epoch: int, val: float, sample: str) -> None:
        try:
            with open(self.run_dir / "samples.txt", "a", encoding="utf-8") as f:
                f.write(f"=== epoch {epoch} · val {val:.4f} ===\n{sample}\n\n")
        except OSError:
            pass

    def _elapsed(self) -> float:
        return self.elapsed_before + (time.perf_counter() - self.t_start)

    def _fit_schedule(self, seconds_per_step: float) -> None:
        """Shrink the cosine schedule to the steps that fit in --max-minutes (once per run)."""
        p = self.progress
        remaining = self.config.max_minutes * 60 - self._elapsed()
        epochs_left = max(1, p["schedule_steps"] - p["step"]) / self.steps_per_epoch
        remaining -= self.val_seconds * math.ceil(epochs_left)
        fits = p["step"] + int(max(0.0, remaining) / seconds_per_step * 0.98)
        p["schedule_steps"] = max(p["step"] + 1, min(p["schedule_steps"], fits))
        p["schedule_fitted"] = True

    def run(self) -> TrainingFinished:
        with self.lock:
            remove_stale_temps(self.run_dir)  # half-written files of a killed process
            return self._run()

    def _run(self) -> TrainingFinished:
        config, p = self.config, self.progress
        self.saved: dict[str, str] = {}
        resumed = self.resumed  # even from step 0: epoch 0 is in the checkpoint's history
        history = tuple(self._trim_metrics()) if resumed else ()
        if not resumed:
            (self.run_dir / "metrics.jsonl").write_text("")
            (self.run_dir / "samples.txt").write_text("")
        self._write_config()
        self.emit(
            TrainingStarted(
                run_name=self.run_dir.name,
                run_dir=str(self.run_dir),
                device=self.device_label,
                model_summary=config.model.summary,
                parameters=config.model.parameter_count(),
                corpus=self.corpus.name,
                corpus_chars=len(self.corpus.text),
                steps_per_epoch=self.steps_per_epoch,
                epochs=config.epochs,
                step=p["step"],
                epoch=p["epoch"],
                resumed=resumed,
                history=history,
                notes=tuple(self.notes),
            )
        )
        self.elapsed_before = p["elapsed_s"]
        self.t_start = time.perf_counter()
        self.val_seconds = 0.0
        self.first_step = p["step"]
        reason = None
        try:
            if not resumed:
                reason = self._end_epoch(
                    None, initial=True
                )  # epoch 0: the untrained model, for reference
            reason = reason or self._loop()
        except torch.OutOfMemoryError:
            reason = "out-of-memory"
        p["elapsed_s"] = self._elapsed()
        return self._finish(reason)

    def _end_reason(self) -> str | None:
        """Why the run ends before the next step, if it does (checked before every step)."""
        config, p = self.config, self.progress
        if p["epoch"] >= config.epochs:
            return "completed"
        if p["stale_epochs"] >= config.patience:
            return "early-stopped"
        if self.stop.is_set():
            return "stopped"
        if config.max_steps and p["step"] >= config.max_steps:
            return "max-steps"
        if config.max_minutes and self._elapsed() >= config.max_minutes * 60:
            return "max-minutes"
        return None

    def _loop(self) -> str:
        config, p, model, data = self.config, self.progress, self.model, self.data
        model.train()
        vocab_size = config.model.vocab_size
        pending = torch.zeros((), device=self.device)  # summed on the device: no sync per step
        pending_n = 0
        last_log_t, last_log_step = time.perf_counter(), p["step"]
        calib_t = None
        first_step = p["step"]
        while True:
            reason = self._end_reason()
            if reason:
                if pending_n:  # log the steps since the last progress log: they count too
                    mean = pending.item() / pending_n
                    if not math.isfinite(mean):
                        return "diverged"
                    p["epoch_loss_sum"] += mean * pending_n
                    speed = (p["step"] - last_log_step) / max(
                        time.perf_counter() - last_log_t, 1e-9
                    )
                    self._log_step(mean, self.optimizer.param_groups[0]["lr"], speed)
                return reason
            lr = learning_rate(config, p["step"], p["schedule_steps"])
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            inputs, targets = data.batch()
            with self._autocast():
                logits, _ = model(inputs)
            loss = F.cross_entropy(logits.float().view(-1, vocab_size), targets.reshape(-1))
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip)
            self.optimizer.step()
            p["step"] += 1
            p["epoch_step"] += 1
            pending += loss.detach()
            pending_n += 1

            done = p["step"] - first_step
            if config.max_minutes and config.schedule == "cosine" and not p["schedule_fitted"]:
                if done == _CALIBRATE_FROM:
                    calib_t = time.perf_counter()
                elif done == _CALIBRATE_TO and calib_t is not None:
                    self._fit_schedule(
                        (time.perf_counter() - calib_t) / (_CALIBRATE_TO - _CALIBRATE_FROM)
                    )

            epoch_done = p["epoch_step"] >= self.steps_per_epoch
            if p["step"] % config.log_every == 0 or epoch_done:
                mean = pending.item() / pending_n  # the one host sync per log interval
                if not math.isfinite(mean):
                    return "diverged"
                p["epoch_loss_sum"] += mean * pending_n
                now = time.perf_counter()
                steps = p["step"] - last_log_step
                self._log_step(mean, lr, steps / max(now - last_log_t, 1e-9))
                pending.zero_()
                pending_n = 0
                last_log_t, last_log_step = now, p["step"]
            if epoch_done:
                train_loss = p["epoch_loss_sum"] / p["epoch_step"]
                p["epoch_step"], p["epoch_loss_sum"] = 0, 0.0
                reason = self._end_epoch(train_loss)
                if reason:
                    return reason
                last_log_t = time.perf_counter()  # validation is not training speed

    def _log_step(self, loss: float, lr: float, steps_per_sec: float) -> None:
        p, config = self.progress, self.config
        event = StepLogged(
            step=p["step"],
            epoch=p["epoch"] + 1,
            epoch_step=p["epoch_step"],
            steps_per_epoch=self.steps_per_epoch,
            train_loss=loss,
            chars_per_sec=steps_per_sec * config.batch_size * config.seq_len,
            elapsed_s=self._elapsed(),
            lr=lr,
            gpu_memory_mb=devices.gpu_memory_mb(self.device),
        )
        self._log(
            {
                "kind": "step",
                "step": event.step,
                "epoch": event.epoch,
                "train_loss": round(loss, 5),
                "chars_per_sec": round(event.chars_per_sec, 1),
                "elapsed_s": round(event.elapsed_s, 3),
                "lr": lr,
            }
        )
        self.emit(event)

    def _finish(self, reason: str) -> TrainingFinished:
        p, config = self.progress, self.config
        # A budget end validates what it has, like an early stop (once: a resume that ends at
        # once, its budget already spent, adds nothing).
        trained = p["step"] > self.first_step
        if reason in ("max-steps", "max-minutes") and p["epoch_step"] > 0 and trained:
            partial_loss = p["epoch_loss_sum"] / p["epoch_step"] if p["epoch_loss_sum"] else None
            if self._end_epoch(partial_loss, partial=True) == "diverged":
                reason = "diverged"  # keep the last good checkpoint
        if reason in ("max-steps", "max-minutes", "stopped"):
            p["finished"] = None if reason == "stopped" else reason
            self._save("last", self.history[-1]["val_loss"] if self.history else None)
        best = p["best_val_loss"]
        best_text = (
            f"best val {best:.4f} at epoch {p['best_epoch']}"
            if best is not None
            else "no epoch finished"
        )
        messages = {
            "completed": lambda: f"finished {config.epochs} epochs; {best_text}",
            "early-stopped": lambda: (
                f"early stop: {config.patience} epochs without improvement; {best_text}"
            ),
            "stopped": lambda: f"stopped at step {p['step']} — saved, resume any time; {best_text}",
            "max-steps": lambda: f"reached {config.max_steps} steps; {best_text}",
            "max-minutes": lambda: f"reached {config.max_minutes:g} minutes; {best_text}",
            "diverged": lambda: (
                f"the loss became NaN/inf at step {p['step']}: lower the learning rate "
                f"(now {config.lr:g}); the saved checkpoints are untouched"
            ),
            "out-of-memory": lambda: (
                f"out of memory on {self.device_label} with batch {config.batch_size} × "
                f"{config.seq_len} and {config.model.summary}: try a smaller --batch-size, "
                "--seq-len or --hidden"
            ),
        }
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        return TrainingFinished(
            reason=reason,
            message=messages[reason](),
            step=p["step"],
            epoch=p["epoch"],
            best_val_loss=best,
            best_epoch=p["best_epoch"],
            run_dir=str(self.run_dir),
            last_checkpoint=self.saved.get("last") or _existing(self.run_dir / LAST),
            best_checkpoint=self.saved.get("best") or _existing(self.run_dir / BEST),
        )


def _existing(path: Path) -> str | None:
    return str(path) if path.is_file() else None


def train(
    config: TrainConfig | None,
    paths: Paths,
    *,
    on_event: Callable[[object], None] | None = None,
    stop: threading.Event | None = None,
    run_name: str | None = None,
    resume: str | Path | None = None,
    resume_overrides: dict | None = None,
    corpus: Corpus | None = None,
) -> TrainingFinished:
    """Train a new run (`config`) or continue one (`resume`: a checkpoint path).

    Raises UserError for unusable input before training starts. Runtime trouble (divergence,
    out of memory) ends the run with a TrainingFinished whose reason says so; the event
    stream always ends with that TrainingFinished.
    """
    if config is None and resume is None:
        raise UserError("nothing to train: give a config or a checkpoint to resume")
    run = _Run(config, paths, on_event, stop, run_name, resume, resume_overrides, corpus)
    finished = run.run()
    run.emit(finished)
    return finished
