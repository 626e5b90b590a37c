"""One layer of a replay, fast: its output at every step, its gates, and (LSTM) its cell state.

At batch 1 the recurrence is bound by reading its weights once per character (~8,000 chars/s
at H640 on one core). So the text is cut into `streams` pieces run side by side as one batch
through the layer's own fused nn.LSTM/nn.GRU/nn.RNN (~3x the throughput). Each piece first
reads the `burn_in` characters before it from a zero state; measured on the bundled model,
512 characters bring the state to within float noise (~5e-6) of the sequential run's (256
left half the boundaries 1e-3 off). That is checked, not assumed: a piece whose burned-in start
differs from where its predecessor ended by more than `TOLERANCE` is run again from that end,
until every boundary agrees, so the result equals a sequential run to float32 rounding.

nn.LSTM returns h for every step but neither c nor the gates. Those are recomputed for all
steps at once from h_{t-1} and x_t (matrix products over blocks of steps), and c follows from
the gates by its elementwise recurrence c_t = f_t c_{t-1} + i_t g_t, stepped across all
pieces at once (each piece's start c is known from the pass above). A basic RNN has neither
gates nor c: its h is all there is, and nothing is recomputed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import DTypeLike
from torch import nn

from shakespeare_tui.core.cells import GATES, SIGMOID_GATES
from shakespeare_tui.core.inspection.saturation import HIGH, LOW, saturation_counts
from shakespeare_tui.core.model.network import CharRNN, RecurrentState, recurrent

BURN_IN = 512  # characters a piece reads before its own part (see the module docstring)
MIN_PIECE = 4 * BURN_IN  # so burning in costs at most a quarter more work
# Measured at H640 on 2 cores: 4 streams already give ~90% of the batched throughput, and
# each stream more costs another burn-in.
MAX_STREAMS = 16
# Largest boundary gap (|Δh|, or |Δc| relative to |c| when |c| > 1) before a piece is rerun;
# float32 noise between the batched and the sequential products is ~1e-6.
TOLERANCE = 2e-5
BLOCK_ROWS = 2048  # steps per block of gate products: bounded temporaries for long texts
SEGMENT = 1024  # columns of the pieces per recurrent call, so a long text can stop and report


class ReplayStopped(Exception):
    """The stop event was set before the replay finished."""


class Ticker:
    """Between units of work: raise ReplayStopped once `stop` is set, and report progress."""

    def __init__(self, stop: threading.Event | None, progress: Callable[[float], None] | None):
        self.stop, self.progress = stop, progress
        self.done, self.total = 0, 1

    def plan(self, layout: Layout, layers: int, recomputed: bool = True) -> None:
        """Count the units of work: every segment and (if `recomputed`) block of every layer."""
        rows = max(1, BLOCK_ROWS // layout.streams)
        per_layer = -(-layout.length // SEGMENT) + (-(-layout.length // rows) if recomputed else 0)
        self.total = max(1, layers * per_layer)

    def check(self) -> None:
        if self.stop is not None and self.stop.is_set():
            raise ReplayStopped

    def tick(self) -> None:
        self.check()
        self.done += 1
        if self.progress is not None:
            self.progress(min(1.0, self.done / self.total))


@dataclass
class Weights:
    """One layer's weights as float32 tensors, plus the layer as its own one-layer module."""

    module: nn.RNNBase
    w_ih: torch.Tensor  # (gates*hidden, input)
    w_hh: torch.Tensor  # (gates*hidden, hidden)
    b_ih: torch.Tensor
    b_hh: torch.Tensor


