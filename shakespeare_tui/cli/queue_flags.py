"""The `queue` command's flags."""

from __future__ import annotations

import argparse

from shakespeare_tui.cli.flag_types import common_flags


def add_queue(commands) -> argparse.ArgumentParser:
    """The `queue` command, under `commands` (the parser's subparsers)."""
    queue = commands.add_parser(
        "queue",
        parents=[common_flags()],
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
    return queue
