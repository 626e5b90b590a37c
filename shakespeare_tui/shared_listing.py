"""The app's one list of runs and checkpoints, kept up to date the same way for every view.

The Train view's run selector and the Generate and Inspect views' checkpoint lists show what
one core Listing (core/runs/listing.py) read: in a thread worker, never on the UI thread,
every REFRESH_S seconds and whenever something asks (ctrl+r in any view, a checkpoint saved
by training, a file opened by path). Each reading is posted to every view that subscribed as a
ListingRefreshed message, which says whether anything listed changed: a view redraws only
then, keeping its cursor. Readings asked for while one runs are folded into one more.

A view finds it with `shared_listing(app, paths)`; a test app that hosts a single view gets
one the first time its view asks.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from textual.app import App
from textual.message_pump import MessagePump
from textual.timer import Timer
from textual.worker import get_current_worker

from shakespeare_tui.core.errors import one_line
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.runs.listing import Listed, Listing
from shakespeare_tui.messages import ListingRefreshed

# Between readings: a few stats per run when nothing changed, so a run that another process
# started shows within this many seconds in every list.
REFRESH_S = 3.0


class SharedListing:
    """One Listing for the whole app, read in a worker and posted to the views."""

    def __init__(
        self, app: App, paths: Paths, files: Iterable[str] = (), refresh_s: float = REFRESH_S
    ) -> None:
        self._app = app
        self.listing = Listing(paths)
        self.files = tuple(files)  # the checkpoint files opened by path (settings.json)
        self.refresh_s = refresh_s
        self.listed: Listed | None = None  # the last reading (None before the first)
        self.error = ""  # why the last reading failed ("" when it did not)
        self._lock = threading.Lock()  # guards these, shared with the worker
        self._views: list[MessagePump] = []  # those told of every reading
        self._reading = False
        self._again = False
        self._asked = 0  # refreshes asked for; a reading that starts takes the number
        self._timer: Timer | None = None

    def subscribe(self, view: MessagePump) -> None:
        """Post every reading to `view` from now on (the last one at once, if any)."""
        with self._lock:
            if view not in self._views:
                self._views.append(view)
            listed = self.listed
        if listed is not None:
            view.post_message(ListingRefreshed(listed, True, self.error, reading=0))
        if self._timer is None:
            self._timer = self._app.set_interval(self.refresh_s, self.refresh, name="listing")
        self.refresh()

    def set_files(self, files: Iterable[str]) -> None:
        """The files opened by path changed (one opened, one forgotten): list them now."""
        self.files = tuple(files)
        self.refresh()

    def refresh(self) -> int:
        """Read the disk again in a worker; asked for while one reads, one more follows.

        The number returned is that of the first reading sure to see the disk as it is now: a
        message whose `reading` is at least that (one started before may be out of date)."""
        with self._lock:
            self._asked += 1
            asked = self._asked
            if self._reading:
                self._again = True
                return asked
            self._reading = True
        self._app.run_worker(self._read, thread=True, group="listing", exit_on_error=False)
        return asked

    def _read(self) -> None:
        worker = get_current_worker()
        try:
            while True:
                self._read_once()
                with self._lock:
                    if not self._again or worker.is_cancelled:
                        self._reading = False
                        return
                    self._again = False
        except BaseException:
            with self._lock:
                self._reading = False
            raise

    def _read_once(self) -> None:
        with self._lock:
            reading = self._asked
        try:
            listed, error = self.listing.refresh(self.files), ""
        except Exception as exc:  # noqa: BLE001 - said in every list; the next reading retries
            listed = self.listed or Listed()
            error = f"cannot read {self.listing.paths.runs}: {one_line(exc)}"
        changed = listed != self.listed or error != self.error
        self.listed, self.error = listed, error
        with self._lock:
            views = list(self._views)
        gone = [
            view  # (a message each: a message is handled once)
            for view in views
            if not view.post_message(ListingRefreshed(listed, changed, error, reading))
        ]
        if gone:
            with self._lock:
                self._views = [v for v in self._views if v not in gone]


def shared_listing(app: App, paths: Paths, files: Iterable[str] = ()) -> SharedListing:
    """The app's SharedListing (ShakespeareApp makes it); a test app hosting one view gets one
    the first time the view asks, with that view's `files`."""
    listing = getattr(app, "listing", None)
    if not isinstance(listing, SharedListing):
        listing = SharedListing(app, paths, files)
        app.listing = listing  # type: ignore[attr-defined]
    return listing
