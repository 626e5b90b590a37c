"""Sampling: characters one at a time, reproducible from (checkpoint, prompt, temperature, top-k, seed).

Generation always runs on the CPU in float32 with the fast one-character step, so the same
settings give the same text on every machine, whatever the model was trained on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch

from shakespeare_tui.core.config import TrainConfig
from shakespeare_tui.core.errors import SamplingError
from shakespeare_tui.core.events import StopSignal
from shakespeare_tui.core.model.network import CharRNN, CharStepper
from shakespeare_tui.core.sampling.settings import (  # noqa: F401 - the settings travel with sampling
    SampleSettings,
    check_settings,
    new_seed,
    resolve_seed,
)
from shakespeare_tui.core.text.vocab import Vocabulary


@dataclass(frozen=True)
class SampledChar:
    char: str
    probability: float  # what the model (at temperature 1) gave this character


def default_start(vocab: Vocabulary) -> str:
    """What an empty prompt primes with: a newline (a fresh speech), else the first character."""
    return "\n" if "\n" in vocab else vocab.chars[0]


def generate(
    stepper: CharStepper,
    vocab: Vocabulary,
    settings: SampleSettings,
    stop: StopSignal | None = None,
) -> Iterator[SampledChar]:
    """Yield sampled characters; `settings.seed` must be set (see `SampleSettings.with_seed`)."""
    settings.check(vocab)
    if settings.seed is None:
        raise SamplingError("seed", "must be set before generating: use with_seed() first")
    return continue_text(stepper, vocab, settings.prompt or default_start(vocab), settings, stop)


@torch.inference_mode()
def continue_text(
    stepper: CharStepper,
    vocab: Vocabulary,
    primer: str,
    settings: SampleSettings,
    stop: StopSignal | None = None,
) -> Iterator[SampledChar]:
    """`settings.length` characters after `primer` (read, not yielded), with `settings`'
    temperature, top-k and (set) seed. `generate` primes with the prompt; a fork with the
    prompt and the branch's text so far, which may be longer than a prompt may be."""
    # One thread: at batch 1 each product is too small to share, and waking a second (sleeping,
    # OMP_WAIT_POLICY=PASSIVE) thread per character made sampling ~2x slower at H640. It also
    # makes the text independent of the core count (last-bit differences in the products).
    assert settings.seed is not None, "seed the settings first: SampleSettings.with_seed()"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        generator = torch.Generator().manual_seed(settings.seed)
        state = stepper.initial_state()
        logits: torch.Tensor | None = None
        for char in primer:
            if stop is not None and stop.is_set():  # a long prompt takes seconds to read
                return
            logits, state = stepper.step(vocab.code(char), state)
        assert logits is not None, "a primer has a character at least"
        for _ in range(settings.length):
            if stop is not None and stop.is_set():
                return
            probs = torch.softmax(logits, dim=0)
            if settings.temperature == 0:
                code = int(torch.argmax(logits))
            else:
                scaled: torch.Tensor = logits / settings.temperature
                if settings.top_k is not None and settings.top_k < len(vocab):
                    kth = torch.topk(scaled, settings.top_k).values[-1]
                    scaled = scaled.masked_fill(scaled < kth, float("-inf"))
                code = int(torch.multinomial(torch.softmax(scaled, dim=0), 1, generator=generator))
            yield SampledChar(vocab.chars[code], float(probs[code]))
            logits, state = stepper.step(code, state)
    finally:
        torch.set_num_threads(threads)


def sample_text(model: CharRNN, vocab: Vocabulary, settings: SampleSettings) -> str:
    """The whole text at once."""
    stepper = CharStepper(model)
    return "".join(s.char for s in generate(stepper, vocab, settings.with_seed()))


def epoch_sample(
    model: CharRNN, vocab: Vocabulary, config: TrainConfig, epoch: int, step: int | None = None
) -> str:
    """A run's sample at an evaluation: its length and temperature, seeded by where it is.

    At epoch ends the seed is the run's seed plus the epoch (as it always was); evaluations
    within an epoch (`step` given) add the step as well, so no two evaluations share a seed.
    """
    if config.sample_length == 0:
        return ""
    settings = SampleSettings(
        length=config.sample_length,
        temperature=config.sample_temperature,
        prompt=default_start(vocab),
        seed=config.seed + epoch + (step or 0),
    )
    was_training = model.training
    model.eval()
    try:
        return sample_text(model, vocab, settings)
    finally:
        model.train(was_training)
