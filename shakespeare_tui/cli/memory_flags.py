"""The `memory` command's flags, kept beside the other commands' (parser.py assembles them)."""

from __future__ import annotations

import argparse

from shakespeare_tui.cli.flag_types import add_bf16_flag, common_flags, whole_number
from shakespeare_tui.core.inspection.memory.defaults import CURVE_TARGETS, DEFAULT_LENGTH, SPAN
from shakespeare_tui.core.inspection.memory.targets import DEFAULT_TARGETS

HELP = (
    "how far back a checkpoint really uses what it read: its loss with only the last k "
    "characters against an n-gram's, its effective context, its connectivity"
)


def add_memory(commands) -> argparse.ArgumentParser:
    """The `memory` command, under `commands` (the parser's subparsers)."""
    parser = commands.add_parser("memory", parents=[common_flags()], help=HELP, description=HELP)
    parser.add_argument(
        "--checkpoint",
        action="append",
        metavar="RUN_OR_PATH",
        help="a run name, a checkpoint file, or 'bundled'; repeat it to compare checkpoints on "
        "the same targets (default: bundled)",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--text",
        metavar="FILE",
        help="a UTF-8 text file to measure on (default: the held-out text of the first "
        "checkpoint's corpus)",
    )
    source.add_argument(
        "--validation",
        action="store_true",
        help="the held-out end of the first checkpoint's corpus (the default)",
    )
    parser.add_argument(
        "--length",
        type=whole_number,
        metavar="N",
        help=f"characters of the text read: the held-out end's last N (default: "
        f"{DEFAULT_LENGTH:,}), or a file's first N (default: all of it)",
    )
    parser.add_argument(
        "--targets",
        type=whole_number,
        default=DEFAULT_TARGETS,
        metavar="N",
        help="target positions the losses average over, each with 512 characters before it "
        f"(default: {DEFAULT_TARGETS:,}); the connectivity averages {CURVE_TARGETS} of them",
    )
    parser.add_argument(
        "--at",
        type=whole_number,
        metavar="POSITION",
        help="print the connectivity of one prediction instead: of the text's character at "
        "POSITION (from 0), per earlier character (default: the mean over targets)",
    )
    parser.add_argument(
        "--span",
        type=whole_number,
        default=SPAN,
        metavar="K",
        help=f"connectivity: characters back from each prediction, at most 512 (default: {SPAN})",
    )
    add_bf16_flag(
        parser,
        ": faster on a CPU or GPU with native bf16, the losses within a few hundredths of a "
        "percent of fp32's",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    return parser
