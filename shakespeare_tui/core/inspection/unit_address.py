"""A unit of a model as a person writes it: "N" or "L:N" (layer L's unit N, both from 0).

The one reading of that notation and the one range check, for every place a unit is typed or
asked for: the Inspect view's unit dialog, `inspect --unit`, and a replay's unit lookups. "N"
alone means unit N of a layer the place chooses (the lens's layer in the app, layer 0 on the
command line). Each refusal is one line that names the valid range.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from shakespeare_tui.core.errors import UserError

_WRITTEN = re.compile(r"^\s*(?:([-+]?\d+)\s*:\s*)?([-+]?\d+)\s*$")


class UnitAddress(NamedTuple):
    """Layer `layer`'s unit `unit`, both counted from 0."""

    layer: int
    unit: int

    def __str__(self) -> str:
        return f"{self.layer}:{self.unit}"


def parse_unit(text: str, layer: int = 0) -> UnitAddress:
    """ "N" (unit N of `layer`) or "L:N"; UserError if `text` is neither or is negative."""
    written = _WRITTEN.match(text)
    if written is None:
        raise UserError(f"not UNIT or LAYER:UNIT (e.g. 0:203): {text.strip()!r}")
    parsed = UnitAddress(int(written[1]) if written[1] is not None else layer, int(written[2]))
    if min(parsed) < 0:
        raise UserError(f"layers and units count from 0, not {text.strip()}")
    return parsed


def unit_problem(layer: int, unit: int, layers: int, hidden: int) -> str:
    """Why a model of `layers` layers of `hidden` units has no unit `unit` in layer `layer`
    ("" if it has)."""
    if not 0 <= layer < layers:
        have = "only layer is 0" if layers == 1 else f"layers are 0–{layers - 1}"
        return f"layer {layer} does not exist: this model's {have}"
    if not 0 <= unit < hidden:
        return f"unit {unit} does not exist: each layer's units are 0–{hidden - 1}"
    return ""


def check_unit(layer: int, unit: int, layers: int, hidden: int) -> None:
    """UserError naming the valid range, if the model has no such unit."""
    problem = unit_problem(layer, unit, layers, hidden)
    if problem:
        raise UserError(problem)


def read_unit(text: str, layers: int, hidden: int, layer: int = 0) -> UnitAddress:
    """`text` parsed (see `parse_unit`) and checked against the model's layers and units."""
    address = parse_unit(text, layer)
    check_unit(*address, layers, hidden)
    return address
