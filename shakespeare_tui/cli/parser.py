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
    "eval_every",
    "sample_length",
    "sample_temperature",
)


def _by_preset(field: str) -> str:
    """A model or optimiser flag's default: each named preset's value for it."""
    from shakespeare_tui.core.config import preset_values

    def shown(value) -> str:
        return f"{value:g}" if isinstance(value, float) else str(value)

    values = {name: shown(preset_values(name)[field]) for name in PRESETS}
    if len(set(values.values())) == 1:
        return f"default: {next(iter(values.values()))} in every preset"
    return "default by preset: " + ", ".join(f"{k} {v}" for k, v in values.items())


def _add_train(commands) -> None:
    from shakespeare_tui.core.config import CUSTOM_BASE, TrainConfig

    defaults = TrainConfig()
    train = commands.add_parser("train", parents=[_common()], help="train a model headless")
    train.add_argument(
        "--corpus",
        help="plays (bundled), tinyshakespeare (downloaded once), or a path to a UTF-8 text "
        f"file (default: {defaults.corpus})",
    )
    train.add_argument(
        "--preset",
        choices=["auto", *PRESETS, "custom"],
        default=None,
        help="model and optimiser preset; the flags below override it (default: auto, which is "
        "notebook on a GPU and cpu otherwise, and with --max-minutes the model sized to it on "
        f"this machine; custom starts from {CUSTOM_BASE})",
    )
    model = train.add_argument_group("model (default: the preset's)")
    model.add_argument(
        "--cell",
        choices=CELLS,
        help=f"recurrent cell: lstm, gru, or rnn, a basic tanh RNN ({_by_preset('cell')})",
    )
    model.add_argument(
        "--embed", type=_positive_int, metavar="N", help=f"embedding width ({_by_preset('embed')})"
    )
    model.add_argument(
        "--hidden",
        type=_positive_int,
        metavar="N",
        help=f"recurrent state width ({_by_preset('hidden')})",
    )
    model.add_argument(
        "--layers", type=_positive_int, metavar="N", help=f"stacked layers ({_by_preset('layers')})"
    )
    model.add_argument(
        "--dropout",
        type=_float,
        metavar="P",
        help=f"dropout on the recurrent output, in [0, 1) ({_by_preset('dropout')})",
    )
    opt = train.add_argument_group("optimisation (default: the preset's)")
    opt.add_argument(
        "--batch-size",
        type=_positive_int,
        metavar="N",
        help=f"windows per step ({_by_preset('batch_size')})",
    )
    opt.add_argument(
        "--seq-len",
        type=_positive_int,
        metavar="N",
        help=f"characters per window ({_by_preset('seq_len')})",
    )
    opt.add_argument(
        "--lr", type=_float, metavar="LR", help=f"Adam learning rate ({_by_preset('lr')})"
    )
    opt.add_argument(
        "--schedule",
        choices=SCHEDULES,
        help=f"learning-rate schedule; cosine decays to lr/10 ({_by_preset('schedule')})",
    )
    opt.add_argument(
        "--clip",
        type=_float,
        metavar="NORM",
        help=f"gradient-norm clipping (default: {defaults.clip:g})",
    )
    opt.add_argument(
        "--bf16",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="bf16 autocast (default: on where the hardware is fast at it)",
    )
    run = train.add_argument_group(
        "the run",
        "A resume keeps the run's own values and may change --epochs, --patience, "
        "--max-steps, --max-minutes, --eval-every, --device, --threads, --log-every, "
        "--sample-length and --sample-temperature.",
    )
    run.add_argument(
        "--epochs",
        type=_positive_int,
        metavar="N",
        help=f"passes over the text (default: {defaults.epochs})",
    )
    run.add_argument(
        "--patience",
        type=_positive_int,
        metavar="N",
        help="stop after N evaluations without a better validation loss "
        f"(default: {defaults.patience})",
    )
    run.add_argument(
        "--eval-every",
        type=_int,
        metavar="STEPS",
        help="also evaluate (validation, a sample, best.pt/last.pt) every STEPS steps between "
        "epoch ends; patience counts these evaluations; 0: at epoch ends only, as the notebook "
        f"did (default: {defaults.eval_every})",
    )
    run.add_argument(
        "--max-steps",
        type=_positive_int,
        metavar="N",
        help="stop after N steps in all, resumes included (default: no limit)",
    )
    run.add_argument(
        "--max-minutes",
        type=_float,
        metavar="M",
        help="stop after M minutes of training in all, resumes included; with the auto preset "
        "and no model or optimiser flag, the model is sized to it (default: no limit)",
    )
    run.add_argument(
        "--val-fraction",
        type=_float,
        metavar="F",
        help=f"the held-out end of the text (default: {defaults.val_fraction:g})",
    )
    run.add_argument(
        "--device", help="auto, cpu, cuda, cuda:N or mps (default: auto: CUDA, then MPS, then CPU)"
    )
    run.add_argument(
        "--threads", type=_positive_int, metavar="N", help="CPU threads (default: all cores)"
    )
    run.add_argument(
        "--seed",
        type=_seed,
        help=f"weights, batches and dropout; the same seed, the same run (default: {defaults.seed})",
    )
    run.add_argument(
        "--sample-length",
        type=_int,
        metavar="N",
        help=f"characters in each evaluation's sample; 0: none (default: {defaults.sample_length})",
    )
    run.add_argument(
        "--sample-temperature",
        type=_float,
        metavar="T",
        help="temperature of each evaluation's sample, 0 to 2 "
        f"(default: {defaults.sample_temperature:g})",
    )
    run.add_argument(
        "--log-every",
        type=_positive_int,
        metavar="STEPS",
        help=f"steps between progress updates (default: {defaults.log_every})",
    )
    # --name, not --run: torchrun reads any abbreviation of its own options anywhere on its
    # command line, and --run is one of --run-path's. --run stays, without torchrun.
    run.add_argument(
        "--name",
        "--run",
        dest="run",
        metavar="NAME",
        help="name the run folder; --run is the same without torchrun, which takes it for its "
        "--run-path (default: date-time-preset, e.g. 20261128-120000-cpu)",
    )
    run.add_argument(
        "--resume",
        metavar="RUN_OR_CHECKPOINT",
        help="continue a run from its last checkpoint; repeating the run's own settings is "
        "fine (default: a new run)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar, the epoch lines only")
    many = train.add_argument_group(
        "many processes",
        "Under torchrun (torchrun --nproc-per-node N -m shakespeare_tui train …, on one machine "
        "or several) each process trains on --batch-size windows a step and rank 0 writes the "
        "run; see the README's 'Bigger corpora and more GPUs'.",
    )
    many.add_argument(
        "--nproc",
        type=_positive_int,
        metavar="N",
        help="train in N processes on this machine, started with torchrun: one per GPU, or N "
        "CPU processes sharing the cores (default: one process, no torchrun)",
    )


