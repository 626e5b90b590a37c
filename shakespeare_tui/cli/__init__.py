"""The command line: `shakespeare-tui` opens the app; `train`, `generate`, `inspect`, `runs` and
`export` work headless.

Exit codes: 0 done, 1 runtime failure, 2 bad usage or input, 130 interrupted.
"""

from __future__ import annotations

import os
import sys

from shakespeare_tui.cli.parser import build_parser

__all__ = ["EXIT_FAILURE", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEBUG_ENV = "SHAKESPEARE_TUI_DEBUG"


def main(argv: list[str] | None = None) -> int:
    # Idle OpenMP threads must sleep, not spin: read once when torch loads, so set it first.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    args = build_parser().parse_args(argv)
    from shakespeare_tui.core.errors import ActionFailed, UserError, flag_name

    try:
        from shakespeare_tui.core.paths import Paths

        paths = Paths.resolve(getattr(args, "data_dir", None))
        from shakespeare_tui.core.training.distributed import launched_by_torchrun

        if args.command != "train" and launched_by_torchrun():  # N copies would collide
            raise UserError("only `train` runs under torchrun, one process per GPU or core")
        if args.command == "train":
            from shakespeare_tui.cli.train_command import train_command

            return train_command(args, paths.ensure())
        if args.command == "generate":
            from shakespeare_tui.cli.generate_command import generate_command

            return generate_command(args, paths)
        if args.command == "inspect":
            from shakespeare_tui.cli.inspect_command import inspect_command

            return inspect_command(args, paths)
        if args.command == "queue":
            from shakespeare_tui.cli.queue_command import queue_command

            return queue_command(args, paths.ensure())
        if args.command == "runs":
            from shakespeare_tui.cli.runs_command import runs_command

            return runs_command(args, paths)
        if args.command == "export":
            from shakespeare_tui.cli.runs_command import export_command

            return export_command(args, paths)
        return _app(paths.ensure())
    except UserError as exc:
        error(exc.worded(flag_name))
        return EXIT_USAGE
    except ActionFailed as exc:  # the disk said no: a runtime failure, not bad input
        error(str(exc))
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `runs | head`: the reader left; quietly stop writing
        reader_left()
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, not a traceback
        if os.environ.get(DEBUG_ENV):
            raise
        error(
            f"internal error: {type(exc).__name__}: {exc} (set {DEBUG_ENV}=1 for details)",
            every_rank=True,
        )
        return EXIT_FAILURE


def error(message: str, *, every_rank: bool = False) -> None:
    """One line on stderr. Under torchrun every process of a job gets here with the same
    refusal (the ranks agree on one: core/training/distributed.py), so rank 0 alone says it, unless
    the line is this process's own (`every_rank`), and then it names the rank."""
    from shakespeare_tui.core.training.distributed import env_rank

    rank = env_rank()
    if rank and not every_rank:
        return
    who = f"shakespeare-tui (rank {rank})" if rank else "shakespeare-tui"
    print(f"{who}: {message.splitlines()[0] if message else 'error'}", file=sys.stderr)


def reader_left() -> None:
    """Stdout's reader has gone (a broken pipe): point stdout at /dev/null, so the flush at exit
    neither fails nor prints "Exception ignored … BrokenPipeError"; stderr stays as it was."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (tests capture it)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _app(paths) -> int:
    from shakespeare_tui.app import make_app
    from shakespeare_tui.torch_loader import exit_process

    app = make_app(paths)
    app.run()
    return exit_process(app.return_code or EXIT_OK)  # skips the slow teardown of torch
