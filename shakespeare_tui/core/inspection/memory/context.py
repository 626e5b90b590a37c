"""The context curve (Khandelwal, He, Qi & Jurafsky 2018, "Sharp Nearby, Fuzzy Far Away: How
Neural Language Models Use Context"): a model's mean loss over the same targets when it may
read only the last k characters before each, as k grows, against its loss with the whole text
before them ("all").

**Effective context**: the smallest k of the curve (1, 2, 4, … 512) whose loss is at most
1.02 × the "all" loss — within 2% of what the whole text gives. The curve is measured at powers
of two, so an effective context of 128 means the model's loss comes within 2% of its best
somewhere between 65 and 128 characters back. None when even the longest window is more than
2% worse than the whole text: the model uses more than it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

TOLERANCE = 0.02  # the effective context's "within 2% of the 'all' loss"


@dataclass(frozen=True)
class ContextCurve:
    """Mean loss (nats/char) over `targets` targets, per context k, and with the whole text."""

    contexts: tuple[int, ...]  # k = 1, 2, 4, …
    loss: tuple[float, ...]  # with only the last k characters read, one per k
    loss_all: float  # with the whole text before each target read
    targets: int

    @property
    def bits(self) -> tuple[float, ...]:
        return tuple(x / math.log(2) for x in self.loss)

    @property
    def bits_all(self) -> float:
        return self.loss_all / math.log(2)

    def effective_context(self, tolerance: float = TOLERANCE) -> int | None:
        """The smallest k whose loss is within `tolerance` (2%) of the "all" loss, or None
        (see the module docstring)."""
        limit = self.loss_all * (1 + tolerance)
        return next((k for k, x in zip(self.contexts, self.loss, strict=True) if x <= limit), None)

    def as_dict(self) -> list[dict[str, int | float | str]]:
        """[{"k": 1, "loss": …}, …, {"k": "all", "loss": …}], nats/char."""
        points: list[dict[str, int | float | str]] = [
            {"k": k, "loss": x} for k, x in zip(self.contexts, self.loss, strict=True)
        ]
        return [*points, {"k": "all", "loss": self.loss_all}]

    @classmethod
    def from_dict(cls, points: Sequence[Mapping[str, Any]], targets: int) -> ContextCurve:
        """The curve back from `as_dict()`; ValueError for anything else (or KeyError,
        TypeError: `points` is JSON read back from a cache, and read by trying)."""
        ks = [p["k"] for p in points[:-1]]
        if not points or points[-1].get("k") != "all" or not all(isinstance(k, int) for k in ks):
            raise ValueError("not a context curve")
        loss = tuple(float(p["loss"]) for p in points[:-1])
        return cls(tuple(ks), loss, float(points[-1]["loss"]), int(targets))
