"""What a person asks of generation, and the one set of limits every interface checks it against.

Torch-free: the app builds and checks a `SampleSettings` on the UI thread, the CLI from its
flags, and `sampling.generate` checks it again against the model's vocabulary.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from shakespeare_tui.core.config import MAX_SAMPLE_LENGTH
from shakespeare_tui.core.errors import SamplingError

if TYPE_CHECKING:
    from shakespeare_tui.core.text.vocab import Vocabulary

# Beyond 2 a character model's text is noise; 0 means "always the likeliest character".
MAX_TEMPERATURE = 2.0
MAX_LENGTH = MAX_SAMPLE_LENGTH  # a run's samples (config.py) are held to the same limit
# The model reads a prompt a character at a time: ~1,500 a second on a CPU.
MAX_PROMPT = 10_000
MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class SampleSettings:
    length: int = 500  # characters to generate (the prompt not included)
    temperature: float = 0.8  # 0 = always the likeliest character; higher = wilder
    top_k: int | None = None  # sample only among the k likeliest characters
    prompt: str = ""  # primes the state; empty = start as if after a blank line
    seed: int | None = None  # None = draw one (reported, so the text can be replayed)

    def problems(self, vocab: Vocabulary | None = None) -> list[SamplingError]:
        """Every unusable setting, one error each (`vocab` adds the model-specific checks)."""
        found = []
        t = self.temperature
        if isinstance(t, bool) or not isinstance(t, (int, float)) or math.isnan(t):
            found.append(SamplingError("temperature", "must be a number"))
        elif not 0 <= t <= MAX_TEMPERATURE:
            found.append(
                SamplingError(
                    "temperature", f"must be between 0 and {MAX_TEMPERATURE:g} (0 = greedy)"
                )
            )
        if not _whole(self.length) or not 1 <= self.length <= MAX_LENGTH:
            found.append(SamplingError("length", f"must be between 1 and {MAX_LENGTH:,}"))
        if self.top_k is not None:
            top = len(vocab) if vocab is not None else None
            if not _whole(self.top_k) or self.top_k < 1 or (top and self.top_k > top):
                limit = f"the vocabulary size ({top})" if top else "the vocabulary size"
                found.append(SamplingError("top_k", f"must be between 1 and {limit}"))
        if self.seed is not None and (not _whole(self.seed) or not 0 <= self.seed <= MAX_SEED):
            found.append(SamplingError("seed", f"must be between 0 and {MAX_SEED}"))
        if len(self.prompt) > MAX_PROMPT:
            found.append(SamplingError("prompt", f"must be at most {MAX_PROMPT:,} characters"))
        elif vocab is not None and (unknown := vocab.unknown(self.prompt)):
            shown = " ".join(repr(c) for c in unknown[:8]) + (" …" if len(unknown) > 8 else "")
            found.append(SamplingError("prompt", f"has characters this model never saw: {shown}"))
        return found

    def check(self, vocab: Vocabulary | None = None) -> None:
        """Raise the first problem, if there is one."""
        problems = self.problems(vocab)
        if problems:
            raise problems[0]

    def with_seed(self) -> SampleSettings:
        """These settings with a concrete seed (drawn when none was given)."""
        return self if self.seed is not None else replace(self, seed=new_seed())


def check_settings(settings: SampleSettings, vocab: Vocabulary | None = None) -> None:
    """Raise SamplingError, naming the setting, for the first unusable one."""
    settings.check(vocab)


def resolve_seed(settings: SampleSettings) -> SampleSettings:
    return settings.with_seed()


def new_seed() -> int:
    return secrets.randbelow(2**31)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
