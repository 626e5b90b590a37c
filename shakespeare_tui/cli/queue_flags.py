"""The `queue` command's flags."""

from __future__ import annotations

import argparse

from shakespeare_tui.cli.flag_types import common_flags, finite_float
from shakespeare_tui.core.sizing.cell_comparison import DEFAULT_MINUTES
from shakespeare_tui.core.sizing.cells_speed import PREFIX


def add_queue(commands) -> argparse.ArgumentParser:
    """The `queue` command, under `commands` (the parser's subparsers)."""
    queue = commands.add_parser(
        "queue",
        parents=[common_flags()],
        help="train queued runs one after another",
        description="Add the runs of a TOML or JSON queue file to the queue, then train every "
        "queued run in turn (runs left by a quit or a Ctrl+C go on from their last checkpoint). "
        "--cells queues the notebook's lesson instead: a basic RNN, a GRU and an LSTM of about "
        "equal parameter counts, trained with one recipe on the same number of characters.",
    )
    queue.add_argument("file", nargs="?", help="a queue file to add (default: none, only "
                       "train what is queued)")  # fmt: skip
    queue.add_argument("--add", action="store_true",
                       help="add FILE's runs without training them (default: off)")  # fmt: skip
    queue.add_argument("--list", action="store_true", help="show the queue (default: off)")
    queue.add_argument("--clear", action="store_true",
                       help="remove every queued run that is not training (default: off)")  # fmt: skip
    cells = queue.add_argument_group("compare the cells")
    cells.add_argument("--cells", action="store_true",
                       help="queue a basic RNN, a GRU and an LSTM of equal parameters (within "
                       "5%%) and one recipe, each trained on the same characters: as many as the "
                       "LSTM, timed here for a second, trains in --max-minutes (default: off)")  # fmt: skip
    cells.add_argument("--max-minutes", type=finite_float, metavar="M",
                       help=f"with --cells: each run's budget (default: {DEFAULT_MINUTES:g})")  # fmt: skip
    cells.add_argument("--corpus", metavar="C",
                       help="with --cells: plays, tinyshakespeare or a text file "
                       "(default: plays)")  # fmt: skip
    cells.add_argument("--name", metavar="PREFIX",
                       help=f"with --cells: the runs are PREFIX-rnn, PREFIX-gru and PREFIX-lstm "
                       f"(default: {PREFIX}, or {PREFIX}-2 … if those are taken)")  # fmt: skip
    queue.add_argument("--quiet", action="store_true",
                       help="no progress bar, only each run's outcome (default: off)")  # fmt: skip
    return queue
