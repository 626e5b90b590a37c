"""The CLI's bar while a large corpus is encoded into the cache (CorpusEncoding events)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn

from shakespeare_tui.core.events import CorpusEncoding
from shakespeare_tui.core.figures import duration, size
from shakespeare_tui.core.shown_text import shown


class EncodingBar:
    """A bar with MB/s and ETA in a terminal; piped, one line when the encoding is done."""

    def __init__(self, console: Console, quiet: bool = False):
        self.console, self.quiet = console, quiet
        self.progress: Progress | None = None
        self.task: TaskID | None = None

    def __call__(self, event: CorpusEncoding) -> None:
        if self.quiet:
            return
        if self.console.is_terminal and not event.done_bytes >= event.total_bytes:
            progress, task = self.progress, self.task
            if progress is None or task is None:  # (the two are made together)
                progress = Progress(
                    TextColumn(f"[bold]encoding {escape(shown(event.corpus))}[/]"),
                    BarColumn(),
                    TextColumn("{task.fields[numbers]}"),
                    console=self.console,
                    transient=True,
                )
                task = progress.add_task("", total=event.total_bytes, numbers="")
                progress.start()
                self.progress, self.task = progress, task
            numbers = event.summary()
            progress.update(task, completed=event.done_bytes, numbers=numbers)
            return
        self.close()
        if event.done_bytes >= event.total_bytes:
            seconds = event.total_bytes / max(event.mb_per_s * 1e6, 1e-9)
            self.console.print(
                f"encoded {escape(shown(event.corpus))} into the cache: {size(event.total_bytes)} in "
                f"{duration(seconds)} ({event.mb_per_s:,.0f} MB/s), once for this version of it"
            )

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
