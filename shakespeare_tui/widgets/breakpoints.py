"""The classes a screen's breakpoints give it at the app's size, for the screen to carry from the
moment it is built."""

from __future__ import annotations

from textual.app import App
from textual.screen import Screen


def _chosen(extent: int, breakpoints: list[tuple[int, str]] | None) -> list[str]:
    """The class of the widest breakpoint that `extent` reaches, as Textual picks it."""
    for start, name in sorted(breakpoints or [], reverse=True):
        if extent >= start:
            return [name]
    return []


def add_breakpoint_classes(screen: Screen, app: App) -> None:
    """Give `screen` now the classes its HORIZONTAL_ and VERTICAL_BREAKPOINTS give it at `app`'s
    size, which Textual would set on the first Resize.

    Set before its widgets mount, they are styled once with them; set by that Resize, every
    widget was styled again (the Train view: 253 of the 1,158 style applications of its start).
    """
    width, height = app.size
    screen.add_class(
        *_chosen(width, screen.HORIZONTAL_BREAKPOINTS),
        *_chosen(height, screen.VERTICAL_BREAKPOINTS),
    )
