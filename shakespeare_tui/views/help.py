"""The help screen: what the keys do, in the view it was opened from."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from shakespeare_tui.keymap import keys_of, view_bindings

ABOUT = (
    "Train a character-level recurrent network (an LSTM, a GRU or a basic RNN) on Shakespeare\n"
    "and watch it learn; then make it write, and look inside it.\n"
    "Every action is also in the command palette (ctrl+p)."
)


def _tilde(path: Path) -> str:
    """`path` with the home folder written ~, as a person types it."""
    try:
        return "~" + os.sep + str(path.relative_to(Path.home()))
    except (ValueError, RuntimeError):  # elsewhere, or no home folder at all
        return str(path)


def key_names(app: App[object], binding: Binding) -> list[str]:
    """Each key of a binding as the footer shows it, the person's keymap applied; a
    `key_display` names the first default key only (`[` for "left_square_bracket,minus"), the
    others, and remapped keys, show as themselves."""
    keys = keys_of(app, binding)
    display = binding.key_display if keys == binding.key else None
    names = []
    for i, key in enumerate(k.strip() for k in keys.split(",")):
        shown = replace(binding, key=key, key_display=display if i == 0 else None)
        names.append(app.get_key_display(shown))
    return list(dict.fromkeys(names))


def _rows(app: App[object], bindings: Iterable[BindingType]) -> list[tuple[str, str, str]]:
    """(keys as the footer shows them, what they do, binding id) for each described binding."""
    rows: list[tuple[str, str, str]] = []
    for binding in bindings:
        if not isinstance(binding, Binding) or not binding.description:
            continue
        what = binding.tooltip or binding.description
        rows.append((", ".join(key_names(app, binding)), what, binding.id or ""))
    return rows


def _builtin_rows(app: App[object]) -> list[tuple[str, str, str]]:
    """Textual's own keys that work in every view."""
    palette = app.get_key_display(Binding(app.COMMAND_PALETTE_BINDING, "command_palette"))
    tab = ", ".join(app.get_key_display(Binding(k, "")) for k in ("tab", "shift+tab"))
    return [
        (palette, "Open the command palette: every action, by name", ""),
        (tab, "Move to the next or previous field", ""),
    ]


class HelpScreen(ModalScreen):
    """Keys of the app and of the view underneath; escape, ? or f1 closes it."""

    BINDINGS = [
        Binding(
            "escape,question_mark,f1", "dismiss", "Close", id="help.close", tooltip="Close the help"
        ),
    ]

    def __init__(self, view: Screen | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self._view = view

    def compose(self) -> ComposeResult:
        app = self.app
        sections = [("Everywhere", _rows(app, type(app).BINDINGS) + _builtin_rows(app))]
        if self._view is not None:
            name = type(self._view).__name__.removesuffix("Screen")
            bindings = [binding for _, binding in view_bindings(type(self._view))]
            sections.append((f"{name} view", _rows(app, bindings)))
        sections.append(("This help", _rows(app, type(self).BINDINGS)))
        width = max((len(keys) for _, rows in sections for keys, _, _ in rows), default=8) + 3
        text = Text()
        for title, rows in sections:
            text.append(f"{title}\n", style="bold underline")
            for keys, what, binding_id in rows:
                text.append(keys.ljust(width), style="bold")
                text.append(what)
                text.append(f"  [{binding_id}]\n" if binding_id else "\n", style="dim")
            text.append("\n")
        text.rstrip()
        paths = getattr(app, "paths", None)
        where = f" ({_tilde(paths.settings_file)})" if paths is not None else ""
        remap = (
            f"\nRemap a key in the app's settings.json{where}: "
            '"keymap": {"<binding id, [dimmed] below>": "<keys>"}.'
        )
        with VerticalScroll(id="help-box"):
            yield Static(
                Text.assemble(("shakespeare-tui\n", "bold"), ABOUT, remap, "\n"), id="help-about"
            )
            yield Static(text, id="help-keys")
