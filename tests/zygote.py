"""A fast starter of CLI processes, shared by the hostile-file and reliability suites.

Importing torch costs a CPU-second or two, and building the first optimizer another (torch.optim
imports torch._dynamo then), so one process (the "zygote") imports torch, torch._dynamo and the
CLI once and forks a fresh process per case, before any torch op has started a thread pool. A
suite adds a `prelude` (Python run once in the zygote, after those imports) that may define
`prepare(job)`, run in each child just before `main(job["argv"])`: there it limits the child or
breaks something, never in the tests' own process.

Protocol: a JSON line {"id", "argv", "env", "stdout", "stderr", ...} on the zygote's stdin
starts a child (stdout and stderr go to those files; the same path twice: one file for both);
the zygote answers "started <id> <pid>" and, when the child ends, "exited <id> <exit code or
-signal>".
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

HEAD = r"""
import json, os, select, signal, sys, time
import torch
import torch._dynamo  # imported by the first optimizer built: ~1.2 CPU-s in every child else
from shakespeare_tui.cli import main

def prepare(job):
    pass
"""

LOOP = r"""
def child(job):
    os.environ.update(job["env"])
    out = os.open(job["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(out, 1)
    if job["stderr"] != job["stdout"]:
        out = os.open(job["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(out, 2)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    code = 1
    try:
        prepare(job)
        code = main(job["argv"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

signal.signal(signal.SIGINT, signal.SIG_IGN)
children = {}
buffer = b""
stdin_open = True
while stdin_open or children:
    if stdin_open and select.select([0], [], [], 0.02)[0]:
        chunk = os.read(0, 65536)
        stdin_open = bool(chunk)
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            job = json.loads(line)
            pid = os.fork()
            if pid == 0:
                child(job)
            children[pid] = job["id"]
            print("started", job["id"], pid, flush=True)
    elif not stdin_open:
        time.sleep(0.02)
    while children:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            break
        print("exited", children.pop(pid), os.waitstatus_to_exitcode(status), flush=True)
"""


class Zygote:
    """Starts CLI processes by forking one that has torch loaded (see the module's docstring);
    `close()` (or leaving its `with`) kills the children still running and ends it."""

    def __init__(self, prelude: str = "", env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HEAD + prelude + LOOP],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self.cond = threading.Condition()
        self.pids: dict[int, int] = {}  # job id → pid
        self.codes: dict[int, int] = {}  # job id → exit code
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for raw in self.proc.stdout:
            word, job_id, value = raw.decode().split()
            with self.cond:
                (self.pids if word == "started" else self.codes)[int(job_id)] = int(value)
                self.cond.notify_all()

    def start(
        self, argv, *, stdout: Path, stderr: Path | None = None, env: dict | None = None, **job
    ) -> ZygoteChild:
        """`shakespeare-tui ARGV` in a fresh child, its output in `stdout` (and `stderr`; by
        default the same file); `job`'s other keys are for the prelude's `prepare`."""
        with self.cond:
            job_id, self.next_id = self.next_id, self.next_id + 1
            line = {
                **job,
                "id": job_id,
                "argv": [str(a) for a in argv],
                "env": env or {},
                "stdout": str(stdout),
                "stderr": str(stderr or stdout),
            }
            self.proc.stdin.write((json.dumps(line) + "\n").encode())
            self.proc.stdin.flush()
            assert self.cond.wait_for(lambda: job_id in self.pids, 60), "the zygote died"
            return ZygoteChild(self, job_id, self.pids[job_id])

    def close(self) -> None:
        with self.cond:
            alive = [pid for job, pid in self.pids.items() if job not in self.codes]
        for pid in alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Zygote:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass
class ZygoteChild:
    """A Popen-like handle on one forked process."""

    zygote: Zygote
    job_id: int
    pid: int

    def poll(self) -> int | None:
        with self.zygote.cond:
            return self.zygote.codes.get(self.job_id)

    def wait(self, timeout: float) -> int:
        """Its exit code (-N: killed by signal N); TimeoutError if still running after
        `timeout` seconds."""
        with self.zygote.cond:
            codes = self.zygote.codes
            if not self.zygote.cond.wait_for(lambda: self.job_id in codes, timeout):
                raise TimeoutError(f"process {self.pid} still running after {timeout} s")
            return codes[self.job_id]

    def send_signal(self, sig: int) -> None:
        os.kill(self.pid, sig)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
