"""The notebook's lesson as an experiment: a basic RNN, a GRU and an LSTM that differ only in
their cell.

A fair comparison gives the three cells about the same number of parameters and the same
recipe — windows, batch, learning rate and schedule, dropout, seed — and trains each on the
same number of characters; then a chart of their curves compares cells and nothing else. (Sized
one by one to a time budget, the LSTM once got E64/H384 and 8 × 100 windows while the other two
got 2 M parameters and 32 × 200: the chart then said more about the recipes than the cells.)

`hidden_for` is the one rule for the hidden sizes: at the same embedding and layers a GRU has
three quarters of an LSTM's recurrent weights and a basic RNN a quarter, so each gets the hidden
size whose parameter count (ModelConfig.parameter_count, the model's own) is nearest the
LSTM's. `plan_cells` turns a budget in minutes into characters at the LSTM's measured speed,
and those into one `max_steps` for all three: they see the same characters, and take about the
budget each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shakespeare_tui.core.cells import CELLS
from shakespeare_tui.core.config import ModelConfig
from shakespeare_tui.core.errors import UserError

# The recipe the three share: the LSTM is the `s` rung of the size ladder (E96/H512, ~1.3 M
# parameters with ~80 characters), with that rung's windows, rate and schedule. The basic RNN,
# the least stable of the three, trains at the rung's rate too: RNN H1054 on the plays, 600
# steps of 16 × 100, cosine, one thread: val 1.674 at Adam 5e-3, 1.692 at 3e-3, no divergence.
RECIPE: dict[str, Any] = {
    "embed": 96,
    "layers": 1,
    "dropout": 0.1,
    "batch_size": 16,
    "seq_len": 100,
    "lr": 5e-3,
    "schedule": "cosine",
    "warmup_steps": 50,
    "seed": 1337,
}
LSTM_HIDDEN = 512
ORDER = ("rnn", "gru", "lstm")  # the notebook's story: forgets, then the gated cells
DEFAULT_MINUTES = 3.0  # each; long enough for the three curves to part


def parameters(cell: str, hidden: int, vocab_size: int, embed: int, layers: int) -> int:
    model = ModelConfig(cell=cell, embed=embed, hidden=hidden, layers=layers, vocab_size=vocab_size)
    return model.parameter_count()


def hidden_for(cell: str, target: int, vocab_size: int, embed: int, layers: int) -> int:
    """The hidden size whose model has the parameter count nearest `target`."""
    if cell not in CELLS:
        raise UserError(f"unknown cell {cell!r}")
    low, high = 1, 1
    while parameters(cell, high, vocab_size, embed, layers) < target:
        high *= 2
    while high - low > 1:  # the count grows with the hidden size: bisect
        mid = (low + high) // 2
        if parameters(cell, mid, vocab_size, embed, layers) < target:
            low = mid
        else:
            high = mid
    return min(
        (low, high),
        key=lambda h: abs(parameters(cell, h, vocab_size, embed, layers) - target),
    )


@dataclass(frozen=True)
class CellRun:
    cell: str
    run: str  # the run's name
    settings: dict[str, Any]  # flat settings (config.with_settings names), preset "custom"
    parameters: int


@dataclass(frozen=True)
class CellsPlan:
    runs: tuple[CellRun, ...]
    characters: int  # what each trains on
    steps: int
    reason: str  # one line for people


def plan_cells(
    *,
    vocab_size: int,
    lstm_chars_per_s: float,
    minutes: float = DEFAULT_MINUTES,
    prefix: str = "cells",
    settings: dict[str, Any] | None = None,
) -> CellsPlan:
    """Three runs (RNN, GRU, LSTM) of about equal parameters and one recipe, each `max_steps`
    long enough for `minutes` of the LSTM at `lstm_chars_per_s`. `settings` adds what the
    person chose that is not the recipe's (the corpus, the device, threads, bf16)."""
    if not minutes > 0:
        raise UserError("{max_minutes} must be more than 0", names=["max_minutes"])
    recipe = dict(RECIPE)
    embed, layers = recipe["embed"], recipe["layers"]
    target = parameters("lstm", LSTM_HIDDEN, vocab_size, embed, layers)
    per_step = recipe["batch_size"] * recipe["seq_len"]
    steps = max(1, round(minutes * 60 * lstm_chars_per_s / per_step))
    runs = []
    for cell in ORDER:
        hidden = (
            LSTM_HIDDEN if cell == "lstm" else hidden_for(cell, target, vocab_size, embed, layers)
        )
        flat = {
            **(settings or {}),
            **recipe,
            "preset": "custom",
            "cell": cell,
            "hidden": hidden,
            "max_steps": steps,
            "max_minutes": None,
            "epochs": 10_000,  # the steps end it, never an epoch count or patience
            "patience": 10_000,
        }
        count = parameters(cell, hidden, vocab_size, embed, layers)
        runs.append(CellRun(cell, f"{prefix}-{cell}", flat, count))
    chars = steps * per_step
    sizes = ", ".join(f"{r.cell.upper()} H{r.settings['hidden']} {r.parameters / 1e6:.2f} M"
                      for r in runs)  # fmt: skip
    reason = (
        f"the three cells at ~{target / 1e6:.1f} M parameters ({sizes}), "
        f"{recipe['batch_size']} × {recipe['seq_len']} windows, Adam {recipe['lr']:g} cosine, "
        f"{steps:,} steps = {chars / 1e6:.1f} M characters each (~{minutes:g} min of the LSTM here)"
    )
    return CellsPlan(tuple(runs), chars, steps, reason)
