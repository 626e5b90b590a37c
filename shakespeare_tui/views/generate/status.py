"""The line under the Generate view's output: what generation is doing, worded to fit the width.

Each message comes in versions from the fullest to the shortest; the longest that fits on one
row is shown, and the shortest wraps if nothing fits. A progress line that stays on one row is
redrawn in place: a layout of the screen costs a full redraw (~20 ms with the GIL held, while
the sampler waits for it), four times a second.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static

STOP_KEYS = "g or esc stops"


class GenerateStatus(Static):
    """One status line (more when a long message wraps)."""

    DEFAULT_CSS = """
    GenerateStatus {
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self._versions: tuple[str, ...] = ("",)
        self.shown = ""  # the version on screen now

    def say(self, *versions: str) -> None:
        """Show the longest of `versions` (fullest first) that fits the width."""
        self._versions = versions or ("",)
        self._show()

    def on_resize(self) -> None:
        self._show()

    def _show(self) -> None:
        width = self.content_region.width
        text = next((v for v in self._versions if cell_len(v) <= width), self._versions[-1])
        stays_one_row = cell_len(text) <= width and self.size.height == 1
        self.shown = text
        self.update(Text(text), layout=not stays_one_row)

    # -- what generation says ---------------------------------------------------------------

    def idle(self) -> None:
        self.say("g generates · c colours by confidence", "g generates")

    def loading_model(self, title: str) -> None:
        self.say(f"loading {title}…", "loading…")

    def started(self, seed: int, prompt_length: int) -> None:
        doing = f"reading the {prompt_length:,}-character prompt" if prompt_length > 500 else ""
        doing = doing or "generating"
        self.say(f"{doing} · seed {seed} · {STOP_KEYS}", f"{doing} · seed {seed}", doing)

    def progress(self, streamed: int, length: int, seed: int | None) -> None:
        done = f"{streamed:,} of {length:,}"
        self.say(
            f"generating · {done} · seed {seed} · {STOP_KEYS}",
            f"generating · {done} · seed {seed}",
            f"{done} · seed {seed}",
            done,
        )

    def finished(self, count: int, seed: int, stopped: bool) -> None:
        how = f"stopped after {count:,} characters" if stopped else f"done: {count:,} characters"
        self.say(f"{how} · seed {seed} · r reuses the seed", f"{how} · seed {seed}", how)

    def stopped_early(self) -> None:
        self.say("stopped before the first character", "stopped")

    def failed(self, reason: str) -> None:
        self.say(f"not generated: {reason}")
