"""`shakespeare-tui queue [FILE | --cells]`: train queued runs one after another, headless.

FILE (TOML or JSON, see core/runs/run_queue.py) adds its runs to the data folder's queue, the same
queue the app shows; `--cells` adds the notebook's lesson instead, a basic RNN, a GRU and an LSTM
planned for a fair comparison (core/sizing/cells_speed.py, which times the LSTM here first). Then
the queue is worked until every run has ended. Ctrl+C stops the run in progress (it saves, as
`train` does) and the queue with it; `shakespeare-tui queue` again goes on from there.
"""

from __future__ import annotations

import argparse
import signal
import threading

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from shakespeare_tui.cli.console import PipeConsole
from shakespeare_tui.cli.exits import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, error
from shakespeare_tui.cli.train_command import run_folder_failure
from shakespeare_tui.cli.train_report import ConsoleReporter
from shakespeare_tui.core.errors import RunLockedError, UserError
from shakespeare_tui.core.runs.folders import check_run_name
from shakespeare_tui.core.runs.run_queue import (
    FAILED,
    RunQueue,
    entry_config,
    entry_resume_overrides,
    read_queue_file,
    work_queue,
)
from shakespeare_tui.core.shown_text import shown
from shakespeare_tui.core.sizing.cell_comparison import ORDER

CELLS_FLAGS = ("max_minutes", "corpus", "name")  # what only --cells takes


def queue_command(args: argparse.Namespace, paths) -> int:
    _check_cells_flags(args)
    paths = paths.ensure()
    queue = RunQueue.load(paths.data)
    if args.clear:
        queue.clear()
        print("the queue is empty" if not queue.entries else "kept the run in training")
        return EXIT_OK
    if args.cells:
        _add_cells(args, queue, paths)
    elif args.file:
        runs = read_queue_file(args.file)
        added = queue.add_many([(name, settings) for name, settings in runs], paths.runs)
        print(f"queued {len(added)} run{'s' * (len(added) != 1)}: "
              + ", ".join(shown(e.run) for e in added))  # fmt: skip
    elif args.add:
        error("--add needs a queue FILE or --cells")
        return EXIT_USAGE
    if args.list:
        _show(queue)
        return EXIT_OK
    if args.add:
        return EXIT_OK
    if not queue.open_entries:
        print("nothing is queued: give a queue file (see `shakespeare-tui queue --help`)")
        return EXIT_OK
    return _work(queue, paths, args.quiet)


def _check_cells_flags(args: argparse.Namespace) -> None:
    """--cells and its flags go together, and not with a FILE, --list or --clear."""
    if args.cells:
        for flag, given in (("FILE", args.file), ("--clear", args.clear)):
            if given:
                raise UserError(f"--cells queues its own runs: give it or {flag}, not both")
        return
    given = [name for name in CELLS_FLAGS if getattr(args, name) is not None]
    if given:
        raise UserError(f"--{given[0].replace('_', '-')} goes with --cells")


def _add_cells(args: argparse.Namespace, queue: RunQueue, paths) -> None:
    """Plan the three cells here (the LSTM timed for a second) and queue them together."""
    from shakespeare_tui.core.sizing.cells_speed import free_prefix, plan_here

    taken = {e.run for e in queue.open_entries}
    prefix = args.name
    if prefix is None:
        prefix = free_prefix(paths.runs, taken)
    else:  # refused before anything is timed
        for cell in ORDER:
            check_run_name(f"{prefix}-{cell}")
        if free_prefix(paths.runs, taken, base=prefix) != prefix:
            raise UserError(f"{{name}} {prefix}: a run {prefix}-… already exists or is queued; "
                            "choose another name", names=["name"])  # fmt: skip
    plan = plan_here(
        args.corpus or "plays",
        paths.cache,
        minutes=args.max_minutes,
        prefix=prefix,
        on_timing=lambda: print("timing the LSTM here for a second…", flush=True),
    )
    added = queue.add_many([(run.run, run.settings) for run in plan.runs], paths.runs)
    print(plan.reason)
    print(f"queued {len(added)} runs: " + ", ".join(shown(e.run) for e in added))
    names = " ".join(f"--checkpoint {e.run}" for e in added)
    print(f"then: `shakespeare-tui memory {names}` compares how far back each reads; in the "
          "app, R shows them side by side")  # fmt: skip


def _work(queue, paths, quiet: bool) -> int:
    stop = threading.Event()

    def request_stop(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = (signal.signal(signal.SIGINT, request_stop),
                signal.signal(signal.SIGTERM, request_stop))  # fmt: skip
    lock = queue.lock()
    try:
        lock.acquire(wait_s=0)
    except RunLockedError:
        error("the queue is being worked by another process (the app or `queue`); wait for it")
        return EXIT_FAILURE
    try:
        ended = work_queue(queue, paths, lambda e, r: _train(e, r, paths, stop, quiet), stop)
    finally:
        lock.release()
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
    left = len(queue.open_entries)
    if ended == "stopped":
        error(f"queue stopped: {left} run{'s' * (left != 1)} left; `shakespeare-tui queue` goes on")
        return EXIT_INTERRUPTED
    failed = [e for e in queue.entries if e.state == FAILED]
    print(f"queue done: {shown(_count(queue))}")
    return EXIT_FAILURE if failed else EXIT_OK


def _train(entry, resume, paths, stop: threading.Event, quiet: bool):
    from shakespeare_tui.core.training.engine import train  # torch: only once a run starts

    settings = entry.run_settings
    reporter = ConsoleReporter(quiet=quiet, max_steps=settings.get("max_steps"),
                               max_minutes=settings.get("max_minutes"))  # fmt: skip
    how = "continues" if resume else "starts"
    reporter.console.print(
        f"[bold]queue:[/] {escape(shown(entry.run))} {how} ({escape(shown(entry.budget))})"
    )
    config = entry_config(entry) if resume is None else None
    with reporter:
        try:
            return train(config, paths, on_event=reporter, stop=stop,
                         run_name=None if resume else entry.run, resume=resume,
                         resume_overrides=entry_resume_overrides(entry) if resume else None)  # fmt: skip
        except OSError as exc:  # the run folder could not be made or written (a full disk)
            raise run_folder_failure(exc, paths) from None


def _show(queue) -> None:
    table = Table(box=None, pad_edge=False)
    for header in ("#", "run", "state", "preset", "settings", "budget", "note"):
        table.add_column(header, overflow="fold")
    for n, e in enumerate(queue.entries, 1):
        settings = " ".join(f"{k}={v}" for k, v in e.settings.items()
                            if k not in ("preset", "max_minutes", "max_steps"))  # fmt: skip
        # From queue.json, which anyone may have edited: escaped, and never read as markup.
        cells = (str(n), e.run, e.state, e.preset, settings, e.budget, e.note)
        table.add_row(*(Text(shown(cell)) for cell in cells))
    console = PipeConsole()
    console.print(table if queue.entries else "the queue is empty")


def _count(queue) -> str:
    states: dict[str, int] = {}
    for e in queue.entries:
        states[e.state] = states.get(e.state, 0) + 1
    return ", ".join(f"{n} {state}" for state, n in states.items())
