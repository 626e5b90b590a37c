"""Headless training output: a rich progress bar per epoch, each epoch's sample, the outcome."""

from __future__ import annotations

import shlex

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from shakespeare_tui.core import events
from shakespeare_tui.core.numbers import count, params


class ConsoleReporter:
    """Turns training events into terminal output; call it with each event."""

    def __init__(self, quiet: bool = False, console: Console | None = None):
        # soft_wrap: piped output keeps whole lines (rich would hard-wrap at 80 columns).
        self.console = console or Console(highlight=False, soft_wrap=True)
        self.quiet = quiet
        self.progress = Progress(
            TextColumn("[bold]epoch {task.fields[epoch]}[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("{task.fields[speed]} chars/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
            disable=quiet,
        )
        self.task = None
        self.epochs = 0

    def __enter__(self) -> ConsoleReporter:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def _bar(self, epoch: int, total: int, done: int) -> None:
        label = f"{epoch}/{self.epochs}"
        if self.task is None:
            self.task = self.progress.add_task("", total=total, epoch=label, loss="—", speed="—")
        self.progress.reset(
            self.task, total=total, completed=done, epoch=label, loss="—", speed="—"
        )

    def __call__(self, event) -> None:
        print_ = self.console.print
        if isinstance(event, events.TrainingStarted):
            self.epochs = event.epochs
            verb = (
                f"resuming {event.run_name} at epoch {event.epoch}, step {event.step}"
                if event.resumed
                else f"run {event.run_name}"
            )
            print_(
                f"[bold]{verb}[/] · {event.model_summary} ({params(event.parameters)}) · {event.device}"
            )
            print_(
                f"corpus {escape(event.corpus)} · {count(event.corpus_chars)} chars · "
                f"{count(event.steps_per_epoch)} steps per epoch"
            )
            for note in event.notes:
                print_(f"[yellow]{escape(note)}[/]")
            print_(f"[dim]{escape(event.run_dir)}[/]")
            self._bar(event.epoch + 1, event.steps_per_epoch, 0)
        elif isinstance(event, events.StepLogged):
            if self.task is None:
                self._bar(event.epoch, event.steps_per_epoch, 0)
            self.progress.update(
                self.task,
                completed=event.epoch_step,
                loss=f"{event.train_loss:.3f}",
                speed=f"{event.chars_per_sec:,.0f}",
            )
        elif isinstance(event, events.EpochEnded):
            mark = " [green]best[/]" if event.improved else ""
            train = (
                f"train {event.train_loss:.4f} · " if event.train_loss == event.train_loss else ""
            )
            head = f"epoch {event.epoch}" if event.epoch else "before training"
            if event.partial:
                head = f"epoch {event.epoch} so far (step {event.step:,})"
            print_(
                f"[bold]{head}[/] · {train}val {event.val_loss:.4f}{mark} · patience {event.patience_left} · {event.elapsed_s / 60:.1f} min"
            )
            if event.sample:
                print_(f"[italic]{escape(event.sample)}[/]\n")
            if self.task is not None:
                self._bar(event.epoch + 1, self.progress.tasks[0].total or 1, 0)
        elif isinstance(event, events.CheckpointSaved):
            if event.kind == "best":
                print_(f"[dim]saved {escape(event.path)}[/]")
        elif isinstance(event, events.CheckpointFailed):
            print_(f"[red]{escape(event.message)}[/] (the previous checkpoint is intact)")
        elif isinstance(event, events.LogWriteFailed):
            print_(f"[yellow]{escape(event.message)}[/]")
        elif isinstance(event, events.TrainingFinished):
            style = "red" if event.failed else "bold"
            print_(f"[{style}]{escape(event.message)}[/]")
            if event.last_checkpoint:
                print_(
                    f"[dim]resume: shakespeare-tui train --resume {escape(shlex.quote(event.run_dir))}[/]"
                )
