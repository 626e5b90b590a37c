"""The Train view's queue worker: add the form's run to the run queue, and train the queued runs
one after another.

`a` queues the form's settings as a new run (checked as `s` would check them); `C` queues the
notebook's lesson, a basic RNN, a GRU and an LSTM planned for a fair comparison on the form's
corpus and budget (core/sizing/cells_speed.py: the LSTM is timed here for a second first, in a
worker), and works the queue; `w` works the queue: each entry trains as an ordinary run of the view, and when it ends the next one starts,
until none is left or the person stops one (`s`, or quitting: the entry is then "stopped", and
goes on from its last checkpoint next time). `Q` shows the queue. On launch, a queue with runs
left is offered to continue. The queue's lock is held while this app works it, so
`shakespeare-tui queue` elsewhere waits its turn.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.widget import Widget
from textual.worker import Worker, WorkerState

from shakespeare_tui.core.errors import ActionFailed, RunLockedError, UserError, one_line
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.runs.lock import RunLock
from shakespeare_tui.core.runs.run_queue import (
    FAILED,
    QUEUE_FILE,
    STOPPED,
    QueueEntry,
    RunQueue,
    entry_config,
    entry_resume_overrides,
    resume_point,
    state_after,
)
from shakespeare_tui.core.sizing.cell_comparison import DEFAULT_MINUTES
from shakespeare_tui.messages import QueueRead
from shakespeare_tui.settings import TrainSettings
from shakespeare_tui.view_host import view_host
from shakespeare_tui.views.queue_dialog import QueueScreen
from shakespeare_tui.views.queue_offer import QueueOfferScreen
from shakespeare_tui.views.train.fields import config_settings, label_of

CELLS_GROUP = "queue-cells"  # the worker that plans the three cells


def queued_run(entry: QueueEntry, resume: Path | None, device_type: str | None) -> dict[str, Any]:
    """What the trainer is given for a queue entry: a new run's config (or, going on from
    `resume`, the settings a resume may change), by the core's one rule for it. Called in the
    training worker: resolving "auto" on a device not known yet (`device_type` None) loads
    torch."""
    return {
        "config": None if resume else entry_config(entry, device_type),
        "run_name": None if resume else entry.run,
        "resume": str(resume) if resume else None,
        "resume_overrides": entry_resume_overrides(entry) if resume else None,
    }


class QueueWorker:
    """Works the run queue for the Train view, `host`: reads queue.json in the host's workers
    (the answer comes back as a QueueRead the host passes to `read_done`), trains each entry
    with `train(entry, resume)`, and is told by the host when that run's worker ended."""

    def __init__(
        self,
        host: Widget,
        paths: Paths,
        *,
        training: Callable[[], bool],
        train: Callable[[QueueEntry, Path | None], None],
        say: Callable[[str], None],
    ) -> None:
        self._host = host
        self._paths = paths
        self._training = training  # whether the view trains a run now
        self._train = train
        self._say = say  # a line on the view's status
        self._queue: RunQueue | None = None  # once read
        self._entry: QueueEntry | None = None  # the entry being trained
        self._lock: RunLock | None = None  # held while this app works the queue

    @property
    def entry(self) -> QueueEntry | None:
        """The queued run the view trains now, if it trains one."""
        return self._entry

    # -- reading it ------------------------------------------------------------------------

    def read(self, then: str) -> None:
        """Read queue.json (and whether another process works it) in a worker, for `then`:
        "show" the dialog, "work" the queue, or "offer" to go on with it."""
        self._host.run_worker(
            lambda: self._load(then),
            thread=True,
            exclusive=True,
            group="queue",
            exit_on_error=False,
        )

    def _load(self, then: str) -> None:
        queue = RunQueue.load(self._paths.data)
        elsewhere = queue.lock().held_by_other_process()
        self._host.post_message(QueueRead(queue, elsewhere, then))

    def read_done(self, message: QueueRead) -> None:
        self._queue = message.queue  # as the file holds it now: other processes change it too
        queue = self._queue
        assert queue is not None
        if message.then == "show":
            screen = QueueScreen(queue, self._lock is not None, message.elsewhere)
            self._host.app.push_screen(screen, self._work_if)
        elif message.then == "work":
            self._work_next(message.elsewhere)
        elif message.then == "offer":
            left = len(queue.open_entries)
            next_open = queue.next_open()
            if left and next_open and not message.elsewhere and not self._training():
                offer = QueueOfferScreen(left, next_open.run)
                self._host.app.push_screen(offer, self._work_if)

    # -- what the keys ask -----------------------------------------------------------------

    def add(self, settings: TrainSettings) -> None:
        """Queue the form's (checked) settings as a new run."""
        try:
            queue = RunQueue(self._paths.data / QUEUE_FILE)
            flat = {"preset": settings.preset, **config_settings(settings)}
            entry = queue.add(flat, None, self._paths.runs)  # written at once, under its lock
        except (UserError, ActionFailed, OSError) as exc:
            self._host.notify(one_line(exc), title="Cannot queue", severity="error", markup=False)
            return
        self._queue = queue
        left = len(queue.open_entries)
        how = "w trains the queue" if self._lock is None else "it trains after the others"
        self._host.notify(f"queued {entry.run} ({left} to train): {how}; Q shows the queue",
                          markup=False)  # fmt: skip

    def add_cells(self, settings: TrainSettings) -> None:
        """Queue the three cells on the (checked) form's corpus, for its "max min" each (else
        DEFAULT_MINUTES), then work the queue; the plan is made in a worker, as it times the
        LSTM. The view passes the worker's end to `cells_ended`."""
        if self._training():
            self._host.notify("a run is training: stop it first (s), so the LSTM is timed on an "
                              "idle machine", title="Cannot compare the cells",
                              severity="warning")  # fmt: skip
            return
        if any(w.group == CELLS_GROUP and not w.is_finished for w in self._host.app.workers):
            self._host.notify("already timing the LSTM for the cells", severity="warning")
            return
        minutes = settings.max_minutes or DEFAULT_MINUTES
        self._say(f"comparing the cells, {minutes:g} min each: timing the LSTM here…")
        self._host.run_worker(
            lambda: self._plan_cells(settings),
            thread=True,
            group=CELLS_GROUP,
            exit_on_error=False,
        )

    def _plan_cells(self, settings: TrainSettings):
        """(the plan, the queue entries added): the LSTM timed, the three queued together."""
        # torch: timing the LSTM loads it (in this worker, never on the first frame)
        from shakespeare_tui.core.sizing.cells_speed import free_prefix, plan_here

        queue = RunQueue.load(self._paths.data)
        prefix = free_prefix(self._paths.runs, {e.run for e in queue.open_entries})
        chosen = {k: v for k, v in config_settings(settings).items() if k != "corpus"}
        plan = plan_here(settings.corpus.strip(), self._paths.cache,
                         minutes=settings.max_minutes, prefix=prefix, settings=chosen)  # fmt: skip
        added = queue.add_many([(run.run, run.settings) for run in plan.runs], self._paths.runs)
        return plan, added

    def cells_ended(self, worker: Worker) -> None:
        """The planning worker ended: tell the plan and train the queue, or say why not."""
        if worker.state == WorkerState.ERROR and worker.error is not None:
            error = worker.error
            text = error.worded(label_of) if isinstance(error, UserError) else one_line(error)
            self._say(f"cannot compare the cells: {text}")
            self._host.notify(text, title="Cannot compare the cells", severity="error",
                              timeout=10, markup=False)  # fmt: skip
            return
        if worker.state != WorkerState.SUCCESS or worker.result is None:
            return
        plan, added = worker.result
        names = [e.run for e in added]
        self._host.notify(plan.reason, title="Compare the cells", timeout=20, markup=False)
        self._say(f"queued {', '.join(names)}: they train one after another; R shows them "
                  "side by side, m there how far back each reads")  # fmt: skip
        view_host(self._host).compare_runs(names)
        self.work()

    def _work_if(self, go: bool | None) -> None:
        """A dialog's answer: work the queue if it said go."""
        if go:
            self.work()

    def work(self) -> None:
        """Train the queued runs, one after another, from the next open one."""
        if self._training():
            self._host.notify("a run is training: the queue starts when it is stopped",
                              severity="warning")  # fmt: skip
            return
        self.read("work")

    # -- working it ------------------------------------------------------------------------

    def _work_next(self, elsewhere: bool = False) -> None:
        """Start the queue's next open entry, taking the queue's lock first."""
        queue = self._queue
        assert queue is not None
        if self._lock is None:
            if elsewhere:
                self._host.notify("another process is working the queue", severity="warning")
                return
            try:
                self._lock = queue.lock().acquire(wait_s=0)
            except (RunLockedError, OSError) as exc:
                self._host.notify(one_line(exc), title="Cannot work the queue", severity="error")
                return
        try:
            entry = queue.start_next()  # taken and marked "training" in one change of the file
        except (UserError, ActionFailed) as exc:
            self._stop(f"cannot work the queue: {one_line(exc)}")
            return
        if entry is None:
            self._stop("the queue is done")
            return
        resume = resume_point(entry, self._paths.runs)  # from its state before it was taken
        self._entry = entry
        left = len(queue.open_entries)
        self._host.notify(f"queue: {entry.run} {'goes on' if resume else 'starts'} "
                          f"({left} to train)", markup=False)  # fmt: skip
        self._train(entry, resume)

    def run_ended(self, worker: Worker) -> None:
        """The training worker of the queued run ended: as it ended, the queue goes on."""
        if worker.state == WorkerState.SUCCESS:
            result = worker.result
            reason = getattr(result, "reason", None) if result is not None else "stopped"
            why = getattr(result, "message", None) or "stopped"
        elif worker.state == WorkerState.ERROR and worker.error is not None:
            reason, why = None, one_line(worker.error)
        else:
            reason, why = "stopped", "stopped"
        self.ended(reason, why)

    def ended(self, reason: str | None, message: str) -> None:
        """The queued run ended for `reason` (None: it failed to start, or crashed)."""
        entry, self._entry = self._entry, None
        queue = self._queue
        if entry is None or queue is None:
            return
        state = FAILED if reason is None else state_after(reason)
        try:
            queue.mark(entry.id, state, message)
        except (UserError, ActionFailed) as exc:
            self._stop(f"cannot save the queue: {one_line(exc)}")
            return
        if state == STOPPED:
            self._stop(f"queue stopped: {len(queue.open_entries)} to train; w goes on")
        else:
            self._host.call_later(self._work_next)

    def _stop(self, why: str) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        self._say(why)
        self._host.notify(why, markup=False)
