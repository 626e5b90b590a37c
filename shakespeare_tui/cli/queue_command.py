"""`shakespeare-tui queue [FILE]`: train queued runs one after another, headless.

FILE (TOML or JSON, see core/runs/run_queue.py) adds its runs to the data folder's queue, the same
queue the app shows; then the queue is worked until every run has ended. Ctrl+C stops the run
in progress (it saves, as `train` does) and the queue with it; `shakespeare-tui queue` again
goes on from there.
"""

from __future__ import annotations

import argparse
import signal
import threading


def add_queue(commands, common) -> None:
    queue = commands.add_parser(
        "queue",
        parents=[common()],
        help="train queued runs one after another",
        description="Add the runs of a TOML or JSON queue file to the queue, then train every "
        "queued run in turn (runs left by a quit or a Ctrl+C go on from their last checkpoint).",
    )
    queue.add_argument("file", nargs="?", help="a queue file to add (default: none, only "
                       "train what is queued)")  # fmt: skip
    queue.add_argument("--add", action="store_true",
                       help="add FILE's runs without training them (default: off)")  # fmt: skip
    queue.add_argument("--list", action="store_true", help="show the queue (default: off)")
    queue.add_argument("--clear", action="store_true",
                       help="remove every queued run that is not training (default: off)")  # fmt: skip
    queue.add_argument("--quiet", action="store_true",
                       help="no progress bar, only each run's outcome (default: off)")  # fmt: skip


def queue_command(args: argparse.Namespace, paths) -> int:
    from shakespeare_tui.cli import EXIT_OK, EXIT_USAGE, error
    from shakespeare_tui.core.runs.run_queue import TRAINING, RunQueue, read_queue_file

    queue = RunQueue.load(paths.data)
    if args.clear:
        queue.entries = [e for e in queue.entries if e.state == TRAINING]
        queue.save()
        print("the queue is empty" if not queue.entries else "kept the run in training")
        return EXIT_OK
    if args.file:
        runs = read_queue_file(args.file)
        added = [queue.add(settings, name, paths.runs) for name, settings in runs]
        queue.save()
        print(f"queued {len(added)} run{'s' * (len(added) != 1)}: "
              + ", ".join(e.run for e in added))  # fmt: skip
    elif args.add:
        error("--add needs a queue FILE")
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


def _work(queue, paths, quiet: bool) -> int:
    from shakespeare_tui.cli import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, error
    from shakespeare_tui.core.runs.lock import RunLockedError

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
        from shakespeare_tui.core.runs.run_queue import work_queue

        ended = work_queue(queue, paths, lambda e, r: _train(e, r, paths, stop, quiet), stop)
    finally:
        lock.release()
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
    left = len(queue.open_entries)
    if ended == "stopped":
        error(f"queue stopped: {left} run{'s' * (left != 1)} left; `shakespeare-tui queue` goes on")
        return EXIT_INTERRUPTED
    failed = [e for e in queue.entries if e.state == "failed"]
    print(f"queue done: {_count(queue)}")
    return EXIT_FAILURE if failed else EXIT_OK


def _train(entry, resume, paths, stop: threading.Event, quiet: bool):
    from shakespeare_tui.cli.train_report import ConsoleReporter
    from shakespeare_tui.core.config import RESUMABLE_FIELDS, build_config
    from shakespeare_tui.core.device import resolve_device
    from shakespeare_tui.core.training.engine import train

    settings = {k: v for k, v in entry.settings.items() if k != "preset"}
    reporter = ConsoleReporter(quiet=quiet, max_steps=settings.get("max_steps"),
                               max_minutes=settings.get("max_minutes"))  # fmt: skip
    how = "continues" if resume else "starts"
    reporter.console.print(f"[bold]queue:[/] {entry.run} {how} ({entry.budget})")
    # A run going on keeps its settings; the queue's budget for it may have grown since.
    config, overrides = None, {k: v for k, v in settings.items() if k in RESUMABLE_FIELDS}
    if resume is None:
        device_type = resolve_device(settings.get("device") or "auto").type
        config = build_config(entry.preset, device_type, settings)
    with reporter:
        return train(config, paths, on_event=reporter, stop=stop,
                     run_name=None if resume else entry.run, resume=resume,
                     resume_overrides=overrides if resume else None)  # fmt: skip


def _show(queue) -> None:
    from rich.table import Table

    from shakespeare_tui.cli.console import PipeConsole

    table = Table(box=None, pad_edge=False)
    for header in ("#", "run", "state", "preset", "settings", "budget", "note"):
        table.add_column(header, overflow="fold")
    for n, e in enumerate(queue.entries, 1):
        shown = " ".join(f"{k}={v}" for k, v in e.settings.items()
                         if k not in ("preset", "max_minutes", "max_steps"))  # fmt: skip
        table.add_row(str(n), e.run, e.state, e.preset, shown, e.budget, e.note)
    console = PipeConsole()
    console.print(table if queue.entries else "the queue is empty")


def _count(queue) -> str:
    states: dict[str, int] = {}
    for e in queue.entries:
        states[e.state] = states.get(e.state, 0) + 1
    return ", ".join(f"{n} {state}" for state, n in states.items())
