"""A view's footer that fits: the keys its width holds, and `? keys` for the others.

The Inspect and Runs views have more keys than 80 columns hold (Inspect more than 120), and
Textual's footer cuts what does not fit wherever it falls (Inspect's at 80 columns after
", . Bran", hiding m, f and s; the Runs view's after "? H", hiding Help and Quit). This one keeps
the keys in the view's order of usefulness while they fit, shows them in the footer's own order, and when
any is left out it ends on the help key, labelled "keys": the help lists every key, and so does
the command palette.

It also rebuilds itself only when the keys it shows change. A screen refreshes its bindings on
every edit of a form field and every move of the focus, and Textual's footer then builds all its
keys anew and restyles each: in the Train view that was most of the UI thread's work while a
person typed, and about a fifth of a Train snapshot test's time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.compose import compose as compose_children
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey  # not exported; Textual is pinned exactly

HELP_ID = "app.help"  # the key that lists the others
HELP_SHORT = "keys"  # its label when some keys are left out


def key_width(key_display: str, description: str, compact: bool) -> int:
    """The cells a footer key takes (Textual's FooterKey: its padding, and its margin when
    compact)."""
    key, text = cell_len(key_display), cell_len(description)
    if compact:  # no padding round the key; one cell before the description, one after all
        return key + (1 + text if text else 0) + 1
    return 1 + key + 1 + (text + 1 if text else 0)  # " key " then "text "


class KeysFooter(Footer):
    """A footer that holds the keys its width allows, the binding ids in `first` first.

    Below `compact_below` columns it packs its keys and leaves out the palette's `^p` (the
    palette is still there, and the help names its key): Textual's spacing fits few keys in 80.
    """

    def __init__(
        self, first: Sequence[str] = (), *, compact_below: int = 110, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.first = tuple(first)  # binding ids, most useful first; the others follow
        self.compact_below = compact_below
        self.left_out: tuple[str, ...] = ()  # the ids of the keys not shown
        self._width = 0  # the width the keys were chosen for
        self._shown: tuple[object, ...] | None = None  # what the keys were built from

    def on_resize(self) -> None:
        self.compact = self.size.width < self.compact_below
        self.show_command_palette = not self.compact
        if self.size.width != self._width:
            self.call_after_refresh(self.recompose)

    def bindings_changed(self, screen: Screen) -> None:
        if self._shown is not None and self._keys_of(screen) == self._shown:
            return  # the same keys, the same way: nothing to build
        super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        widgets = compose_children(self, super().compose())  # (a group's keys inside it)
        if widgets:
            self._width = self.size.width
            self._shown = self._keys_of(self.screen)
            yield from self._fitting(widgets, self._width)

    def _keys_of(self, screen: Screen) -> tuple[object, ...]:
        """All that Textual's footer draws its keys from, on `screen` now."""
        app = screen.app
        return tuple(
            (key, app.get_key_display(binding), binding.description, binding.group, enabled, tip)
            for key, (_, binding, enabled, tip) in screen.active_bindings.items()
            if binding.show or key == app.COMMAND_PALETTE_BINDING
        ) + (self.show_command_palette, self.compact)

    def _fitting(self, widgets: list[Widget], width: int) -> Iterable[Widget]:
        """The footer's keys (Textual's FooterKeys) that fit in `width` cells."""
        active = self.screen.active_bindings
        # The command palette's key, docked right (its border is in its padding).
        footer_keys = [w for w in widgets if isinstance(w, FooterKey)]
        palette = [w for w in footer_keys if w.has_class("-command-palette")]
        for widget in palette:
            width -= key_width(widget.key_display, widget.description, False)
        width -= self._groups_width(active)
        keys = [w for w in footer_keys if w not in palette and w.key in active]
        ids = {key: active[key.key].binding.id or key.key for key in keys}
        help_key = next((key for key in keys if ids[key] == HELP_ID), None)

        def cells(key: FooterKey, description: str | None = None) -> int:
            text = key.description if description is None else description
            return key_width(key.key_display, text, self.compact)

        kept = set(keys)
        if sum(cells(key) for key in keys) > width:
            rank = {binding_id: n for n, binding_id in enumerate(self.first)}
            room = width - (cells(help_key, HELP_SHORT) if help_key is not None else 0)
            kept = set()
            for key in sorted(keys, key=lambda k: rank.get(ids[k], len(rank))):
                if key is not help_key and cells(key) <= room:
                    kept.add(key)
                    room -= cells(key)
        self.left_out = tuple(ids[key] for key in keys if key not in kept and key is not help_key)
        # In the footer's own order; a group of keys (a widget of its own) where it stood.
        shown = [
            w
            for w in widgets
            if w in kept or w is help_key or w in palette or not isinstance(w, FooterKey)
        ]
        if help_key is not None and self.left_out:
            help_key.description = HELP_SHORT  # and last before the palette: where keys end
            shown.remove(help_key)
            shown.insert(len(shown) - len(palette), help_key)
        yield from shown

    def _groups_width(self, active: Mapping[str, ActiveBinding]) -> int:
        """The cells the footer's groups of keys take, kept whole (Textual's KeyGroup: its keys,
        their padding and margins, then its label)."""
        groups: dict[Binding.Group, dict[str, Binding]] = {}
        for _, binding, _, _ in active.values():  # (a key per binding: by action, as drawn)
            if binding.show and binding.group is not None:
                groups.setdefault(binding.group, {}).setdefault(binding.action, binding)
        width = 0
        for group, bindings in groups.items():
            if len(bindings) < 2:  # a group of one is drawn as a single key
                continue
            for binding in bindings.values():
                width += cell_len(self.app.get_key_display(binding))
                width += (0 if self.compact else 2) + (0 if group.compact else 2)
            width += 2 if group.compact else 0  # the group's padding and margin
            width += cell_len(group.description) + (0 if self.compact else 1)
        return width
