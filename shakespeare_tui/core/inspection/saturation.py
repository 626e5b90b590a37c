"""Gate saturation: how often each unit's gate is nearly shut or nearly open.

Karpathy, Johnson and Fei-Fei ("Visualizing and Understanding Recurrent Networks", 2015) plot,
for every unit of a layer, the fraction of steps its gate is left-saturated (below 0.1) against
the fraction it is right-saturated (above 0.9): a forget gate right-saturated most of the time
belongs to a unit that remembers for long. Only the sigmoid gates (values in [0, 1]) count;
a basic RNN has none, and `no_gates` says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shakespeare_tui.core.cells import SIGMOID_GATES

LOW, HIGH = 0.1, 0.9  # the paper's thresholds


@dataclass(frozen=True)
class Saturation:
    """One gate of one layer: per unit, the fraction of steps below `LOW` and above `HIGH`."""

    left: np.ndarray  # (units,) float32: fraction of steps with the gate < LOW
    right: np.ndarray  # (units,) float32: fraction of steps with the gate > HIGH
    steps: int  # how many steps the fractions are over

    @classmethod
    def from_counts(cls, left: np.ndarray, right: np.ndarray, steps: int) -> Saturation:
        scale = 1.0 / steps if steps else 0.0
        return cls(
            (np.asarray(left) * scale).astype(np.float32),
            (np.asarray(right) * scale).astype(np.float32),
            steps,
        )


def no_gates(cell: str) -> str:
    """Why a cell has no gate saturation to show (a basic RNN has no gates), or "" if it has."""
    if SIGMOID_GATES.get(cell):
        return ""
    return "a basic RNN has no gates: gate saturation is for an LSTM or a GRU"


def saturation_counts(
    gate: np.ndarray, low: float = LOW, high: float = HIGH
) -> tuple[np.ndarray, np.ndarray]:
    """(steps below `low`, steps above `high`) per unit of a (steps, units) array, as int64.

    Counts, not fractions, so a replay can add them up block by block.
    """
    gate = np.asarray(gate)
    return (gate < low).sum(axis=0, dtype=np.int64), (gate > high).sum(axis=0, dtype=np.int64)


def gate_saturation(gate: np.ndarray, low: float = LOW, high: float = HIGH) -> Saturation:
    """The saturation fractions of a (steps, units) array of one gate's values."""
    left, right = saturation_counts(gate, low, high)
    return Saturation.from_counts(left, right, int(np.asarray(gate).shape[0]))
