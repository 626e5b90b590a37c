"""Running a hostile case as a person would meet it: the CLI in a process of its own, with a
timeout and a memory limit, and what it changed on disk.

Importing torch costs a second or two of CPU, so the cases are forked from one process that
has loaded it (tests/zygote.py). A case's process:
- has its address space limited to what the zygote had plus MEMORY_BUDGET (RLIMIT_AS): an
  unbounded allocation (a 1 GiB tensor unpacked from a 1 MB file, a model built for a config
  that lies) fails there instead of eating the machine;
- is killed after its timeout (a hang: a FIFO opened for reading, a million layers built);
- writes stdout and stderr to files of their own, so a test sees the bytes a terminal would.

A case may also ask the process to break something first (`faults`): a full disk, or a corpus
small enough to be encoded into the cache. Those are set up in the child, never in the tests'
own process.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tests import zygote

MEMORY_BUDGET = 768 * 2**20  # over what the zygote maps: a 1 GiB allocation fails
TIMEOUT_S = 20.0  # a case takes a second; a hang is killed here

# The zygote's part of it (tests/zygote.py runs it once; `prepare` in each case's process).
PRELUDE = r"""
import errno, resource

def vm_size():
    for line in open("/proc/self/status"):
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024

def apply_faults(faults):
    if "map_above_bytes" in faults:  # a small corpus is encoded into the cache, as a big one
        import shakespeare_tui.core.text.corpus as corpus
        corpus.MAP_ABOVE_BYTES = faults["map_above_bytes"]
    if "disk_full_under" in faults:  # every file or folder made under that folder: ENOSPC
        from pathlib import Path
        import tempfile
        full = faults["disk_full_under"]
        def refused(path):
            return os.path.abspath(os.fspath(path)).startswith(full)
        def enospc(path):
            return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(path))
        real_mkdir, real_open, real_mkstemp = Path.mkdir, os.open, tempfile.mkstemp
        def mkdir(self, *args, **kwargs):
            if refused(self) and not self.exists():
                raise enospc(self)
            return real_mkdir(self, *args, **kwargs)
        def os_open(path, flags, *args, **kwargs):
            if refused(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
                raise enospc(path)
            return real_open(path, flags, *args, **kwargs)
        def mkstemp(*args, dir=None, **kwargs):
            if dir is not None and refused(dir):
                raise enospc(dir)
            return real_mkstemp(*args, dir=dir, **kwargs)
        Path.mkdir, os.open, tempfile.mkstemp = mkdir, os_open, mkstemp

def prepare(job):
    limit = vm_size() + job["budget"]
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    apply_faults(job["faults"])
"""


@dataclass
class Outcome:
    """What one case did: its exit code (None: killed after the timeout), its output as bytes,
    and how long it took."""

    argv: list[str]
    code: int | None
    out: bytes
    err: bytes
    seconds: float

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.decode("utf-8", "replace").splitlines() if line.strip()]

    def __repr__(self) -> str:  # what a failing assertion shows
        return (
            f"{' '.join(self.argv)}\n  exit {self.code} after {self.seconds:.1f} s\n"
            f"  stderr: {self.err[-1500:]!r}\n  stdout: {self.out[-500:]!r}"
        )


class CaseRunner:
    """Runs CLI cases in forked, limited processes of one zygote (see the module's docstring)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        env = dict(os.environ)
        env.pop("SHAKESPEARE_TUI_DEBUG", None)
        # One thread each, and few malloc arenas: a case's address space is then its own
        # allocations, not thread stacks and per-thread heaps reserved on a many-core machine.
        env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MALLOC_ARENA_MAX="2",
                   OMP_WAIT_POLICY="PASSIVE", COLUMNS="250", PYTHONUNBUFFERED="1")  # fmt: skip
        self.zygote = zygote.Zygote(PRELUDE, env)
        self.cases = itertools.count()
        self.lock = threading.Lock()

    def run(self, *argv, faults: dict | None = None, env: dict | None = None,
            timeout: float = TIMEOUT_S, budget: int = MEMORY_BUDGET) -> Outcome:  # fmt: skip
        """`shakespeare-tui ARGV` in a fresh limited process; its Outcome."""
        argv = [str(a) for a in argv]
        with self.lock:
            case = next(self.cases)
        out, err = self.folder / f"{case}.out", self.folder / f"{case}.err"
        start = time.monotonic()
        child = self.zygote.start(
            argv, stdout=out, stderr=err, env=env, faults=faults or {}, budget=budget
        )
        code: int | None
        try:
            code = child.wait(timeout)
        except TimeoutError:
            code = None
            child.kill()
            with contextlib.suppress(TimeoutError):
                child.wait(30)
        seconds = time.monotonic() - start
        return Outcome(argv, code, _read_bytes(out), _read_bytes(err), seconds)

    def close(self) -> None:
        self.zygote.close()


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def snapshot(*roots: Path) -> dict[str, str]:
    """Every file and folder under `roots` (or the file itself) → its sha256 ("dir" for a
    folder), to tell that nothing was changed, added or removed. Lock files are left out: a
    reader may take a run's lock and give it back."""
    seen: dict[str, str] = {}
    for root in roots:
        root = Path(root)
        if not root.exists():
            continue
        for path in [root, *sorted(root.rglob("*"))] if root.is_dir() else [root]:
            if path.name == ".lock":
                continue
            if path.is_dir():
                seen[str(path)] = "dir"
            elif path.is_file():
                seen[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                seen[str(path)] = "special"
    return seen


def assert_refused(outcome: Outcome, code: int, *words: str) -> None:
    """One line on stderr naming the program and saying `words`, with exit `code` (2: bad input,
    1: a runtime failure), within the time limit, and nothing from the file's escapes."""
    assert outcome.code is not None, f"still running after {outcome.seconds:.0f} s: {outcome}"
    assert outcome.code == code, outcome
    lines = outcome.err_lines
    assert len(lines) == 1 and lines[0].startswith("shakespeare-tui"), outcome
    assert "internal error" not in lines[0] and "Traceback" not in lines[0], outcome
    for word in words:
        assert word in lines[0], (word, str(outcome))
    assert_no_escapes(outcome)


def assert_no_escapes(outcome: Outcome) -> None:
    """No ESC, no C1 control, no BEL from a file reached the terminal (stdout or stderr)."""
    for stream in (outcome.out, outcome.err):
        text = stream.decode("utf-8", "replace")
        bad = [c for c in text if ord(c) in (0x1B, 0x07, 0x9B, 0x9D) or 0x80 <= ord(c) <= 0x9F]
        assert not bad, (bad[:3], str(outcome))
