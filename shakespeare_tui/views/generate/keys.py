"""The Generate view's keys, and where each is offered.

Textual asks the screen's `check_action` before it shows a key in the footer or the command
palette and before it runs one: a key is offered only where it works. In a text field the
printable keys are typed, so `[` and `]` are not offered there (the field takes `g`, `c` and
`r` itself); `escape` stops a generation from anywhere, and otherwise leaves a text field.
"""

from __future__ import annotations

from textual.binding import Binding

TEMPERATURE = Binding.Group("Temp", compact=True)  # "[] Temp"

KEYS = [
    Binding(
        "g",
        "generate",
        "Generate",
        id="generate.start_stop",
        tooltip="Generate text from the chosen checkpoint; press again to stop.",
    ),
    Binding(
        "escape",
        "stop",
        "Stop",
        id="generate.stop",
        tooltip="Stop generating (from anywhere, a text field too).",
    ),
    Binding(
        "escape",
        "leave_field",
        "Leave field",
        id="generate.leave_field",
        tooltip="Leave the text field, so the single-letter keys work again.",
    ),
    Binding(
        "left_square_bracket,minus",
        "nudge_temperature(-1)",
        "Colder",
        key_display="[",
        group=TEMPERATURE,
        id="generate.colder",
        tooltip="Lower the temperature by 0.1: safer, more repetitive text.",
    ),
    Binding(
        "right_square_bracket,plus",
        "nudge_temperature(1)",
        "Warmer",
        key_display="]",
        group=TEMPERATURE,
        id="generate.warmer",
        tooltip="Raise the temperature by 0.1: wilder text.",
    ),
    Binding(
        "c",
        "toggle_colour",
        "Colour",
        id="generate.colour",
        tooltip="Colour each character by the model's confidence (green) or surprise (red).",
    ),
    Binding(
        "r",
        "replay_seed",
        "Reuse seed",
        id="generate.reuse_seed",
        tooltip="Put the last seed into the seed field, so `g` replays the same text.",
    ),
    Binding(
        "o",
        "open_file",
        "Open",
        id="generate.open",
        tooltip="Open a checkpoint file from anywhere on disk.",
    ),
    Binding(
        "ctrl+r",
        "rescan",
        "Rescan",
        show=False,  # the list rescans by itself; the help and the palette have it
        id="generate.rescan",
        tooltip="Look for new checkpoints now (the list also refreshes every few seconds).",
    ),
    Binding(
        "ctrl+s",
        "save_output",
        "Save",
        id="generate.save",
        tooltip="Save the generated text to a file under the data directory.",
    ),
    Binding(
        "I",
        "inspect_output",
        "Inspect",
        show=False,  # the footer is full at 80 columns; the help and the palette list it
        id="generate.inspect",
        tooltip="Open the generated text in the Inspect view, with this checkpoint.",
    ),
]


def offered(action: str, *, generating: bool, in_field: bool) -> bool:
    """Whether `action` works now (False hides it from the footer and the palette)."""
    if action == "stop":
        return generating
    if action == "leave_field":
        return in_field and not generating
    if action == "nudge_temperature":
        return not in_field
    if action == "open_file":
        return not in_field and not generating
    return True
