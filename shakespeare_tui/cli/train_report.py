"""Headless training output: a progress bar per epoch, each epoch's sample, the outcome.

"epoch N" is always the N-th epoch: the one in progress (the bar's "epoch 2/20", "resuming r in
epoch 2", "epoch 2 so far") until it ends ("epoch 2 · train … · val …").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import assert_never

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn

from shakespeare_tui.cli.console import PipeConsole
from shakespeare_tui.cli.encoding_bar import EncodingBar
from shakespeare_tui.core import events
from shakespeare_tui.core.figures import count, duration, params
from shakespeare_tui.core.shown_text import shown


def _safe(text: object, keep: str = "") -> str:
    """Text that may come from a file (a run's name, its corpus, a sample of a model trained
    on any text) as markup may hold it: control characters escaped, brackets not markup."""
    return escape(shown(text, keep))


class ConsoleReporter:
    """Turns training events into terminal output; call it with each event.

    `max_steps` and `max_minutes` are the run's budgets, for the run's ETA; `hint(finished)`
    gives the line that follows the outcome (the command that resumes the run), if any.
    """

    def __init__(
        self,
        quiet: bool = False,
        console: Console | None = None,
        *,
        max_steps: int | None = None,
        max_minutes: float | None = None,
        hint: Callable[[events.TrainingFinished], str | None] | None = None,
    ):
        # soft_wrap: piped output keeps whole lines (rich would hard-wrap at 80 columns).
        self.console = console or PipeConsole(highlight=False, soft_wrap=True)
        self.quiet = quiet
        self.max_steps, self.max_minutes = max_steps, max_minutes
        self.eval_every = 0  # from the run, when it starts
        self.windows = ""  # "4 × 64 windows" in a job of 4 processes: each trains on 64
        self.hint = hint
        # The bar is for a person watching: piped output gets the lines without it.
        self.progress = Progress(
            TextColumn("[bold]epoch {task.fields[epoch]}[/]"),
            BarColumn(),
            TextColumn("{task.fields[steps]}"),
            TextColumn("{task.fields[status]}"),
            console=self.console,
            transient=True,
            disable=quiet or not self.console.is_terminal,
        )
        self.task: TaskID | None = None
        self.encoding = EncodingBar(self.console, quiet)  # a large corpus's first encoding
        self.epochs = 0
        self.steps_per_epoch = 0
        self.epoch_label = ""  # "2/20": the epoch in progress
        self.status = ""  # what the bar says after the steps
        self.run_dir: str | None = None
        self.last_step: int | None = None  # the latest step reported
        self._live = False
        self._last: events.StepLogged | None = None  # the latest step event
        self._since: tuple[int, float] | None = None  # (step, elapsed) with no validation since
        self._trained = (0, 0.0)  # steps and seconds of training timed this session
        self._validation_s: float | None = None  # how long the latest validation took
        self._validating_since: float | None = None  # elapsed when the running one began

    def __enter__(self) -> ConsoleReporter:
        return self  # the bar starts with the run: a refusal before it prints nothing here

    def __exit__(self, *exc) -> None:
        self.encoding.close()
        if self._live:
            self.progress.stop()
            self._live = False

    # -- the bar -------------------------------------------------------------------------

    def _show(self, epoch: int | None = None, done: int | None = None, status: str | None = None):
        if epoch is not None:
            self.epoch_label = f"{epoch}/{self.epochs}"
        if status is not None:
            self.status = status
        total = max(1, self.steps_per_epoch)
        steps = f"{count(done or 0)}/{count(total)}"
        label, status = self.epoch_label, self.status
        if self.task is None:
            self.task = self.progress.add_task(
                "", total=total, completed=done or 0, epoch=label, steps=steps, status=status
            )
        elif done is not None:
            self.progress.update(
                self.task, total=total, completed=done, epoch=label, steps=steps, status=status
            )
        else:
            self.progress.update(self.task, epoch=label, status=status)

    def _rate(self) -> float | None:
        """Training steps a second this session, validations left out; None until measured."""
        steps, seconds = self._trained
        return steps / seconds if steps and seconds > 0 else None

    def _numbers(self, elapsed: float, epoch: int, epoch_step: int, step: int) -> str:
        """loss, speed, elapsed, and the ETAs: of the epoch's steps and of the whole run."""
        parts = [self.windows] if self.windows else []
        last = self._last
        if last is not None and last.epoch == epoch:
            parts += [f"loss {last.train_loss:.3f}", f"{count(last.chars_per_sec)} chars/s"]
        parts.append(f"elapsed {duration(elapsed)}")
        rate = self._rate()
        epoch_eta = run_eta = None
        if rate:
            epoch_eta = (self.steps_per_epoch - epoch_step) / rate
            run_eta = self._run_eta(rate, elapsed, epoch, step)
        parts += [f"epoch ETA {duration(epoch_eta)}", f"run ETA {duration(run_eta)}"]
        return " · ".join(parts)

    def _run_eta(self, rate: float, elapsed: float, epoch: int, step: int) -> float:
        spe = self.steps_per_epoch
        end = self.epochs * spe
        if self.max_steps:
            end = min(end, self.max_steps)
        left = max(0, end - step) / rate
        # The validations still to come: at each epoch's end before `end`, every --eval-every
        # steps between, and at a budget's end.
        validations = max(0, end // spe - (epoch - 1)) + (1 if end % spe else 0)
        if self.eval_every:
            validations += max(0, end // self.eval_every - step // self.eval_every)
        left += validations * (self._validation_s or 0.0)
        if self.max_minutes:
            left = min(left, max(0.0, self.max_minutes * 60 - elapsed))
        return left

    # -- events --------------------------------------------------------------------------

    def __call__(self, event: events.EngineEvent) -> None:
        """One line (or the bar) per event; an event added to EngineEvent and not handled
        here fails the type check (assert_never)."""
        print_ = self.console.print
        match event:
            case events.CorpusEncoding():
                self.encoding(event)
            case events.SizingStarted():  # its choice is among the run's notes
                print_(
                    f"[dim]sizing the model for {event.budget_minutes:g} min: timing "
                    f"up to {event.rungs} sizes on this machine…[/]"
                )
            case events.TrainingStarted():
                self.epochs, self.steps_per_epoch = event.epochs, event.steps_per_epoch
                self.eval_every = event.eval_every
                self.run_dir, self.last_step = event.run_dir, event.step
                where = f"in epoch {event.epoch + 1}, step {count(event.step)}"
                verb = (
                    f"resuming {event.run_name} {where}"
                    if event.resumed
                    else f"run {event.run_name}"
                )
                print_(
                    f"[bold]{_safe(verb)}[/] · {_safe(event.model_summary)} "
                    f"({params(event.parameters)}) · {_safe(event.device)}"
                )
                if event.processes > 1:  # the batch is each process's
                    self.windows = f"{event.processes} × {count(event.batch_size)} windows"
                per_step = f"{self.windows} a step · " if self.windows else ""
                print_(
                    f"corpus {_safe(event.corpus)} · {count(event.corpus_chars)} chars · "
                    f"{per_step}{count(event.steps_per_epoch)} steps per epoch"
                )
                for note in event.notes:
                    print_(f"[yellow]{_safe(note)}[/]")
                print_(f"[dim]{_safe(event.run_dir)}[/]")
                # A new run validates the untrained model first (seconds, on a big corpus).
                status = "validating the untrained model…" if not event.resumed else "starting…"
                self._validating_since = None if event.resumed else 0.0
                done = event.step - event.epoch * event.steps_per_epoch
                self._show(event.epoch + 1, max(0, done), status)
                if not self.progress.disable:
                    self.progress.start()
                    self._live = True
            case events.StepLogged():
                self._on_step(event)
            case events.ValidationStarted():
                self._validating_since = self._last.elapsed_s if self._last else None
                self._show(status="validating…")
            case events.EpochEnded():
                self._on_epoch(event)
            case events.CheckpointSaved():
                if event.kind == "best":
                    print_(f"[dim]saved {_safe(event.path)}[/]")
            case events.CheckpointFailed():
                print_(f"[red]{_safe(event.message)}[/] (the previous checkpoint is intact)")
            case events.LogWriteFailed():
                print_(f"[yellow]{_safe(event.message)}[/]")
            case events.TrainingFinished():
                self.__exit__()  # the bar goes before the last lines
                style = "red" if event.failed else "bold"
                print_(f"[{style}]{_safe(event.message)}[/]")
                line = self.hint(event) if self.hint else None
                if line:
                    print_(f"[dim]{_safe(line)}[/]")
            case events.ModelSized() | events.SampleDrawn():
                pass  # the size chosen is among the run's notes; the CLI asks for no samples
            case _:
                assert_never(event)

    def _on_step(self, event: events.StepLogged) -> None:
        if self._since is not None:  # time since the last step event, with no validation in it
            steps, seconds = self._trained
            self._trained = (
                steps + event.step - self._since[0],
                seconds + event.elapsed_s - self._since[1],
            )
        self._since = (event.step, event.elapsed_s)
        self._last = event
        self.last_step = event.step
        self.steps_per_epoch = event.steps_per_epoch
        # "validating…" comes with the engine's ValidationStarted, right after this.
        status = self._numbers(event.elapsed_s, event.epoch, event.epoch_step, event.step)
        self._show(event.epoch, event.epoch_step, status)

    def _on_epoch(self, event: events.EpochEnded) -> None:
        print_ = self.console.print
        if self._validating_since is not None:
            self._validation_s = max(0.0, event.elapsed_s - self._validating_since)
            self._validating_since = None
        self._since = None  # the next interval holds this validation: not training speed
        mark = " [green]best[/]" if event.improved else ""
        train = f"train {event.train_loss:.4f} · " if event.train_loss == event.train_loss else ""
        head = f"epoch {event.epoch}" if event.epoch else "before training"
        if event.partial:
            head = f"epoch {event.epoch} so far (step {count(event.step)})"
        print_(
            f"[bold]{head}[/] · {train}val {event.val_loss:.4f}{mark} · "
            f"patience {event.patience_left} · elapsed {duration(event.elapsed_s)}"
        )
        if event.sample:
            sample = _safe(event.sample, keep="\n")  # its lines kept, anything else escaped
            print_(f"[italic]{sample}[/]\n")
        if not event.partial:
            numbers = self._numbers(event.elapsed_s, event.epoch + 1, 0, event.step)
            self._show(event.epoch + 1, 0, numbers)
