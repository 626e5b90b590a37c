"""The selected runs' memories on one chart, each in the run's own colour: how far back each
reads.

Two pictures of the same measurement (core/inspection/run_memories.py):

- **context**: the loss when a run may read only the last k = 1, 2, 4, … 512 characters before
  each target, on a log₂ axis, and with the whole text before it ("all", a diamond at the right
  end); the n-gram baseline (0 … 8 characters of context, a dim dotted line) beside them.
  Where a curve flattens, the run stops using what lies further back.
- **connectivity**: ‖∂ log p(x_t) / ∂ e_(t−k)‖, how much a prediction depends on the character
  k back, averaged over predictions, both axes logarithmic.

A key above the plot names what is drawn and each run with its figure; the built plot is kept
until something it shows changes, as the training curves' chart does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from rich.text import Text
from textual.color import Color
from textual.reactive import reactive

from shakespeare_tui.core.shown_text import shown
from shakespeare_tui.core.units import in_units, unit_name
from shakespeare_tui.views.runs.chart import PALETTE
from shakespeare_tui.widgets.chart_axes import decade_ticks, loss_labels, loss_ticks, power_ticks
from shakespeare_tui.widgets.chart_key import KeyedPlot, blank_figure, faint, key_rows, surface

if TYPE_CHECKING:  # the measurements' types import torch; their values arrive already made
    from shakespeare_tui.core.inspection.memory.ngram import NgramCurve
    from shakespeare_tui.core.inspection.memory.report import CheckpointMemory

KINDS = ("context", "connectivity")
ZERO_AT = -1.0  # where the n-gram's "no context" sits, left of k = 1 (log₂ 1 = 0)
ALL_GAP = 1.5  # "all" sits this far right of the longest window (log₂ units)
KEY_ROWS = 2
POINT, ALL_MARKER, NGRAM_MARKER = "•", "◆", "·"
DECADES = 10  # the most the gradient axis spans
REACH = 0.01  # connectivity's reach: the last k whose gradient is ≥ 1% of the nearest one's


class MemoryLine(NamedTuple):
    name: str
    colour: int  # PALETTE index
    memory: CheckpointMemory | None  # None: not measured (yet): `note` says why
    note: str  # shown beside the name: "measuring…", "training", "no checkpoint yet" …


def reach(grad: Sequence[float], share: float = REACH) -> int | None:
    """The farthest distance k whose mean gradient is at least `share` of the gradient at k = 1
    (connectivity's counterpart of the effective context); None for a flat zero curve."""
    if not grad or not grad[0] > 0:
        return None
    limit = grad[0] * share
    return max(k for k, g in enumerate(grad, start=1) if g >= limit)


class MemoryChart(KeyedPlot):
    """The overlay of the selected runs' context or connectivity curves."""

    kind: reactive[str] = reactive("context")
    """What is drawn: "context" (loss against k) or "connectivity" (gradient against k)."""
    bits: reactive[bool] = reactive(False)
    """Losses in bits per character instead of nats."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lines: tuple[MemoryLine, ...] = ()
        self.ngram: NgramCurve | None = None

    def show_lines(self, lines: Sequence[MemoryLine], ngram: NgramCurve | None) -> None:
        lines = tuple(lines)
        if lines == self.lines and ngram is self.ngram:
            return
        self.lines, self.ngram = lines, ngram
        self._changed()

    watch_kind = watch_bits = KeyedPlot._changed

    # -- the plot -----------------------------------------------------------------------

    def _draw(self, width: int, rows: int) -> None:
        blank_figure(self.plt)
        if self.kind == "context":
            self._draw_context(width, rows)
        else:
            self._draw_connectivity(width, rows)

    def _measured(self) -> list[tuple[tuple[int, int, int], CheckpointMemory]]:
        return [(Color.parse(PALETTE[line.colour % len(PALETTE)]).rgb, line.memory)
                for line in self.lines if line.memory is not None]  # fmt: skip

    def _draw_context(self, width: int, rows: int) -> None:
        plt, scale = self.plt, in_units(1.0, self.bits)
        measured = self._measured()
        ys = [y * scale for _, m in measured for y in (*m.context.loss, m.context.loss_all)]
        ngram = self.ngram
        if ngram is not None:
            ys += [y * scale for y in ngram.loss]
        longest = max((max(m.context.contexts) for _, m in measured), default=512)
        right = math.log2(longest) + ALL_GAP
        lo, hi = _span(ys, self.bits)
        ticks = loss_ticks(lo, hi, rows - 2)
        plt.ylim(lo, hi)
        plt.yticks(ticks, loss_labels(ticks))
        plt.xlim(ZERO_AT - 0.3, right + 0.3)
        xticks, xlabels = _context_ticks(longest, width - 8, ngram is not None)
        plt.xticks(xticks, xlabels)
        if ngram is not None:
            xs = [ZERO_AT if c == 0 else math.log2(c) for c in ngram.contexts]
            plt.plot(
                xs, [y * scale for y in ngram.loss], marker=NGRAM_MARKER, color=faint(self.app, 0.5)
            )
        for colour, memory in measured:
            xs = [math.log2(k) for k in memory.context.contexts]
            loss = [y * scale for y in memory.context.loss]
            plt.plot(xs, loss, marker="braille", color=colour)
            plt.scatter(xs, loss, marker=POINT, color=colour)
        for colour, memory in measured:  # over every curve, so none hides an "all"
            plt.scatter([right], [memory.context.loss_all * scale], marker=ALL_MARKER,
                        color=colour)  # fmt: skip
        if not ys:
            self._note(ZERO_AT + (right - ZERO_AT) / 2, (lo + hi) / 2)

    def _draw_connectivity(self, width: int, rows: int) -> None:
        plt = self.plt
        curves = []
        for colour, memory in self._measured():
            pairs = [(math.log2(k), math.log10(g)) for k, g
                     in zip(memory.connectivity.distances, memory.connectivity.grad, strict=True)
                     if g > 0]  # fmt: skip
            if pairs:
                curves.append((colour, pairs))
        ys = [y for _, pairs in curves for _, y in pairs]
        span = max((len(m.connectivity.grad) for _, m in self._measured()), default=256)
        top = math.log2(max(2, span))
        lo, hi = (math.floor(min(ys)), math.ceil(max(ys))) if ys else (-4.0, 0.0)
        lo = max(lo, hi - DECADES)  # a vanishing gradient falls off the bottom
        hi = max(hi, lo + 1)
        yticks, ylabels = decade_ticks(lo, hi, rows - 2)
        plt.ylim(lo, hi)
        plt.yticks(yticks, ylabels)
        plt.xlim(0, top)
        powers = power_ticks(0, top, width - max(map(len, ylabels)) - 1)
        plt.xticks([float(p) for p in powers], [str(2**p) for p in powers])
        for colour, pairs in curves:
            plt.plot([x for x, _ in pairs], [y for _, y in pairs], marker="braille", color=colour)
        if not ys:
            self._note(top / 2, (lo + hi) / 2)

    def _note(self, x: float, y: float) -> None:
        note = "m measures the selected runs" if self.lines else "space selects runs to compare"
        if any(line.memory is None and line.note.startswith("measuring") for line in self.lines):
            note = "measuring…"
        self.plt.text(note, x, y, color=faint(self.app, 0.5),
                      background=surface(self.app).rgb, alignment="center")  # fmt: skip

    # -- the key ------------------------------------------------------------------------

    def _key_lines(self, width: int) -> list[Text]:
        if self.kind == "context":
            head = (f"{unit_name(self.bits)} with the last k characters read  {ALL_MARKER} all  "
                    f"{NGRAM_MARKER * 3} n-gram")  # fmt: skip
        else:
            head = "‖∂ log p / ∂ embedding‖ of the character k back (log–log)"
        items = [self._key_item(item) for item in self.lines]
        if self.kind == "context" and self.ngram is not None:
            items.append(Text(f"{NGRAM_MARKER * 3} n-gram {self.ngram.effective_context()}",
                              style="dim"))  # fmt: skip
        return key_rows(Text(head, style="dim"), items, width, KEY_ROWS, surface(self.app))

    def _key_item(self, line: MemoryLine) -> Text:
        words = [f"━ {shown(line.name)}"]  # (a name from a folder)
        memory = line.memory
        if memory is None:
            words.append(f"({line.note})" if line.note else "…")
        elif self.kind == "context":
            k = memory.effective_context
            words.append(f"~{k}" if k is not None else f">{max(memory.context.contexts)}")
        else:
            k = reach(memory.connectivity.grad)
            words.append(f"~{k}" if k is not None else "0")
        return Text(" ".join(words), style=f"bold {PALETTE[line.colour % len(PALETTE)]}")


def _context_ticks(longest: int, columns: int, zero: bool) -> tuple[list[float], list[str]]:
    """k = 1, 2, 4 … `longest` at their log₂ (as many as fit), "0" (the n-gram's) on the left
    and "all" on the right."""
    right = math.log2(longest)
    powers = power_ticks(0, right, columns - 8)  # room for "0" and "all"
    ticks = [float(p) for p in powers] + [right + ALL_GAP]
    labels = [str(2**p) for p in powers] + ["all"]
    if zero:
        ticks.insert(0, ZERO_AT)
        labels.insert(0, "0")
    return ticks, labels


def _span(values: list[float], bits: bool) -> tuple[float, float]:
    """The loss axis's range: every point, widened to at least 0.2 nats."""
    if not values:
        return in_units(1.0, bits), in_units(4.0, bits)
    lo, hi = min(values), max(values)
    pad = max(0.0, in_units(0.2, bits) - (hi - lo)) / 2
    return lo - pad, hi + pad
