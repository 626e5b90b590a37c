"""The Runs view's memory charts: the selected runs' context or connectivity curves, a status
line above them and, under them, how far back each run reads, in words.

The screen says which runs are selected (`show_runs`) and whether the pane is shown
(`activate`, `deactivate`). While it is shown, a worker measures every selected run that has
not been measured as it is now (core/inspection/run_memories.py: each run's best checkpoint,
over one text shared by all, cached on disk by the checkpoint's sha256), sending what it found
and its progress as messages; the status line says what it is doing, and escape (`stop`) stops
it. What was found stays here: a second look shows it at once and reads nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker, WorkerState, get_current_worker

from shakespeare_tui.core.errors import one_line
from shakespeare_tui.core.shown_text import shown
from shakespeare_tui.views.runs.chart import PALETTE
from shakespeare_tui.views.runs.memory_chart import MemoryChart, MemoryLine, reach

if TYPE_CHECKING:  # torch: the measurements' modules load it; the worker imports them
    from shakespeare_tui.core.inspection.memory.events import MemoryProgress
    from shakespeare_tui.core.inspection.run_memories import Baseline, Found, RunMemories

GROUP = "runs-memory"
STOPS = "escape stops"
# Each stage of a measurement in a few words (the status line holds a run's name beside it).
STAGES = {"ngram": "counting the n-gram", "context": "the last k characters",
          "whole text": "the whole text", "connectivity": "connectivity"}  # fmt: skip


class MemoryRun(NamedTuple):
    """A selected run as the pane needs it."""

    name: str
    colour: int  # PALETTE index
    folder: str
    training: bool
    version: int | None  # its best step (else its step): a new best is a new checkpoint


class MemoryPane(Vertical):
    """The status line, the chart, and the words under it (see the module docstring)."""

    DEFAULT_CSS = """
    MemoryPane {
        width: 1fr;
        height: 1fr;
    }
    MemoryPane > #memory-status {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    MemoryPane > MemoryChart {
        height: 1fr;
    }
    MemoryPane > #memory-words {
        height: auto;
        max-height: 2;
        padding: 0 1;
    }
    """

    class Measured(Message, bubble=False):
        """The worker found a run's memory (`run`) or the n-gram's (`baseline`)."""

        def __init__(self, run: Found | None, baseline: Baseline | None = None) -> None:
            super().__init__()
            self.run, self.baseline = run, baseline

    class Progress(Message, bubble=False):
        """How far a stage of the measurement is (a MemoryProgress's plain values)."""

        def __init__(self, name: str, stage: str, done: float) -> None:
            super().__init__()
            self.name, self.stage, self.done = name, stage, done

    def __init__(self, cache_dir: Path, *, device: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cache_dir = cache_dir
        self.device = device  # where the runs are measured (None: the CPU)
        self.runs: tuple[MemoryRun, ...] = ()
        # name → (the run as asked, the first run then (whose corpus gave the text), found)
        self.found: dict[str, tuple[MemoryRun, str, Found]] = {}
        self.baseline: Baseline | None = None
        self.active = False
        self.stopped = False  # by the person (escape): no new measurement until `activate`
        self.progress = ""
        self._memories: RunMemories | None = None  # the worker's, made in it (it imports torch)
        self._memories_lock = threading.Lock()  # one worker at a time uses it
        self._worker: Worker[None] | None = None
        self._asked: tuple[MemoryRun, ...] | None = None  # what the worker was given
        self._again = False

    def compose(self) -> ComposeResult:
        yield Static(id="memory-status")
        yield MemoryChart()
        yield Static(id="memory-words")

    @property
    def chart(self) -> MemoryChart:
        return self.query_one(MemoryChart)

    @property
    def measuring(self) -> bool:
        return self._worker is not None and not self._worker.is_finished

    # -- what the screen asks -----------------------------------------------------------

    def show_runs(self, runs: Sequence[MemoryRun]) -> None:
        """The selected runs now; measured while the pane is shown."""
        self.runs = tuple(runs)
        self._show()
        self._measure_if_needed()

    def activate(self) -> None:
        """Shown: measure what is not measured yet (a stop is over)."""
        self.active, self.stopped = True, False
        if not self.measuring:
            self.progress = ""  # a stop said before is over
        self._show()
        self._measure_if_needed()

    def deactivate(self) -> None:
        """Hidden: a measurement in progress stops (what it finished is kept)."""
        self.active = False
        self._cancel()

    def stop(self) -> None:
        """Stop measuring until the next `activate`."""
        if self.measuring:
            self.stopped = True
            self._cancel()
            self.progress = "stopped; the next look (m) measures the rest"
            self._show()

    def _cancel(self) -> None:
        if self.measuring and self._worker is not None:
            self._worker.cancel()
        self._again = False

    # -- measuring ----------------------------------------------------------------------

    def _current(self, run: MemoryRun) -> bool:
        """Whether what was found for `run` is for it as it is now, on today's shared text
        (the first selected run's corpus gives it)."""
        kept = self.found.get(run.name)
        return kept is not None and kept[:2] == (run, self.runs[0].name)

    def _stale(self) -> list[MemoryRun]:
        return [run for run in self.runs if not self._current(run)]

    def _measure_if_needed(self) -> None:
        if not self.active or self.stopped or not self.runs:
            return
        if self.measuring:
            self._again = self.runs != self._asked
            return
        if not self._stale() and self.baseline is not None:
            return  # everything shown is as measured: nothing read, nothing measured
        self._asked = self.runs
        self._worker = self._measure(self.runs)
        self._show()

    @work(thread=True, exclusive=True, group=GROUP, exit_on_error=False)
    def _measure(self, runs: tuple[MemoryRun, ...]) -> None:
        # torch: measuring loads it (in this worker, never on the first frame)
        from shakespeare_tui.core.inspection import run_memories
        from shakespeare_tui.core.inspection.memory.events import MemoryStopped

        worker = get_current_worker()
        wanted = [run_memories.RunToMeasure(r.name, Path(r.folder), r.training) for r in runs]

        def found(what: Found | Baseline) -> None:
            if isinstance(what, run_memories.Baseline):
                self.post_message(self.Measured(None, what))
            else:
                self.post_message(self.Measured(what))

        def progress(event: MemoryProgress) -> None:
            self.post_message(self.Progress(event.checkpoint, event.stage, event.done))

        with self._memories_lock:
            if self._memories is None:
                self._memories = run_memories.RunMemories(self.cache_dir, device=self.device)
            memories = self._memories
            try:
                memories.measure(wanted, found=found, stop=worker.cancelled_event,
                                 on_event=progress)  # fmt: skip
            except MemoryStopped:
                pass  # the person stopped it, or left the charts: what it found is kept

    def on_memory_pane_measured(self, message: Measured) -> None:
        found, asked = message.run, self._asked or ()
        if message.baseline is not None:
            self.baseline = message.baseline
        if found is not None:
            run = next((r for r in asked if r.name == found.name), None)
            if run is not None:
                self.found[found.name] = (run, asked[0].name, found)
        self.progress = ""
        self._show()

    def on_memory_pane_progress(self, message: Progress) -> None:
        if not self.measuring:
            return
        words = f"{STAGES.get(message.stage, message.stage)}… {message.done:.0%}"
        names = [run.name for run in self._asked or ()]
        if message.name in names:
            where = f" ({names.index(message.name) + 1} of {len(names)})" if len(names) > 1 else ""
            words = f"measuring {shown(message.name)}{where}: {words}"
        self.progress = words
        self._show_status()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != GROUP:
            return
        event.stop()
        if event.worker is not self._worker or not event.worker.is_finished:
            return
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.progress = f"cannot measure: {one_line(event.worker.error)}"
        elif not self.stopped:
            self.progress = ""
        self._show()
        if self._again:
            self._again = False
            self._measure_if_needed()

    # -- showing ------------------------------------------------------------------------

    def _lines(self) -> list[MemoryLine]:
        lines = []
        for run in self.runs:
            kept = self.found.get(run.name)
            memory, note = (kept[2].memory, kept[2].note) if kept else (None, "")
            if kept is None or (memory is None and not self._current(run)):
                # Not measured yet (an earlier figure, if any, is shown until the new one comes)
                note = "measuring…" if self.measuring else ("stopped" if self.stopped else "")
            lines.append(MemoryLine(run.name, run.colour, memory, note))
        return lines

    def _show(self) -> None:
        if not self.is_mounted:
            return
        lines = self._lines()
        baseline = self.baseline
        self.chart.show_lines(lines, baseline.curve if baseline is not None else None)
        self._show_status()
        self.query_one("#memory-words", Static).update(self.words(lines), layout=True)

    def _show_status(self) -> None:
        parts = []
        if self.progress:
            parts.append(self.progress + (f" · {STOPS}" if self.measuring else ""))
        elif self.measuring:
            parts.append(f"measuring… · {STOPS}")
        elif self.baseline is not None:
            parts.append(f"{self.baseline.targets:,} targets in {self.baseline.source}")
        for line in self._lines():
            kept = self.found.get(line.name)
            if kept is not None and kept[2].note and line.note == kept[2].note:
                parts.append(shown(f"{line.name}: {line.note}"))
        if self.baseline is not None and self.baseline.note:
            parts.append(self.baseline.note)
        said = Text(" · ".join(parts), no_wrap=True, overflow="ellipsis")
        self.query_one("#memory-status", Static).update(said, layout=False)

    def words(self, lines: Sequence[MemoryLine]) -> Text:
        """How far back each measured run reads, as a sentence (longest first)."""
        measured = [(line, line.memory) for line in lines if line.memory is not None]
        if not measured:
            return Text("")
        cells = [memory.cell for _, memory in measured]
        by_cell = len(set(cells)) == len(cells)  # three cells: "LSTM", else the run names
        labels = [memory.cell.upper() if by_cell else shown(line.name) for line, memory in measured]
        if self.chart.kind == "context":
            reads = [memory.effective_context for _, memory in measured]
            order = sorted(range(len(measured)), key=lambda i: -(reads[i] or 10**6))
            said = [f"~{reads[i]}" if reads[i] is not None else "past 512" for i in order]
            head = f"{labels[order[0]]} keeps improving up to {said[0]} characters back"
            tail = [f"{labels[i]} {s}" for i, s in zip(order[1:], said[1:], strict=True)]
            ngram = self.baseline.curve if self.baseline is not None else None
            if ngram is not None:
                c, longest = ngram.effective_context(), max(ngram.contexts)
                stops = f"stops at {c}" if c < longest else f"still improves at {c}, its longest"
                tail.append(f"the n-gram {stops}")
        else:
            reaches = [reach(memory.connectivity.grad) or 0 for _, memory in measured]
            order = sorted(range(len(measured)), key=lambda i: -reaches[i])
            head = (f"{labels[order[0]]}'s predictions still feel the character "
                    f"~{reaches[order[0]]} back (a gradient ≥ 1% of the last one's)")  # fmt: skip
            tail = [f"{labels[i]} ~{reaches[i]}" for i in order[1:]]
        text = Text("; ".join([head, *tail]))
        for (line, _), label in zip(measured, labels, strict=True):  # each in its colour
            text.highlight_words([label], style=f"bold {_colour(line.colour)}")
        return text


def _colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]
