"""The Inspect view's Memory tab: how far back the model reads (issue 19).

Two things, each in its own worker:

- **The heat** (heat.py): how much the prediction at the cursor depends on each character
  before it. `follow` starts a worker that loads its own copy of the model, reads the text once
  (core/inspection/memory/connectivity.py's ConnectivityProbe, fp32, used from that thread
  only) and then waits for positions: `want_heat` leaves the newest one in a mailbox, the
  worker measures it (tens of milliseconds for a small model, ~0.15 s for the bundled one on
  two cores) and posts `HeatMeasured`; positions passed over while it worked are never
  measured, so holding an arrow key costs no backlog. The tab posts `MemoryTab.Heat` up to the
  screen, which colours the text.
- **The charts** (memory_charts.py) and the words (memory_words.py): `measure` starts a worker
  that measures the checkpoint over its held-out text (report.measure_checkpoint, cached on
  disk by the checkpoint's sha256, so a second look reads the figures back) with the n-gram
  baseline beside it, and keeps each answer for the checkpoint file it came from, so showing
  it again is at once. Its progress goes to the status line; `stop` (esc) stops it.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import Static, TabPane
from textual.worker import Worker, WorkerState, get_current_worker

from shakespeare_tui.core.errors import UserError, one_line
from shakespeare_tui.core.inspection.memory.defaults import DEFAULT_LENGTH, SPAN
from shakespeare_tui.core.inspection.memory.events import (
    STAGE_WORDS,
    MemoryProgress,
    MemoryStopped,
)
from shakespeare_tui.messages import HeatMeasured, MemoryMeasured, MemoryWorking
from shakespeare_tui.views.inspect import heat
from shakespeare_tui.views.inspect.memory_charts import ConnectivityChart, ContextChart
from shakespeare_tui.views.inspect.memory_words import definition, headline
from shakespeare_tui.views.inspect.status_line import StatusLine

if TYPE_CHECKING:
    from shakespeare_tui.core.inspection.memory.report import MemorySettings

WAIT_S = 0.25  # how often the heat's worker looks up from an empty mailbox to see if it must stop
STOPPED = "stopped: M measures it again"


class Newest:
    """The newest value put, for one thread that takes it: a value put before the last one
    was taken is dropped (the cursor has moved on)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._value: Any = None

    def put(self, value: Any) -> None:
        with self._lock:
            self._value = value
            self._ready.set()

    def take(self, timeout: float) -> Any:
        """The newest value, or None if none came within `timeout` seconds."""
        if not self._ready.wait(timeout):
            return None
        with self._lock:
            value, self._value = self._value, None
            self._ready.clear()
        return value


