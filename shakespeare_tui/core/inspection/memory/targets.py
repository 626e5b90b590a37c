"""The target positions a context curve is measured on: reproducible, and cheap to read.

Reading target t with only its last k characters is a run of k characters from a zero state,
so 1,000 targets at k = 1, 2, 4, … 512 are 1,023,000 characters read — about 4 TFLOP for the
cpu preset's LSTM, over half a minute on 2 cores. A run from s also predicts s + k' after
any k' of its characters, so targets a power-of-two stride d apart share their runs for
every k ≥ d: the run from t − 512 is also the run from (t − 512 + k) − k for the target
t − 512 + k. Every k ≥ d of a stretch of targets d apart is then served by one 512-character
run per target (plus 512/d runs before the stretch), and only the k < d cost runs of their
own: about 580 characters per target at d = 32 in stretches of 100, 1.75x fewer.

So the targets are `stretches` stretches of targets every `stride` characters, one stretch at a
seeded random place in each of equal parts of the text (a systematic sample); a short text
takes a smaller stride, or one stretch. Every target has at least `min_context` characters
before it. Like any systematic sample, a text with an exact period (fixed-width records) that
shares a factor with the stride is seen at some phases of its period only; prose and verse
have none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shakespeare_tui.core.errors import FieldError, UserError

MAX_CONTEXT = 512  # the longest window of the context curve
CONTEXTS = tuple(2**i for i in range(10))  # k = 1, 2, 4, … 512
STRIDE = 32  # characters between the targets of a stretch (a power of two)
STRETCH = 100  # targets per stretch
DEFAULT_TARGETS = 1_000
DEFAULT_SEED = 0


@dataclass(frozen=True)
class Targets:
    """Positions t whose character codes[t] is predicted from what comes before it."""

    positions: np.ndarray  # sorted, int64
    stride: int  # characters between neighbours within a stretch
    stretches: int
    min_context: int  # characters every target has before it
    seed: int

    def __len__(self) -> int:
        return len(self.positions)

    def subset(self, count: int) -> np.ndarray:
        """`count` of the positions, spread evenly over them (the connectivity curve's)."""
        if count >= len(self.positions):
            return self.positions
        picks = np.linspace(0, len(self.positions) - 1, count).round().astype(np.int64)
        return self.positions[np.unique(picks)]


def choose_targets(
    length: int,
    count: int = DEFAULT_TARGETS,
    *,
    min_context: int = MAX_CONTEXT,
    seed: int = DEFAULT_SEED,
) -> Targets:
    """`count` targets in a text of `length` characters (see the module docstring).

    UserError (naming `{targets}`) when `count` < 1 or the text is too short for them.
    """
    if count < 1:
        raise FieldError("targets", "must be at least 1")
    usable = length - min_context
    if usable < count:
        raise UserError(
            f"the text has {length:,} characters, too few for {{targets}} {count:,}: every "
            f"target needs {min_context} characters before it, so the text needs at least "
            f"{min_context + count:,}; give a longer text or fewer targets",
            names=["targets"],
        )
    stretches = -(-count // STRETCH)
    stride = _stride(count, stretches, usable)
    if stride == 0:  # too short for separate stretches: one, as sparse as fits
        stretches = 1
        stride = _stride(count, 1, usable)
    rng = np.random.default_rng(seed)
    part = usable // stretches
    positions = []
    for i, size in enumerate(_split(count, stretches)):
        span = (size - 1) * stride + 1
        first = min_context + i * part + int(rng.integers(0, part - span + 1))
        positions.append(first + stride * np.arange(size, dtype=np.int64))
    return Targets(
        positions=np.sort(np.concatenate(positions)),
        stride=stride,
        stretches=stretches,
        min_context=min_context,
        seed=seed,
    )


def _stride(count: int, stretches: int, usable: int) -> int:
    """The largest power of two up to STRIDE at which every stretch fits in its part; 0 if none."""
    largest = _split(count, stretches)[0]
    part = usable // stretches
    stride = STRIDE
    while stride >= 1:
        if (largest - 1) * stride + 1 <= part:
            return stride
        stride //= 2
    return 0


def _split(total: int, parts: int) -> list[int]:
    """`total` as `parts` near-equal whole numbers, larger first."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]
