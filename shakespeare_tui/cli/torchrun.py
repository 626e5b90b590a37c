"""`shakespeare-tui train --nproc N`: torchrun on this machine, started from here.

It runs torchrun's own launcher (torch.distributed.run) in this process, as
`torchrun --standalone --nproc-per-node N -m shakespeare_tui train …` would, with the same
train flags; the processes it starts are the ones a hand-typed torchrun starts. Running it
here rather than as a subprocess lets the outcome be ours: exit 130 after a stop, 1 when a
process failed, 2 when the processes refused the settings, each said in one line (by the
processes themselves; here only what they cannot say, a process killed by a signal) where
torchrun prints its traceback and failure report.
"""

from __future__ import annotations

import argparse
import logging
import os

from shakespeare_tui.cli.exits import DEBUG_ENV, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, error
from shakespeare_tui.cli.train_flags import train_parser

# Flags of ours that stay here: torchrun's processes must not see --nproc (they would start
# torchrun again), and torchrun reads --run as its own --run-path (--name is the same flag).
LAUNCHER_ONLY = ("nproc",)


def torchrun_argv(args: argparse.Namespace, nproc: int) -> list[str]:
    """torchrun's command line for `args` (the parsed `train` command), without --nproc.

    Rebuilt from what was parsed rather than edited from sys.argv, so every flag, a new one
    too, goes through in its canonical spelling (`--name`, never `--run`) as `--flag=value`,
    which torchrun cannot take for one of its own options whatever the value.
    """
    words = ["--standalone", f"--nproc-per-node={nproc}", "-m", "shakespeare_tui", "train"]
    for action in train_parser()._actions:
        if not action.option_strings or action.dest in ("help", *LAUNCHER_ONLY):
            continue
        value = getattr(args, action.dest, None)
        if value is None or value is argparse.SUPPRESS:
            continue
        flag = action.option_strings[0]
        if isinstance(action, argparse.BooleanOptionalAction):  # --bf16 or --no-bf16
            words.append(flag if value else f"--no-{flag[2:]}")
        elif action.nargs == 0:  # store_true
            words += [flag] if value else []
        else:
            words.append(f"{flag}={value}")
    return words


def launch(args: argparse.Namespace) -> int:
    from shakespeare_tui.core.device import cpu_threads  # torch: only when --nproc launches

    # Each process's threads: the cores shared among them unless --threads says (torchrun
    # would set OMP_NUM_THREADS=1, and warn about it, when nothing is set).
    os.environ.setdefault(
        "OMP_NUM_THREADS", str(args.threads or max(1, cpu_threads() // args.nproc))
    )
    if not os.environ.get(DEBUG_ENV):
        # torchrun logs every signal it passes on and every process it stops; the processes
        # say what happened in a line each, and the outcome is the exit code.
        logging.disable(logging.ERROR)
    # torch's launcher, only when --nproc launches
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    try:
        run(parse_args(torchrun_argv(args, args.nproc)))
    except SignalException:  # Ctrl+C or SIGTERM here: passed to every process, which saved
        return EXIT_INTERRUPTED
    except ChildFailedError as exc:
        rank, failure = exc.get_first_failure()
        if failure.exitcode < 0 and args.nproc == 1:  # killed, and no other rank to say so
            error(f"rank {rank} (pid {failure.pid}) was killed by {failure.signal_name()}")
        return failure.exitcode if failure.exitcode in (2, EXIT_INTERRUPTED) else EXIT_FAILURE
    finally:
        logging.disable(logging.NOTSET)
    return EXIT_OK
