"""The app tests' one harness: a minimal App that shows one view (a screen, or a lone widget)
with the real app's stylesheet, and the waits that go with it.

`settle` waits for the app's workers and fails the test when one of them failed: a view's
workers all run with `exit_on_error=False`, so a failure would otherwise pass unseen.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.worker import WorkerFailed, WorkerState

import shakespeare_tui
from shakespeare_tui.app import ShakespeareApp
from shakespeare_tui.views.help import HelpScreen

# The app's one stylesheet: every view's layout lives there.
APP_CSS = str(Path(shakespeare_tui.__file__).with_name("app.tcss"))
FIXED_DEVICE = ("CPU · 2 threads", "cpu")


def fixed_probe() -> tuple[str, str]:
    """The device as a test wants it: the same on every machine, and no torch import."""
    return FIXED_DEVICE


class ViewApp(App):
    """The smallest app that shows one view: the screen `view()` makes, pushed on mount (or a
    widget, composed on the default screen). It records every notification: `notes` the text,
    `warnings` those of severity warning or error.

    `title` is the app's title, which snapshots show (Textual's default is the class's name).
    """

    CSS_PATH = APP_CSS

    def __init__(
        self,
        view: Callable[[], Screen | Widget],
        *,
        title: str | None = None,
        css: str | None = None,
    ) -> None:
        self._view = view
        if css is not None:  # a lone widget's own rules (read when the app starts)
            self.CSS = css
        super().__init__()
        if title is not None:
            self.title = title
        self.notes: list[str] = []
        self.warnings: list[str] = []
        self._screen_to_push: Screen | None = None

    def compose(self) -> ComposeResult:
        view = self._view()  # made here, inside the running app, as the real app makes it
        if isinstance(view, Screen):
            self._screen_to_push = view
        else:
            yield view

    def on_mount(self) -> None:
        if self._screen_to_push is not None:
            self.push_screen(self._screen_to_push)

    def notify(self, message, *, title="", severity="information", **kwargs) -> None:
        note = f"{title}: {message}" if title else str(message)
        self.notes.append(note)
        if severity in ("warning", "error"):
            self.warnings.append(note)
        super().notify(message, title=title, severity=severity, **kwargs)


class KeyedViewApp(ViewApp):
    """ViewApp with the real app's keys, so the footer is the one people see (`?` opens the
    help)."""

    BINDINGS = ShakespeareApp.BINDINGS

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.screen))


async def settle(pilot, rounds: int = 3) -> None:
    """Let every worker finish and the messages they posted be handled (a finished worker's
    message may start another: `rounds` times). A cancelled worker is fine; a failed one fails
    the test with its own error."""
    for _ in range(rounds):
        workers = [w for w in pilot.app.workers if w.state != WorkerState.PENDING]
        results = await asyncio.gather(*(w.wait() for w in workers), return_exceptions=True)
        failed = [result for result in results if isinstance(result, WorkerFailed)]
        if failed:
            raise failed[0] from failed[0].error
        await pilot.pause()


async def wait_for(pilot, predicate, timeout: float = 30.0, what: str = "condition") -> None:
    """Let the app run until `predicate()` holds (the UI keeps processing messages)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await pilot.pause(0.05)


async def poll(predicate, what: str, timeout: float = 30.0, every: float = 0.005) -> None:
    """Wait until `predicate()` holds, looking every `every` seconds: for tests that drive an app
    faster than the pilot would (`pilot.pause` and `press` wait for the app to go idle)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(every)
