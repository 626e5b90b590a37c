"""Losses as a person reads them: nats or bits per character, one rule for every screen."""

from __future__ import annotations

import math

LN2 = math.log(2)


def in_units(nats: float, bits: bool) -> float:
    """A loss in nats per character, as bits per character if `bits`."""
    return nats / LN2 if bits else nats


def unit_name(bits: bool) -> str:
    return "bits/char" if bits else "nats/char"


def loss_text(nats: float | None, bits: bool, unit: bool = False) -> str:
    """ "1.4370" (or in bits "2.0732"); "—" for none; with `unit`, "1.4370 nats/char"."""
    if nats is None or not math.isfinite(nats):
        return "—"
    text = f"{in_units(nats, bits):.4f}"
    return f"{text} {unit_name(bits)}" if unit else text
