"""The command line's parser: each command's flags (its *_flags module), and the function that
runs it (`args.func(args, paths)`, set here; with no command, the app)."""

from __future__ import annotations

import argparse

from shakespeare_tui import __version__
from shakespeare_tui.cli.app_command import app_command
from shakespeare_tui.cli.flag_types import CliParser, common_flags
from shakespeare_tui.cli.generate_command import generate_command
from shakespeare_tui.cli.generate_flags import add_generate
from shakespeare_tui.cli.inspect_command import inspect_command
from shakespeare_tui.cli.inspect_flags import add_inspect
from shakespeare_tui.cli.memory_command import memory_command
from shakespeare_tui.cli.memory_flags import add_memory
from shakespeare_tui.cli.queue_command import queue_command
from shakespeare_tui.cli.queue_flags import add_queue
from shakespeare_tui.cli.runs_command import (
    diff_command,
    export_command,
    list_command,
    mv_command,
    rm_command,
)
from shakespeare_tui.cli.runs_flags import add_export, add_runs
from shakespeare_tui.cli.train_command import train_command
from shakespeare_tui.cli.train_flags import add_train


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(
        prog="shakespeare-tui",
        description="Train a character-level language model on Shakespeare and play with it. "
        "With no command, opens the full-screen app.",
        parents=[common_flags()],
    )
    parser.add_argument("--version", action="version", version=f"shakespeare-tui {__version__}")
    parser.set_defaults(func=app_command)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=CliParser)
    add_train(commands).set_defaults(func=train_command)
    add_generate(commands).set_defaults(func=generate_command)
    add_inspect(commands).set_defaults(func=inspect_command)
    add_memory(commands).set_defaults(func=memory_command)
    runs = add_runs(commands)
    runs[None].set_defaults(func=list_command)
    runs["diff"].set_defaults(func=diff_command)
    runs["rm"].set_defaults(func=rm_command)
    runs["mv"].set_defaults(func=mv_command)
    add_queue(commands).set_defaults(func=queue_command)
    add_export(commands).set_defaults(func=export_command)
    return parser
