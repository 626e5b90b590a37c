"""The `generate` command's flags, named as the sampling settings are."""

from __future__ import annotations

import argparse

from shakespeare_tui.cli.flag_types import common_flags, finite_float, seed, whole_number
from shakespeare_tui.core.sampling.settings import MAX_TEMPERATURE, SampleSettings


def add_generate(commands) -> argparse.ArgumentParser:
    """The `generate` command, under `commands` (the parser's subparsers)."""
    defaults = SampleSettings()
    gen = commands.add_parser(
        "generate", parents=[common_flags()], help="stream text from a checkpoint"
    )
    gen.add_argument(
        "--checkpoint",
        default="bundled",
        metavar="RUN_OR_PATH",
        help="a run name (its best checkpoint), a checkpoint file such as a run's last.pt, or "
        "bundled, the pretrained one (default: %(default)s)",
    )
    gen.add_argument(
        "--length",
        type=whole_number,
        default=defaults.length,
        metavar="N",
        help="characters to generate after the prompt (default: %(default)s)",
    )
    gen.add_argument(
        "--temperature",
        type=finite_float,
        default=defaults.temperature,
        metavar="T",
        help=f"0 always takes the likeliest character; higher is wilder, up to "
        f"{MAX_TEMPERATURE:g} (default: %(default)s)",
    )
    gen.add_argument(
        "--top-k",
        type=whole_number,
        default=None,
        metavar="K",
        help="sample among the K likeliest characters only (default: all of them)",
    )
    gen.add_argument(
        "--seed",
        type=seed,
        default=None,
        help="replay a text (default: a random seed, reported on stderr; none at temperature 0)",
    )
    gen.add_argument(
        "--prompt",
        default="",
        help="text to start from (default: none, the model starts a new speech)",
    )
    return gen
