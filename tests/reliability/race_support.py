"""The race harness: real processes lined up on a barrier, then released together on one
shared file (queue.json, a run folder, settings.json, the corpus-map cache).

Each process is forked from a zygote (tests/zygote.py) that has torch, torch._dynamo and the
CLI imported, so the release is not spread over import times and no process pays them (a
second or more each, in every racer and trainer): it writes a "ready" file, waits for the "go"
file, and runs `shakespeare_tui.cli.main(argv)`. Every wait is bounded: a process that never
sees "go" exits 99, and `finish` kills one still running after `timeout` seconds.
`RACE_SLOW_CORPUS=<file>` in a process's environment holds a starting run for `RACE_HOLD_S`
seconds as it loads its corpus (after touching <file>), so a test can act on the run at that
moment, as a slow disk would let a person.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from rel_support import child_env

from tests.zygote import Zygote, ZygoteChild

# Run in each forked process before the command (the zygote's `prepare`).
PRELUDE = r"""
from pathlib import Path

def prepare(job):
    slow = os.environ.get("RACE_SLOW_CORPUS")
    if slow:  # hold a starting run inside its corpus load, where a race with it is widest
        import shakespeare_tui.core.training.setup as setup
        load = setup.load_corpus
        def held(*args, **kwargs):
            Path(slow).touch()
            time.sleep(float(os.environ.get("RACE_HOLD_S", "1.5")))
            return load(*args, **kwargs)
        setup.load_corpus = held
    ready, go = Path(job["ready"]), Path(job["go"])
    ready.touch()
    deadline = time.monotonic() + 60
    while not go.exists():
        if time.monotonic() > deadline:
            sys.exit(99)
        time.sleep(0.001)
"""


@dataclass
class Ran:
    code: int
    out: str
    err: str


@dataclass
class Racer:
    """One lined-up process and the files its output goes to."""

    child: ZygoteChild
    out: Path
    err: Path


class Racers:
    """Starts lined-up CLI processes; use as a context manager (leaving it kills any still
    running)."""

    def __init__(self) -> None:
        self.zygote = Zygote(PRELUDE, child_env())

    def start_lined_up(
        self, folder: Path, argvs: list[list], env: dict | None = None
    ) -> tuple[list[Racer], Path]:
        """One process per argv, each waiting at the barrier: (processes, go file)."""
        folder.mkdir(parents=True, exist_ok=True)
        go = folder / "go"
        racers, ready = [], []
        for i, argv in enumerate(argvs):
            ready.append(folder / f"ready-{i}")
            out, err = folder / f"out-{i}", folder / f"err-{i}"
            child = self.zygote.start(
                argv, stdout=out, stderr=err, env=env, ready=str(ready[-1]), go=str(go)
            )
            racers.append(Racer(child, out, err))
        deadline = time.monotonic() + 60
        while not all(path.exists() for path in ready):
            if time.monotonic() > deadline or any(r.child.poll() is not None for r in racers):
                break
            time.sleep(0.01)
        return racers, go

    def released_together(self, folder: Path, argvs: list[list], timeout: float = 120) -> list[Ran]:
        """Run every argv in its own process, all released at the same instant."""
        racers, go = self.start_lined_up(folder, argvs)
        go.touch()
        return finish(racers, timeout)

    def __enter__(self) -> Racers:
        return self

    def __exit__(self, *exc) -> None:
        self.zygote.close()


def finish(racers: list[Racer], timeout: float = 120) -> list[Ran]:
    """Each process's exit code and output, once it has ended (killed after `timeout` s)."""
    results = []
    for racer in racers:
        try:
            code = racer.child.wait(timeout)
        except TimeoutError:
            racer.child.kill()
            code = racer.child.wait(30)
        results.append(Ran(code, _text(racer.out), _text(racer.err)))
    return results


def _text(path: Path) -> str:
    """What a process wrote to `path` ("" if it never opened it)."""
    return path.read_text(errors="replace") if path.exists() else ""
