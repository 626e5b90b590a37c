"""The Generate view's output side: the streamed text, the line under it, and the generation
worker that writes them.

The worker loads its own copy of the model (kept for the next request), samples on its thread
and hands characters over in paced chunks (core/sampling/streaming.py); the handlers below put
them in the output and the status line, dropping answers to an older request. Torch is
imported only in the worker, never on the UI thread.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, replace

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.worker import Worker, WorkerState, get_current_worker

from shakespeare_tui.core.sampling.settings import SampleSettings
from shakespeare_tui.core.sampling.streaming import ModelCache, Pacer, chunked
from shakespeare_tui.messages import GenerationChunk, GenerationFinished, GenerationStarted
from shakespeare_tui.views.generate.generated_text import GeneratedText
from shakespeare_tui.views.generate.status import GenerateStatus

# Each chunk costs the UI thread a redraw of the output (5 ms at 80×24, 10 at 120×40, 20 at
# 200×50 in colour), and while the UI holds the GIL the sampler waits: chunks come at most 10
# times a second, and less often when drawing them would take more than 5% of the UI thread's
# time, so the app generates within ~10% of the CLI's speed (benchmarks/generation.py). At the
# CLI's 33 chunks a second the app ran at ~40% of it.
CHUNK_SECONDS = (0.1, 0.5)  # the shortest and longest interval
DRAWING_SHARE = 0.05
PROGRESS_EVERY_S = 0.25  # a long stream shows how far it is, 4 times a second


def saved_header(path: str, settings: SampleSettings, generated: int | None = None) -> str:
    """What a saved text was made with, so it can be made again: the length is what was
    `generated` (of `settings.length` asked, if it was stopped before)."""
    top_k = settings.top_k if settings.top_k is not None else "all"
    length = f"{settings.length:,}"
    if generated is not None and generated != settings.length:
        length = f"{generated:,} (stopped; {settings.length:,} asked)"
    return (
        f"# shakespeare-tui · {dt.datetime.now().isoformat(timespec='seconds')}\n"
        f"# checkpoint {path}\n"
        f"# seed {settings.seed if settings.seed is not None else 'random'} · temperature "
        f"{settings.temperature:g} · top-k {top_k} · length {length}\n"
        f"# prompt {settings.prompt!r}\n"
    )


class OutputPane(Vertical):
    """Streams text from a checkpoint into the output; one generation at a time."""

    @dataclass
    class Started(Message):
        """The model is loaded and the seed drawn: characters follow."""

        seed: int

    @dataclass
    class Failed(Message):
        """A generation (or the model's loading) failed; `current` if it was the last asked."""

        error: BaseException | None
        current: bool

    def __init__(self, *, colour_by_probability: bool, **kwargs) -> None:
        super().__init__(**kwargs)
        self._colour = colour_by_probability
        self._models: ModelCache | None = None  # made in the first worker (it imports torch)
        self._models_made = threading.Lock()
        self._generation = 0  # bumped per request; chunks of an older stream are dropped
        self._worker: Worker | None = None
        self._pacer = Pacer(*CHUNK_SECONDS, share=DRAWING_SHARE)  # the stream's, one a request
        self._length = 0  # characters asked for
        self._streamed = 0  # characters shown of the current stream
        self._status_at = 0.0  # when the progress in the status line was last redrawn
        self._last_seed: int | None = None
        self._made_with = ""  # what the output was generated with, for its saved header
        # (path, title, settings) asked for, and those of the output shown (seed set).
        self._asked: tuple[str, str, SampleSettings] | None = None
        self._made_from: tuple[str, str, SampleSettings] | None = None

    def compose(self) -> ComposeResult:
        output = GeneratedText(id="output", colour_by_probability=self._colour)
        output.border_title = "Output"
        yield output
        yield GenerateStatus(id="generate-status")

    def on_mount(self) -> None:
        self.status.idle()

    # -- what the screen reads ---------------------------------------------------------------

    @property
    def text(self) -> str:
        """The text shown: the prompt and what was generated after it."""
        return self.query_one(GeneratedText).text

    @property
    def status(self) -> GenerateStatus:
        return self.query_one(GenerateStatus)

    @property
    def generating(self) -> bool:
        worker = self._worker
        return worker is not None and not worker.is_finished and not worker.is_cancelled

    @property
    def worker(self) -> Worker | None:
        """The worker of the last request (None before the first)."""
        return self._worker

    @property
    def generation(self) -> int:
        """How many requests were made: each stream's messages carry its number."""
        return self._generation

    @property
    def last_seed(self) -> int | None:
        """The seed of the last text generated (drawn at random if none was given)."""
        return self._last_seed

    @property
    def made_from(self) -> tuple[str, str, SampleSettings] | None:
        """(checkpoint path, its title, the settings with their seed) of the text shown."""
        return self._made_from

    @property
    def made_with(self) -> str:
        """The header of a saved text: what it was generated with (its seed, and the length
        generated so far, which a stop makes shorter than asked)."""
        if self._made_from is not None:
            path, _, settings = self._made_from
            return saved_header(path, settings, self._streamed)
        return self._made_with

    def models(self) -> ModelCache:
        """The models loaded so far (made on first use, in a worker)."""
        with self._models_made:
            if self._models is None:
                self._models = ModelCache()
            return self._models

    # -- what the screen asks ----------------------------------------------------------------

    def start(self, path: str, title: str, settings: SampleSettings) -> None:
        """Generate from the checkpoint at `path` (`title` for people) with `settings`."""
        self._made_with = saved_header(path, settings)
        self._asked = (path, title, settings)
        self._generation += 1
        self._length = settings.length
        self._pacer = pacer = Pacer(*CHUNK_SECONDS, share=DRAWING_SHARE)
        self.status.loading_model(title)
        self._worker = self._generate(self._generation, path, title, settings, pacer)
        self.refresh_bindings()  # `esc` stops now

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    def toggle_colour(self) -> bool:
        """Colour each character by the model's confidence, or stop; whether it is coloured."""
        output = self.query_one(GeneratedText)
        output.colour_by_probability = not output.colour_by_probability
        return output.colour_by_probability

    @work(thread=True, exclusive=True, group="generate", exit_on_error=False)
    def _generate(
        self, generation: int, path: str, title: str, settings: SampleSettings, pacer: Pacer
    ) -> None:
        from shakespeare_tui.core.sampling.sampler import generate  # imports torch

        stop = get_current_worker().cancelled_event
        vocab, stepper = self.models().load(path, title)
        settings.check(vocab)  # a SamplingError reaches the person as a notification
        if stop.is_set():  # stopped while the model loaded: keep the text that is shown
            self.post_message(GenerationFinished(generation, None, 0, True))
            return
        settings = settings.with_seed()
        assert settings.seed is not None  # (with_seed drew one if none was given)
        self.post_message(GenerationStarted(generation, settings.seed, settings.prompt))
        count = 0
        samples = generate(stepper, vocab, settings, stop=stop)
        for chars, probabilities in chunked(samples, seconds=lambda: pacer.seconds):
            count += len(chars)
            self.post_message(GenerationChunk(generation, chars, probabilities))
        self.post_message(GenerationFinished(generation, settings.seed, count, stop.is_set()))

    # -- the stream ----------------------------------------------------------------------------

    def on_generation_started(self, message: GenerationStarted) -> None:
        if message.generation != self._generation or self._asked is None:
            return
        self._last_seed = message.seed
        path, title, settings = self._asked
        self._made_from = (path, title, replace(settings, seed=message.seed))
        self.post_message(self.Started(message.seed))
        output = self.query_one(GeneratedText)
        output.clear()
        output.append(message.prompt)
        self._streamed = 0
        self._status_at = 0.0
        self.status.started(message.seed, len(message.prompt))

    def on_generation_chunk(self, message: GenerationChunk) -> None:
        if message.generation != self._generation:
            return
        self._pacer.consumed()
        self.query_one(GeneratedText).append(message.chars, message.probabilities)
        self._streamed += len(message.chars)
        now = time.monotonic()
        if now - self._status_at >= PROGRESS_EVERY_S:
            self._status_at = now
            self.status.progress(self._streamed, self._length, self._last_seed)

    def on_generation_finished(self, message: GenerationFinished) -> None:
        if message.generation != self._generation:
            return
        if message.seed is None:
            self.status.stopped_early()
            return
        self.status.finished(message.count, message.seed, message.stopped)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker is self._worker and worker.is_finished:
            self.refresh_bindings()  # `esc` stops no more
        if event.state == WorkerState.ERROR:
            self.post_message(self.Failed(worker.error, current=worker is self._worker))
