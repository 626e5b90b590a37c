"""The flags of `runs` and its actions (`diff`, `rm`, `mv`), and of `export`."""

from __future__ import annotations

import argparse

from shakespeare_tui.cli.flag_types import CliParser, common_flags
from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.runs.table import COLUMNS, column_key


def _column(text: str) -> str:
    try:
        return column_key(text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_runs(commands) -> dict[str | None, argparse.ArgumentParser]:
    """The `runs` command and its actions, under `commands` (the parser's subparsers): the
    parser of each, by action (None: `runs` itself)."""
    runs = commands.add_parser(
        "runs",
        parents=[common_flags()],
        help="list training runs and checkpoints; compare, rename or delete runs",
        description="Every run with its state, model, best validation loss and speed, and the "
        "bundled checkpoint. With an action: compare two runs, delete or rename one.",
    )
    runs.add_argument(
        "--sort",
        type=_column,
        metavar="COLUMN",
        help="order by a column, smallest first, runs without a value last: "
        f"{', '.join(COLUMNS)} (default: newest first, the bundled checkpoint at the top)",
    )
    runs.add_argument(
        "--reverse", action="store_true", help="with --sort, largest first (default: smallest)"
    )
    runs.add_argument(
        "--json",
        action="store_true",
        help="print a JSON list of objects, one per run (name, state, cell, params, "
        "best_val_loss, best_epoch, chars_per_sec and more) instead of the table",
    )
    actions = runs.add_subparsers(dest="runs_action", metavar="[ACTION]", parser_class=CliParser)
    diff = actions.add_parser(
        "diff",
        parents=[common_flags()],
        help="the settings that differ between two runs, and their best figures side by side",
    )
    diff.add_argument("a", metavar="RUN_A", help="a run name")
    diff.add_argument("b", metavar="RUN_B", help="another run name")
    rm = actions.add_parser(
        "rm", parents=[common_flags()], help="delete a run's folder (never one being trained)"
    )
    rm.add_argument("name", metavar="RUN", help="the run to delete")
    rm.add_argument(
        "--yes",
        action="store_true",
        help="delete without asking (default: ask on a terminal, refuse without one)",
    )
    mv = actions.add_parser("mv", parents=[common_flags()], help="rename a run")
    mv.add_argument("old", metavar="RUN", help="the run to rename")
    mv.add_argument("new", metavar="NEW_NAME", help="its new name")
    return {None: runs, "diff": diff, "rm": rm, "mv": mv}


def add_export(commands) -> argparse.ArgumentParser:
    """The `export` command, under `commands` (the parser's subparsers)."""
    export = commands.add_parser(
        "export", parents=[common_flags()], help="write a small weights-only copy of a checkpoint"
    )
    export.add_argument(
        "checkpoint",
        metavar="RUN_OR_PATH",
        help="a run name (its best checkpoint), a checkpoint file, or bundled",
    )
    export.add_argument(
        "output", metavar="OUT", help="the file to write, or a folder to write RUN.pt into"
    )
    export.add_argument(
        "--fp32", action="store_true", help="keep float32 weights (default: bf16, half the size)"
    )
    export.add_argument(
        "--force", action="store_true", help="overwrite OUT if it exists (default: refuse)"
    )
    return export