class MemoryTab(TabPane):
    """The heat's legend, the effective context in words, and the two charts."""

    class Heat(Message):
        """The prediction at `position` depends on the character k back by grads[k − 1]."""

        def __init__(self, position: int, grads: tuple[float, ...]) -> None:
            super().__init__()
            self.position = position
            self.grads = grads

    def __init__(
        self,
        title: str,
        cache: Path,
        *,
        settings: MemorySettings | None = None,
        length: int | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(title, id=id)
        self.cache = cache  # where the memory figures and the n-gram counts are kept
        self.settings = settings  # None: the core's defaults (made in the worker: torch)
        self.length = length or DEFAULT_LENGTH  # characters of held-out text measured
        self.span = settings.span if settings is not None else SPAN  # of the heat
        # The checkpoint whose figures are shown or being measured: (path, name).
        self.checkpoint: tuple[str, str] | None = None
        self.measured: MemoryMeasured | None = None  # what the charts show
        # Each checkpoint file's answer, by (path, size, mtime): a file rewritten is another.
        self._answers: dict[tuple[str, int, int], MemoryMeasured] = {}
        self._asked = 0  # bumped per measurement asked for; older answers are dropped
        self._asked_key: tuple[str, int, int] | None = None  # the file asked about
        self._measuring: Worker[None] | None = None
        self._followed: tuple[str, str, str] | None = None  # (path, text, context) of the heat
        self._heat_asked = 0
        self._wanted = Newest()
        self._follower: Worker[None] | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="memory-legend")
        yield Static("", id="memory-words")
        yield Static("", id="memory-definition")
        yield Static("", id="memory-context-key", classes="memory-key memory-context")
        yield ContextChart(id="memory-context", classes="memory-context")
        yield Static("", id="memory-connectivity-key", classes="memory-key memory-connectivity")
        yield ConnectivityChart(id="memory-connectivity", classes="memory-connectivity")

    def on_mount(self) -> None:
        self.add_class("-context-chart")  # the chart a short terminal shows (M flips it)
        self._show_keys()

    def flip_chart(self) -> str:
        """Show the other chart where only one fits; which one is shown now."""
        context = self.has_class("-context-chart")
        self.set_class(not context, "-context-chart")
        self.set_class(context, "-connectivity-chart")
        return "connectivity" if context else "context curve"

    # -- the charts -------------------------------------------------------------------------

    @property
    def measuring(self) -> bool:
        worker = self._measuring
        return worker is not None and worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    def measure(self, path: str, name: str) -> None:
        """Show the memory of the checkpoint at `path` (called `name`): at once if known, else
        measured (or read from the disk cache) in a worker."""
        if self.checkpoint == (path, name) and (self.measuring or self.measured is not None):
            return
        self.checkpoint = (path, name)
        self.measured = None
        self._asked += 1
        self._asked_key = _file_key(path)  # one stat: cheap enough for the UI thread
        known = self._answers.get(self._asked_key) if self._asked_key else None
        if known is not None:
            self._show_answer(known)
            return
        self._words(Text(f"reading {name}'s memory…", style="dim"))
        self._charts_show(None)
        self._measuring = self._measure(self._asked, path, name)

    def stop(self) -> bool:
        """Stop a measurement under way; False if none was."""
        if not self.measuring or self._measuring is None:
            return False
        self._measuring.cancel()
        self._asked += 1  # its last progress events mean nothing now
        self.checkpoint = None  # so that M measures it again
        self._words(Text(STOPPED, style="dim"))
        self.post_message(StatusLine.Say(f"memory: {STOPPED}"))
        return True

    @work(thread=True, exclusive=True, group="inspect-memory", exit_on_error=False)
    def _measure(self, asked: int, path: str, name: str) -> None:
        # Imported here: they load torch, which the first frame must not wait for.
        from shakespeare_tui.core.inspection.memory.report import (
            MemorySettings,
            MemoryText,
            measure_checkpoint,
            ngram_baseline,
        )
        from shakespeare_tui.core.model.checkpoint import load_checkpoint

        stop = get_current_worker().cancelled_event
        checkpoint = load_checkpoint(Path(path))
        text = MemoryText.held_out(checkpoint.payload, self.cache, self.length)
        settings = self.settings or MemorySettings()

        def progress(event: MemoryProgress) -> None:
            self.post_message(MemoryWorking(asked, event))

        memory = measure_checkpoint(
            checkpoint, text, settings, self.cache, name=name, stop=stop, on_event=progress
        )
        ngram, why = ngram_baseline(
            checkpoint.payload, checkpoint.vocab, text, settings, self.cache,
            stop=stop, on_event=progress,
        )  # fmt: skip
        self.post_message(MemoryMeasured(asked, memory, ngram, why, text.note))

    def on_memory_working(self, message: MemoryWorking) -> None:
        if message.request != self._asked or self.checkpoint is None:
            return
        stage, done = message.progress.stage, message.progress.done
        line = f"measuring {self.checkpoint[1]}'s memory: {STAGE_WORDS[stage]}… {done:.0%}"
        self._words(Text(f"{line} · esc stops", style="dim"))
        self.post_message(StatusLine.Say(f"{line} · esc stops"))

    def on_memory_measured(self, message: MemoryMeasured) -> None:
        if message.request != self._asked:
            return
        if self._asked_key is not None:
            self._answers[self._asked_key] = message
        self._show_answer(message)
        k = message.memory.effective_context
        reach = (
            f"~{k} characters" if k is not None else f"over {max(message.memory.context.contexts)}"
        )
        name = self.checkpoint[1] if self.checkpoint else message.memory.name
        self.post_message(StatusLine.Say(f"{name} reads {reach} back (the Memory tab)"))

    def _show_answer(self, message: MemoryMeasured) -> None:
        self.measured = message
        memory = message.memory
        self._words(Text(headline(memory.context, memory.cell, message.ngram, message.why)))
        note = f" ({message.note})" if message.note else ""
        self.query_one("#memory-definition", Static).update(definition(memory.context) + note)
        self._charts_show(message)

    def _charts_show(self, measured: MemoryMeasured | None) -> None:
        context = self.query_one(ContextChart)
        connectivity = self.query_one(ConnectivityChart)
        if measured is None:
            context.show(None, None, "")
            connectivity.show(None)
        else:
            context.show(measured.memory.context, measured.ngram, measured.memory.cell)
            connectivity.show(measured.memory.connectivity)
        self._show_keys()

    def _show_keys(self) -> None:
        self.query_one("#memory-context-key", Static).update(self.query_one(ContextChart).key())
        self.query_one("#memory-connectivity-key", Static).update(
            self.query_one(ConnectivityChart).key()
        )

    def _words(self, text: Text) -> None:
        self.query_one("#memory-words", Static).update(text)
        self.query_one("#memory-definition", Static).update("")

    # -- the heat ---------------------------------------------------------------------------

    def follow(self, path: str, text: str, context: str) -> None:
        """Be ready to measure the heat anywhere in `text` (read after `context`) with the
        model at `path`: a worker reads the text once (again only if any of them changed)."""
        if self._followed == (path, text, context) and self._follower is not None:
            if self._follower.state in (WorkerState.PENDING, WorkerState.RUNNING):
                return
        self._followed = (path, text, context)
        self._heat_asked += 1
        self._wanted = Newest()
        self.query_one(ConnectivityChart).show_cursor(())
        self._follower = self._follow(self._heat_asked, path, text, context, self._wanted)

    def forget_heat(self) -> None:
        """Stop the heat's worker: the text it reads is being replaced."""
        self._followed = None
        self._heat_asked += 1
        if self._follower is not None:
            self._follower.cancel()
            self._follower = None

    def want_heat(self, position: int, char: str) -> None:
        """Measure the heat at `position` (whose character is `char`) next; a position asked for
        before it and not yet measured is dropped."""
        self.query_one("#memory-legend", Static).update(heat.legend(char))
        self._wanted.put(position)

    @work(thread=True, exclusive=True, group="inspect-heat", exit_on_error=False)
    def _follow(self, asked: int, path: str, text: str, context: str, wanted: Newest) -> None:
        # Imported here: they load torch, which the first frame must not wait for.
        from shakespeare_tui.core.inspection.memory.connectivity import ConnectivityProbe
        from shakespeare_tui.core.inspection.memory.reader import Reader
        from shakespeare_tui.core.model.checkpoint import load_checkpoint

        stop = get_current_worker().cancelled_event
        checkpoint = load_checkpoint(Path(path))
        unknown = checkpoint.vocab.unknown(context + text)
        if unknown:
            shown = ", ".join(repr(c) for c in unknown[:8])
            raise UserError(f"the text has characters this model never saw: {shown}")
        codes = checkpoint.vocab.encode(context + text)
        # fp32: bf16 autocast made one prediction slower on a CPU (connectivity.py)
        probe = ConnectivityProbe(Reader(checkpoint.model), codes, span=self.span, stop=stop)
        offset = len(context)
        while not stop.is_set():
            position = wanted.take(WAIT_S)
            if position is None or not 0 <= position < len(text):
                continue
            grads = probe.at(offset + position) if offset + position >= 1 else ()
            self.post_message(HeatMeasured(asked, position, grads))

    def on_heat_measured(self, message: HeatMeasured) -> None:
        if message.request != self._heat_asked:
            return
        self.query_one(ConnectivityChart).show_cursor(message.grads)
        self.post_message(self.Heat(message.position, message.grads))

    # -- failures ---------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker, error = event.worker, event.worker.error
        if event.state != WorkerState.ERROR or error is None:
            return
        if isinstance(error, MemoryStopped):  # esc, or a newer request: no failure
            return
        line = str(error) if isinstance(error, UserError) else one_line(error)
        if worker is self._measuring:
            name = self.checkpoint[1] if self.checkpoint else "the checkpoint"
            self.checkpoint = None  # M tries again
            self._words(Text(f"no memory figures for {name}: {line}"))
            self.post_message(StatusLine.Say(f"no memory figures for {name}: {line}"))
        elif worker is self._follower:
            self._followed = None
            self.post_message(StatusLine.Say(f"cannot draw the heat: {line}"))


def _file_key(path: str) -> tuple[str, int, int] | None:
    """The checkpoint file as it is now (a retrained run's file is another answer)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (path, stat.st_size, stat.st_mtime_ns)
