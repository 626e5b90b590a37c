"""`shakespeare-tui`'s entry point: parse, run the command the parser chose, and turn whatever
it raises into an exit code and at most one line on stderr."""

from __future__ import annotations

import os

from shakespeare_tui.cli.exits import (
    DEBUG_ENV,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    error,
    reader_left,
)
from shakespeare_tui.cli.parser import build_parser
from shakespeare_tui.core.errors import ActionFailed, UserError, flag_name, system_failure
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.training.distributed import launched_by_torchrun


def main(argv: list[str] | None = None) -> int:
    # Idle OpenMP threads must sleep, not spin: read once when torch loads, so set it first.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    args = build_parser().parse_args(argv)
    try:
        paths = Paths.resolve(getattr(args, "data_dir", None))
        if args.command != "train" and launched_by_torchrun():  # N copies would collide
            raise UserError("only `train` runs under torchrun, one process per GPU or core")
        return args.func(args, paths)
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
    except OSError as exc:  # the system said no (a full disk) where no command said more
        error(str(system_failure(exc, doing="use")))
        return EXIT_FAILURE
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, not a traceback
        if os.environ.get(DEBUG_ENV):
            raise
        error(
            f"internal error: {type(exc).__name__}: {exc} (set {DEBUG_ENV}=1 for details)",
            every_rank=True,
        )
        return EXIT_FAILURE
