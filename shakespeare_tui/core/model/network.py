"""The model: Embedding → LSTM/GRU/RNN → Linear, as in the notebook, and a fast one-character step."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from shakespeare_tui.core.cells import WEIGHT_BLOCKS
from shakespeare_tui.core.config import ModelConfig

# The torch module of each cell of core/cells.py; the basic RNN is Elman's, with tanh.
MODULES: dict[str, Callable[..., nn.RNNBase]] = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
# The recurrent state of a whole stack: (h, c) for an LSTM, h for a GRU or an RNN, each
# (layers, batch, hidden).
RecurrentState = torch.Tensor | tuple[torch.Tensor, torch.Tensor]
# CharStepper's state of one layer, (hidden,) each: (h, c) for an LSTM, h otherwise.
LayerState = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


def weight_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """The shape of every weight of `CharRNN(config)`, by its state_dict name and in its order,
    found by arithmetic: a checkpoint's weights are checked against these before any model is
    built (building one for a config that lies allocates what the config says)."""
    v, e, h = config.vocab_size, config.embed, config.hidden
    rows = WEIGHT_BLOCKS[config.cell] * h  # the gates' blocks, stacked
    shapes: dict[str, tuple[int, ...]] = {"embed.weight": (v, e)}
    for layer in range(config.layers):
        shapes[f"rnn.weight_ih_l{layer}"] = (rows, e if layer == 0 else h)
        shapes[f"rnn.weight_hh_l{layer}"] = (rows, h)
        shapes[f"rnn.bias_ih_l{layer}"] = (rows,)
        shapes[f"rnn.bias_hh_l{layer}"] = (rows,)
    shapes["head.weight"] = (v, h)
    shapes["head.bias"] = (v,)
    return shapes


def recurrent(
    cell: str, input_size: int, hidden: int, *, num_layers: int = 1, dropout: float = 0.0
) -> nn.RNNBase:
    """The cell's torch module (batch first), `num_layers` deep with `dropout` between them."""
    extra = {"nonlinearity": "tanh"} if cell == "rnn" else {}
    return MODULES[cell](
        input_size, hidden, batch_first=True, num_layers=num_layers, dropout=dropout, **extra
    )


class CharRNN(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        config.validate()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.embed)
        # Between stacked layers the cell's own dropout; after the last one, ours.
        self.rnn = recurrent(
            config.cell,
            config.embed,
            config.hidden,
            num_layers=config.layers,
            dropout=config.dropout if config.layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden, config.vocab_size)

    def forward(
        self, codes: torch.Tensor, state: RecurrentState | None = None
    ) -> tuple[torch.Tensor, RecurrentState]:
        """codes (batch, time) → logits (batch, time, vocab), the final recurrent state."""
        out, state = self.rnn(self.embed(codes), state)
        return self.head(self.drop(out)), state


class CharStepper:
    """One character at a time with the model's weights, for batch-1 sampling on the CPU.

    Calling `nn.LSTM` once per character pays its dispatch cost each time (4–5× slower at
    batch 1, measured with torch 2.13 on the 2-core CPUs, benchmarks/RESULTS.md's batch-1
    sampling); this does the cell arithmetic with a few fused ops instead. The first
    layer's input projection of every character is precomputed into a table, so a step is one
    matrix-vector product per layer plus the output layer.
    """

    def __init__(self, model: CharRNN):
        cfg = model.config
        self.cell = cfg.cell
        self.lstm = cfg.cell == "lstm"
        self.hidden = cfg.hidden
        with torch.no_grad():
            sd = {k: v.detach().to("cpu", torch.float32) for k, v in model.state_dict().items()}
            self.layers: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]] = []
            for layer in range(cfg.layers):
                w_ih, w_hh = sd[f"rnn.weight_ih_l{layer}"], sd[f"rnn.weight_hh_l{layer}"]
                b_ih, b_hh = sd[f"rnn.bias_ih_l{layer}"], sd[f"rnn.bias_hh_l{layer}"]
                if layer == 0:
                    w_ih = sd["embed.weight"] @ w_ih.T  # (vocab, gates): a lookup per character
                self.layers.append((w_ih.contiguous(), w_hh.contiguous(), b_ih, b_hh))
            self.head_w = sd["head.weight"].contiguous()
            self.head_b = sd["head.bias"]

    def initial_state(self) -> list[LayerState]:
        zeros = torch.zeros(self.hidden)
        if self.lstm:
            return [(zeros.clone(), zeros.clone()) for _ in self.layers]
        return [zeros.clone() for _ in self.layers]

    def step(self, code: int, state: list[LayerState]) -> tuple[torch.Tensor, list[LayerState]]:
        """Feed one character code; return the next character's logits and the new state."""
        new_state: list[LayerState] = []
        x: torch.Tensor | None = None  # the layer below's output; None below the first layer
        for i, (w_ih, w_hh, b_ih, b_hh) in enumerate(self.layers):
            gi = w_ih[code] + b_ih if x is None else torch.addmv(b_ih, w_ih, x)
            if self.lstm:
                h, c = state[i]
                gates = gi + torch.addmv(b_hh, w_hh, h)
                in_gate, forget, cell, out = gates.chunk(4)
                c = torch.sigmoid(forget) * c + torch.sigmoid(in_gate) * torch.tanh(cell)
                x = torch.sigmoid(out) * torch.tanh(c)
                new_state.append((x, c))
            elif self.cell == "rnn":  # h = tanh(W_ih x + b_ih + W_hh h + b_hh)
                h = state[i]
                assert isinstance(h, torch.Tensor)  # an RNN's state is h alone
                x = torch.tanh(gi + torch.addmv(b_hh, w_hh, h))
                new_state.append(x)
            else:
                h = state[i]
                assert isinstance(h, torch.Tensor)  # a GRU's state is h alone
                gh = torch.addmv(b_hh, w_hh, h)
                ir, iz, inn = gi.chunk(3)
                hr, hz, hn = gh.chunk(3)
                reset = torch.sigmoid(ir + hr)
                update = torch.sigmoid(iz + hz)
                cand = torch.tanh(inn + reset * hn)
                x = (1 - update) * cand + update * h
                new_state.append(x)
        assert x is not None  # a model has a layer at least
        return torch.addmv(self.head_b, self.head_w, x), new_state
