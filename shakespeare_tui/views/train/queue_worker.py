"""The Train view's queue: add the form's run to it, and train the queued runs one after another.

A mixin of TrainScreen. `a` queues the form's settings as a new run (checked as `s` would
check them); `w` works the queue: each entry trains as an ordinary run, and when it ends the
next one starts, until none is left or the person stops one (`s`, or quitting: the entry is
then "stopped", and goes on from its last checkpoint next time). `Q` shows the queue. On
launch, a queue with runs left is offered to continue. The queue's lock is held while this
app works it, so `shakespeare-tui queue` elsewhere waits its turn.
"""

from __future__ import annotations

import threading

from textual import work
from textual.worker import get_current_worker

from shakespeare_tui.core.errors import UserError, one_line
from shakespeare_tui.messages import QueueRead, TrainingUpdate
from shakespeare_tui.views.train.fields import config_settings
from shakespeare_tui.views.train.form import TrainForm
from shakespeare_tui.views.train.loss_chart import LossChart
from shakespeare_tui.views.train.progress import SamplesLog, TrainProgress


class TrainQueue:
    """Queue actions for TrainScreen (which holds the form, `paths`, `_start_queued`)."""

    _queue = None  # core.queue.RunQueue, once read
    _queue_entry = None  # the QueueEntry being trained
    _queue_lock = None  # held while this app works the queue

    # -- reading it ------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="queue", exit_on_error=False)
    def _read_queue(self, then: str) -> None:
        """Read queue.json (and whether another process works it); `then` says what for."""
        from shakespeare_tui.core.runs.run_queue import RunQueue

        queue = RunQueue.load(self.paths.data)
        elsewhere = queue.lock().held_by_other_process()
        self.post_message(QueueRead(queue, elsewhere, then))

    def on_queue_read(self, message: QueueRead) -> None:
        if self._queue_lock is None:  # while working it, this app's copy is the queue
            self._queue = message.queue
        queue, left = self._queue, len(self._queue.open_entries)
        if message.then == "show":
            from shakespeare_tui.views.queue_dialog import QueueScreen

            screen = QueueScreen(queue, self._queue_lock is not None, message.elsewhere)
            self.app.push_screen(screen, lambda work: work and self.action_work_queue())
        elif message.then == "work":
            self._work_next(message.elsewhere)
        elif message.then == "offer" and left and not message.elsewhere and not self.training:
            from shakespeare_tui.views.queue_offer import QueueOfferScreen

            offer = QueueOfferScreen(left, queue.next_open().run)
            self.app.push_screen(offer, lambda go: go and self.action_work_queue())

    # -- actions ---------------------------------------------------------------------------

    def action_show_queue(self) -> None:
        self._read_queue("show")

    def action_queue_run(self) -> None:
        """Queue the form's settings as a new run."""
        from shakespeare_tui.core.runs.run_queue import RunQueue

        form = self.checked_form("Cannot queue")
        if form is None:
            return
        if form.selected_run is not None:
            self.notify("choose “new run” to queue one: a past run goes on with s",
                        title="Cannot queue", severity="warning")  # fmt: skip
            return
        settings = form.values(self.settings)
        try:
            queue = self._queue if self._queue_lock is not None else RunQueue.load(self.paths.data)
            flat = {"preset": settings.preset, **config_settings(settings)}
            entry = queue.add(flat, None, self.paths.runs)
            queue.save()
        except (UserError, OSError) as exc:
            self.notify(one_line(exc), title="Cannot queue", severity="error", markup=False)
            return
        self._queue = queue
        left = len(queue.open_entries)
        how = "w trains the queue" if self._queue_lock is None else "it trains after the others"
        self.notify(f"queued {entry.run} ({left} to train): {how}; Q shows the queue",
                    markup=False)  # fmt: skip

    def action_work_queue(self) -> None:
        if self.training:
            self.notify("a run is training: the queue starts when it is stopped",
                        severity="warning")  # fmt: skip
            return
        self._read_queue("work")

    # -- working it ------------------------------------------------------------------------

    def _work_next(self, elsewhere: bool = False) -> None:
        """Start the queue's next open entry, taking the queue's lock first."""
        from shakespeare_tui.core.runs.lock import RunLockedError
        from shakespeare_tui.core.runs.run_queue import TRAINING, resume_point

        if self._queue_lock is None:
            if elsewhere:
                self.notify("another process is working the queue", severity="warning")
                return
            try:
                self._queue_lock = self._queue.lock().acquire(wait_s=0)
            except (RunLockedError, OSError) as exc:
                self.notify(one_line(exc), title="Cannot work the queue", severity="error")
                return
        entry = self._queue.next_open()
        if entry is None:
            self._stop_queue("the queue is done")
            return
        resume = resume_point(entry, self.paths.runs)
        self._queue.mark(entry.id, TRAINING)
        self._save_queue()
        self._queue_entry = entry
        left = len(self._queue.open_entries)
        self.notify(f"queue: {entry.run} {'goes on' if resume else 'starts'} ({left} to train)",
                    markup=False)  # fmt: skip
        self._start_queued(entry, str(resume) if resume else None)

    def _start_queued(self, entry, resume: str | None) -> None:
        """Train a queue entry as a run of its own (going on from `resume` if given)."""
        self._run_name = entry.run
        self.stop_following()
        self.query_one(TrainForm).set_running(True)
        self.query_one(TrainProgress).status(f"starting {entry.run} (queued)…")
        if resume is None:
            self.query_one(LossChart).clear()
            self.query_one(SamplesLog).clear()
        self._sample_now = threading.Event()
        self._worker = self._train_queued(entry, resume, self._sample_now)
        self.refresh_bindings()

    @work(thread=True, exclusive=True, group="train", exit_on_error=False)
    def _train_queued(self, entry, resume: str | None, sample_now):
        from shakespeare_tui.core.config import RESUMABLE_FIELDS, build_config

        worker = get_current_worker()
        settings = {k: v for k, v in entry.settings.items() if k != "preset"}
        config, overrides = None, None
        if resume is None:
            device = settings.get("device") or "auto"
            device_type = self.device_type if device == "auto" and self.device_type else None
            if device_type is None:
                from shakespeare_tui.core.device import resolve_device

                device_type = resolve_device(device).type
            config = build_config(entry.preset, device_type, settings)
        else:  # it keeps its settings; the queue's budget for it may have grown since
            overrides = {k: v for k, v in settings.items() if k in RESUMABLE_FIELDS}
        return self.trainer(
            config,
            self.paths,
            on_event=lambda event: self.post_message(TrainingUpdate(event)),
            stop=worker.cancelled_event,
            sample_now=sample_now,
            run_name=None if resume else entry.run,
            resume=resume,
            resume_overrides=overrides,
        )

    def queued_run_ended(self, reason: str | None, message: str) -> None:
        """The queued run's worker ended (`reason` None: it failed to start or crashed)."""
        from shakespeare_tui.core.runs.run_queue import FAILED, STOPPED, state_after

        entry, self._queue_entry = self._queue_entry, None
        if entry is None:
            return
        state = FAILED if reason is None else state_after(reason)
        self._queue.mark(entry.id, state, message)
        self._save_queue()
        if state == STOPPED:
            left = len(self._queue.open_entries)
            self._stop_queue(f"queue stopped: {left} to train; w goes on")
        else:
            self.call_later(self._work_next)

    def _stop_queue(self, why: str) -> None:
        if self._queue_lock is not None:
            self._queue_lock.release()
            self._queue_lock = None
        self.query_one(TrainProgress).status(why)
        self.notify(why, markup=False)

    def _save_queue(self) -> None:
        try:
            self._queue.save()
        except OSError as exc:
            self.notify(f"cannot save the queue: {exc.strerror or exc}", severity="error")

    @property
    def queue_status(self) -> str:
        """ " · queue: 2 to train" while this app works the queue ("" otherwise)."""
        if self._queue_lock is None or self._queue is None:
            return ""
        return f" · queue: {len(self._queue.open_entries)} to train"
