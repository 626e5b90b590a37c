"""The command line's flags: one parser, whose argument names are the settings' own names
(`--batch-size` is `batch_size` everywhere), so errors about a setting can name its flag."""

from __future__ import annotations

import argparse

from shakespeare_tui.core.config import CELLS, PRESETS, SCHEDULES

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit 2)."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def _positive_int(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {text}")
    return value


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def _seed(text: str) -> int:
    value = _int(text)
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**63-1, not {text}")
    return value


# The train flags that are settings of the run (TrainConfig's flat names): the rest of the
# train command's flags say what to do with them.
TRAIN_SETTINGS = (
    "corpus",
    "cell",
    "embed",
    "hidden",
    "layers",
    "dropout",
    "batch_size",
    "seq_len",
    "lr",
    "schedule",
    "clip",
    "bf16",
    "epochs",
    "patience",
    "max_steps",
    "max_minutes",
    "val_fraction",
    "device",
    "threads",
    "seed",
    "log_every",
)


def _add_train(commands) -> None:
    train = commands.add_parser("train", parents=[_common()], help="train a model headless")
    train.add_argument(
        "--corpus",
        help="plays (bundled, default), tinyshakespeare (downloaded once), or a path to a UTF-8 text file",
    )
    train.add_argument(
        "--preset",
        choices=["auto", *PRESETS, "custom"],
        default=None,
        help="model and optimiser preset (default auto: notebook on a GPU, cpu otherwise); "
        "flags below override it",
    )
    model = train.add_argument_group("model (default: the preset's)")
    model.add_argument("--cell", choices=CELLS, help="recurrent cell")
    model.add_argument("--embed", type=_positive_int, metavar="N", help="embedding width")
    model.add_argument("--hidden", type=_positive_int, metavar="N", help="recurrent state width")
    model.add_argument("--layers", type=_positive_int, metavar="N", help="stacked layers")
    model.add_argument(
        "--dropout", type=_float, metavar="P", help="dropout on the recurrent output, in [0, 1)"
    )
    opt = train.add_argument_group("optimisation (default: the preset's)")
    opt.add_argument("--batch-size", type=_positive_int, metavar="N", help="windows per step")
    opt.add_argument("--seq-len", type=_positive_int, metavar="N", help="characters per window")
    opt.add_argument("--lr", type=_float, metavar="LR", help="Adam learning rate")
    opt.add_argument("--schedule", choices=SCHEDULES, help="learning-rate schedule")
    opt.add_argument("--clip", type=_float, metavar="NORM", help="gradient-norm clipping (5)")
    opt.add_argument(
        "--bf16",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="bf16 autocast (default: on where the hardware is fast at it)",
    )
    run = train.add_argument_group("the run")
    run.add_argument("--epochs", type=_positive_int, metavar="N", help="passes over the text (20)")
    run.add_argument(
        "--patience",
        type=_positive_int,
        metavar="N",
        help="stop after N epochs without a better validation loss (5)",
    )
    run.add_argument(
        "--max-steps",
        type=_positive_int,
        metavar="N",
        help="stop after N steps in all (resumes included)",
    )
    run.add_argument(
        "--max-minutes", type=_float, metavar="M", help="stop after M minutes of training in all"
    )
    run.add_argument(
        "--val-fraction", type=_float, metavar="F", help="the held-out end of the text (0.1)"
    )
    run.add_argument("--device", help="auto (default), cpu, cuda, cuda:N or mps")
    run.add_argument(
        "--threads", type=_positive_int, metavar="N", help="CPU threads (default: all cores)"
    )
    run.add_argument("--seed", type=_seed, help="weights, batches and dropout (1337)")
    run.add_argument(
        "--log-every", type=_positive_int, metavar="STEPS", help="steps between progress lines (10)"
    )
    run.add_argument(
        "--run", metavar="NAME", help="name the run folder (default: date-time-preset)"
    )
    run.add_argument(
        "--resume",
        metavar="RUN_OR_CHECKPOINT",
        help="continue a run from its last checkpoint; repeating the run's own settings is fine",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar; epoch lines only")


def _add_generate(commands) -> None:
    from shakespeare_tui.core.sample_settings import MAX_TEMPERATURE, SampleSettings

    defaults = SampleSettings()
    gen = commands.add_parser("generate", parents=[_common()], help="stream text from a checkpoint")
    gen.add_argument(
        "--checkpoint",
        default="bundled",
        metavar="RUN_OR_PATH",
        help="a run name, a checkpoint file, or 'bundled' (default)",
    )
    gen.add_argument(
        "--length",
        type=_int,
        default=defaults.length,
        metavar="N",
        help=f"characters to generate ({defaults.length})",
    )
    gen.add_argument(
        "--temperature",
        type=_float,
        default=defaults.temperature,
        metavar="T",
        help=f"0 = always the likeliest character, up to {MAX_TEMPERATURE:g} ({defaults.temperature})",
    )
    gen.add_argument(
        "--top-k",
        type=_int,
        default=None,
        metavar="K",
        help="sample among the K likeliest characters only (default: all)",
    )
    gen.add_argument(
        "--seed",
        type=_seed,
        default=None,
        help="replay a text (default: a random seed, reported on stderr)",
    )
    gen.add_argument("--prompt", default="", help="text to start from (default: a new speech)")


def _unit(text: str) -> tuple[int, int]:
    layer, _, unit = text.rpartition(":")
    try:
        parsed = (int(layer) if layer else 0, int(unit))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not LAYER:UNIT (e.g. 0:203): {text!r}") from None
    if min(parsed) < 0:
        raise argparse.ArgumentTypeError(f"layers and units count from 0, not {text}")
    return parsed


def _add_inspect(commands) -> None:
    from shakespeare_tui.core.neurons import FEATURES, TOP

    quantities = ("tanh_c", "c", "h", "i", "f", "g", "o", "r", "z", "n")
    inspect = commands.add_parser(
        "inspect",
        parents=[_common()],
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
    source.add_argument("--text", metavar="FILE", help="a UTF-8 text file to inspect")
    source.add_argument(
        "--validation",
        action="store_true",
        help="the held-out end of the checkpoint's corpus (the default)",
    )
    inspect.add_argument(
        "--length",
        type=_positive_int,
        metavar="N",
        help="characters to inspect: of the held-out text (10,000) or the file's first N",
    )
    inspect.add_argument(
        "--unit",
        type=_unit,
        metavar="L:N",
        help="also print the text coloured by layer L's unit N (both from 0; N alone: layer 0)",
    )
    inspect.add_argument(
        "--quantity",
        choices=quantities,
        help="what to rank and colour: tanh_c (an LSTM's default), c, h (a GRU's default), "
        "or a gate (LSTM i f g o, GRU r z n)",
    )
    inspect.add_argument(
        "--top", type=_positive_int, default=TOP, metavar="N", help=f"units per feature ({TOP})"
    )
    inspect.add_argument("--json", action="store_true", help="one JSON object on stdout")


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        default=argparse.SUPPRESS,
        metavar="DIR",
        help="where runs, caches and settings live (default: $SHAKESPEARE_TUI_HOME or the user data dir)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    from shakespeare_tui import __version__

    parser = _Parser(
        prog="shakespeare-tui",
        description="Train a character-level language model on Shakespeare and play with it. "
        "With no command, opens the full-screen app.",
        parents=[_common()],
    )
    parser.add_argument("--version", action="version", version=f"shakespeare-tui {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_train(commands)
    _add_generate(commands)
    _add_inspect(commands)
    commands.add_parser("runs", parents=[_common()], help="list training runs and checkpoints")
    export = commands.add_parser(
        "export", parents=[_common()], help="write a small weights-only copy of a checkpoint"
    )
    export.add_argument("checkpoint", metavar="RUN_OR_PATH", help="a run name or checkpoint file")
    export.add_argument("output", metavar="OUT", help="the file to write")
    export.add_argument(
        "--fp32", action="store_true", help="keep float32 weights (default: bf16, half the size)"
    )
    export.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    return parser
