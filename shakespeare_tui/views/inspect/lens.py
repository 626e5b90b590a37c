"""The Inspect view's neuron lens: what colours each character of the text.

Every character is coloured by one unit's value (a layer, a unit and a quantity, on a diverging
scale: core/inspection/lens.py) or by its rank in the model's prediction (GLTR's buckets). `Lens`
holds that choice and turns it into what the text view draws: an index into `PALETTE` per
character, the legend under the text, the lens's line for the panel. It only reads a replay;
the screen decides when to redraw.

A choice belongs to one checkpoint: another model's unit 343 means nothing, and each cell has its
own quantity to look at first. A checkpoint newly shown opens on its cell's DEFAULT_QUANTITY and
unit 0 until the finder names its best unit, unless the person chose a unit or quantity for it
before (kept while other checkpoints are shown).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from rich.style import Style

from shakespeare_tui.core.cells import DEFAULT_QUANTITY, QUANTITIES
from shakespeare_tui.core.inspection import lens

if TYPE_CHECKING:
    from shakespeare_tui.core.inspection.replay import Replay

SHORT_NAMES = {"tanh_c": "tanh(c)", "c": "c", "h": "h", "i": "input gate i",
               "f": "forget gate f", "g": "candidate g", "o": "output gate o",
               "r": "reset gate r", "z": "update gate z", "n": "new state n"}  # fmt: skip

# One palette for every mode: the lens's 2·LEVELS+1 colours, then GLTR's rank buckets.
_RGB = "rgb({},{},{})".format
LENS_STYLES = tuple(
    Style(color=_RGB(*lens.ink(x)), bgcolor=_RGB(*lens.colour(x)))
    for x in (level / lens.LEVELS for level in range(-lens.LEVELS, lens.LEVELS + 1))
)
# Top 1, top 5, top 20, beyond (GLTR's green, yellow, orange, purple); dark ink on light
# backgrounds reads the same on a light or a dark theme.
RANK_COLOURS = ("#b7e4c7", "#fff3b0", "#ffc9a3", "#e0b0ff")
RANK_NAMES = ("top 1", "top 5", "top 20", "beyond")
RANK_STYLES = (Style(),) + tuple(Style(color="black", bgcolor=c) for c in RANK_COLOURS)
PALETTE = LENS_STYLES + RANK_STYLES
_RANKS_AT = len(LENS_STYLES)  # palette index of "no prediction"; buckets follow


class Lens:
    """Which unit colours the text (or that the ranks do): set by keys, the unit dialog and
    the finder; a replay's `unit_values` give the colours."""

    def __init__(self) -> None:
        self.layer = 0
        self.unit = 0
        self.quantity = ""  # one of the replayed cell's QUANTITIES, once a replay is shown
        self.ranks = False  # colour by rank in the prediction instead of by the unit
        self.chosen = False  # the person picked a unit: the finder no longer moves the lens
        self.checkpoint: str | None = None  # the checkpoint the choice above is for
        # The person's choices for the other checkpoints shown before: path → (layer, unit,
        # quantity). A checkpoint with none opens on its own defaults.
        self._kept: dict[str, tuple[int, int, str]] = {}

    def fit(self, replay: Replay, checkpoint: str) -> None:
        """Make the choice one for `replay`, made with the model at `checkpoint`: the same
        checkpoint keeps it; another opens on what the person chose for it before, or on its
        cell's default quantity (the finder then moves the lens to its best unit)."""
        if checkpoint != self.checkpoint:
            if self.checkpoint is not None and self.chosen:
                self._kept[self.checkpoint] = (self.layer, self.unit, self.quantity)
            kept = self._kept.pop(checkpoint, None)
            self.chosen = kept is not None
            self.layer, self.unit, self.quantity = kept or (0, 0, DEFAULT_QUANTITY[replay.cell])
            self.checkpoint = checkpoint
        # The same path can hold another model now (a run started again under its name).
        if self.quantity not in QUANTITIES[replay.cell]:
            self.quantity = DEFAULT_QUANTITY[replay.cell]
        self.layer = min(self.layer, replay.layers - 1)
        self.unit = min(self.unit, replay.hidden - 1)

    def point_at(self, replay: Replay, layer: int, unit: int, chosen: bool = True) -> None:
        """Show `layer`'s `unit` (stepping past either end wraps round); `chosen`: by the
        person, so the finder leaves it be."""
        self.chosen = self.chosen or chosen
        self.layer = layer % replay.layers
        self.unit = unit % replay.hidden

    def next_quantity(self, replay: Replay) -> None:
        """The cell's next quantity (after the last, the first), shown by the unit."""
        names = QUANTITIES[replay.cell]
        self.quantity = names[(names.index(self.quantity) + 1) % len(names)]
        self.ranks = False

    def shades(self, replay: Replay) -> tuple[np.ndarray, str]:
        """(an index into PALETTE per character, the legend shown under the text)."""
        if self.ranks:
            buckets = replay.prediction.rank_buckets().astype(np.int16)
            legend = " ".join(
                f"[black on {c}] {n} [/]" for c, n in zip(RANK_COLOURS, RANK_NAMES, strict=True)
            )
            return (buckets + _RANKS_AT + 1).astype(np.int8), f"rank of each character: {legend}"
        values = replay.unit_values(self.layer, self.quantity, self.unit)
        low, high = _hex(lens.colour(-1)), _hex(lens.colour(1))
        legend = (
            f"L{self.layer} unit {self.unit} · {SHORT_NAMES[self.quantity]} · "
            f"[white on {low}] −1 [/][black on white] 0 [/][white on {high}] +1 [/]"
        )
        return lens.quantise(lens.to_scale(self.quantity, values)) + lens.LEVELS, legend

    def reading(self, replay: Replay, t: int) -> str:
        """The unit's value at character `t`, for the panel and the status line."""
        value = float(replay.unit_values(self.layer, self.quantity, self.unit)[t])
        return f"L{self.layer} unit {self.unit} {SHORT_NAMES[self.quantity]} {value:+.3f}"


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)