def layer_weights(model: CharRNN) -> list[Weights]:
    cfg = model.config
    sd = {k: v.detach().to("cpu", torch.float32) for k, v in model.state_dict().items()}
    layers = []
    for layer in range(cfg.layers):
        names = [f"rnn.{w}_l{layer}" for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        w_ih, w_hh, b_ih, b_hh = (sd[n] for n in names)
        module = recurrent(cfg.cell, w_ih.shape[1], cfg.hidden).eval()
        module.load_state_dict(
            {"weight_ih_l0": w_ih, "weight_hh_l0": w_hh, "bias_ih_l0": b_ih, "bias_hh_l0": b_hh}
        )
        layers.append(Weights(module, w_ih, w_hh, b_ih, b_hh))
    return layers


@dataclass(frozen=True)
class Layout:
    """`steps` steps cut into `streams` pieces of `length` (the last one padded)."""

    steps: int
    streams: int
    length: int

    @classmethod
    def choose(cls, steps: int, streams: int | None) -> Layout:
        if streams is None:
            streams = min(MAX_STREAMS, max(1, steps // MIN_PIECE))
        streams = max(1, min(streams, steps))
        length = -(-steps // streams)
        return cls(steps, -(-steps // length), length)  # no empty piece at the end

    def index(self, j0: int = 0, j1: int | None = None) -> torch.Tensor:
        """(streams, j1 - j0) step numbers of columns j0..j1, padding clipped to the last step."""
        j1 = self.length if j1 is None else j1
        steps = torch.arange(self.streams)[:, None] * self.length + torch.arange(j0, j1)
        return steps.clamp_(max=self.steps - 1)


def run_pieces(
    module: nn.RNNBase, x: torch.Tensor, layout: Layout, lstm: bool, burn_in: int, ticker: Ticker
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, int]:
    """The layer's output for every step, (streams, length, hidden), each piece's start state
    (h, and an LSTM's c) and the pieces run again.

    `x` is the layer's input for every step, (steps, input). See the module docstring. An
    LSTM's c0 and end_c are tensors, another cell's None.
    """
    B, L = layout.streams, layout.length
    hidden = module.hidden_size
    h0 = torch.zeros(1, B, hidden)
    c0 = torch.zeros(1, B, hidden) if lstm else None
    if B > 1 and burn_in > 0:
        w = min(burn_in, L)
        burn = torch.arange(1, B)[:, None] * L - w + torch.arange(w)
        _, state = module(x[burn])
        if c0 is not None:
            h0[:, 1:], c0[:, 1:] = state
        else:
            h0[:, 1:] = state
    index = layout.index()
    state = h0 if c0 is None else (h0, c0)
    outs: list[torch.Tensor] = []
    for j0 in range(0, L, SEGMENT):  # in segments, state carried: the same as one call
        part, state = module(x[index[:, j0 : j0 + SEGMENT]], state)
        outs.append(part)
        ticker.tick()
    out = torch.cat(outs, dim=1)
    end_c: torch.Tensor | None = None
    if c0 is not None:
        end_h, end_c = state
    else:
        end_h = state

    def differs(k: int) -> bool:
        gap = (h0[0, k] - end_h[0, k - 1]).abs().max()
        if c0 is not None and end_c is not None:
            scale = end_c[0, k - 1].abs().clamp(min=1.0)
            gap = torch.maximum(gap, ((c0[0, k] - end_c[0, k - 1]).abs() / scale).max())
        return bool(gap > TOLERANCE)

    todo = [k for k in range(1, B) if differs(k)]
    reruns = 0
    while todo:  # rerun the pieces whose start disagrees with their predecessor's end
        ticker.check()
        ks = torch.tensor(todo)
        reruns += len(todo)
        h0[:, ks] = end_h[:, ks - 1]
        again: RecurrentState = h0[:, ks]
        if c0 is not None and end_c is not None:
            c0[:, ks] = end_c[:, ks - 1]
            again = (h0[:, ks], c0[:, ks])
        o, f = module(x[index[ks]], again)
        out[ks] = o
        if end_c is not None:
            end_h[:, ks], end_c[:, ks] = f
        else:
            end_h[:, ks] = f
        todo = [k + 1 for k in todo if k + 1 < B and differs(k + 1)]
    return out, h0[0], (None if c0 is None else c0[0]), reruns


TORCH_DTYPES = {np.dtype(np.float16): torch.float16, np.dtype(np.float32): torch.float32}


@dataclass
class TableInputs:
    """Layer 0's input projection: a lookup in the per-character table (no product)."""

    table: torch.Tensor  # (vocab, gates*hidden), bias b_ih included
    codes: torch.Tensor  # (steps,)

    def __call__(self, steps: torch.Tensor) -> torch.Tensor:
        return self.table[self.codes[steps]]


@dataclass
class LayerInputs:
    """A higher layer's input projection: the layer below's h times W_ih."""

    x: torch.Tensor  # (steps, input)
    w: Weights

    def __call__(self, steps: torch.Tensor) -> torch.Tensor:
        return torch.addmm(self.w.b_ih, self.x[steps], self.w.w_ih.T)


def recompute(
    cell: str,
    w: Weights,
    inputs: TableInputs | LayerInputs,
    out: torch.Tensor,
    h0: torch.Tensor,
    c0: torch.Tensor | None,
    layout: Layout,
    in_text: np.ndarray,
    dtype: DTypeLike,
    keep_gates: bool,
    ticker: Ticker,
) -> tuple[dict[str, np.ndarray], dict[str, list[np.ndarray]]]:
    """Every step's gates from h_{t-1} and x_t, in blocks of steps, and c by its recurrence.

    Returns ({"c" and, if kept, each gate: (streams, length, hidden) numpy of `dtype`},
    {sigmoid gate: [left counts, right counts]} over the text's steps). Blocks are time-major
    (all pieces' step j, then j+1, …) so the recurrence walks contiguous rows. A basic RNN
    has nothing to recompute: ({}, {}).
    """
    names = GATES[cell]
    if not names:
        return {}, {}
    B, L = layout.streams, layout.length
    hidden = out.shape[-1]
    lstm = cell == "lstm"
    store_dtype = TORCH_DTYPES[np.dtype(dtype)]
    stored = {name: torch.empty(B, L, hidden, dtype=store_dtype) for name in names if keep_gates}
    if lstm:
        stored["c"] = torch.empty(B, L, hidden, dtype=store_dtype)
    counts = {
        g: [np.zeros(hidden, np.int64), np.zeros(hidden, np.int64)] for g in SIGMOID_GATES[cell]
    }
    out_t = out.transpose(0, 1)  # (length, streams, hidden)
    c = None if c0 is None else c0.numpy()  # an LSTM's
    rows = max(1, BLOCK_ROWS // B)
    for j0 in range(0, L, rows):
        ticker.tick()
        j1 = min(L, j0 + rows)
        steps = layout.index(j0, j1).T.flatten()
        first = h0[None] if j0 == 0 else out_t[j0 - 1 : j0]
        prev = torch.cat([first, out_t[j0 : j1 - 1]]).flatten(0, 1)
        xp = inputs(steps)
        if c is not None:  # an LSTM
            pre = torch.addmm(xp.add_(w.b_hh), prev, w.w_hh.T)  # gate pre-activations
            pre[:, : 2 * hidden].sigmoid_()
            pre[:, 3 * hidden :].sigmoid_()
            pre[:, 2 * hidden : 3 * hidden].tanh_()
            pre = pre.view(j1 - j0, B, 4 * hidden)
            gate = dict(zip(names, torch.split(pre, hidden, dim=2), strict=True))
            # c_t = f_t * c_{t-1} + i_t * g_t for every piece at once, in numpy: a step's
            # arrays are so small that numpy's per-call cost (~1 µs) is what counts.
            update = (gate["i"] * gate["g"]).numpy()
            forget = gate["f"].numpy()
            block = np.empty_like(update)
            for j in range(j1 - j0):
                np.multiply(forget[j], c, out=block[j])
                block[j] += update[j]
                c = block[j]
            stored["c"][:, j0:j1] = torch.from_numpy(block).transpose(0, 1)
        else:
            hp = torch.addmm(w.b_hh, prev, w.w_hh.T)
            r = torch.sigmoid(xp[:, :hidden] + hp[:, :hidden])
            z = torch.sigmoid(xp[:, hidden : 2 * hidden] + hp[:, hidden : 2 * hidden])
            n = torch.tanh(xp[:, 2 * hidden :] + r * hp[:, 2 * hidden :])
            gate = {k: v.view(j1 - j0, B, hidden) for k, v in zip(names, (r, z, n), strict=True)}
        mask = torch.from_numpy(in_text[:, j0:j1].T.copy())
        for name, value in gate.items():
            if name in stored:
                stored[name][:, j0:j1] = value.transpose(0, 1)
            if name in counts:
                picked = value.reshape(-1, hidden) if mask.all() else value[mask]
                left, right = saturation_counts(picked.numpy(), LOW, HIGH)
                counts[name][0] += left
                counts[name][1] += right
    return {k: v.numpy() for k, v in stored.items()}, counts
