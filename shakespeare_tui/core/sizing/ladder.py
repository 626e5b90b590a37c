"""The model sizes a time budget chooses among, and how each one learned per character trained.

Each rung is a whole recipe (model, dropout, windows, learning rate), trained with a cosine
schedule fitted to its budget. QUALITY holds, for each rung, the validation loss measured on
tiny Shakespeare after a given number of training characters: a figure that does not depend on
the CPU, only on the characters seen (`python -m benchmarks.sizing` measures it and prints
this table). A machine's speed turns a budget in minutes into characters for each rung;
core/sizing/rule.py picks the rung whose curve says it ends lowest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rung:
    name: str
    embed: int
    hidden: int
    layers: int
    dropout: float
    batch_size: int = 32
    seq_len: int = 200
    lr: float = 2e-3
    warmup_steps: int = 50

    def recipe(self) -> dict[str, Any]:
        """Everything but the name: what a measurement of the rung was a measurement of."""
        return {
            "embed": self.embed,
            "hidden": self.hidden,
            "layers": self.layers,
            "dropout": self.dropout,
            "batch_size": self.batch_size,
            "seq_len": self.seq_len,
            "lr": self.lr,
            "warmup_steps": self.warmup_steps,
        }

    @property
    def summary(self) -> str:
        layers = f"×{self.layers}" if self.layers > 1 else ""
        return f"E{self.embed}/H{self.hidden}{layers}"

    def settings(self) -> dict[str, Any]:
        """Flat settings (config.with_settings names) for this rung: its recipe, trained as
        every rung was measured, an LSTM on a cosine schedule."""
        return {**self.recipe(), "cell": "lstm", "schedule": "cosine"}


# Smallest first. Windows of 100, 16 a step (8 for the smallest), and a high learning rate:
# at these budgets the number of steps decides more than the size. Measured on tiny
# Shakespeare, 2 M characters, E64/H384 (benchmarks/RESULTS.md): 32 × 200 windows at Adam
# 2e-3 (the `cpu` preset's recipe) 1.905; at 5e-3 1.721; 16 × 100 at 5e-3 1.537, at 1e-2
# 1.530; 8 × 100 at 1e-2 1.520; dropout 0 instead of 0.1 1.526.
LADDER: tuple[Rung, ...] = (
    Rung("xs", 64, 384, 1, 0.1, batch_size=8, seq_len=100, lr=1e-2),
    Rung("s", 96, 512, 1, 0.1, batch_size=16, seq_len=100, lr=5e-3),
    Rung("m", 128, 640, 1, 0.2, batch_size=16, seq_len=100, lr=5e-3),
    Rung("l", 128, 512, 2, 0.2, batch_size=16, seq_len=100, lr=5e-3),
    Rung("xl", 256, 1024, 1, 0.25, batch_size=16, seq_len=100, lr=4e-3),
)


def rung(name: str) -> Rung:
    """The rung of that name (KeyError if there is none)."""
    for each in LADDER:
        if each.name == name:
            return each
    raise KeyError(name)


# Validation loss (nats/char) at the end of a cosine schedule over that many training
# characters, tiny Shakespeare (last 10% held out), seed 1337, fp32: benchmarks/sizing.py's
# table, recorded in benchmarks/sizing-runs.jsonl with the CPU each run came from.
# Measured on a 2-core AMD EPYC (AVX2), 2026-12-01, one thread a run.
QUALITY: dict[str, tuple[tuple[float, float], ...]] = {
    "xs": ((2e6, 1.5205), (10e6, 1.4908)),
    "s": ((2.5e6, 1.4907), (5e6, 1.4571), (10e6, 1.4660)),  # 10 epochs overfit it
    "m": ((2.5e6, 1.4653), (5e6, 1.4443)),
    "l": ((1e6, 1.5458), (2.5e6, 1.4611)),
    "xl": ((1e6, 1.5463), (2.5e6, 1.4574)),
}
