"""The next-character panel: what the model expected at the cursor, and how surprised it was.

It shows plain numbers the Inspect view hands it (from `core.prediction.Prediction`); it never
touches the model. Its bars are as long as its width allows, so it draws them again when resized.
"""

from __future__ import annotations

import math

from rich.text import Text
from textual.widgets import Static

BAR = 14  # cells of the longest probability bar
_NAMES = {" ": "␣", "\n": "↵", "\t": "⇥"}


def shown(char: str) -> str:
    """A character as the panel prints it: visible even when it is a space or a newline."""
    return _NAMES.get(char, char if char.isprintable() else "�")


def bar(probability: float, width: int = BAR) -> str:
    """A horizontal bar of `probability` × `width` cells, in eighths."""
    eighths = max(0, round(probability * width * 8))
    full, part = divmod(eighths, 8)
    return "█" * full + (" ▏▎▍▌▋▊▉"[part] if part else "")


class NextCharPanel(Static):
    """The top-k next characters with bars, the entropy, the actual character's numbers."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # The arguments of the last `show`, for a resize.
        self._shown: (
            tuple[str, list[tuple[str, float]], float, float, float, int, str, bool] | None
        ) = None

    def show_nothing(self, why: str) -> None:
        self._shown = None
        self.update(Text(why, style="dim"))

    def on_resize(self) -> None:
        if self._shown is not None:
            self.show(*self._shown)

    def show(
        self,
        actual: str,
        top: list[tuple[str, float]],
        prob: float,
        surprise: float,
        entropy: float,
        rank: int,
        lens_line: str = "",
        numbered: bool = False,
    ) -> None:
        """`numbered`: each alternative to the actual character gets the digit that forks to
        it (1–9, then 0)."""
        self._shown = (actual, top, prob, surprise, entropy, rank, lens_line, numbered)
        text = Text()
        width = self.content_region.width
        cells = max(4, min(BAR * 2, width - 11 - 2 * numbered)) if width else BAR
        if not top:
            text.append("no prediction for the first character\n", style="dim")
        n = 0
        for char, p in top:
            hit = char == actual
            n += not hit
            if numbered:
                text.append(f"{n % 10} " if not hit else "  ", style="dim")
            text.append(f"{shown(char):>2} ", style="bold reverse" if hit else "bold")
            text.append(bar(p, cells).ljust(cells), style="#e3b341" if hit else "#4a90d9")
            text.append(f" {p * 100:5.1f}%\n", style="bold" if hit else "")
        if top:
            text.append("entropy ", style="dim")
            text.append(f"{entropy:.2f} bits\n")
            text.append(f"{shown(actual)!s} ", style="bold reverse")
            text.append(f"p {prob * 100:.1f}% · ")
            bits = f"{surprise:.2f}" if math.isfinite(surprise) else "∞"
            text.append(f"{bits} bits · rank {rank + 1}")
        if lens_line:
            text.append(f"\n{lens_line}", style="dim")
        self.update(text)
