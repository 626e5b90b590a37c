"""The `runs` command's flags and actions (`diff`, `rm`, `mv`), kept beside parser.py's."""

from __future__ import annotations

import argparse


def _column(text: str) -> str:
    from shakespeare_tui.core.errors import UserError
    from shakespeare_tui.core.runs.table import column_key

    try:
        return column_key(text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_runs(commands, common, parser_class) -> None:
    """The `runs` command and its actions, under `commands` (parser.py's subparsers)."""
    from shakespeare_tui.core.runs.table import COLUMNS

    runs = commands.add_parser(
        "runs",
        parents=[common()],
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
    actions = runs.add_subparsers(dest="runs_action", metavar="[ACTION]", parser_class=parser_class)
    diff = actions.add_parser(
        "diff",
        parents=[common()],
        help="the settings that differ between two runs, and their best figures side by side",
    )
    diff.add_argument("a", metavar="RUN_A", help="a run name")
    diff.add_argument("b", metavar="RUN_B", help="another run name")
    rm = actions.add_parser(
        "rm", parents=[common()], help="delete a run's folder (never one being trained)"
    )
    rm.add_argument("name", metavar="RUN", help="the run to delete")
    rm.add_argument(
        "--yes",
        action="store_true",
        help="delete without asking (default: ask on a terminal, refuse without one)",
    )
    mv = actions.add_parser("mv", parents=[common()], help="rename a run")
    mv.add_argument("old", metavar="RUN", help="the run to rename")
    mv.add_argument("new", metavar="NEW_NAME", help="its new name")
