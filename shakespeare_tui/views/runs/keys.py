"""The Runs view's keys (ids for the keymap, tooltips for the help and the palette), and where
each is offered: in the filter field the printable keys are typed."""

from __future__ import annotations

from textual.binding import Binding

SMOOTHING = Binding.Group("Smooth", compact=True)  # "[] Smooth"

KEYS = [
    Binding("space", "toggle_select", "Select", id="runs.select",
            tooltip="Select the highlighted run (or unselect it): its curves join the chart"),
    Binding("a", "select_top", "Top 10", show=False, id="runs.select_top",
            tooltip="Select the first ten runs as sorted (o to sort by best val: the best ten)"),
    Binding("c", "clear_selection", "Unselect all", show=False, id="runs.clear",
            tooltip="Unselect every run"),
    Binding("slash", "filter", "Filter", id="runs.filter",
            tooltip="Type to keep the runs whose name, cell, corpus or state hold every word"),
    Binding("escape", "escape", "Clear filter", show=False, id="runs.escape",
            tooltip="Clear the filter and go back to the table"),
    Binding("o", "sort(1)", "Sort", id="runs.sort",
            tooltip="Sort by the next column (O the previous one; a click on a header sorts)"),
    Binding("O", "sort(-1)", "Sort back", show=False, id="runs.sort_back",
            tooltip="Sort by the previous column"),
    Binding("r", "reverse", "Reverse", show=False, id="runs.reverse",
            tooltip="Reverse the order of the sort"),
    Binding("left_square_bracket", "smoothing(-1)", "Less", key_display="[", group=SMOOTHING,
            id="runs.smooth_less", tooltip="Smooth the training curves less"),
    Binding("right_square_bracket", "smoothing(1)", "More", key_display="]", group=SMOOTHING,
            id="runs.smooth_more",
            tooltip="Smooth the training curves more (0, 0.6, 0.8, 0.9, 0.95, 0.99)"),
    Binding("x", "next_x_axis", "X-axis", id="runs.x_axis",
            tooltip="Put the step, the characters seen or the wall time on the x-axis"),
    Binding("l", "toggle_log", "Log", show=False, id="runs.log",
            tooltip="A logarithmic loss axis, or a linear one"),
    Binding("z", "toggle_fit", "Fit all", show=False, id="runs.fit",
            tooltip="Fit the loss axis to every point, or leave out the highest 5% (the first "
            "steps), as TensorBoard does by default"),
    Binding("b", "toggle_bits", "Bits", show=False, id="runs.bits",
            tooltip="Losses in bits per character, or in nats"),
    Binding("v", "next_curves", "Curves", show=False, id="runs.curves",
            tooltip="Draw training and validation curves, validation only, or training only"),
    Binding("T", "continue_run", "Continue", id="runs.continue",
            tooltip="Continue the highlighted run: the Train view with it selected (s resumes)"),
    Binding("G", "generate", "Generate", show=False, id="runs.generate",
            tooltip="Generate from the highlighted run's best checkpoint"),
    Binding("I", "inspect", "Inspect", show=False, id="runs.inspect",
            tooltip="Inspect the highlighted run's best checkpoint"),
    Binding("n", "rename", "Rename", show=False, id="runs.rename",
            tooltip="Rename the highlighted run"),
    Binding("d,delete", "delete", "Delete", show=False, id="runs.delete",
            tooltip="Delete the highlighted run (it asks first)"),
    Binding("e", "export", "Export", show=False, id="runs.export",
            tooltip="Export the highlighted run's best checkpoint, weights only in bf16, to the "
            "data folder's exports/"),
    Binding("Q", "queue", "Queue", show=False, id="runs.queue",
            tooltip="Show the run queue"),
]  # fmt: skip

TYPING = {"toggle_select", "select_top", "clear_selection", "filter", "sort", "reverse",
          "smoothing", "next_x_axis", "toggle_log", "toggle_fit", "toggle_bits", "next_curves",
          "continue_run", "generate", "inspect", "rename", "delete", "export",
          "queue"}  # fmt: skip


def offered(action: str, *, in_field: bool) -> bool:
    """Whether `action` works now (False hides it from the footer and the palette)."""
    return not (in_field and action in TYPING)
