"""A checkpoint's model made ready to be measured: its layers on the device, dropout off, and
the two ways of reading a text that every measurement is built on.

- `read_windows`: many short runs side by side, each from a zero state — the model allowed to
  see only the last k characters before a target. One batched call of the fused
  nn.LSTM/GRU/RNN serves every run at once; a run that starts where another does shares it.
- `read_text`: the state after reading the whole text up to given positions, as one
  sequential pass gives it, but run as pieces side by side (core/inspection/layer_pass.py's
  method, for every layer at once): each piece first reads `BURN_IN` characters before it
  from a zero state, and a piece whose burned-in start differs from where the piece before it
  ended is run again from that end, until every boundary agrees.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

import numpy as np
import torch

from shakespeare_tui.core.inspection.layer_pass import BURN_IN, MAX_STREAMS, MIN_PIECE, TOLERANCE
from shakespeare_tui.core.inspection.memory.events import Ticker
from shakespeare_tui.core.model.network import CharRNN, RecurrentState, recurrent

# bf16 rounds states to ~3 significant digits, so a burned-in start and its predecessor's end
# agree only to that; a piece that really started elsewhere is off by much more (~0.1–1).
TOLERANCE_BF16 = 2e-2
ROWS = 1024  # runs read side by side in one call: large products, bounded memory
COLUMNS = 32  # characters per call, so outputs stay small (ROWS × COLUMNS × hidden floats)
SEGMENT = 1024  # characters per call of the whole-text pass (few pieces side by side)


@dataclass
class State:
    """Recurrent states, one row per run: h and (LSTM) c, each (layers, rows, hidden)."""

    h: torch.Tensor
    c: torch.Tensor | None

    def rows(self, index: slice | list[int] | torch.Tensor) -> State:
        c = None if self.c is None else self.c[:, index].contiguous()
        return State(self.h[:, index].contiguous(), c)

    def as_torch(self) -> RecurrentState:
        """What nn.LSTM/GRU/RNN take as their state."""
        return self.h if self.c is None else (self.h, self.c)

    @classmethod
    def from_torch(cls, state: RecurrentState) -> State:
        return cls(*state) if isinstance(state, tuple) else cls(state, None)


class Reader:
    """A CharRNN's weights on `device`, in eval mode (no dropout), read in fp32 or bf16 autocast."""

    def __init__(
        self, model: CharRNN, *, device: torch.device | str | None = None, bf16: bool = False
    ) -> None:
        config = model.config
        self.config = config
        self.device = torch.device(device or "cpu")
        self.bf16 = bf16
        self.lstm = config.cell == "lstm"
        weights = {
            k: v.detach().to(self.device, torch.float32) for k, v in model.state_dict().items()
        }
        self.embed = weights["embed.weight"]
        self.head_w, self.head_b = weights["head.weight"], weights["head.bias"]
        # A module of our own: dropout 0 (train mode, for gradients, is then the same maths)
        # and never the caller's model, which another thread may be using.
        self.rnn = recurrent(config.cell, config.embed, config.hidden, num_layers=config.layers)
        self.rnn.load_state_dict({k[4:]: v for k, v in weights.items() if k.startswith("rnn.")})
        self.rnn.to(self.device).eval().requires_grad_(False)
        self.tolerance = TOLERANCE_BF16 if bf16 else TOLERANCE

    @property
    def layers(self) -> int:
        return self.config.layers

    @property
    def hidden(self) -> int:
        return self.config.hidden

    def autocast(self) -> AbstractContextManager[object]:
        if not self.bf16:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    @contextlib.contextmanager
    def for_gradients(self) -> Iterator[None]:
        """The module in train mode while gradients are taken (a GPU's fused backward needs
        it; with no dropout it is the same maths), its weights constant."""
        self.rnn.train()
        try:
            yield
        finally:
            self.rnn.eval()

    def zero_state(self, rows: int) -> State:
        zeros = torch.zeros(self.layers, rows, self.hidden, device=self.device)
        return State(zeros, zeros.clone() if self.lstm else None)

    def step(self, codes: torch.Tensor, state: State | None) -> State:
        """Read `codes` (rows, columns) from `state` (None: zero); the state after them."""
        with self.autocast():
            _, new = self.rnn(self.embed[codes], None if state is None else state.as_torch())
        new = State.from_torch(new)
        if self.bf16:  # kept in float32 between calls, as the fp32 path keeps them
            new = State(new.h.float(), None if new.c is None else new.c.float())
        return new

    def nll(self, h_top: torch.Tensor, targets: torch.Tensor) -> np.ndarray:
        """−log p(target) in nats for each row, from the top layer's output h (rows, hidden)."""
        logits = torch.addmm(self.head_b, h_top.float(), self.head_w.T)
        logp = torch.log_softmax(logits.double(), dim=-1)
        return (-logp.gather(1, targets[:, None].long())[:, 0]).cpu().numpy()


