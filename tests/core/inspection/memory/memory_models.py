"""Small models and texts for the memory tests: random tiny CharRNNs, and hand-set ones whose
memory is known."""

from __future__ import annotations

import random

import numpy as np
import torch

from shakespeare_tui.core.config import ModelConfig
from shakespeare_tui.core.model.network import CharRNN


def tiny_model(cell: str = "lstm", layers: int = 1, vocab: int = 12, seed: int = 0, **kw):
    """A random CharRNN (E8/H16), eval mode; weights scaled up so it remembers a little."""
    torch.manual_seed(seed)
    config = ModelConfig(vocab_size=vocab, cell=cell, embed=8, hidden=16, layers=layers, **kw)
    model = CharRNN(config)
    with torch.no_grad():
        for name, p in model.rnn.named_parameters():
            if name.startswith("weight"):
                p.mul_(3.0)
    return model.eval()


def random_codes(length: int, vocab: int = 12, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, vocab, length).astype(np.uint8)


def direct_losses(model, codes: np.ndarray, positions, k: int | None) -> np.ndarray:
    """−log p(codes[t]) for each t, computed the plain way: nn.Module calls, batch 1, float64.

    `k` None reads everything before t in one pass; else only codes[t − k : t] from zero.
    """
    model = _double(model)
    with torch.no_grad():
        if k is None:
            top = max(positions)
            logits, _ = model(torch.from_numpy(codes[:top].astype(np.int64))[None])
            logp = torch.log_softmax(logits[0], -1)
            return np.array([-float(logp[t - 1, codes[t]]) for t in positions])
        windows = np.stack([codes[t - k : t] for t in positions]).astype(np.int64)
        logits, _ = model(torch.from_numpy(windows))  # every row from a zero state
        logp = torch.log_softmax(logits[:, -1], -1)
        return np.array([-float(logp[i, codes[t]]) for i, t in enumerate(positions)])


def _double(model):
    copy = CharRNN(model.config)
    copy.load_state_dict(model.state_dict())
    return copy.double().eval()


# ---------------------------------------------------------------- the recall task

KEYS = "abcd"
TASK_VOCAB = "".join(sorted(KEYS + ".=\n"))


def recall_text(blocks: int, gap: int, seed: int = 0) -> str:
    """Blocks "k....=k\\n": a random key, then after `gap` characters the same key again (the
    '=' just before it says when); only the model that still has the key `gap` characters
    back can predict the second one."""
    rng = random.Random(seed)
    parts = []
    for _ in range(blocks):
        key = rng.choice(KEYS)
        parts.append(key + "." * (gap - 2) + "=" + key + "\n")
    return "".join(parts)


def hand_set_recall_model(cell: str) -> CharRNN:
    """A model whose memory is known, for `recall_text`: one-hot embeddings; per key a memory
    unit m and a recall unit r; r is on when '=' was just read and m holds its key, and the
    head then predicts that key (every other prediction is uniform: no other memory).

    - "lstm": m keeps its key in its cell state (input gate open and forget gate shut on a
      key, the reverse otherwise): it remembers for as long as no other key comes.
    - "rnn": m_t = tanh(±A on a key + 0.9 m_(t−1)): a basic RNN's memory, fading every step,
      so r (which needs m > ½) can recall a key at most three characters back.
    """
    vocab = TASK_VOCAB
    n = len(KEYS)
    big = 20.0  # saturates every gate and tanh
    config = ModelConfig(vocab_size=len(vocab), cell=cell, embed=len(vocab), hidden=2 * n)
    model = CharRNN(config)
    state = {k: torch.zeros_like(v) for k, v in model.state_dict().items()}
    state["embed.weight"] = torch.eye(len(vocab))
    col = {c: vocab.index(c) for c in vocab}
    h = 2 * n
    on = float(np.tanh(1.0) / (1 + np.exp(-big))) if cell == "lstm" else 1.0  # h of a unit "on"
    w_ih, w_hh, bias = state["rnn.weight_ih_l0"], state["rnn.weight_hh_l0"], state["rnn.bias_ih_l0"]
    if cell == "lstm":
        i, f, g, o = (slice(b * h, (b + 1) * h) for b in range(4))
        for j, key in enumerate(KEYS):
            for other in KEYS:
                w_ih[i][j, col[other]] = big  # a key opens the input gate…
                w_ih[f][j, col[other]] = -big  # …and shuts the forget gate
                w_ih[g][j, col[other]] = big if other == key else -big
            bias[i][j], bias[f][j], bias[o][j] = -big / 2, big / 2, big
            r = n + j
            bias[i][r], bias[f][r], bias[o][r] = big, -big, big
            w_ih[g][r, col["="]] = big
            w_hh[g][r, j] = big / on
            bias[g][r] = -1.5 * big
    else:
        for j, key in enumerate(KEYS):
            for other in KEYS:
                w_ih[j, col[other]] = big if other == key else -big
            w_hh[j, j] = 0.9
            r = n + j
            w_ih[r, col["="]] = big
            w_hh[r, j] = big  # on when m > ½
            bias[r] = -1.5 * big
    beta = 12.0
    for j, key in enumerate(KEYS):
        state["head.weight"][col[key], n + j] = beta / (2 * on)
        state["head.bias"][col[key]] = beta / 2
    model.load_state_dict(state)
    return model.eval()
