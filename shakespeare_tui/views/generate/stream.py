"""The Generate view's generation worker and the stream of characters it posts.

A mixin of GenerateScreen. The worker loads its own copy of the model (kept for the next
request), samples on its thread and hands characters over in paced chunks (core.streaming);
the handlers below put them in the output and the status line, dropping answers to an older
request.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

from textual import work
from textual.worker import get_current_worker

from shakespeare_tui.core.sampling.streaming import Pacer, chunked
from shakespeare_tui.messages import GenerationChunk, GenerationFinished, GenerationStarted
from shakespeare_tui.views.generate.form import GenerateForm
from shakespeare_tui.views.generate.generated_text import GeneratedText

if TYPE_CHECKING:
    from shakespeare_tui.core.sampling.settings import SampleSettings


class GenerationStream:
    """Generation for GenerateScreen (which holds `_generation`, `_asked`, `_status`…)."""

    def _model_cache(self):
        with self._models_made:
            if self._models is None:
                from shakespeare_tui.core.sampling.streaming import ModelCache

                self._models = ModelCache()
            return self._models

    @work(thread=True, exclusive=True, group="generate", exit_on_error=False)
    def _generate(
        self, generation: int, path: str, title: str, settings: SampleSettings, pacer: Pacer
    ) -> None:
        from shakespeare_tui.core.sampling.sampler import generate

        stop = get_current_worker().cancelled_event
        vocab, stepper = self._model_cache().load(path, title)
        settings.check(vocab)  # a SamplingError reaches the person as a notification
        if stop.is_set():  # stopped while the model loaded: keep the text that is shown
            self.post_message(GenerationFinished(generation, None, 0, True))
            return
        settings = settings.with_seed()
        self.post_message(GenerationStarted(generation, settings.seed, settings.prompt))
        count = 0
        samples = generate(stepper, vocab, settings, stop=stop)
        for chars, probabilities in chunked(samples, seconds=lambda: pacer.seconds):
            count += len(chars)
            self.post_message(GenerationChunk(generation, chars, probabilities))
        self.post_message(GenerationFinished(generation, settings.seed, count, stop.is_set()))

    def on_generation_started(self, message: GenerationStarted) -> None:
        if message.generation != self._generation:
            return
        self._last_seed = message.seed
        path, title, settings = self._asked
        self._made_from = (path, title, replace(settings, seed=message.seed))
        self.query_one(GenerateForm).show_last_seed(message.seed)
        output = self.query_one(GeneratedText)
        output.clear()
        output.append(message.prompt)
        self._streamed = 0
        self._status_at = 0.0
        self._status.started(message.seed, len(message.prompt))

    def on_generation_chunk(self, message: GenerationChunk) -> None:
        if message.generation != self._generation:
            return
        self._pacer.consumed()
        self.query_one(GeneratedText).append(message.chars, message.probabilities)
        self._streamed += len(message.chars)
        now = time.monotonic()
        if now - self._status_at >= 0.25:  # a long stream shows how far it is, 4 times a second
            self._status_at = now
            self._status.progress(self._streamed, self._length, self._last_seed)

    def on_generation_finished(self, message: GenerationFinished) -> None:
        if message.generation != self._generation:
            return
        if message.seed is None:
            self._status.stopped_early()
            return
        self._status.finished(message.count, message.seed, message.stopped)
