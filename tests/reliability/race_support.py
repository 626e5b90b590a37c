"""The race harness: real processes lined up on a barrier, then released together on one
shared file (queue.json, a run folder, settings.json, the corpus-map cache).

Each process imports the CLI first (so the release is not spread over import times), writes
a "ready" file, waits for the "go" file, and runs `shakespeare_tui.cli.main(argv)`. Every wait
is bounded: a process that never sees "go" exits 99, and `released_together` gives up after
`timeout` seconds. `RACE_SLOW_CORPUS=<file>` in a process's environment holds a starting run
for `RACE_HOLD_S` seconds as it loads its corpus (after touching <file>), so a test can act on
the run at that moment, as a slow disk would let a person.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

READY_AND_GO = r"""
import os, sys, time
from pathlib import Path
from shakespeare_tui.cli import main
slow = os.environ.get("RACE_SLOW_CORPUS")
if slow:  # hold a starting run inside its corpus load, where a race with it is widest
    import shakespeare_tui.core.training.setup as setup
    load = setup.load_corpus
    def held(*args, **kwargs):
        Path(slow).touch()
        time.sleep(float(os.environ.get("RACE_HOLD_S", "1.5")))
        return load(*args, **kwargs)
    setup.load_corpus = held
ready, go = Path(sys.argv[1]), Path(sys.argv[2])
ready.touch()
deadline = time.monotonic() + 60
while not go.exists():
    if time.monotonic() > deadline:
        sys.exit(99)
    time.sleep(0.001)
sys.exit(main(sys.argv[3:]))
"""


@dataclass
class Ran:
    code: int
    out: str
    err: str


def start_lined_up(folder: Path, argvs: list[list[str]], env: dict | None = None):
    """Start one process per argv, each waiting at the barrier; (processes, go file)."""
    folder.mkdir(parents=True, exist_ok=True)
    go = folder / "go"
    environment = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", **(env or {})}
    processes = []
    for i, argv in enumerate(argvs):
        ready = folder / f"ready-{i}"
        processes.append(
            (
                ready,
                subprocess.Popen(
                    [sys.executable, "-c", READY_AND_GO, str(ready), str(go), *map(str, argv)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env=environment,
                ),
            )
        )
    deadline = time.monotonic() + 60
    while not all(ready.exists() for ready, _ in processes):
        if time.monotonic() > deadline or any(p.poll() is not None for _, p in processes):
            break
        time.sleep(0.01)
    return [p for _, p in processes], go


def finish(processes, timeout: float = 120) -> list[Ran]:
    results = []
    for p in processes:
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        results.append(Ran(p.returncode, out, err))
    return results


def released_together(folder: Path, argvs: list[list[str]], timeout: float = 120) -> list[Ran]:
    """Run every argv in its own process, all released at the same instant."""
    processes, go = start_lined_up(folder, argvs)
    go.touch()
    return finish(processes, timeout)
