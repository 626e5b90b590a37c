"""The Inspect view's neuron lens and next-character panel: what is shown at the cursor.

A mixin of InspectScreen. Every character is coloured by one unit's value (the lens, on a
diverging scale: core/inspection/lens.py) or by its rank in the model's prediction (GLTR's buckets); the
panel lists the likeliest next characters at the cursor. Keys change the unit, the layer and
the quantity; a dialog takes a typed unit.
"""

from __future__ import annotations

import numpy as np
from rich.style import Style
from textual import work
from textual.widgets import DataTable

from shakespeare_tui.core.cells import QUANTITIES
from shakespeare_tui.core.inspection import lens
from shakespeare_tui.messages import UnitsFound
from shakespeare_tui.views.inspect.next_char import NextCharPanel, shown
from shakespeare_tui.views.inspect.text_view import InspectText

TOP_K = 10  # next characters listed at the cursor
FIRST_FEATURE = "line_position"  # the lens opens on the unit that tracks it best
FINDER_TOP = 3  # units per feature in the finder's table
TOP_K_SHORT = 5  # on a short terminal (under 36 rows), so the tabs below keep some room

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
    """The lens and the cursor's panel for InspectScreen (which holds `replay` and the view)."""

    @property
    def top_k(self) -> int:
        """How many next characters the panel lists (and digits can fork to)."""
        return TOP_K_SHORT if self.has_class("-short") else TOP_K

    def _show_cursor(self, t: int) -> None:
        result = self.replay
        if result is None or not result.text:
            return
        fork_line = self.fork_line(t)
        if self._fresh_from is not None and t >= self._fresh_from:
            self.query_one(NextCharPanel).show_nothing("the model is reading this branch…")
            self._status(f"{t + 1:,}/{len(self.query_one(InspectText).text):,} · {fork_line}")
            return
        p = result.prediction
        value = float(result.unit_values(self.lens_layer, self.quantity, self.lens_unit)[t])
        lens_line = (
            f"L{self.lens_layer} unit {self.lens_unit} {SHORT_NAMES[self.quantity]} {value:+.3f}"
        )
        self.query_one(NextCharPanel).show(
            result.text[t],
            p.top(t, self.top_k),
            float(p.prob[t]),
            float(p.surprise[t]),
            float(p.entropy[t]),
            int(p.rank[t]),
            lens_line,
            numbered=not self.forkable(t),
        )
        where = f"{t + 1:,}/{len(result.text):,} {shown(result.text[t])} · "
        if fork_line:  # before the lens: on a narrow terminal the line's end is cut
            where += f"{fork_line} · "
        self._status(f"{where}{lens_line} · {result.bits_per_char:.3f} bits/char")

    def _recolour(self) -> None:
        result = self.replay
        if result is None:
            return
        view = self.query_one(InspectText)
        if self.ranks:
            shades = (result.prediction.rank_buckets().astype(np.int16) + _RANKS_AT + 1).astype(
                np.int8
            )
            legend = " ".join(
                f"[black on {c}] {n} [/]" for c, n in zip(RANK_COLOURS, RANK_NAMES, strict=True)
            )
            view.border_subtitle = f"rank of each character: {legend}"
        else:
            values = result.unit_values(self.lens_layer, self.quantity, self.lens_unit)
            shades = lens.quantise(lens.to_scale(self.quantity, values)) + lens.LEVELS
            low, high = _hex(lens.colour(-1)), _hex(lens.colour(1))
            view.border_subtitle = (
                f"L{self.lens_layer} unit {self.lens_unit} · {SHORT_NAMES[self.quantity]} · "
                f"[white on {low}] −1 [/][black on white] 0 [/][white on {high}] +1 [/]"
            )
        if self._fresh_from is not None:  # a branch shown before its replay: only what matches
            shades = shades[: self._fresh_from]
        view.set_shades(shades, PALETTE)

    def _set_unit(self, layer: int, unit: int, chosen: bool = True) -> None:
        if self.replay is None:
            return
        self._unit_chosen = self._unit_chosen or chosen
        self.lens_layer = layer % self.replay.layers
        self.lens_unit = unit % self.replay.hidden
        self._recolour()
        self._show_cursor(self.query_one(InspectText).cursor)

    def action_step_unit(self, delta: int) -> None:
        self._set_unit(self.lens_layer, self.lens_unit + delta)

    def action_next_layer(self) -> None:
        if self.replay is not None:
            self._set_unit(self.lens_layer + 1, self.lens_unit)
            self._draw_saturation()

    def action_next_quantity(self) -> None:
        if self.replay is None:
            return
        names = QUANTITIES[self.replay.cell]
        self.quantity = names[(names.index(self.quantity) + 1) % len(names)]
        self.ranks = False
        self._set_unit(self.lens_layer, self.lens_unit)
        self._find(self._request, self.replay, self.quantity)

    def action_toggle_ranks(self) -> None:
        self.ranks = not self.ranks
        self._recolour()

    def action_type_unit(self) -> None:
        from shakespeare_tui.views.inspect.dialogs import UnitDialog

        if self.replay is None:
            return
        self.app.push_screen(
            UnitDialog(self.replay.layers, self.replay.hidden, self.lens_layer),
            lambda chosen: chosen is not None and self._set_unit(*chosen),
        )

    # -- the neuron finder (it opens the lens on the best line_position unit) ----------

    @work(thread=True, exclusive=True, group="inspect-find", exit_on_error=False)
    def _find(self, request: int, result, quantity: str) -> None:
        from shakespeare_tui.core.inspection.neurons import find_units

        self.post_message(UnitsFound(request, quantity, find_units(result, quantity, FINDER_TOP)))

    def on_units_found(self, message: UnitsFound) -> None:
        if message.request != self._request or message.quantity != self.quantity:
            return
        self.found = message.found
        table = self.query_one("#finder", DataTable)
        table.clear()
        self._finder_rows = []
        for name, scores in message.found.items():
            for score in scores:
                table.add_row(name, str(score.layer), str(score.unit), f"{score.r:+.2f}")
                self._finder_rows.append(score)
        best = message.found.get(FIRST_FEATURE)
        if best and not self._unit_chosen:
            self._set_unit(best[0].layer, best[0].unit, chosen=False)


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)
