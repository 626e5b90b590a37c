"""`shakespeare-tui train`: a run headless, with a progress bar; Ctrl+C saves and exits 130.

Under torchrun, one process of a job (core/training/distributed.py); with --nproc, the torchrun that
starts them (cli/torchrun.py).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import threading
import time
from pathlib import Path

from shakespeare_tui.cli.exits import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, error
from shakespeare_tui.cli.torchrun import launch
from shakespeare_tui.cli.train_flags import TRAIN_SETTINGS
from shakespeare_tui.cli.train_report import ConsoleReporter
from shakespeare_tui.core.config import AUTO, build_config
from shakespeare_tui.core.errors import (
    CheckpointError,
    EncodingStopped,
    UserError,
    flag_name,
    named_by_path,
    system_failure,
)
from shakespeare_tui.core.figures import count
from shakespeare_tui.core.runs.folders import (
    BEST,
    CHECKPOINT_FILES,
    CONFIG,
    LAST,
    check_run_name,
    resolve_resume,
)
from shakespeare_tui.core.runs.lock import RunLock
from shakespeare_tui.core.text.corpus import NAMED_CORPORA, load_corpus
from shakespeare_tui.core.training.budgets import BUDGET_FIELDS, extended, saved_state, spent
from shakespeare_tui.core.training.distributed import RankFailed, Ranks, launched_by_torchrun

# torchrun passes a terminal's Ctrl+C on to its processes, which had it from the terminal
# already: a second signal this soon after the first is that echo, not a second Ctrl+C.
ECHO_S = 1.0


def train_command(args, paths) -> int:
    paths = paths.ensure()
    under_torchrun = launched_by_torchrun()
    if args.nproc is not None:
        if under_torchrun:
            raise UserError("--nproc starts torchrun; under torchrun, give it --nproc-per-node")
        return launch(args)
    stop = threading.Event()
    first = [0.0]

    def request_stop(signum, frame):
        now = time.monotonic()
        if stop.is_set():
            if under_torchrun and now - first[0] < ECHO_S:
                return
            raise KeyboardInterrupt  # a second Ctrl+C: the person means it
        first[0] = now
        stop.set()

    previous = (
        signal.signal(signal.SIGINT, request_stop),
        signal.signal(signal.SIGTERM, request_stop),
    )
    try:
        return _run(args, paths, stop)
    finally:  # main() may be called in-process (tests): leave the handlers as they were
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])


def given_settings(args) -> dict:
    """The settings the person gave on the command line (flat names; unset ones left out)."""
    return {k: getattr(args, k) for k in TRAIN_SETTINGS if getattr(args, k) is not None}


def _run(args, paths, stop: threading.Event) -> int:
    ranks = Ranks.from_env()  # a job of one without torchrun
    reporter = ConsoleReporter(
        quiet=args.quiet, hint=lambda finished: _next_command(finished, args, paths)
    )
    try:
        ranks.start()
        # Every rank checks the settings; a refusal on one is every rank's (rank 0 says it).
        with reporter:  # a large corpus is encoded in _setup the first time: its bar
            on_event = reporter if ranks.writer else None
            config, resume, overrides, plan, corpus = ranks.agreed(
                lambda: _setup(args, paths, on_event, stop)
            )
        if plan is not None:  # the budgets, for the run's ETA
            reporter.max_steps, reporter.max_minutes = plan.max_steps, plan.max_minutes
        from shakespeare_tui.core.training.engine import train  # torch: only once a run starts

        with reporter, named_by_path(resume) if resume else contextlib.nullcontext():
            try:
                finished = train(
                    config,
                    paths,
                    on_event=reporter if ranks.writer else None,  # rank 0 speaks for the job
                    stop=stop,
                    run_name=args.run,
                    resume=resume,
                    resume_overrides=overrides,
                    corpus=corpus,
                    ranks=ranks,
                )
            except OSError as exc:  # the run folder could not be made or written (a full disk)
                raise run_folder_failure(exc, paths) from None
    except KeyboardInterrupt:  # a second Ctrl+C: out at once, saying what is left
        error(_what_remains(reporter, args, paths))
        return EXIT_INTERRUPTED
    except EncodingStopped as exc:  # Ctrl+C while a large corpus was encoded
        error(str(exc))
        return EXIT_INTERRUPTED
    except RankFailed as exc:
        if exc.reporter:
            error(_lost_line(exc), every_rank=True)
        return EXIT_FAILURE
    finally:
        ranks.close()
    if finished.reason == "stopped":
        return EXIT_INTERRUPTED
    if finished.failed:  # out of memory is one process's own; a divergence, every rank's
        error(finished.message, every_rank=finished.reason == "out-of-memory")
        return EXIT_FAILURE
    return EXIT_OK


def _setup(args, paths, on_event=None, stop=None):
    """(config, resume, overrides, plan, corpus): what `train` is called with."""
    settings = given_settings(args)
    if args.resume:
        resume = resolve_resume(args.resume, paths)
        overrides = {**settings, "preset": args.preset}
        if resume.is_dir():  # killed before its first checkpoint: the engine starts it again
            return None, resume, overrides, None, None
        with named_by_path(resume):
            return None, resume, overrides, _resume_plan(resume, overrides), None
    corpus, settings = _checked_first(args, paths, settings, on_event, stop)  # before torch
    from shakespeare_tui.core.device import resolve_device  # torch: only after those checks

    device_type = resolve_device(args.device or "auto").type
    config = build_config(args.preset or "auto", device_type, settings)
    return config, None, None, config, corpus


def run_folder_failure(exc: OSError, paths):
    """An OSError as a run starts or resumes (its folder, lock, config or metrics), as one
    line naming the run folder: "no space left on the device for the run folder …"."""
    named = Path(os.path.abspath(exc.filename)) if exc.filename else None
    runs = Path(os.path.abspath(paths.runs))
    folder = next((p for p in (named, *named.parents) if p.parent == runs), None) if named else None
    what = f"the run folder {folder}" if folder else None
    return system_failure(exc, what)


def _lost_line(exc) -> str:
    """A lost rank, and what the run keeps: its last checkpoint, untouched."""
    from shakespeare_tui.core.model.checkpoint import read_info  # torch: only once a run ran

    kept = "nothing was saved yet"
    if exc.run_dir:
        info = read_info(Path(exc.run_dir) / CHECKPOINT_FILES[LAST])
        if info.ok:
            kept = f"{info.path} (step {count(info.step)}) is intact; --resume continues from it"
    return f"{exc}, so the whole job stops; {kept}"


def _checked_first(args, paths, settings: dict, on_event=None, stop=None):
    """A new run's settings, corpus and name, checked before the device is probed: probing
    CUDA can print (torch warns of a missing driver), and a refusal must come alone. Returns
    the loaded corpus, and the settings with a corpus file by its absolute path."""
    # The person's values are the same on any device; only what "auto" means differs.
    draft = build_config(args.preset or "auto", None, settings)
    draft.validate()
    corpus = load_corpus(draft.corpus, paths.cache, on_event=on_event, stop=stop)
    if args.run:
        check_run_name(args.run)
    if draft.corpus not in NAMED_CORPORA:  # as the engine records it, found from any folder
        settings = {**settings, "corpus": corpus.source}
    return corpus, settings


def _what_remains(reporter, args, paths) -> str:
    """After a second Ctrl+C: the checkpoint a resume would start from, and its step."""
    from shakespeare_tui.core.model.checkpoint import read_info  # torch: only once a run ran

    if reporter.run_dir is None:
        return "interrupted again before training started; nothing was changed"
    run_dir = Path(reporter.run_dir)
    # What a resume of the run would load; a write cut short has left the previous file whole.
    for kind in (LAST, BEST):
        info = read_info(run_dir / CHECKPOINT_FILES[kind])
        if info.ok:
            break
    else:
        return "interrupted again before the run's first checkpoint: nothing was saved"
    reached = reporter.last_step
    lost = "; the steps after it are lost" if reached is not None and reached > info.step else ""
    command = _command(run_dir, args, paths, {})
    return (
        f"interrupted again: {info.path}, at step {count(info.step)}, is what remains{lost}; "
        f"{command} continues from it"
    )


def _resume_plan(checkpoint: Path, overrides: dict):
    """The settings the resume will run with; refuse one whose budget is already spent.

    A run resumed with a spent budget would end before its first step ("reached 300 steps")
    and print the same resume hint again: a loop. That is a usage error (exit 2), said in one
    line with the larger budget that continues it. None when the engine refuses the file
    itself (no training state) or the run is locked: its own message says why.
    """
    # torch: a resume reads its checkpoint, and "auto" may probe the device
    from shakespeare_tui.core.device import resolve_device
    from shakespeare_tui.core.training.setup import resume_config

    state = saved_state(checkpoint)
    folder = checkpoint.parent
    if state is None or RunLock(folder).held_by_other_process():
        return None
    saved, progress = state
    # Only what "--preset auto" stands for depends on the device: probe it only then.
    device = overrides.get("device") or saved.device
    device_type = resolve_device(device).type if overrides.get("preset") == AUTO else None
    config = resume_config(saved, overrides, device_type)
    reason = spent(progress, config)
    if reason is not None:
        field = BUDGET_FIELDS[reason]
        what = "finished" if reason == "completed" else "reached"
        larger = " ".join(_flag(k, v) for k, v in extended(progress, config).items())
        name = f"run {folder.name}" if (folder / CONFIG).is_file() else str(checkpoint)
        raise UserError(
            f"{name} already {what} {_flag(field, getattr(config, field))}: resume it with a "
            f"larger budget, e.g. {larger}"
        )
    return config


def _flag(field: str, value) -> str:
    """`--max-minutes 20` as a person types it."""
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{flag_name(field)} {shown}"


def _next_command(finished, args, paths) -> str | None:
    """After the run: the command that continues it (`continue: …`, with larger budgets where
    the run spent its own) or resumes it (`resume: …`), or None if there is nothing to resume."""
    if not finished.last_checkpoint:
        return None
    try:
        state = saved_state(Path(finished.last_checkpoint))
    except CheckpointError:
        state = None
    larger = extended(state[1], state[0]) if state else {}
    command = _command(Path(finished.run_dir), args, paths, larger)
    return f"{'continue' if larger else 'resume'}: {command}"


def _command(run_dir: Path, args, paths, budgets: dict) -> str:
    """`shakespeare-tui train --resume RUN [budgets]`, naming the run as the person can."""
    own_run = run_dir.parent.resolve() == paths.runs.resolve()
    words = ["shakespeare-tui", "train", "--resume", run_dir.name if own_run else str(run_dir)]
    for field, value in budgets.items():
        words += _flag(field, value).split()
    if own_run and getattr(args, "data_dir", None):
        words += ["--data-dir", str(paths.data)]
    return shlex.join(words + _same_processes())


def _same_processes() -> list[str]:
    """`--nproc N` for a job of N processes on this machine: resumed alike, it goes on
    exactly (a job across machines is resumed with its own torchrun command)."""
    ranks = Ranks.from_env()
    if not ranks.launched or not ranks.single_machine or ranks.layout is not None:
        return []  # a launcher's layout (core/layout.py) is started alike by the same launcher
    return ["--nproc", str(ranks.world)]
