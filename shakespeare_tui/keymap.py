"""The person's own keys: a `keymap` table in settings.json, binding id → keys, as posting does.

    "keymap": {"train.toggle": "space", "generate.colour": "k,ctrl+k"}

Every binding has an id (the help lists them); an entry naming no binding, or giving no key, is
reported once and ignored. Textual's `App.set_keymap` applies the rest to every view.
"""

from __future__ import annotations

import re

from textual.binding import Binding

# A key as Textual names it: a printable character, or a name with modifiers ("ctrl+s").
_KEY = re.compile(r"^(\S|[a-z0-9_]+(\+[a-z0-9_]+)*)$")


def binding_ids() -> dict[str, Binding]:
    """Every binding a person can remap, by id: the app's and each view's."""
    from shakespeare_tui.app import ShakespeareApp
    from shakespeare_tui.screens.generate import GenerateScreen
    from shakespeare_tui.screens.help import HelpScreen
    from shakespeare_tui.screens.inspect import InspectScreen
    from shakespeare_tui.screens.runs import RunsScreen
    from shakespeare_tui.screens.train import TrainScreen

    found = {}
    screens = (TrainScreen, GenerateScreen, InspectScreen, RunsScreen, HelpScreen)
    for owner in (ShakespeareApp, *screens):
        for binding in owner.BINDINGS:
            if isinstance(binding, Binding) and binding.id:
                found[binding.id] = binding
    return found


def check_keymap(raw: dict) -> tuple[dict[str, str], list[str]]:
    """(the usable entries, one line per unusable one)."""
    known = binding_ids()
    usable: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, keys in raw.items():
        if binding_id not in known:
            problems.append(f"{binding_id!r} names no binding")
            continue
        parts = [k.strip() for k in keys.split(",")] if isinstance(keys, str) else []
        if not parts or not all(_KEY.match(k) for k in parts):
            problems.append(f"{binding_id!r}: {keys!r} is not a key or a comma-separated list")
            continue
        usable[binding_id] = ",".join(parts)
    return usable, problems


def keys_of(app, binding: Binding) -> str:
    """The keys a binding answers to now: the person's, else its own."""
    return getattr(app, "keymap", {}).get(binding.id, binding.key) if binding.id else binding.key
