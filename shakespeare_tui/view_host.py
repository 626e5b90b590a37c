"""What the views ask of the app that hosts them, beyond Textual's App: a Protocol.

Textual types every node's `app` as a plain `App`, and the views may not import app.py (the
layers in pyproject.toml), so they reach ShakespeareApp's own members — its paths and settings,
its signals, what one view asks of another — through `view_host(self)`, typed by ViewHost
below; Textual's own members (push_screen, notify, theme…) stay on `self.app`.
ShakespeareApp satisfies ViewHost without naming it; a test app that hosts a view which
asks for it must too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from textual.message_pump import MessagePump
from textual.signal import Signal

from shakespeare_tui.core.paths import Paths
from shakespeare_tui.messages import TorchReady
from shakespeare_tui.settings import AppSettings


@runtime_checkable
class ViewHost(Protocol):
    """ShakespeareApp as the views see it."""

    paths: Paths
    settings: AppSettings
    device_type: str | None  # "cuda", "mps" or "cpu" once torch has loaded; None before
    torch_ready: Signal[TorchReady]
    checkpoints_changed: Signal[str]  # a checkpoint's path

    def save_settings(self) -> None: ...

    def continue_run(self, name: str, trained_here: bool = False) -> str | None: ...

    def generate_from(self, checkpoint: str) -> None: ...

    def inspect_checkpoint(self, path: str, title: str) -> None: ...

    def compare_runs(self, names: Iterable[str]) -> None: ...

    def show_queue(self) -> None: ...


def view_host(node: MessagePump) -> ViewHost:
    """The app hosting `node`, as a ViewHost; a TypeError names an app that is not one."""
    app = node.app
    if not isinstance(app, ViewHost):
        raise TypeError(f"{type(app).__name__} does not host the Shakespeare views")
    return app
