"""The command line: `shakespeare-tui` opens the app; `train`, `generate` and `runs` work headless.

Exit codes: 0 done, 1 runtime failure, 2 bad usage or input, 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEBUG_ENV = "SHAKESPEARE_TUI_DEBUG"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit 2)."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _positive_int(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {text}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


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


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        default=argparse.SUPPRESS,
        metavar="DIR",
        help="where runs, caches and settings live (default: $SHAKESPEARE_TUI_HOME or the user data dir)",
    )
    parser = _Parser(
        prog="shakespeare-tui",
        description="Train a character-level language model on Shakespeare and play with it. "
        "With no command, opens the full-screen app.",
        parents=[common],
    )
    from shakespeare_tui import __version__

    parser.add_argument("--version", action="version", version=f"shakespeare-tui {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    train = commands.add_parser("train", parents=[common], help="train a model headless")
    train.add_argument(
        "--corpus",
        help="plays (bundled, default), tinyshakespeare (downloaded once), or a path to a UTF-8 text file",
    )
    train.add_argument(
        "--preset",
        choices=["auto", "notebook", "cpu", "tiny"],
        default="auto",
        help="model and optimiser preset (auto: notebook on a GPU, cpu otherwise)",
    )
    model = train.add_argument_group("model (override the preset)")
    model.add_argument("--cell", choices=["lstm", "gru"])
    model.add_argument("--embed", type=_positive_int, metavar="N")
    model.add_argument("--hidden", type=_positive_int, metavar="N")
    model.add_argument("--layers", type=_positive_int, metavar="N")
    model.add_argument("--dropout", type=_float, metavar="P")
    opt = train.add_argument_group("optimisation (override the preset)")
    opt.add_argument("--batch-size", type=_positive_int, metavar="N")
    opt.add_argument("--seq-len", type=_positive_int, metavar="N")
    opt.add_argument("--lr", type=_float, metavar="LR")
    opt.add_argument("--schedule", choices=["constant", "cosine"])
    opt.add_argument("--clip", type=_float, metavar="NORM")
    opt.add_argument(
        "--bf16",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="bf16 autocast (default: on where the hardware is fast at it)",
    )
    run = train.add_argument_group("the run")
    run.add_argument("--epochs", type=_positive_int, metavar="N")
    run.add_argument("--patience", type=_positive_int, metavar="N")
    run.add_argument(
        "--max-steps",
        type=_positive_int,
        metavar="N",
        help="stop after N steps in all (resumes included)",
    )
    run.add_argument(
        "--max-minutes", type=_float, metavar="M", help="stop after M minutes of training in all"
    )
    run.add_argument("--val-fraction", type=_float, metavar="F")
    run.add_argument("--device", help="auto (default), cpu, cuda, cuda:N or mps")
    run.add_argument(
        "--threads", type=_positive_int, metavar="N", help="CPU threads (default: all cores)"
    )
    run.add_argument("--seed", type=_seed)
    run.add_argument("--log-every", type=_positive_int, metavar="STEPS")
    run.add_argument(
        "--run", metavar="NAME", help="name the run folder (default: date-time-preset)"
    )
    run.add_argument(
        "--resume", metavar="RUN_OR_CHECKPOINT", help="continue a run from its last checkpoint"
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar; epoch lines only")

    gen = commands.add_parser("generate", parents=[common], help="stream text from a checkpoint")
    gen.add_argument(
        "--checkpoint",
        default="bundled",
        metavar="RUN_OR_PATH",
        help="a run name, a checkpoint file, or 'bundled' (default)",
    )
    gen.add_argument("--length", type=_int, default=500, metavar="N")
    gen.add_argument(
        "--temperature", type=_float, default=0.8, metavar="T", help="0 = greedy; default 0.8"
    )
    gen.add_argument("--top-k", type=_int, default=None, metavar="K")
    gen.add_argument(
        "--seed",
        type=_seed,
        default=None,
        help="replay a text (default: a random seed, reported on stderr)",
    )
    gen.add_argument("--prompt", default="", help="text to start from")

    commands.add_parser("runs", parents=[common], help="list training runs and checkpoints")

    export = commands.add_parser(
        "export", parents=[common], help="write a small weights-only copy of a checkpoint"
    )
    export.add_argument("checkpoint", metavar="RUN_OR_PATH", help="a run name or checkpoint file")
    export.add_argument("output", metavar="OUT", help="the file to write")
    export.add_argument(
        "--fp32", action="store_true", help="keep float32 weights (default: bf16, half the size)"
    )
    export.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    return parser


def main(argv: list[str] | None = None) -> int:
    # Idle OpenMP threads must sleep, not spin: read once when torch loads, so set it first.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    args = build_parser().parse_args(argv)
    from shakespeare_tui.core.errors import TrainingError, UserError

    try:
        from shakespeare_tui.core.paths import Paths

        paths = Paths.resolve(getattr(args, "data_dir", None))
        if args.command == "train":
            return _train(args, paths.ensure())
        if args.command == "generate":
            return _generate(args, paths)
        if args.command == "runs":
            return _runs(paths)
        if args.command == "export":
            return _export(args, paths)
        return _app(paths.ensure())
    except UserError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except TrainingError as exc:
        _error(str(exc))
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `generate | head`: the reader left; quietly stop writing.
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, not a traceback
        if os.environ.get(DEBUG_ENV):
            raise
        _error(f"internal error: {type(exc).__name__}: {exc} (set {DEBUG_ENV}=1 for details)")
        return EXIT_FAILURE


def _error(message: str) -> None:
    print(f"shakespeare-tui: {message.splitlines()[0] if message else 'error'}", file=sys.stderr)


def _app(paths) -> int:
    from shakespeare_tui.app import exit_process, make_app

    app = make_app(paths)
    app.run()
    return exit_process(app.return_code or EXIT_OK)  # skips the slow teardown of torch


def _train_config(args):
    from dataclasses import replace

    from shakespeare_tui.core.config import TrainConfig, apply_preset
    from shakespeare_tui.core.device import resolve_device

    device = args.device or "auto"
    preset = args.preset
    if preset == "auto":
        preset = "notebook" if resolve_device(device).type == "cuda" else "cpu"
        if preset == "cpu":
            from shakespeare_tui.core.engine import NO_GPU_NOTE

            print(NO_GPU_NOTE, file=sys.stderr)
    config = apply_preset(TrainConfig(device=device), preset)
    model = {k: getattr(args, k) for k in ("cell", "embed", "hidden", "layers", "dropout")}
    config = replace(
        config, model=replace(config.model, **{k: v for k, v in model.items() if v is not None})
    )
    fields = (
        "corpus",
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
        "threads",
        "seed",
        "log_every",
    )
    return replace(config, **{k: getattr(args, k) for k in fields if getattr(args, k) is not None})


def _train(args, paths) -> int:
    stop = threading.Event()

    def request_stop(signum, frame):
        if stop.is_set():  # a second Ctrl+C: the person means it
            raise KeyboardInterrupt
        stop.set()

    previous = (
        signal.signal(signal.SIGINT, request_stop),
        signal.signal(signal.SIGTERM, request_stop),
    )
    try:
        return _run_training(args, paths, stop)
    finally:  # main() may be called in-process (tests): leave the handlers as they were
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])


# Train options a resume cannot change: the run keeps its corpus, model and optimiser.
_FIXED_ON_RESUME = (
    "corpus cell embed hidden layers dropout batch_size seq_len lr schedule clip bf16 "
    "val_fraction seed"
).split()


def _refuse_fixed_on_resume(args) -> None:
    """Say that a flag cannot apply to a resumed run rather than silently ignore it."""
    from shakespeare_tui.core.errors import UserError

    fixed = ["--preset"] if args.preset != "auto" else []
    fixed += [
        f"--{name.replace('_', '-')}"
        for name in _FIXED_ON_RESUME
        if getattr(args, name) is not None
    ]
    if fixed:
        raise UserError(
            f"{', '.join(fixed)} cannot change when resuming (the run keeps its settings); "
            "a resume takes --epochs, --patience, --max-steps, --max-minutes, --device, "
            "--threads and --log-every"
        )


def _run_training(args, paths, stop: threading.Event) -> int:
    from shakespeare_tui.core.engine import RESUMABLE_OVERRIDES, train
    from shakespeare_tui.core.runs import LAST, resolve_checkpoint
    from shakespeare_tui.train_progress import ConsoleReporter

    if args.resume:
        overrides = {
            k: getattr(args, k) for k in RESUMABLE_OVERRIDES if getattr(args, k) is not None
        }
        checkpoint = resolve_checkpoint(args.resume, paths, prefer=LAST)
        _refuse_fixed_on_resume(args)
        config, resume = None, checkpoint
    else:
        config, resume, overrides = _train_config(args), None, None
    with ConsoleReporter(quiet=args.quiet) as reporter:
        finished = train(
            config,
            paths,
            on_event=reporter,
            stop=stop,
            run_name=args.run,
            resume=resume,
            resume_overrides=overrides,
        )
    codes = {"stopped": EXIT_INTERRUPTED, "diverged": EXIT_FAILURE, "out-of-memory": EXIT_FAILURE}
    code = codes.get(finished.reason, EXIT_OK)
    if code == EXIT_FAILURE:
        _error(finished.message)
    return code


def _generate(args, paths) -> int:
    from shakespeare_tui.core.checkpoint import load_checkpoint
    from shakespeare_tui.core.model import CharStepper
    from shakespeare_tui.core.runs import resolve_checkpoint
    from shakespeare_tui.core.sampling import SampleSettings, check_settings, generate, resolve_seed

    settings = SampleSettings(
        length=args.length,
        temperature=args.temperature,
        top_k=args.top_k,
        prompt=args.prompt,
        seed=args.seed,
    )
    checkpoint = load_checkpoint(resolve_checkpoint(args.checkpoint, paths))
    check_settings(settings, checkpoint.vocab)
    settings = resolve_seed(settings)
    stepper = CharStepper(checkpoint.model)
    out = sys.stdout
    out.write(settings.prompt)
    chunk = []
    for sampled in generate(stepper, checkpoint.vocab, settings):
        chunk.append(sampled.char)
        if sampled.char == "\n" or len(chunk) >= 64:
            out.write("".join(chunk))
            out.flush()
            chunk.clear()
    out.write("".join(chunk) + "\n")
    out.flush()
    print(f"seed {settings.seed} (replay with --seed {settings.seed})", file=sys.stderr)
    return EXIT_OK


def _runs(paths) -> int:
    from rich.console import Console
    from rich.table import Table

    from shakespeare_tui.core.checkpoint import read_info
    from shakespeare_tui.core.runs import bundled_checkpoint, list_runs

    table = Table(box=None, pad_edge=False)
    for header in ("run", "corpus", "model", "epochs", "best val", "device", "created"):
        table.add_column(header, no_wrap=header != "corpus", overflow="fold")
    rows = []
    bundled = read_info(bundled_checkpoint())
    if bundled.ok:
        rows.append(
            (
                "bundled",
                bundled.corpus,
                bundled.model_summary,
                bundled.epoch,
                bundled.val_loss,
                "—",
                bundled.created,
            )
        )
    for run in list_runs(paths):
        name = run.name + (" (training)" if run.training else "")
        rows.append(
            (
                name,
                run.corpus,
                run.model,
                run.epochs_done,
                run.best_val_loss,
                run.device,
                run.created,
            )
        )
    for name, corpus, model, epochs, val, device, created in rows:
        val_text = f"{val:.4f}" if isinstance(val, (int, float)) else "—"
        table.add_row(name, corpus, model, str(epochs), val_text, device, _local_time(created))
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)  # piped: whole rows, no wrapping at 80 columns
    console.print(table)
    return EXIT_OK


def _local_time(iso: str) -> str:
    """An ISO timestamp (stored in UTC) as local "YYYY-MM-DD HH:MM"; as is if unparseable."""
    import datetime as dt

    try:
        return dt.datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso[:16]


def _export(args, paths) -> int:
    from pathlib import Path

    from shakespeare_tui.core.checkpoint import export_checkpoint
    from shakespeare_tui.core.errors import UserError
    from shakespeare_tui.core.runs import resolve_checkpoint

    source = resolve_checkpoint(args.checkpoint, paths)
    target = Path(args.output).expanduser()
    if not target.parent.is_dir():
        raise UserError(f"cannot write {target}: the folder {target.parent} does not exist")
    if target.exists() and not args.force:
        raise UserError(f"{target} already exists; pass --force to overwrite it")
    try:
        export_checkpoint(source, target, bf16=not args.fp32)
    except OSError as exc:
        raise UserError(f"cannot write {target}: {exc.strerror or exc}") from None
    size = target.stat().st_size
    shown = f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.1f} kB"
    print(f"wrote {target} ({shown}) from {source}")
    return EXIT_OK
