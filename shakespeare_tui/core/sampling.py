"""Sampling: characters one at a time, reproducible from (checkpoint, prompt, temperature, top-k, seed).

Generation always runs on the CPU in float32 with the fast one-character step, so the same
settings give the same text on every machine, whatever the model was trained on.
"""

from __future__ import annotations

import math
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from shakespeare_tui.core.errors import SamplingError
from shakespeare_tui.core.model import CharStepper
from shakespeare_tui.core.vocab import Vocabulary

MAX_TEMPERATURE = 10.0
MAX_LENGTH = 1_000_000
MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class SampleSettings:
    length: int = 500  # characters to generate (the prompt not included)
    temperature: float = 0.8  # 0 = always the likeliest character; higher = wilder
    top_k: int | None = None  # sample only among the k likeliest characters
    prompt: str = ""  # primes the state; empty = start as if after a blank line
    seed: int | None = None  # None = draw one (reported, so the text can be replayed)


@dataclass(frozen=True)
class SampledChar:
    char: str
    probability: float  # what the model (at temperature 1) gave this character


def new_seed() -> int:
    return secrets.randbelow(2**31)


def check_settings(settings: SampleSettings, vocab: Vocabulary) -> None:
    """Raise SamplingError with one line for anything unusable."""
    t = settings.temperature
    if isinstance(t, bool) or not isinstance(t, (int, float)) or math.isnan(t):
        raise SamplingError("temperature must be a number")
    if t < 0 or t > MAX_TEMPERATURE:
        raise SamplingError(f"temperature must be between 0 and {MAX_TEMPERATURE:g} (0 = greedy)")
    if not 1 <= settings.length <= MAX_LENGTH:
        raise SamplingError(f"length must be between 1 and {MAX_LENGTH:,}")
    if settings.top_k is not None and not 1 <= settings.top_k <= len(vocab):
        raise SamplingError(f"top-k must be between 1 and the vocabulary size ({len(vocab)})")
    if settings.seed is not None and not 0 <= settings.seed <= MAX_SEED:
        raise SamplingError(f"seed must be between 0 and {MAX_SEED}")
    unknown = vocab.unknown(settings.prompt)
    if unknown:
        shown = " ".join(repr(c) for c in unknown[:8]) + (" …" if len(unknown) > 8 else "")
        raise SamplingError(f"the prompt has characters this model never saw: {shown}")


def default_start(vocab: Vocabulary) -> str:
    """What an empty prompt primes with: a newline (a fresh speech), else the first character."""
    return "\n" if "\n" in vocab else vocab.chars[0]


@torch.inference_mode()
def generate(
    stepper: CharStepper,
    vocab: Vocabulary,
    settings: SampleSettings,
    stop: threading.Event | None = None,
) -> Iterator[SampledChar]:
    """Yield sampled characters; `settings.seed` must be set (see `resolve_seed`)."""
    check_settings(settings, vocab)
    if settings.seed is None:
        raise SamplingError("generate() needs a seed; use resolve_seed() first")
    # One thread: at batch 1 each product is too small to share, and waking a second (sleeping,
    # OMP_WAIT_POLICY=PASSIVE) thread per character made sampling ~2x slower at H640. It also
    # makes the text independent of the core count (last-bit differences in the products).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        generator = torch.Generator().manual_seed(settings.seed)
        state = stepper.initial_state()
        logits = None
        for char in settings.prompt or default_start(vocab):
            if stop is not None and stop.is_set():  # a long prompt takes seconds to read
                return
            logits, state = stepper.step(vocab._index[char], state)
        for _ in range(settings.length):
            if stop is not None and stop.is_set():
                return
            probs = torch.softmax(logits, dim=0)
            if settings.temperature == 0:
                code = int(torch.argmax(logits))
            else:
                scaled = logits / settings.temperature
                if settings.top_k is not None and settings.top_k < len(vocab):
                    kth = torch.topk(scaled, settings.top_k).values[-1]
                    scaled = scaled.masked_fill(scaled < kth, float("-inf"))
                code = int(torch.multinomial(torch.softmax(scaled, dim=0), 1, generator=generator))
            yield SampledChar(vocab.chars[code], float(probs[code]))
            logits, state = stepper.step(code, state)
    finally:
        torch.set_num_threads(threads)


def resolve_seed(settings: SampleSettings) -> SampleSettings:
    """The settings with a concrete seed (drawn when none was given)."""
    if settings.seed is not None:
        return settings
    from dataclasses import replace

    return replace(settings, seed=new_seed())


def sample_text(model, vocab: Vocabulary, settings: SampleSettings) -> str:
    """The whole text at once (used for the per-epoch samples)."""
    stepper = CharStepper(model)
    return "".join(s.char for s in generate(stepper, vocab, resolve_seed(settings)))
