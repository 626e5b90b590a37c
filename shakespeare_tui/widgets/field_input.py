"""A text field whose every key takes effect in the order it was typed.

Textual's Input inserts a printable character as soon as its key reaches the field, but its
editing keys (ctrl+u, ctrl+w, ctrl+k, backspace, the arrows, paste) are bindings: their key
bubbles up through every container to the App, which only then runs the field's action. Keys
that arrive together (fast typing, a paste, tmux's send-keys: "ctrl+u 420" in one read) overtake
that trip, so ctrl+u ran after "420" and emptied the field (upstream: Textualize/textual#6605).
This field runs its own editing bindings the moment their key reaches it, as the App would
(priority bindings are still checked first, before the key gets here).
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class FieldInput(Input):
    """An Input that never reorders keystrokes, and is not styled before it is mounted."""

    def update_node_styles(self, animate: bool = True) -> None:
        # Textual restyles a widget whenever one of its classes changes, also while it is being
        # built, when the styles are thrown away: mounting styles it with the classes it has by
        # then. An Input sets -valid (and -textual-compact) as it is built: 170 of the 1,158
        # style applications of the Train view's start, for its 19 fields.
        if self.is_attached:
            super().update_node_styles(animate)

    async def _on_key(self, event: events.Key) -> None:
        if event.is_printable:
            return  # Input's own handler (next in the MRO) inserts it, in order
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if not binding.priority and await self.app.run_action(binding.action, self):
                # Done here: the key neither bubbles on nor runs a second time at the App.
                event.stop()
                event.prevent_default()
                return
