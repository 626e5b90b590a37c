"""`shakespeare-tui train`: a run headless, with a progress bar; Ctrl+C saves and exits 130."""

from __future__ import annotations

import signal
import threading

from shakespeare_tui.cli.parser import TRAIN_SETTINGS


def train_command(args, paths) -> int:
    stop = threading.Event()

    def request_stop(signum, frame):
        if stop.is_set():  # a second Ctrl+C: the person means it
            raise KeyboardInterrupt
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
    from shakespeare_tui.cli import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, error
    from shakespeare_tui.cli.train_report import ConsoleReporter
    from shakespeare_tui.core.config import build_config
    from shakespeare_tui.core.device import resolve_device
    from shakespeare_tui.core.engine import train
    from shakespeare_tui.core.runs import LAST, resolve_checkpoint

    settings = given_settings(args)
    if args.resume:
        resume = resolve_checkpoint(args.resume, paths, prefer=LAST)
        config, overrides = None, {**settings, "preset": args.preset}
    else:
        device_type = resolve_device(args.device or "auto").type
        config = build_config(args.preset or "auto", device_type, settings)
        resume, overrides = None, None
    max_steps, max_minutes = (
        (config.max_steps, config.max_minutes)
        if config is not None
        else (settings.get("max_steps"), settings.get("max_minutes"))
    )
    with ConsoleReporter(
        quiet=args.quiet, max_steps=max_steps, max_minutes=max_minutes
    ) as reporter:
        finished = train(
            config,
            paths,
            on_event=reporter,
            stop=stop,
            run_name=args.run,
            resume=resume,
            resume_overrides=overrides,
        )
    if finished.reason == "stopped":
        return EXIT_INTERRUPTED
    if finished.failed:
        error(finished.message)
        return EXIT_FAILURE
    return EXIT_OK