def _add_generate(commands) -> None:
    from shakespeare_tui.core.sampling.settings import MAX_TEMPERATURE, SampleSettings

    defaults = SampleSettings()
    gen = commands.add_parser("generate", parents=[_common()], help="stream text from a checkpoint")
    gen.add_argument(
        "--checkpoint",
        default="bundled",
        metavar="RUN_OR_PATH",
        help="a run name (its best checkpoint), a checkpoint file such as a run's last.pt, or "
        "bundled, the pretrained one (default: %(default)s)",
    )
    gen.add_argument(
        "--length",
        type=_int,
        default=defaults.length,
        metavar="N",
        help="characters to generate after the prompt (default: %(default)s)",
    )
    gen.add_argument(
        "--temperature",
        type=_float,
        default=defaults.temperature,
        metavar="T",
        help=f"0 always takes the likeliest character; higher is wilder, up to "
        f"{MAX_TEMPERATURE:g} (default: %(default)s)",
    )
    gen.add_argument(
        "--top-k",
        type=_int,
        default=None,
        metavar="K",
        help="sample among the K likeliest characters only (default: all of them)",
    )
    gen.add_argument(
        "--seed",
        type=_seed,
        default=None,
        help="replay a text (default: a random seed, reported on stderr; none at temperature 0)",
    )
    gen.add_argument(
        "--prompt",
        default="",
        help="text to start from (default: none, the model starts a new speech)",
    )


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        default=argparse.SUPPRESS,
        metavar="DIR",
        help="where runs, caches and settings live (default: $SHAKESPEARE_TUI_HOME, else the "
        "platform's user folders)",
    )
    return common


def train_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """The `train` command's own parser, out of `build_parser()`'s."""
    parser = parser or build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return commands.choices["train"]


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
    from shakespeare_tui.cli.inspect_flags import add_inspect

    add_inspect(commands, _common, _positive_int)
    from shakespeare_tui.cli.runs_flags import add_runs

    add_runs(commands, _common, _Parser)
    from shakespeare_tui.cli.queue_command import add_queue

    add_queue(commands, _common)
    export = commands.add_parser(
        "export", parents=[_common()], help="write a small weights-only copy of a checkpoint"
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
    return parser
