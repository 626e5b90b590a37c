"""The recurrent cells and what each one has: gates, quantities to inspect, its name in a sentence.

The notebook contrasts three cells: a basic (Elman) RNN, h_t = tanh(W_ih x_t + b_ih + W_hh
h_{t-1} + b_hh), which loses what it read over long gaps; the LSTM, whose gated cell state c
keeps it; and the GRU, a lighter gated cell. Every fact about a cell that other modules need
lives here, in plain data (no torch), so the app can use it before torch is loaded.
"""

from __future__ import annotations

CELLS = ("lstm", "gru", "rnn")
CELL_NAMES = {"lstm": "an LSTM", "gru": "a GRU", "rnn": "an RNN"}  # in a sentence

# Blocks of `hidden` rows in a layer's weight_ih/weight_hh, in nn.LSTM's / nn.GRU's / nn.RNN's
# order: the gates (and the LSTM's cell candidate g, the GRU's new state n). A basic RNN has
# none; its one block is the pre-activation of h.
GATES = {"lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n"), "rnn": ()}
WEIGHT_BLOCKS = {cell: max(1, len(gates)) for cell, gates in GATES.items()}
SIGMOID_GATES = {"lstm": ("i", "f", "o"), "gru": ("r", "z"), "rnn": ()}  # values in [0, 1]

# What the Inspect view and `inspect` can show per step; the first of each is its lens's default.
QUANTITIES = {
    "lstm": ("tanh_c", "c", "h", "i", "f", "g", "o"),
    "gru": ("h", "r", "z", "n"),
    "rnn": ("h",),
}
# Karpathy's and LSTMVis's choice for an LSTM is tanh(c); the other cells have only h to show.
DEFAULT_QUANTITY = {"lstm": "tanh_c", "gru": "h", "rnn": "h"}
QUANTITY_NAMES = {
    "tanh_c": "cell state tanh(c)",
    "c": "cell state c",
    "h": "hidden output h",
    "i": "input gate",
    "f": "forget gate",
    "g": "cell candidate",
    "o": "output gate",
    "r": "reset gate",
    "z": "update gate",
    "n": "new state",
}


def cell_name(cell: str) -> str:
    """The cell with its article, for a sentence: "an LSTM", "a GRU", "an RNN"."""
    return CELL_NAMES.get(cell, f"a {cell.upper()}")
