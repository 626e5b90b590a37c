"""Helpers of the reliability suite: small corpora, the CLI as a process, a fast process starter.

Everything runs on the CPU with the "tiny" preset and a text generated here, so the suite needs
nothing outside the repository. `--threads 1` everywhere: the machine is shared, a tiny model is
no faster on two threads, and one thread makes every run bit-for-bit repeatable.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

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
# Importing torch takes a CPU-second or two, so one "zygote" process imports everything once and
# forks a fresh training process per trial (before any torch op has started a thread pool).
# Protocol: a JSON line {"id", "argv", "env", "out"} on stdin starts a child; the zygote answers
# "started <id> <pid>" and, when the child ends, "exited <pid> <exit code or -signal>".
ZYGOTE = r"""
import io, json, os, select, signal, sys, time
os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
import torch
import shakespeare_tui.core.training.evaluation as evaluation
from shakespeare_tui.core.atomic import atomic_write
from shakespeare_tui.cli import main

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

def child(job):
    os.environ.update(job["env"])
    fd = os.open(job["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    code = 1
    try:
        code = main(job["argv"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

signal.signal(signal.SIGINT, signal.SIG_IGN)
children = set()
buffer = b""
stdin_open = True
while stdin_open or children:
    if stdin_open and select.select([0], [], [], 0.02)[0]:
        chunk = os.read(0, 65536)
        if not chunk:
            stdin_open = False
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            job = json.loads(line)
            pid = os.fork()
            if pid == 0:
                child(job)
            children.add(pid)
            print("started", job["id"], pid, flush=True)
    elif not stdin_open:
        time.sleep(0.02)
    while children:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            break
        children.discard(pid)
        print("exited", pid, os.waitstatus_to_exitcode(status), flush=True)
"""


class Zygote:
    """Starts CLI training processes quickly (see ZYGOTE); use as a context manager."""

    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=child_env(),
        )
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.pids: dict[int, int] = {}
        self.codes: dict[int, int] = {}
        self.next_id = 0
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for raw in self.proc.stdout:
            word, *rest = raw.decode().split()
            with self.cond:
                if word == "started":
                    self.pids[int(rest[0])] = int(rest[1])
                elif word == "exited":
                    self.codes[int(rest[0])] = int(rest[1])
                self.cond.notify_all()

    def start(self, argv: list, env: dict, out: Path) -> ZygoteChild:
        with self.cond:
            job_id, self.next_id = self.next_id, self.next_id + 1
            line = {"id": job_id, "argv": [str(a) for a in argv], "env": env, "out": str(out)}
            self.proc.stdin.write((json.dumps(line) + "\n").encode())
            self.proc.stdin.flush()
            assert self.cond.wait_for(lambda: job_id in self.pids, timeout=60), "zygote died"
            return ZygoteChild(self, self.pids[job_id])

    def __enter__(self) -> Zygote:
        return self

    def __exit__(self, *exc) -> None:
        for pid in set(self.pids.values()) - set(self.codes):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@dataclass
class ZygoteChild:
    """A Popen-like handle on one forked training process."""

    zygote: Zygote
    pid: int

    def poll(self) -> int | None:
        with self.zygote.cond:
            return self.zygote.codes.get(self.pid)

    def wait(self, timeout: float) -> int:
        with self.zygote.cond:
            ok = self.zygote.cond.wait_for(lambda: self.pid in self.zygote.codes, timeout)
            if not ok:
                raise TimeoutError(f"process {self.pid} still running after {timeout} s")
            return self.zygote.codes[self.pid]

    def send_signal(self, sig: int) -> None:
        os.kill(self.pid, sig)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


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
