"""The Runs view's side panel: the highlighted run in full, or, with exactly two runs selected,
the settings they differ in and their best figures side by side (core/runs/diff.py)."""

from __future__ import annotations

import io
import os
from pathlib import Path

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from shakespeare_tui.core.figures import UNKNOWN, count, duration, local_time
from shakespeare_tui.core.runs.diff import RunDiff
from shakespeare_tui.core.runs.table import COLUMNS, RunRow
from shakespeare_tui.core.shown_text import shown
from shakespeare_tui.core.units import in_units, loss_text, unit_name
from shakespeare_tui.views.runs.chart import PALETTE


def _colour(colour: int | None) -> str:
    return PALETTE[colour % len(PALETTE)] if colour is not None else ""


def _home(path: str) -> str:
    """`path` with the home folder written ~."""
    home = str(Path.home())
    return "~" + path[len(home) :] if path.startswith(home + os.sep) else path


def details(row: RunRow, colour: int | None, bits: bool) -> Group:
    """One run: its state in words, model, best figures, speed and where it came from."""
    # Every word from a run's files is shown with its control characters escaped.
    head = Text(shown(row.name), style=f"bold {_colour(colour)}")
    lines = [head, Text(shown(row.state_text), style="italic")]
    table = Table.grid(padding=(0, 1))
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    if row.best_val_loss is not None:
        where = [f"epoch {row.best_epoch}" if row.best_epoch is not None else "",
                 f"step {row.best_step:,}" if row.best_step is not None else ""]  # fmt: skip
        best = f"{loss_text(row.best_val_loss, bits, unit=True)}"
        other = loss_text(row.best_val_loss, not bits, unit=True)
        table.add_row("best val", f"{best} ({other})")
        table.add_row("", "at " + ", ".join(w for w in where if w))
    for key in ("model", "params", "dropout", "batch", "lr", "schedule"):
        text = COLUMNS[key].text(row)
        if text != UNKNOWN:
            table.add_row(COLUMNS[key].title, shown(text))
    if row.path is not None:
        table.add_row("trained", f"{count(row.step)} steps, {row.epochs_done} epochs")
        speed = f"{count(row.chars_per_sec)} chars/s" if row.chars_per_sec else UNKNOWN
        table.add_row("speed", speed)
        table.add_row("elapsed", duration(row.elapsed_s))
    for key, title in (("device", "device"), ("corpus", "corpus")):
        value = getattr(row, key)
        if value:
            table.add_row(title, shown(value))
    if row.created:
        table.add_row("created", local_time(row.created))
    if row.path:
        table.add_row("folder", Text(shown(_home(row.path)), overflow="fold"))
    return Group(*lines, Text(""), table)


def diff_view(diff: RunDiff, colours: tuple[int | None, int | None], bits: bool) -> Group:
    """The settings two runs differ in, then their best figures; the better one named."""
    a, b = diff.a, diff.b
    table = Table(box=None, pad_edge=False, expand=True, padding=(0, 1))
    table.add_column("setting", style="dim", ratio=2, overflow="fold")
    for run, colour in ((a, colours[0]), (b, colours[1])):
        header = Text(shown(run.name), style=f"bold {_colour(colour)}")
        table.add_column(header, ratio=2, overflow="fold")
    for setting in diff.settings:
        table.add_row(shown(setting.key), *(shown(text) for text in setting.texts))
    if not diff.settings:
        table.add_row("(every setting)", "the same", "the same")
    table.add_row("", "", "")
    for title, ta, tb in diff.figures:  # nats and bits both
        table.add_row(title, ta, tb)
    out: list[RenderableType] = [Text("Differences", style="bold"), table]
    better, best_a, best_b = diff.better, a.best_val_loss, b.best_val_loss
    if better is not None and best_a is not None and best_b is not None:  # (better: both are)
        gap = abs(in_units(best_a, bits) - in_units(best_b, bits))
        out.append(Text(f"\n{shown(better.name)} is better by {gap:.4f} {unit_name(bits)}"))
    return Group(*out)


NO_RUNS = "no runs yet: train one in the Train view (t) or with `shakespeare-tui train`"


class RunPanel(Static):
    """Shows `details` or `diff_view`; the screen says which."""

    DEFAULT_CSS = """
    RunPanel.-details {
        height: 1fr;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.shown: Group | Text = Text("")

    def show_details(self, row: RunRow | None, colour: int | None, bits: bool) -> None:
        self._show(details(row, colour, bits) if row is not None else Text(NO_RUNS), diff=False)

    def show_diff(self, diff: RunDiff, colours: tuple[int | None, int | None], bits: bool) -> None:
        self._show(diff_view(diff, colours, bits), diff=True)

    def _show(self, renderable, diff: bool) -> None:
        # A run's details fill the panel's box, so moving the cursor redraws the panel alone;
        # a diff can be longer than the box and scrolls, so its height is measured (a layout
        # of the screen, ~30 ms here: fine when the selection changes, not on every key).
        self.set_class(not diff, "-details")
        self.shown = renderable
        self.update(renderable, layout=diff)

    @property
    def plain(self) -> str:
        """What the panel shows, as text (for tests)."""
        console = Console(width=max(20, self.size.width), record=True, file=io.StringIO())
        console.print(self.shown)
        return console.export_text()
