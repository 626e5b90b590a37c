"""Replay: run a CharRNN over a text and keep what every step did — h, c, gates, predictions.

`replay(model, vocab, text)` returns a `Replay`: per layer, the hidden output h and (LSTM) the
cell state c after each character, as float16 numpy arrays of shape (chars, hidden) — half the
memory of float32, and plenty for colouring and correlations (|error| < 5e-4 for values in
[-1, 1]); `dtype=np.float32` keeps full precision. Gates (LSTM i, f, g, o; GRU r, z, n) are kept
too when they fit in `KEEP_GATES_BYTES`, else computed on demand from the stored h; a basic RNN
has none, only h. Predictions are in `Replay.prediction` (see core/inspection/prediction.py).

Every array row t is the step that read text[t]. How the layers are run fast and still equal
nn.LSTM/nn.GRU/nn.RNN step for step: core/inspection/layer_pass.py. Memory, float16, H640 LSTM: h and c
take 2.6 MB per 1,000 characters per layer, the gates another 5.1 MB when kept (up to ~13,000
characters), the predictions 0.17 MB (76 characters' probabilities).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from numpy.typing import DTypeLike

from shakespeare_tui.core.cells import (
    DEFAULT_QUANTITY,
    GATES,
    QUANTITIES,
    QUANTITY_NAMES,
    SIGMOID_GATES,
    cell_name,
)
from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.inspection.layer_pass import (
    BLOCK_ROWS,
    BURN_IN,
    TORCH_DTYPES,
    LayerInputs,
    Layout,
    ReplayStopped,
    TableInputs,
    Ticker,
    Weights,
    layer_weights,
    recompute,
    run_pieces,
)
from shakespeare_tui.core.inspection.prediction import Prediction, predict
from shakespeare_tui.core.inspection.saturation import Saturation
from shakespeare_tui.core.inspection.unit_address import check_unit
from shakespeare_tui.core.model.network import CharRNN
from shakespeare_tui.core.text.vocab import Vocabulary

__all__ = [
    "DEFAULT_QUANTITY",
    "GATES",
    "QUANTITIES",
    "QUANTITY_NAMES",
    "SIGMOID_GATES",
    "Replay",
    "ReplayStopped",
    "replay",
]

KEEP_GATES_BYTES = 64 * 2**20  # keep gates when they fit (10,000 chars at H640 need 51 MB)
UNIT_CACHE = 64  # single-unit series kept for a view switching back and forth
FEW_UNITS = 8  # gate rows computed in float16 at once (a lens's unit; GRU's n needs two)


@dataclass(eq=False)
class Replay:
    """What a model did over a text. Arrays are numpy; row t is the step that read `text[t]`.

    `stored[layer]` maps quantity names to (chars, hidden) arrays of `dtype`: always "h", and
    "c" for an LSTM; the gates when they were kept (`gates_kept`). `values()` gives any
    quantity of `QUANTITIES[cell]`, computing what is not stored.
    """

    text: str
    vocab: Vocabulary
    cell: str  # "lstm", "gru" or "rnn"
    hidden: int
    codes: np.ndarray  # (chars,) the text's character codes
    stored: list[dict[str, np.ndarray]]
    # Per layer, per sigmoid gate (from float32 gates); a basic RNN's layers have none.
    saturation: list[dict[str, Saturation]]
    prediction: Prediction
    context: int  # characters read before the text (not kept)
    gates_kept: bool
    streams: int = 1  # pieces run side by side (speed only)
    reruns: int = 0  # pieces run again because their burned-in start was off
    _weights: list[Weights] = field(repr=False, default_factory=list)
    _table: np.ndarray | None = field(repr=False, default=None)  # layer 0's input projection
    _h_before: list[np.ndarray] = field(repr=False, default_factory=list)  # h before text[0]
    _unit_cache: dict[tuple[int, str, int], np.ndarray] = field(repr=False, default_factory=dict)

    @property
    def layers(self) -> int:
        return len(self.stored)

    @property
    def quantities(self) -> tuple[str, ...]:
        return QUANTITIES[self.cell]

    @property
    def bits_per_char(self) -> float:
        return self.prediction.bits_per_char

    @property
    def nbytes(self) -> int:
        """Memory held by the stored arrays and the predictions."""
        arrays = sum(a.nbytes for layer in self.stored for a in layer.values())
        return arrays + self.prediction.nbytes + self.codes.nbytes

    def check_unit(self, layer: int, unit: int) -> None:
        """UserError naming the valid range, for a layer or unit this model lacks."""
        check_unit(layer, unit, self.layers, self.hidden)

    def values(
        self,
        layer: int,
        quantity: str,
        units: Sequence[int] | np.ndarray | None = None,
        start: int = 0,
        stop: int | None = None,
    ) -> np.ndarray:
        """(stop - start, len(units)) float32 of one quantity over rows start..stop; `units`
        None means every unit. A gate that was not kept is computed from the stored h."""
        if quantity not in self.quantities:
            raise UserError(
                f"{quantity!r} is not a quantity of {cell_name(self.cell)}: "
                f"use one of {', '.join(self.quantities)}"
            )
        self.check_unit(layer, 0)
        stop = len(self.text) if stop is None else stop
        cols = slice(None) if units is None else np.asarray(units, dtype=np.int64)
        stored = self.stored[layer]
        if quantity == "tanh_c":
            tanh_c: np.ndarray = np.tanh(stored["c"][start:stop, cols].astype(np.float32))
            return tanh_c  # (numpy's stub: a ufunc of an array is Any)
        if quantity in stored:
            return stored[quantity][start:stop, cols].astype(np.float32)
        return self._gate(layer, quantity, np.arange(self.hidden)[cols], start, stop)

    def blocks(self, layer: int, quantity: str, size: int = 4 * BLOCK_ROWS) -> Iterator[np.ndarray]:
        """`values(layer, quantity)` as consecutive float32 row blocks, for whole-layer sums
        (correlations, saturation) without a float32 copy of the layer."""
        for start in range(0, len(self.text), size):
            yield self.values(layer, quantity, start=start, stop=start + size)

    def unit_values(self, layer: int, quantity: str, unit: int) -> np.ndarray:
        """(chars,) float32 of one unit, cached: what a lens switching units asks for."""
        self.check_unit(layer, unit)
        key = (layer, quantity, unit)
        if key not in self._unit_cache:
            if len(self._unit_cache) >= UNIT_CACHE:
                self._unit_cache.pop(next(iter(self._unit_cache)))
            self._unit_cache[key] = self.values(layer, quantity, [unit])[:, 0]
        return self._unit_cache[key]

    @torch.inference_mode()
    def _gate(self, layer: int, gate: str, units: np.ndarray, start: int, stop: int) -> np.ndarray:
        """A gate recomputed from the stored h (from float16 h: errors ~2e-3, fine for a view)."""
        weights, hidden = self._weights[layer], self.hidden
        gates = GATES[self.cell]
        names = [gate] + (["r"] if gate == "n" else [])  # GRU's n needs its unit's reset gate
        picked = np.concatenate([gates.index(name) * hidden + units for name in names])
        rows = torch.from_numpy(picked)
        w_ih, w_hh = weights.w_ih[rows], weights.w_hh[rows]
        b_ih, b_hh = weights.b_ih[rows], weights.b_hh[rows]
        h = self.stored[layer]["h"]
        below = self.stored[layer - 1]["h"] if layer else None
        stop = min(stop, len(self.text))
        # A lens's few units: torch multiplies float16 rows by a few vectors ~20x faster than
        # it converts them to float32 (13 ms vs 300 ms for 100,000 steps at H640), so one block.
        few = len(picked) <= FEW_UNITS and h.dtype == np.float16
        size = max(1, stop - start) if few else BLOCK_ROWS

        def product(rows: np.ndarray, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            if few:
                return (torch.from_numpy(rows) @ w.T.half()).float() + b
            return torch.addmm(b, torch.from_numpy(rows.astype(np.float32)), w.T)

        n, out = len(units), np.empty((max(0, stop - start), len(units)), np.float32)
        table = self._table[:, picked] if layer == 0 and self._table is not None else None
        for t0 in range(start, stop, size):
            t1 = min(t0 + size, stop)
            if below is None:  # layer 0: a lookup in its table
                assert table is not None, "replay() keeps layer 0's input table"
                xp = torch.from_numpy(table[self.codes[t0:t1]])
            else:
                xp = product(below[t0:t1], w_ih, b_ih)
            if t0:  # h_{t-1}, the row before, straight from the stored array (no copy)
                hp = product(h[t0 - 1 : t1 - 1], w_hh, b_hh)
            else:
                first = self._h_before[layer][None].astype(h.dtype)
                hp = torch.cat([product(first, w_hh, b_hh), product(h[: t1 - 1], w_hh, b_hh)])
            if gate == "n":
                reset = torch.sigmoid(xp[:, n:] + hp[:, n:])
                value = torch.tanh(xp[:, :n] + reset * hp[:, :n])
            elif gate == "g":
                value = torch.tanh(xp + hp)
            else:
                value = torch.sigmoid(xp + hp)
            out[t0 - start : t1 - start] = value.numpy()
        return out


@torch.inference_mode()
def replay(
    model: CharRNN,
    vocab: Vocabulary,
    text: str,
    *,
    context: str | None = None,
    dtype: DTypeLike = np.float16,
    keep_gates: bool | None = None,
    streams: int | None = None,
    burn_in: int = BURN_IN,
    stop: threading.Event | None = None,
    progress: Callable[[float], None] | None = None,
) -> Replay:
    """Run `model` over `text` and keep every step (see the module docstring).

    `context` is read first and not kept: it primes the state and lets the first character be
    predicted. None reads a newline, as generation does for an empty prompt ("" reads nothing;
    then the first character has no prediction). `keep_gates` None keeps them if they fit in
    `KEEP_GATES_BYTES`. `streams` (None: chosen by length; 1: strictly sequential) and
    `burn_in` only change speed. `progress` is called with the fraction done (0–1, from the
    calling thread) every ~1,000 characters' worth of work; `stop`, checked as often, raises
    ReplayStopped. Raises UserError for an empty text or one with characters the model never
    saw. Runs on torch's thread count (the CLI's OMP_WAIT_POLICY=PASSIVE matters: spinning
    OpenMP threads on a busy machine made it 6x slower).
    """
    if not text:
        raise UserError("the text is empty: give some text to inspect")
    if context is None:
        context = "\n" if "\n" in vocab else ""
    unknown = vocab.unknown(context + text)
    if unknown:
        shown = ", ".join(repr(c) for c in unknown[:8]) + (" …" if len(unknown) > 8 else "")
        raise UserError(f"the text has characters the model never saw: {shown}")
    cfg = model.config
    lstm, hidden = cfg.cell == "lstm", cfg.hidden
    gate_names = GATES[cfg.cell]
    chars, skip = len(text), len(context)
    if keep_gates is None:
        need = len(gate_names) * chars * hidden * np.dtype(dtype).itemsize * cfg.layers
        keep_gates = need <= KEEP_GATES_BYTES
    encoded = vocab.encode(context + text)
    all_codes = torch.from_numpy(encoded.astype(np.int64))
    layout = Layout.choose(len(all_codes), streams)
    B, L = layout.streams, layout.length
    weights = layer_weights(model)
    embed = model.embed.weight.detach().to("cpu", torch.float32)
    table = torch.addmm(weights[0].b_ih, embed, weights[0].w_ih.T)  # (vocab, gates*hidden)
    # Which (stream, column) cells are steps of the text (not context, not padding).
    steps = torch.arange(B)[:, None] * L + torch.arange(L)
    in_text = ((steps >= skip) & (steps < layout.steps)).numpy()

    ticker = Ticker(stop, progress)
    ticker.plan(layout, len(weights), recomputed=bool(gate_names))
    x = embed[all_codes]
    stored, saturation, h_before, reruns = [], [], [], 0
    for layer, w in enumerate(weights):
        ticker.check()
        out, h0, c0, reran = run_pieces(w.module, x, layout, lstm, burn_in, ticker)
        reruns += reran
        inputs: TableInputs | LayerInputs
        if layer == 0:
            inputs = TableInputs(table, all_codes)
        else:
            inputs = LayerInputs(x, w)
        arrays, counts = recompute(
            cfg.cell, w, inputs, out, h0, c0, layout, in_text, dtype, keep_gates, ticker
        )
        flat = out.reshape(B * L, hidden)
        arrays["h"] = out.to(TORCH_DTYPES[np.dtype(dtype)]).numpy()
        stored.append({k: v.reshape(B * L, hidden)[skip : layout.steps] for k, v in arrays.items()})
        saturation.append(
            {g: Saturation.from_counts(lc, rc, chars) for g, (lc, rc) in counts.items()}
        )
        h_before.append(flat[skip - 1].numpy().copy() if skip else np.zeros(hidden, np.float32))
        x = flat[: layout.steps]

    # The prediction for text[t] comes from the step that read the character before it.
    head_w = model.head.weight.detach().to("cpu", torch.float32)
    head_b = model.head.bias.detach().to("cpu", torch.float32)
    before = x[max(skip - 1, 0) : layout.steps - 1]
    logits = torch.addmm(head_b, before, head_w.T)
    if not skip:
        logits = torch.cat([torch.full((1, logits.shape[1]), float("nan")), logits])
    return Replay(
        text=text,
        vocab=vocab,
        cell=cfg.cell,
        hidden=hidden,
        codes=encoded[skip:],
        stored=stored,
        saturation=saturation,
        prediction=predict(logits, all_codes[skip:], vocab),
        context=skip,
        gates_kept=keep_gates,
        streams=B,
        reruns=reruns,
        _weights=weights,
        _table=table.numpy(),
        _h_before=h_before,
    )
