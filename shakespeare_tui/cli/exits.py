"""How a command ends: its exit code, and its one line on stderr when it fails.

Exit codes: 0 done, 1 runtime failure, 2 bad usage or input, 130 interrupted.
"""

from __future__ import annotations

import os
import sys

from shakespeare_tui.core.shown_text import shown
from shakespeare_tui.core.training.distributed import env_rank

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEBUG_ENV = "SHAKESPEARE_TUI_DEBUG"  # set: an internal error shows its traceback


def error(message: str, *, every_rank: bool = False) -> None:
    """One line on stderr. Under torchrun every process of a job gets here with the same
    refusal (the ranks agree on one: core/training/distributed.py), so rank 0 alone says it, unless
    the line is this process's own (`every_rank`), and then it names the rank. A message may
    quote a file (a run's name, a checkpoint's config): its control characters are shown
    escaped, never sent to the terminal."""
    rank = env_rank()
    if rank and not every_rank:
        return
    who = f"shakespeare-tui (rank {rank})" if rank else "shakespeare-tui"
    line = message.splitlines()[0] if message.strip() else "error"
    print(f"{who}: {shown(line)}", file=sys.stderr)


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
