"""Connectivity (Madsen 2019, "Visualizing memorization in RNNs", Distill): how strongly one
prediction depends on each character read before it.

For the prediction of the character at t, the connectivity at distance k is the length of the
gradient of log p(x_t) with respect to the embedding of the character k back,
‖∂ log p(x_t) / ∂ e_(t−k)‖, for k = 1 … `span`. The model reads the whole text before t as it
would (the state entering the last `span` characters is the state after everything before
them, exact to float rounding: reader.read_text), dropout off. Averaged over many targets,
against k on a log axis, it shows how far back a cell's predictions still reach.

Every row of a batch is one prediction, independent of the others, so one backward pass of
the sum of their log-probabilities gives every row's gradients at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from shakespeare_tui.core.inspection.memory.defaults import SPAN
from shakespeare_tui.core.inspection.memory.events import MemoryProgress, Ticker
from shakespeare_tui.core.inspection.memory.reader import Reader, State, codes_tensor, read_text

EVERY = 64  # a probe keeps the state every this many characters
# Predictions per backward pass: its saved activations (rows × span × gates × hidden floats)
# stay within a few hundred MB for the notebook model.
GRAD_BYTES = 256 * 2**20


@dataclass(frozen=True)
class ConnectivityCurve:
    """Mean ‖∂ log p(x_t) / ∂ e_(t−k)‖ over `targets` predictions, for k = 1 … len(grad)."""

    grad: tuple[float, ...]
    targets: int

    @property
    def distances(self) -> tuple[int, ...]:
        return tuple(range(1, len(self.grad) + 1))

    def as_dict(self) -> list[dict[str, float]]:
        return [{"k": k, "grad": g} for k, g in zip(self.distances, self.grad, strict=True)]


def gradients(
    reader: Reader,
    codes: np.ndarray,
    positions: np.ndarray,
    span: int,
    start: State | None = None,
    ticker: Ticker | None = None,
) -> np.ndarray:
    """(len(positions), span) float64: row i, column k − 1 is the connectivity of the
    prediction of codes[t] (t = positions[i]) at distance k. `start` is each row's state
    before codes[t − span] (None: zero, i.e. the text starts there)."""
    positions = np.asarray(positions, dtype=np.int64)
    if len(positions) and (positions.min() < span or positions.max() >= len(codes)):
        raise ValueError("every position needs `span` characters before it, within the text")
    config = reader.config
    per_row = span * config.layers * config.hidden * (4 if reader.lstm else 3) * 4 * 3
    rows = max(1, GRAD_BYTES // per_row)
    all_codes = codes_tensor(codes, reader.device)
    out = np.empty((len(positions), span))
    for r0 in range(0, len(positions), rows):
        at = torch.from_numpy(positions[r0 : r0 + rows]).to(reader.device)
        window = all_codes[at[:, None] - span + torch.arange(span, device=reader.device)]
        state = None if start is None else start.rows(slice(r0, r0 + len(at)))
        grad = _backward(reader, window, all_codes[at], state)
        out[r0 : r0 + len(at)] = grad[:, ::-1]  # column k − 1 is k characters back
        if ticker is not None:
            ticker.advance(len(at))
    return out


def _backward(
    reader: Reader, window: torch.Tensor, targets: torch.Tensor, state: State | None
) -> np.ndarray:
    """Gradient norms of each row's log p(target) at each of its window's embeddings."""
    with torch.inference_mode(False), torch.enable_grad(), reader.for_gradients():
        x = reader.embed[window].clone().requires_grad_(True)
        hx = (
            None
            if state is None
            else State(state.h.clone(), None if state.c is None else state.c.clone())
        )
        with reader.autocast():
            _, final = reader.rnn(x, None if hx is None else hx.as_torch())
        h_top = State.from_torch(final).h[-1].float()
        logits = torch.addmm(reader.head_b, h_top, reader.head_w.T)
        logp = torch.log_softmax(logits, dim=-1).gather(1, targets[:, None])
        (grad,) = torch.autograd.grad(logp.sum(), x)
    norms: torch.Tensor = grad.float().norm(dim=-1)  # Tensor.norm is untyped in torch
    return norms.double().cpu().numpy()


def mean_curve(rows: np.ndarray) -> ConnectivityCurve:
    return ConnectivityCurve(grad=tuple(float(x) for x in rows.mean(axis=0)), targets=len(rows))


def connectivity_at(
    reader: Reader, codes: np.ndarray, position: int, span: int = SPAN, ticker: Ticker | None = None
) -> tuple[float, ...]:
    """The connectivity of one prediction, codes[position], at k = 1 … min(span, position)."""
    span = min(span, position)
    start = read_text(reader, codes, np.array([position - span]), ticker or Ticker("whole text", 1))
    return tuple(float(g) for g in gradients(reader, codes, np.array([position]), span, start)[0])


class ConnectivityProbe:
    """Connectivity at any position of one text, for a cursor that moves over it.

    Made once per model and text (in a worker: seconds for a long text): one pass over the
    text keeps the state every `EVERY` characters (reader.read_text), sending MemoryProgress
    events and stopping (MemoryStopped) like every measurement. Then `at(position)` reads at
    most EVERY − 1 characters from the nearest kept state and runs one forward and backward
    pass over the `span` characters before the position: tens of milliseconds at H640, still
    best off the UI thread, and from one thread at a time; give it an fp32 Reader (bf16
    autocast made one prediction ~2.5x slower on the CPU). `codes` is everything the model
    reads, from its start (a view's context before its text included).
    """

    def __init__(
        self,
        reader: Reader,
        codes: np.ndarray,
        span: int = SPAN,
        *,
        stop: threading.Event | None = None,
        on_event: Callable[[MemoryProgress], None] | None = None,
    ):
        self.reader, self.codes, self.span = reader, np.asarray(codes), span
        kept = np.arange(EVERY, len(self.codes) + 1, EVERY, dtype=np.int64)
        ticker = Ticker("whole text", 1, stop=stop, on_event=on_event)
        self.kept = read_text(reader, self.codes, kept, ticker)
        ticker.finish()

    def at(self, position: int) -> tuple[float, ...]:
        """‖∂ log p(codes[position]) / ∂ e_(position−k)‖ for k = 1 … min(span, position)."""
        if not 1 <= position < len(self.codes):
            raise ValueError(f"position must be in 1..{len(self.codes) - 1}")
        span = min(self.span, position)
        first = position - span
        state = self._state(first)
        window = np.asarray(self.codes[: position + 1])
        grad = gradients(self.reader, window, np.array([position]), span, state)
        return tuple(float(g) for g in grad[0])

    @torch.inference_mode()
    def _state(self, position: int) -> State | None:
        """The state after reading codes[:position] (None at 0): from the nearest kept one."""
        kept = position // EVERY
        if kept == 0 and position == 0:
            return None
        state = self.kept.rows([kept - 1]) if kept else None
        rest = self.codes[kept * EVERY : position]
        if len(rest):
            codes = codes_tensor(rest, self.reader.device)[None]
            state = self.reader.step(codes, state)
        return state
