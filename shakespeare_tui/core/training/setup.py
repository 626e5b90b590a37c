"""Everything a run needs before its first step: settings, device, corpus, vocabulary, folder.

All of it is checked here, so a run that cannot start fails with one UserError before anything
is written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NotRequired, TypedDict, Unpack

import torch

from shakespeare_tui.core import device as devices
from shakespeare_tui.core.config import (
    AUTO,
    RESUMABLE_FIELDS,
    TrainConfig,
    flat,
    machine_threads,
    preset_values,
    resolve_auto,
)
from shakespeare_tui.core.errors import ResumeConflict, UserError, system_failure
from shakespeare_tui.core.events import OnEvent, StopSignal
from shakespeare_tui.core.file_json import json_object
from shakespeare_tui.core.model.checkpoint import Checkpoint, load_checkpoint, resume_state
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.runs.folders import CONFIG, check_run_name, new_run_name, read_json
from shakespeare_tui.core.runs.lock import RunLock
from shakespeare_tui.core.text.corpus import NAMED_CORPORA, Corpus, load_corpus, same_corpus
from shakespeare_tui.core.text.vocab import Vocabulary
from shakespeare_tui.core.training.distributed import Ranks


@dataclass
class RunInputs:
    config: TrainConfig  # resolved: no "auto", the vocabulary's size in the model
    device: torch.device
    corpus: Corpus
    vocab: Vocabulary
    checkpoint: Checkpoint | None  # the state to resume, if resuming
    run_dir: Path | None  # None where `claim` was not asked for (a rank other than 0)
    notes: list[str]  # said to the person when the run starts
    lock: RunLock | None = None  # the run folder's, held from before the run was read
    made_folder: Path | None = None  # a new run's folder, made by prepare_run

    def release(self) -> None:
        """Let go of the run folder (a run that will not train after all): unlock it, and
        remove it again if it was made for this run and nothing was written in it."""
        _let_go(self.lock, self.made_folder)


def _let_go(lock: RunLock | None, made_folder: Path | None) -> None:
    """Unlock a run folder, and remove `made_folder` (a new run's) if it is empty."""
    if lock is not None:
        lock.release()
    if made_folder is not None:
        with contextlib.suppress(OSError):
            made_folder.rmdir()  # only if empty: the lock file went with the release


class RunRequest(TypedDict):
    """The run asked for, as `prepare_run` (and every rank of a job) takes it."""

    run_name: str | None
    resume: str | Path | None  # a run, a run folder or a checkpoint to go on from
    resume_overrides: Mapping[str, Any] | None  # what a resume may change
    corpus: Corpus | None  # the corpus already read, else config.corpus is
    # Both reach the corpus's encoding, when a large one is met the first time.
    on_event: NotRequired[OnEvent | None]
    stop: NotRequired[StopSignal | None]


def prepare_run(
    config: TrainConfig | None, paths: Paths, *, claim: bool = True, **request: Unpack[RunRequest]
) -> RunInputs:
    """`claim`: name the run folder, check that it is free, and hold its lock (rank 0 of a job
    does, for all). The lock is taken before anything of a run being resumed is read, and a
    folder being resumed is never created: a `runs rm` or `runs mv` that won the race leaves
    this run refused in one line, not re-made with half its history."""
    lock: RunLock | None = None
    created: Path | None = None  # a new run's folder, made here: removed if the start fails
    try:
        resume = request["resume"]
        if claim and resume:
            own = _own_folder(Path(resume), request["run_name"], paths)
            if own is not None:
                lock = lock_existing_run(own)
        inputs = _prepare(config, paths, claim, request)
        if claim and lock is None and inputs.run_dir is not None:  # claimed, so named
            created = None if inputs.run_dir.exists() else inputs.run_dir
            lock = lock_new_run(inputs.run_dir)
        inputs.lock, inputs.made_folder = lock, created
        return inputs
    except BaseException:
        _let_go(lock, created)
        raise


def _prepare(
    config: TrainConfig | None, paths: Paths, claim: bool, request: RunRequest
) -> RunInputs:
    run_name, resume = request["run_name"], request["resume"]
    resume_overrides, corpus = request["resume_overrides"], request["corpus"]
    on_event, stop = request.get("on_event"), request.get("stop")
    notes: list[str] = []
    checkpoint = None
    resumed = Path(resume) if resume is not None else None
    # A folder: a run killed before its first checkpoint starts again from its settings.
    restart = resumed if resumed is not None and resumed.is_dir() else None
    if restart is not None:
        folder = restart
        config = _resumed_config(_recorded_config(folder), resume_overrides)
        notes.append(
            f"run {folder.name} stopped before its first checkpoint, so it starts again from its "
            "settings"
        )
    elif resume and resumed is not None:
        checkpoint = load_checkpoint(resumed)
        if not checkpoint.resumable:
            raise UserError(f"{resume} holds no training state to resume (only weights)")
        resume_state(checkpoint.payload, checkpoint.path.name)  # refused before anything is read
        saved = TrainConfig.from_dict(checkpoint.payload.get("train_config") or {})
        config = _resumed_config(saved, resume_overrides)
    if config is None:
        raise UserError("nothing to train: give a config or a checkpoint to resume")
    config.validate()
    device = devices.resolve_device(config.device)
    config = resolve_auto(config, device.type)
    if checkpoint is None and config.preset_reason:
        notes.append(config.preset_reason)

    text = corpus or load_corpus(config.corpus, paths.cache, on_event=on_event, stop=stop)
    if checkpoint is None and corpus is None and config.corpus not in NAMED_CORPORA:
        # A file is recorded by its absolute path, so a resume finds it from any folder.
        config = replace(config, corpus=text.source)
    if checkpoint is not None:
        vocab = checkpoint.vocab
        expected = json_object(checkpoint.payload.get("corpus")).get("checksum")
        if expected and expected != text.checksum:
            raise UserError(
                f"the corpus {text.name} changed since this run started; "
                "resume with the same text or start a new run"
            )
    else:
        vocab = text.vocabulary()
    unknown = text.unknown(vocab)
    if unknown:
        raise UserError(
            f"the corpus has characters the checkpoint's vocabulary lacks: {unknown[:8]}"
        )
    config = replace(config, model=replace(config.model, vocab_size=len(vocab)))

    if not claim:
        run_dir = None
    elif restart is not None:
        run_dir = restart
    elif resumed is not None and checkpoint is not None:
        run_dir = _resume_dir(resumed, run_name, paths, config.preset)
    else:  # a new run's folder: lock_new_run makes it, and refuses one that is taken
        run_dir = paths.runs / (
            check_run_name(run_name) if run_name else new_run_name(config.preset)
        )
    return RunInputs(config, device, text, vocab, checkpoint, run_dir, notes)


def _resumed_config(saved: TrainConfig, resume_overrides: Mapping[str, Any] | None) -> TrainConfig:
    """What a resume trains with: `saved` with the changes asked for, a preset among them
    read for the device asked for (else the saved one)."""
    requested = dict(resume_overrides or {})
    device = requested.get("device") or saved.device
    return resume_config(saved, requested, devices.resolve_device(device).type)


def _recorded_config(folder: Path) -> TrainConfig:
    """The settings a run folder's config.json recorded (`restartable` folders have them)."""
    recorded = read_json(folder / CONFIG) or {}
    train = recorded.get("train")
    if not isinstance(train, dict):
        raise UserError(f"run {folder.name} has no checkpoint and no readable settings to restart")
    try:
        return TrainConfig.from_dict(train)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise UserError(f"run {folder.name}'s config.json cannot be used ({exc})") from None


def prepare_job(
    ranks: Ranks, config: TrainConfig | None, paths: Paths, **kwargs: Unpack[RunRequest]
) -> RunInputs:
    """`prepare_run` on every rank of a job (distributed.py; alone, just that): a refusal on
    any rank stops every rank, rank 0 names and claims the run folder for all, and each
    process takes its own device (cuda:LOCAL_RANK)."""

    def prepare() -> RunInputs:
        inputs = prepare_run(config, paths, claim=ranks.writer, **kwargs)
        inputs.device = ranks.place(inputs.device)
        return inputs

    inputs: RunInputs = ranks.agreed(prepare)
    inputs.run_dir = ranks.from_rank0(inputs.run_dir)
    return inputs


def _own_folder(resume: Path, run_name: str | None, paths: Paths) -> Path | None:
    """The run folder a resume continues in place (as `_resume_dir` finds it), if any."""
    folder = resume.parent if resume.is_file() else resume
    in_runs = (
        folder.parent.resolve() == paths.runs.resolve()
    )  # a run of ours, even without config.json
    if not ((folder / CONFIG).is_file() or in_runs):
        return None
    if not run_name:
        return folder
    target = paths.runs / check_run_name(run_name)
    return folder if target.is_dir() and target.samefile(folder) else None


def lock_existing_run(folder: Path) -> RunLock:
    """The lock of a run folder that must already exist (one being resumed)."""
    lock = RunLock(folder)
    try:
        return lock.acquire(wait_s=0)
    except FileNotFoundError:
        raise UserError(
            f"run {folder.name} no longer exists (deleted or renamed meanwhile); nothing was "
            "written"
        ) from None


def lock_new_run(folder: Path) -> RunLock:
    """Make a new run's folder and take its lock; refuse a folder another run already holds."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a full disk or a refusal of the system's: a runtime failure
        raise system_failure(exc, f"the run folder {folder}", doing="create") from None
    lock = RunLock(folder).acquire(wait_s=0)
    if any(p.name != lock.path.name for p in folder.iterdir()):
        lock.release()
        raise UserError(
            f"run {folder.name} already exists; choose another name ({{run}}) or {{resume}} it",
            names=["run", "resume"],
        )
    return lock


def _resume_dir(resume: Path, run_name: str | None, paths: Paths, preset: str) -> Path:
    """Continue in the checkpoint's own run folder; a loose file starts a new folder."""
    folder = resume.parent if resume.is_file() else resume
    in_runs = folder.parent.resolve() == paths.runs.resolve()
    if ((folder / CONFIG).is_file() or in_runs) and not run_name:
        return folder
    name = check_run_name(run_name) if run_name else new_run_name(preset)
    target = paths.runs / name
    same = target.is_dir() and folder.is_dir() and target.samefile(folder)
    if not same and target.exists() and any(target.iterdir()):
        raise UserError(f"run {name} already exists; choose another name ({{run}})", names=["run"])
    return target


def resume_config(
    saved: TrainConfig, requested: Mapping[str, Any], device_type: str | None = None
) -> TrainConfig:
    """The saved run's settings with what a resume may change; refuse anything else that differs.

    `requested` holds what the person gave (flat names, None = not given), including "preset":
    repeating the command that started the run, with the resume added, is accepted as long as
    every value it implies is the run's own.
    """
    if saved.threads is not None and saved.threads > machine_threads():
        # Saved on a machine with more CPUs: a thread count this one cannot give would refuse
        # the resume; the threads are the machine's to choose, not the run's.
        saved = replace(saved, threads=None)
    given = {k: v for k, v in requested.items() if v is not None}
    preset = given.pop("preset", None)
    saved_values = flat(saved)

    def differs(name: str, value: Any) -> bool:
        if name == "corpus":
            return not same_corpus(value, saved.corpus)
        return name in saved_values and value != saved_values[name]

    conflicts = []
    if preset is not None and not (preset == AUTO and saved.preset_reason):
        # A preset stands for its values: the same values under another label are fine.
        implied = {k: v for k, v in preset_values(preset, device_type).items() if k not in given}
        if any(differs(k, v) for k, v in implied.items()):
            conflicts.append(("preset", preset, saved.preset))
    for name, value in given.items():
        if name not in RESUMABLE_FIELDS and differs(name, value):
            conflicts.append((name, value, saved_values[name]))
    if conflicts:
        raise ResumeConflict(conflicts, RESUMABLE_FIELDS)
    return replace(saved, **{k: v for k, v in given.items() if k in RESUMABLE_FIELDS})
