"""What every command's flags share: the parser class, the value types, --data-dir, and the
--bf16 of the commands that run a model."""

from __future__ import annotations

import argparse

from shakespeare_tui.cli.exits import EXIT_USAGE


class CliParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit 2)."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def positive_int(text: str) -> int:
    value = whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {text}")
    return value


def finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def seed(text: str) -> int:
    value = whole_number(text)
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**63-1, not {text}")
    return value


def add_bf16_flag(parser: argparse._ActionsContainer, why: str = "") -> None:
    """--bf16/--no-bf16; not given (None), the hardware decides, as a config's "auto" does.
    `why`: what the command's help adds after "bf16 autocast"."""
    parser.add_argument(
        "--bf16",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=f"bf16 autocast{why} (default: on where the hardware is fast at it)",
    )


def common_flags() -> argparse.ArgumentParser:
    """The flags every command takes (a parent parser): --data-dir."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        default=argparse.SUPPRESS,
        metavar="DIR",
        help="where runs, caches and settings live (default: $SHAKESPEARE_TUI_HOME, else the "
        "platform's user folders)",
    )
    return common
