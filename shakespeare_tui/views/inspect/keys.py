"""The Inspect view's keys (ids for the keymap, tooltips for the help and the palette)."""

from __future__ import annotations

from textual.binding import Binding

KEYS = [
    # One footer entry for each pair: "[ ]" and ", ." (the second key of a pair is hidden).
    Binding("right_square_bracket", "step_unit(1)", "Unit", key_display="[ ]",
            id="inspect.next_unit", tooltip="Show the next unit in the lens ([ the previous)"),
    Binding("left_square_bracket", "step_unit(-1)", "Prev unit", key_display="[", show=False,
            id="inspect.previous_unit", tooltip="Show the previous unit in the lens"),
    Binding("u", "type_unit", "Unit…", id="inspect.unit",
            tooltip="Type a unit number (or layer:unit) to show in the lens"),
    Binding("l", "next_layer", "Layer", id="inspect.layer",
            tooltip="Show the same unit of the next layer"),
    Binding("v", "next_quantity", "Quantity", id="inspect.quantity",
            tooltip="Cycle what the lens shows: tanh(c), c, h, then each gate"),
    Binding("r", "toggle_ranks", "Ranks", id="inspect.ranks",
            tooltip="Colour characters by their rank in the prediction (GLTR) or by the unit"),
    Binding("1", "fork(1)", "Fork", key_display="1–9", id="inspect.fork",
            tooltip="Take that alternative at the cursor (1–9, 0 the tenth; in generated "
            "text): the model goes on from it in a new branch"),
    # No description: the help and the palette list "1–9" once, above.
    *[Binding(str(n % 10), f"fork({n})", "", show=False, id=f"inspect.fork_{n}")
      for n in range(2, 11)],
    Binding("full_stop", "switch_branch(1)", "Branch", key_display=", .",
            id="inspect.next_branch", tooltip="At a fork (or the last one before the cursor), "
            "show the next branch"),
    Binding("comma", "switch_branch(-1)", "Prev branch", key_display=",", show=False,
            id="inspect.previous_branch", tooltip="At a fork, show the previous branch"),
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
    Binding("b", "show_forks_tab", "Forks", id="inspect.forks",
            tooltip="List the branches of the fork tree (enter shows one)"),
    Binding("ctrl+s", "save_forks", "Save forks", show=False, id="inspect.save_forks",
            tooltip="Save the fork tree as JSON (in the data folder's forks/)"),
    Binding("o", "open_forks", "Open forks", show=False, id="inspect.open_forks",
            tooltip="Open a saved fork tree"),
    Binding("escape", "escape", "Clear", show=False, id="inspect.escape",
            tooltip="Stop a growing branch; clear the marked span; in a list, go back to the "
            "text"),
]  # fmt: skip
