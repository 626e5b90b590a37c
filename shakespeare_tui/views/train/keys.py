"""The Train view's keys (ids for the keymap, tooltips for the help and the palette)."""

from __future__ import annotations

from textual.binding import Binding

KEYS = [
    Binding(
        "s",
        "toggle_training",
        "Start/stop",
        id="train.toggle",
        tooltip="Start training, stop it (saving a resumable checkpoint), or resume",
    ),
    Binding(
        "n",
        "sample_now",
        "Sample now",
        id="train.sample",
        tooltip="Draw a sample from the weights as they are now (training goes on)",
    ),
    Binding(
        "b",
        "toggle_bits",
        "Bits/nats",
        id="train.bits",
        tooltip="Show every loss in bits or nats per character",
    ),
    Binding(
        "ctrl+o",
        "pick_corpus",
        "Corpus file",
        show=False,  # a crowded footer; the help and the palette list it
        id="train.pick_corpus",
        tooltip="Choose the corpus from a folder tree",
    ),
    Binding(
        "f",
        "toggle_form",
        "Settings",
        id="train.form",
        tooltip="Hide or show the settings, giving the chart the whole width",
    ),
    Binding(
        "escape",
        "leave_input",
        "Leave field",
        show=False,
        id="train.leave_input",
        tooltip="Move focus out of the settings field",
    ),
    Binding(
        "a",
        "queue_run",
        "Queue",
        id="train.queue_run",
        tooltip="Add the form's run to the queue instead of starting it",
    ),
    Binding(
        "w",
        "work_queue",
        "Work queue",
        show=False,
        id="train.work_queue",
        tooltip="Train the queued runs one after another",
    ),
]
