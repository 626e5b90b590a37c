"""A view's footer that fits: the keys its width holds, and `? keys` for the others.

The Inspect and Runs views have more keys than 80 columns hold (Inspect more than 120), and
Textual's footer cuts what does not fit wherever it falls (Inspect's at 80 columns after
", . Bran", hiding m, f and s; the Runs view's after "? H", hiding Help and Quit). This one keeps
the keys in the view's order of usefulness while they fit, shows them in the footer's own order, and when
any is left out it ends on the help key, labelled "keys": the help lists every key, and so does
the command palette.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.cells import cell_len
from textual.app import ComposeResult
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
    """A footer that holds the keys its width allows, the binding ids in `first` first."""

    def __init__(self, first: Sequence[str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.first = tuple(first)  # binding ids, most useful first; the others follow
        self.left_out: tuple[str, ...] = ()  # the ids of the keys not shown
        self._width = 0  # the width the keys were chosen for

    def on_resize(self) -> None:
        if self.size.width != self._width:
            self.call_after_refresh(self.recompose)

    def compose(self) -> ComposeResult:
        widgets = list(super().compose())
        if widgets:
            self._width = self.size.width
            yield from self._fitting(widgets, self._width)

    def _fitting(self, widgets: list[Widget], width: int) -> Iterable[Widget]:
        """The footer's keys (Textual's FooterKeys) that fit in `width` cells."""
        active = self.screen.active_bindings
        # The command palette's key, docked right (its border is in its padding).
        footer_keys = [w for w in widgets if isinstance(w, FooterKey)]
        palette = [w for w in footer_keys if w.has_class("-command-palette")]
        for widget in palette:
            width -= key_width(widget.key_display, widget.description, False)
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
        shown = [key for key in keys if key in kept or key is help_key]
        if help_key is not None and self.left_out:
            help_key.description = HELP_SHORT  # and last: where the line ends
            shown.remove(help_key)
            shown.append(help_key)
        yield from shown
        # A group of keys (none in the views that use this footer) is a widget of its own:
        # kept, not measured.
        yield from (w for w in widgets if not isinstance(w, FooterKey))
        yield from palette
