"""The Inspect view's keys (ids for the keymap, tooltips for the help and the palette)."""

from __future__ import annotations

from textual.binding import Binding

KEYS = [
    Binding("right_square_bracket", "step_unit(1)", "Next unit", key_display="]",
            id="inspect.next_unit", tooltip="Show the next unit in the lens"),
    Binding("left_square_bracket", "step_unit(-1)", "Prev unit", key_display="[",
            id="inspect.previous_unit", tooltip="Show the previous unit in the lens"),
    Binding("u", "type_unit", "Unit…", id="inspect.unit",
            tooltip="Type a unit number (or layer:unit) to show in the lens"),
    Binding("l", "next_layer", "Layer", id="inspect.layer",
            tooltip="Show the same unit of the next layer"),
    Binding("v", "next_quantity", "Quantity", id="inspect.quantity",
            tooltip="Cycle what the lens shows: tanh(c), c, h, then each gate"),
    Binding("r", "toggle_ranks", "Ranks", id="inspect.ranks",
            tooltip="Colour characters by their rank in the prediction (GLTR) or by the unit"),
    Binding("m", "mark", "Mark span", id="inspect.mark",
            tooltip="Mark a span's start, then its end: the units on over it, and where "
            "else they fire"),
    Binding("f", "show_tab('tab-finder')", "Finder", id="inspect.finder",
            tooltip="Show the neuron finder: the units that track each feature"),
    Binding("s", "show_tab('tab-saturation')", "Saturation", id="inspect.saturation",
            tooltip="Show the gate saturation of the lens's layer"),
    Binding("c", "show_tab('tab-checkpoint')", "Checkpoint", id="inspect.checkpoints",
            tooltip="Choose the checkpoint to inspect (enter inspects it)"),
    Binding("h", "held_out", "Held out", id="inspect.held_out",
            tooltip="Inspect a passage of the checkpoint's held-out text"),
    Binding("p", "type_text", "Type text", id="inspect.type_text",
            tooltip="Type or paste a text to inspect"),
    Binding("escape", "escape", "Clear", show=False, id="inspect.escape",
            tooltip="Clear the marked span; in a list, go back to the text"),
]  # fmt: skip
