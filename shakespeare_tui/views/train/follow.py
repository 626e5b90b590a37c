"""Following a run another process trains: the Train view's panels from its folder, live.

A mixin of TrainScreen. When the run shown is locked by another process (a headless `train` in
tmux or over ssh, a queue, another copy of the app), a worker watches its folder without
taking the lock: whenever metrics.jsonl or samples.txt grows (a stat a second; nothing is read
while nothing changes) it reads the run's history again and the chart, progress and samples
show it. When the other process lets go of the run, one last read shows how it ended. The run
stays read-only here: `s` on it is refused by its lock, in one line.
"""

from __future__ import annotations

import os
from pathlib import Path

from textual import work
from textual.worker import get_current_worker

from shakespeare_tui.core.runs.folders import METRICS, SAMPLES
from shakespeare_tui.core.runs.history import TRAINING, read_run_history
from shakespeare_tui.core.runs.lock import RunLock
from shakespeare_tui.messages import RunHistoryRead

FOLLOW_S = 1.0  # seconds between looks at a followed run's folder


class TrainFollow:
    """Follows the shown run while another process trains it (TrainScreen holds `paths`)."""

    _following: str | None = None  # the run followed, if any
    _follower = None  # its worker

    def follow(self, history) -> None:
        """Called with each history shown: follow it while it is trained elsewhere."""
        live = history.state == TRAINING and not self.training
        if live and self._following != history.name:
            self.stop_following()
            self._following = history.name
            self._follower = self._follow(history.name)
        elif not live and self._following == history.name:
            self.stop_following()

    def stop_following(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
        self._following = self._follower = None

    @property
    def following(self) -> str | None:
        return self._following

    @work(thread=True, exclusive=True, group="follow", exit_on_error=False)
    def _follow(self, run: str) -> None:
        stop = get_current_worker().cancelled_event
        folder = self.paths.runs / run
        lock = RunLock(folder)
        seen = _stamp(folder)
        while not stop.wait(FOLLOW_S):
            held = lock.held_by_other_process()
            now = _stamp(folder)
            if now != seen or not held:
                seen = now
                self.post_message(RunHistoryRead(read_run_history(folder)))
            if not held:  # it ended (or died): the last read says how
                return


def _stamp(folder: Path) -> tuple:
    """What changes when a run writes: its metrics' and samples' sizes and times."""
    stamp = []
    for name in (METRICS, SAMPLES):
        try:
            st = os.stat(folder / name)
            stamp.append((st.st_size, st.st_mtime_ns, st.st_ino))
        except OSError:
            stamp.append(None)
    return tuple(stamp)
