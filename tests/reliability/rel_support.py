"""Helpers of the reliability suite: small corpora, the CLI as a process, a fast process starter
(tests/zygote.py, with checkpoint writes that can be slowed down).

Everything runs on the CPU with the "tiny" preset and a text generated here, so the suite needs
nothing outside the repository. `--threads 1` everywhere: the machine is shared, a tiny model is
no faster on two threads, and one thread makes every run bit-for-bit repeatable.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests import zygote

# Sonnet 18 (public domain): the seed text of every corpus in this suite.
SONNET = """Shall I compare thee to a summer's day?
Thou art more lovely and more temperate:
Rough winds do shake the darling buds of May,
And summer's lease hath all too short a date;
Sometime too hot the eye of heaven shines,
And often is his gold complexion dimm'd;
And every fair from fair sometime declines,
By chance or nature's changing course untrimm'd;
But thy eternal summer shall not fade,
Nor lose possession of that fair thou ow'st;
Nor shall death brag thou wander'st in his shade,
When in eternal lines to time thou grow'st:
So long as men can breathe or eyes can see,
So long lives this, and this gives life to thee.
"""
SPEAKERS = ("ROMEO", "JULIET", "HAMLET", "OPHELIA", "PROSPERO")


def make_text(chars: int, seed: int = 0) -> str:
    """About `chars` characters of play-like text: speeches of shuffled sonnet lines."""
    rng = random.Random(seed)
    lines = SONNET.strip().splitlines()
    parts, size = [], 0
    while size < chars:
        speech = f"{rng.choice(SPEAKERS)}:\n" + "\n".join(rng.sample(lines, 4)) + "\n\n"
        parts.append(speech)
        size += len(speech)
    return "".join(parts)[:chars]


TINY = ["--preset", "tiny", "--threads", "1", "--log-every", "1"]


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


# A CLI whose checkpoint writes can be slowed down and are logged once complete:
#   REL_SAVE_LOG    each finished save appends "<kind> <step>" (after the rename)
#   REL_SLOW_WRITE  seconds to sleep halfway through writing a checkpoint's bytes
#   REL_WRITING     a file created at that halfway point (a test waits for it, then kills)
# Training processes are forked from one that has torch loaded (tests/zygote.py); this is its
# prelude, run there once.
PRELUDE = r"""
import io
import shakespeare_tui.core.training.evaluation as evaluation
from shakespeare_tui.core.atomic import atomic_write

# The first Adam costs a second of lazy imports: pay it here, once, not in every child.
torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])

def save_checkpoint(path, payload):
    slow = float(os.environ.get("REL_SLOW_WRITE") or 0)
    mark = os.environ.get("REL_WRITING")
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    data = buffer.getvalue()

    def write(f):
        if not slow:
            f.write(data)
            return
        half = len(data) // 2
        f.write(data[:half])
        f.flush()
        if mark:
            open(mark, "w").close()
        time.sleep(slow)
        f.write(data[half:])

    atomic_write(path, write)
    with open(os.environ["REL_SAVE_LOG"], "a") as f:
        f.write(f"{payload['kind']} {payload['progress']['step']}\n")

evaluation.save_checkpoint = save_checkpoint  # where the engine saves: its Evaluator.save
"""


class TrainingZygote:
    """Starts CLI training processes quickly, their checkpoint writes as above; use as a
    context manager."""

    def __init__(self) -> None:
        self.zygote = zygote.Zygote(PRELUDE, child_env())

    def start(self, argv: list, env: dict, out: Path) -> zygote.ZygoteChild:
        """`shakespeare-tui ARGV` in a fresh process, stdout and stderr both in `out`."""
        return self.zygote.start(argv, stdout=out, env=env)

    def __enter__(self) -> TrainingZygote:
        return self

    def __exit__(self, *exc) -> None:
        self.zygote.close()


def child_env(**extra: str) -> dict:
    env = dict(os.environ)
    env.update(OMP_WAIT_POLICY="PASSIVE", PYTHONUNBUFFERED="1")
    env.pop("SHAKESPEARE_TUI_DEBUG", None)
    env.update(extra)
    return env


def run_cli_process(argv: list[str], env: dict | None = None, timeout: float = 60):
    """`python -m shakespeare_tui ARGV` as a real process: (exit code, stdout, stderr)."""
    proc = subprocess.run(
        [sys.executable, "-m", "shakespeare_tui", *[str(a) for a in argv]],
        capture_output=True,
        text=True,
        env=env or child_env(),
        timeout=timeout,
    )
    return proc.returncode, proc.stdout, proc.stderr


def run_dirs(data_dir: Path) -> list[Path]:
    runs = Path(data_dir) / "runs"
    return sorted(p for p in runs.iterdir()) if runs.is_dir() else []
