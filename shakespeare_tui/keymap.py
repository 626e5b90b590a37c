"""The person's own keys: a `keymap` table in settings.json, binding id → keys, as posting does.

    "keymap": {"train.toggle": "space", "generate.colour": "k,ctrl+k"}

Every binding has an id (the help lists them); an entry naming no binding, or giving no key, is
reported once and ignored. Textual's `App.set_keymap` applies the rest to every view.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from textual.app import App
from textual.binding import Binding

# A key as Textual names it: a printable character, or a name with modifiers ("ctrl+s").
_KEY = re.compile(r"^(\S|[a-z0-9_]+(\+[a-z0-9_]+)*)$")


def view_bindings(view: type) -> list[tuple[type, Binding]]:
    """A view's keys with the class that owns each: the screen's own, then those of the
    widgets it lists in `KEYED_WIDGETS` (a binding lives on the widget whose behaviour it
    drives, and works while the focus is inside that widget). The help, the command palette
    and the keymap all read a view's keys here."""
    owners = (view, *getattr(view, "KEYED_WIDGETS", ()))
    return [
        (owner, binding)
        for owner in owners
        for binding in owner.BINDINGS
        if isinstance(binding, Binding)
    ]


def binding_ids(views: Iterable[type]) -> dict[str, Binding]:
    """Every binding a person can remap, by id: those of `views` (the app and its views)."""
    return {
        binding.id: binding for view in views for _, binding in view_bindings(view) if binding.id
    }


def check_keymap(raw: dict, views: Iterable[type]) -> tuple[dict[str, str], list[str]]:
    """(the usable entries, one line per unusable one), for the bindings of `views`."""
    known = binding_ids(views)
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


def keys_of(app: App[object], binding: Binding) -> str:
    """The keys a binding answers to now: the person's (ShakespeareApp's `keymap`; a test app
    may have none), else its own."""
    keymap: dict[str, str] = getattr(app, "keymap", {})
    return keymap.get(binding.id, binding.key) if binding.id else binding.key
