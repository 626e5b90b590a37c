"""Following a run another process trains: the Train view's panels from its folder, live.

When the run shown is locked by another process (a headless `train` in tmux or over ssh, a
queue, another copy of the app), a worker watches its folder without taking the lock: whenever
metrics.jsonl or samples.txt grows (a stat a second; nothing is read while nothing changes) it
reads the run's history again and posts it, as the view's own reads are posted. When the other
process lets go of the run, one last read shows how it ended. The run stays read-only here: `s`
on it is refused by its lock, in one line.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

from textual.dom import DOMNode
from textual.worker import Worker, get_current_worker

from shakespeare_tui.core.runs.folders import METRICS, SAMPLES
from shakespeare_tui.core.runs.history import TRAINING, RunHistory, read_run_history
from shakespeare_tui.core.runs.lock import RunLock
from shakespeare_tui.messages import RunHistoryRead

FOLLOW_S = 1.0  # seconds between looks at a followed run's folder


class RunFollower:
    """Follows at most one run: its watching worker runs on `host`, which gets each new read
    of the run as a RunHistoryRead message."""

    def __init__(self, host: DOMNode, runs: Path) -> None:
        self._host = host
        self._runs = runs
        self._following: str | None = None
        self._worker: Worker | None = None

    @property
    def following(self) -> str | None:
        """The run followed, if any."""
        return self._following

    def shown(self, history: RunHistory, *, training_here: bool) -> None:
        """A run's history is on the panels: follow it while another process trains it."""
        live = history.state == TRAINING and not training_here
        if live and self._following != history.name:
            self.stop()
            self._following = history.name
            watch = partial(self._watch, self._runs / history.name)
            self._worker = self._host.run_worker(
                watch, thread=True, exclusive=True, group="follow", exit_on_error=False
            )
        elif not live and self._following == history.name:
            self.stop()

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
        self._following = self._worker = None

    def _watch(self, folder: Path) -> None:
        """The worker: a look a second, a read whenever the run wrote, until it is let go."""
        stop = get_current_worker().cancelled_event
        lock = RunLock(folder)
        seen = _stamp(folder)
        while not stop.wait(FOLLOW_S):
            held = lock.held_by_other_process()
            now = _stamp(folder)
            if now != seen or not held:
                seen = now
                self._host.post_message(RunHistoryRead(read_run_history(folder)))
            if not held:  # it ended (or died): the last read says how
                return


def _stamp(folder: Path) -> tuple[tuple[int, int, int] | None, ...]:
    """What changes when a run writes: its metrics' and samples' sizes and times."""
    stamp: list[tuple[int, int, int] | None] = []
    for name in (METRICS, SAMPLES):
        try:
            st = os.stat(folder / name)
            stamp.append((st.st_size, st.st_mtime_ns, st.st_ino))
        except OSError:
            stamp.append(None)
    return tuple(stamp)
