"""The `train` command's flags, whose names are the settings' own (`--batch-size` is
`batch_size` everywhere), so errors about a setting can name its flag."""

from __future__ import annotations

import argparse

from shakespeare_tui.cli.flag_types import (
    CliParser,
    add_bf16_flag,
    common_flags,
    finite_float,
    positive_int,
    seed,
    whole_number,
)
from shakespeare_tui.core.cells import CELLS
from shakespeare_tui.core.config import (
    CUSTOM_BASE,
    PRESETS,
    SCHEDULES,
    TrainConfig,
    preset_values,
)

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

    def shown(value) -> str:
        return f"{value:g}" if isinstance(value, float) else str(value)

    values = {name: shown(preset_values(name)[field]) for name in PRESETS}
    if len(set(values.values())) == 1:
        return f"default: {next(iter(values.values()))} in every preset"
    return "default by preset: " + ", ".join(f"{k} {v}" for k, v in values.items())


def add_train(commands) -> argparse.ArgumentParser:
    """The `train` command, under `commands` (the parser's subparsers)."""
    train = commands.add_parser("train", parents=[common_flags()], help="train a model headless")
    _add_flags(train)
    return train


def train_parser() -> argparse.ArgumentParser:
    """The `train` command's parser on its own: the flags `shakespeare-tui train` takes, from
    which cli/torchrun.py rebuilds torchrun's command line."""
    parser = CliParser(prog="shakespeare-tui train", parents=[common_flags()])
    _add_flags(parser)
    return parser


def _add_flags(train: argparse.ArgumentParser) -> None:
    defaults = TrainConfig()
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
        "--embed", type=positive_int, metavar="N", help=f"embedding width ({_by_preset('embed')})"
    )
    model.add_argument(
        "--hidden",
        type=positive_int,
        metavar="N",
        help=f"recurrent state width ({_by_preset('hidden')})",
    )
    model.add_argument(
        "--layers", type=positive_int, metavar="N", help=f"stacked layers ({_by_preset('layers')})"
    )
    model.add_argument(
        "--dropout",
        type=finite_float,
        metavar="P",
        help=f"dropout on the recurrent output, in [0, 1) ({_by_preset('dropout')})",
    )
    opt = train.add_argument_group("optimisation (default: the preset's)")
    opt.add_argument(
        "--batch-size",
        type=positive_int,
        metavar="N",
        help=f"windows per step ({_by_preset('batch_size')})",
    )
    opt.add_argument(
        "--seq-len",
        type=positive_int,
        metavar="N",
        help=f"characters per window ({_by_preset('seq_len')})",
    )
    opt.add_argument(
        "--lr", type=finite_float, metavar="LR", help=f"Adam learning rate ({_by_preset('lr')})"
    )
    opt.add_argument(
        "--schedule",
        choices=SCHEDULES,
        help=f"learning-rate schedule; cosine decays to lr/10 ({_by_preset('schedule')})",
    )
    opt.add_argument(
        "--clip",
        type=finite_float,
        metavar="NORM",
        help=f"gradient-norm clipping (default: {defaults.clip:g})",
    )
    add_bf16_flag(opt)
    run = train.add_argument_group(
        "the run",
        "A resume keeps the run's own values and may change --epochs, --patience, "
        "--max-steps, --max-minutes, --eval-every, --device, --threads, --log-every, "
        "--sample-length and --sample-temperature.",
    )
    run.add_argument(
        "--epochs",
        type=positive_int,
        metavar="N",
        help=f"passes over the text (default: {defaults.epochs})",
    )
    run.add_argument(
        "--patience",
        type=positive_int,
        metavar="N",
        help="stop after N evaluations without a better validation loss "
        f"(default: {defaults.patience})",
    )
    run.add_argument(
        "--eval-every",
        type=whole_number,
        metavar="STEPS",
        help="also evaluate (validation, a sample, best.pt/last.pt) every STEPS steps between "
        "epoch ends; patience counts these evaluations; 0: at epoch ends only, as the notebook "
        f"did (default: {defaults.eval_every})",
    )
    run.add_argument(
        "--max-steps",
        type=positive_int,
        metavar="N",
        help="stop after N steps in all, resumes included (default: no limit)",
    )
    run.add_argument(
        "--max-minutes",
        type=finite_float,
        metavar="M",
        help="stop after M minutes of training in all, resumes included; with the auto preset "
        "and no model or optimiser flag, the model is sized to it (default: no limit)",
    )
    run.add_argument(
        "--val-fraction",
        type=finite_float,
        metavar="F",
        help=f"the held-out end of the text (default: {defaults.val_fraction:g})",
    )
    run.add_argument(
        "--device", help="auto, cpu, cuda, cuda:N or mps (default: auto: CUDA, then MPS, then CPU)"
    )
    run.add_argument(
        "--threads",
        type=positive_int,
        metavar="N",
        help="CPU threads, in one process (default: chosen for the run's steps on this machine: "
        "a thread per core for the size ladder's and the presets' steps, 1 thread for a step "
        "too small to share; the run's first line says which)",
    )
    run.add_argument(
        "--seed",
        type=seed,
        help=f"weights, batches and dropout; the same seed, the same run (default: {defaults.seed})",
    )
    run.add_argument(
        "--sample-length",
        type=whole_number,
        metavar="N",
        help=f"characters in each evaluation's sample; 0: none (default: {defaults.sample_length})",
    )
    run.add_argument(
        "--sample-temperature",
        type=finite_float,
        metavar="T",
        help="temperature of each evaluation's sample, 0 to 2 "
        f"(default: {defaults.sample_temperature:g})",
    )
    run.add_argument(
        "--log-every",
        type=positive_int,
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
        type=positive_int,
        metavar="N",
        help="train in N processes on this machine, started with torchrun, each on --batch-size "
        "windows a step: one per GPU, or N CPU processes sharing the cores (default: one "
        "process)",
    )
