"""The CLI's rich Console: one whose reader may leave (`train | head`, `runs | head`)."""

from __future__ import annotations

from rich.console import Console

from shakespeare_tui.cli.exits import reader_left


class PipeConsole(Console):
    """A Console that goes quiet when its reader leaves, so the command carries on (a run
    keeps training) and ends with its own exit code, not rich's SystemExit(1)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        reader_left()