def codes_tensor(codes: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(codes, dtype=np.int64)).to(device)


def window_plan(
    positions: np.ndarray, contexts: Iterable[int]
) -> tuple[np.ndarray, np.ndarray, dict[tuple[int, int], list[int]]]:
    """Runs that serve every (target, k) pair: (starts, lengths, {(run, k): [target indices]}).

    Target t read with context k is a run from t − k of length k; a run from s also gives the
    prediction for s + k' after k' of its characters, so pairs whose starts coincide share one
    run, as long as the longest of them. Runs are sorted longest first.
    """
    ks = np.asarray(sorted(contexts), dtype=np.int64)
    t = np.repeat(positions, len(ks))
    k = np.tile(ks, len(positions))
    target_index = np.repeat(np.arange(len(positions)), len(ks))
    starts, run = np.unique(t - k, return_inverse=True)
    lengths = np.zeros(len(starts), dtype=np.int64)
    np.maximum.at(lengths, run, k)
    order = np.argsort(-lengths, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    served: dict[tuple[int, int], list[int]] = defaultdict(list)
    for r, kk, i in zip(rank[run].tolist(), k.tolist(), target_index.tolist(), strict=True):
        served[(r, kk)].append(i)
    return starts[order], lengths[order], served


@torch.inference_mode()
def read_windows(
    reader: Reader,
    codes: np.ndarray,
    positions: np.ndarray,
    contexts: Sequence[int],
    ticker: Ticker,
) -> dict[int, np.ndarray]:
    """−log p(codes[t]) (nats) for each target t of `positions` when the model reads only
    codes[t − k : t] from a zero state: {k: (targets,) float64} for each k of `contexts`."""
    positions = np.asarray(positions, dtype=np.int64)
    if len(positions) and positions.min() < max(contexts):
        raise ValueError("every target needs max(contexts) characters before it")
    starts, lengths, served = window_plan(positions, contexts)
    ks = sorted(set(int(k) for k in contexts))
    losses = {k: np.full(len(positions), np.nan) for k in ks}
    all_codes = codes_tensor(codes, reader.device)
    targets = codes_tensor(codes[positions], reader.device)
    for r0 in range(0, len(starts), ROWS):
        rows_start = torch.from_numpy(starts[r0 : r0 + ROWS]).to(reader.device)
        rows_len = lengths[r0 : r0 + ROWS]
        longest = int(rows_len[0])
        cuts = sorted({k for k in ks if k <= longest} | set(range(COLUMNS, longest, COLUMNS)))
        state: State | None = None
        j = 0
        for e in cuts:
            active = int(np.count_nonzero(rows_len > j))  # longest first: a prefix of the rows
            index = rows_start[:active, None] + torch.arange(j, e, device=reader.device)
            state = reader.step(
                all_codes[index], None if state is None else state.rows(slice(0, active))
            )
            ticker.advance(active * (e - j))
            j = e
            if e not in losses:
                continue
            pairs = [(r, served[(r0 + r, e)]) for r in range(active) if (r0 + r, e) in served]
            if not pairs:
                continue
            rows = torch.tensor([r for r, idx in pairs for _ in idx], device=reader.device)
            which = np.array([i for _, idx in pairs for i in idx], dtype=np.int64)
            losses[e][which] = reader.nll(state.h[-1, rows], targets[torch.from_numpy(which)])
    return losses


@torch.inference_mode()
def read_text(reader: Reader, codes: np.ndarray, positions: np.ndarray, ticker: Ticker) -> State:
    """The state after reading codes[:p] from a zero state, for each p of `positions`: one
    row per position, equal to a sequential pass's to float rounding (module docstring)."""
    positions = np.asarray(positions, dtype=np.int64)
    if len(positions) and (positions.min() < 0 or positions.max() > len(codes)):
        raise ValueError("positions must be within 0..len(codes)")
    read = positions > 0  # at 0 nothing has been read: the zero state
    if not read.all():
        out = reader.zero_state(len(positions))
        if read.any():
            some = read_text(reader, codes, positions[read], ticker)
            index = torch.from_numpy(np.flatnonzero(read)).to(reader.device)
            out.h[:, index] = some.h
            if out.c is not None and some.c is not None:  # an LSTM's: both
                out.c[:, index] = some.c
        return out
    steps = int(positions.max())
    streams = min(MAX_STREAMS, max(1, steps // MIN_PIECE))
    length = -(-steps // streams)
    streams = -(-steps // length)
    all_codes = codes_tensor(codes[:steps], reader.device)
    piece = (positions - 1) // length
    boundary = positions - piece * length  # in 1..length: the column after which it is read
    out = reader.zero_state(len(positions))
    burn = min(BURN_IN, length) if streams > 1 else 0
    ticker.total = streams * length + (streams - 1) * burn

    start = reader.zero_state(streams)
    if burn:
        index = torch.arange(1, streams, device=reader.device)[:, None] * length - burn
        burned = reader.step(all_codes[index + torch.arange(burn, device=reader.device)], None)
        start.h[:, 1:] = burned.h
        if start.c is not None and burned.c is not None:  # an LSTM's: both
            start.c[:, 1:] = burned.c
        ticker.advance((streams - 1) * burn)

    def sweep(pieces: list[int], state: State) -> State:
        """Run `pieces` from `state` to their ends, keeping the wanted states on the way."""
        rows = torch.tensor(pieces, device=reader.device)
        row_of = {p: r for r, p in enumerate(pieces)}
        wanted: defaultdict[int, list[tuple[int, int]]] = defaultdict(
            list
        )  # column boundary → [(position index, row)]
        for i in np.flatnonzero(np.isin(piece, pieces)).tolist():
            wanted[int(boundary[i])].append((i, row_of[int(piece[i])]))
        cuts = sorted(set(wanted) | set(range(SEGMENT, length, SEGMENT)) | {length})
        j = 0
        for e in cuts:
            index = (rows[:, None] * length + torch.arange(j, e, device=reader.device)).clamp_(
                max=steps - 1
            )  # the last piece's padding reads the last character again; nothing is kept there
            state = reader.step(all_codes[index], state)
            ticker.advance(len(pieces) * (e - j))
            j = e
            if e in wanted:
                which = torch.tensor([i for i, _ in wanted[e]], device=reader.device)
                at = torch.tensor([r for _, r in wanted[e]], device=reader.device)
                out.h[:, which] = state.h[:, at]
                if out.c is not None and state.c is not None:  # an LSTM's: both
                    out.c[:, which] = state.c[:, at]
        return state

    end = sweep(list(range(streams)), start)

    def differs(p: int) -> bool:
        gap = (start.h[:, p] - end.h[:, p - 1]).abs().max()
        if start.c is not None and end.c is not None:  # an LSTM's: both
            scale = end.c[:, p - 1].abs().clamp(min=1.0)
            gap = torch.maximum(gap, ((start.c[:, p] - end.c[:, p - 1]).abs() / scale).max())
        return bool(gap > reader.tolerance)

    todo = [p for p in range(1, streams) if differs(p)]
    while todo:  # run again the pieces whose start disagrees with their predecessor's end
        ticker.total += len(todo) * length
        index = torch.tensor(todo, device=reader.device)
        start.h[:, index] = end.h[:, index - 1]
        if start.c is not None and end.c is not None:  # an LSTM's: both
            start.c[:, index] = end.c[:, index - 1]
        again = sweep(todo, start.rows(index))
        end.h[:, index] = again.h
        if end.c is not None and again.c is not None:
            end.c[:, index] = again.c
        todo = [p + 1 for p in todo if p + 1 < streams and differs(p + 1)]
    return out
