"""What the model expected at every character of a text: the distribution, its entropy, and how
surprised it was by the character that came.

Row t is about `text[t]`: the model's distribution for it given everything read before it.
That is GLTR's alignment (each character coloured by its own rank), and the one a fork needs
(take another character at t and continue from there). A replay with no context has no
prediction for the first character: its row is NaN, its rank -1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from shakespeare_tui.core.text.vocab import Vocabulary

# GLTR's colours: the actual character in the top 1, top 5, top 20, or beyond.
RANK_BUCKETS = (1, 5, 20)
_LN2 = math.log(2.0)


@dataclass(frozen=True)
class Prediction:
    chars: str  # the vocabulary: column j of `probs` is chars[j]
    probs: np.ndarray  # (chars, vocab) float16: the whole distribution at every character
    prob: np.ndarray  # (chars,) float32: the probability of the character that came
    rank: np.ndarray  # (chars,) int16: its rank, 0 = the likeliest; -1 where no prediction
    entropy: np.ndarray  # (chars,) float32: of the distribution, in bits
    surprise: np.ndarray  # (chars,) float32: -log2(prob), in bits

    @property
    def bits_per_char(self) -> float:
        """Mean surprise over the characters that have a prediction (the text's cross-entropy)."""
        defined = self.surprise[self.rank >= 0]
        return float(defined.mean(dtype=np.float64)) if len(defined) else float("nan")

    @property
    def nbytes(self) -> int:
        return sum(
            a.nbytes for a in (self.probs, self.prob, self.rank, self.entropy, self.surprise)
        )

    def top(self, t: int, k: int = 5) -> list[tuple[str, float]]:
        """The k likeliest characters at position t, likeliest first, with their probabilities."""
        row = self.probs[t].astype(np.float32)
        if np.isnan(row).any():
            return []
        k = min(k, len(row))
        best = np.argpartition(-row, k - 1)[:k]
        best = best[np.argsort(-row[best], kind="stable")]
        return [(self.chars[i], float(row[i])) for i in best]

    def rank_buckets(self) -> np.ndarray:
        """(chars,) int8: 0 top-1, 1 top-5, 2 top-20, 3 beyond (see RANK_BUCKETS); -1 none."""
        buckets = np.searchsorted(np.asarray(RANK_BUCKETS), self.rank, side="right")
        return np.where(self.rank >= 0, buckets, -1).astype(np.int8)


def predict(logits: torch.Tensor, targets: torch.Tensor, vocab: Vocabulary) -> Prediction:
    """From (chars, vocab) logits (NaN rows: no prediction) and the (chars,) codes that came."""
    logp = torch.log_softmax(logits.float(), dim=1)
    target = logp.gather(1, targets.long()[:, None])[:, 0]
    missing = torch.isnan(target)
    rank = (logp > target[:, None]).sum(dim=1).to(torch.int16)
    rank[missing] = -1
    probs = logp.exp()
    entropy = -(probs * logp).sum(dim=1) / _LN2
    return Prediction(
        chars=vocab.chars,
        probs=probs.numpy().astype(np.float16),
        prob=target.exp().numpy().astype(np.float32),
        rank=rank.numpy(),
        entropy=entropy.numpy().astype(np.float32),
        surprise=(-target / _LN2).numpy().astype(np.float32),
    )
