"""The `inspect` command's flags."""

from __future__ import annotations

import argparse

from shakespeare_tui.cli.flag_types import common_flags, positive_int
from shakespeare_tui.core.cells import QUANTITIES
from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.inspection.neurons import FEATURES, TOP
from shakespeare_tui.core.inspection.unit_address import UnitAddress, parse_unit


def _unit(text: str) -> UnitAddress:
    """`--unit`: N or L:N, read as everywhere else a unit is typed (core/inspection/unit_address.py)."""
    try:
        return parse_unit(text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_inspect(commands) -> argparse.ArgumentParser:
    """The `inspect` command, under `commands` (the parser's subparsers)."""
    quantities = tuple(dict.fromkeys(q for names in QUANTITIES.values() for q in names))
    inspect = commands.add_parser(
        "inspect",
        parents=[common_flags()],
        help="what a checkpoint's units do over a text: bits per character, the units that "
        "track line position, speaker lines and more",
        epilog="features: " + "; ".join(f"{name}, {what}" for name, what in FEATURES.items()),
    )
    inspect.add_argument(
        "--checkpoint",
        default="bundled",
        metavar="RUN_OR_PATH",
        help="a run name, a checkpoint file, or 'bundled' (default)",
    )
    source = inspect.add_mutually_exclusive_group()
    source.add_argument(
        "--text", metavar="FILE", help="a UTF-8 text file to inspect (default: the held-out text)"
    )
    source.add_argument(
        "--validation",
        action="store_true",
        help="the held-out end of the checkpoint's corpus (the default)",
    )
    inspect.add_argument(
        "--length",
        type=positive_int,
        metavar="N",
        help="characters to inspect: of the held-out text or the file's first N "
        "(default: 10,000 of the held-out text, the whole file)",
    )
    inspect.add_argument(
        "--unit",
        type=_unit,
        metavar="L:N",
        help="also print the text coloured by layer L's unit N (both from 0; N alone: layer 0; "
        "default: none)",
    )
    inspect.add_argument(
        "--quantity",
        choices=quantities,
        help="what to rank and colour: tanh_c (an LSTM's default), c, h (a GRU's default, a basic "
        "RNN's only one), or a gate (LSTM i f g o, GRU r z n)",
    )
    inspect.add_argument(
        "--top",
        type=positive_int,
        default=TOP,
        metavar="N",
        help=f"units per feature (default: {TOP})",
    )
    inspect.add_argument("--json", action="store_true", help="one JSON object on stdout")
    return inspect
