"""The Generate view: pick a checkpoint, set the sampling controls, stream text.

Torch is imported only inside the worker threads (reading checkpoint infos, loading a model,
sampling), never on the UI thread or at import time. The checkpoint list is the app's shared
listing (shared_listing.py: read in its worker, posted here as a ListingRefreshed); the text is
streamed by the output pane (output_pane.py), whose worker loads its own model copy from the
checkpoint file, so it can run while training goes on in another worker.

Every key of the view is in BINDINGS below, with its action in this class. Textual asks
`check_action` before it shows a key in the footer or the command palette and before it runs
one: a key is offered only where it works. In a text field the printable keys are typed, so
`[` and `]` are not offered there (the field takes `g`, `c` and `r` itself); `escape` stops a
generation from anywhere, and otherwise leaves a text field.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Header, Input, OptionList

from shakespeare_tui.core.errors import SamplingError, one_line
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.runs.checkpoints import FILE, CheckpointEntry, default_key
from shakespeare_tui.core.shown_text import shown
from shakespeare_tui.messages import ListingRefreshed
from shakespeare_tui.settings import GenerateSettings
from shakespeare_tui.shared_listing import SharedListing, shared_listing
from shakespeare_tui.views.file_picker import FilePickerScreen
from shakespeare_tui.views.generate.form import GenerateForm
from shakespeare_tui.views.generate.output_pane import OutputPane
from shakespeare_tui.widgets.checkpoint_picker import CheckpointPicker, unreadable
from shakespeare_tui.widgets.keys_footer import KeysFooter

# Below this width the controls sit above the output instead of beside it (app.tcss).
# The footer's keys by use, where the width holds only some (80 columns).
FOOTER_FIRST = ("generate.start_stop", "generate.stop", "app.quit", "generate.colder",
                "generate.open", "generate.save", "generate.forget", "generate.colour",
                "generate.reuse_seed", "app.train", "app.inspect")  # fmt: skip
NARROW_BELOW = 100
MAX_OPENED = 10  # files opened by hand that the list keeps
TEMPERATURE_KEYS = Binding.Group("Temp", compact=True)  # "[] Temp"


class GenerateScreen(Screen):
    """Stream text from a checkpoint; the app mounts it as its "generate" mode."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW_BELOW, "-wide")]
    # Ids for the keymap, tooltips for the help and the palette.
    BINDINGS = [
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
            group=TEMPERATURE_KEYS,
            id="generate.colder",
            tooltip="Lower the temperature by 0.1: safer, more repetitive text.",
        ),
        Binding(
            "right_square_bracket,plus",
            "nudge_temperature(1)",
            "Warmer",
            key_display="]",
            group=TEMPERATURE_KEYS,
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
            "x",
            "forget_file",
            "Forget",
            id="generate.forget",
            tooltip="Take the highlighted file opened by path off the list (the file itself is "
            "left as it is).",
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
        Binding(
            "i",
            "inspect_checkpoint",
            "Inspect model",
            show=False,  # the footer is full at 80 columns; the help and the palette list it
            id="generate.inspect_checkpoint",
            tooltip="Show the highlighted checkpoint in the Inspect view.",
        ),
    ]

    def __init__(self, paths: Paths, settings: GenerateSettings, **kwargs) -> None:
        super().__init__(**kwargs)
        self.paths = paths
        self.settings = settings
        self._listing: SharedListing | None = None  # the app's, once mounted
        self._scanned = False  # the list has been read once
        self._generate_when_scanned = False  # `g` came before the first scan ended
        self._saying_why = False  # the status line says why the highlighted entry is unusable

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Whether `action` works now (False hides it from the footer and the palette)."""
        in_field = isinstance(self.focused, Input)
        if action == "stop":
            return self.generating
        if action == "leave_field":
            return in_field and not self.generating
        if action == "nudge_temperature":
            return not in_field
        if action == "open_file":
            return not in_field and not self.generating
        if action == "forget_file":
            entry = self.query_one(CheckpointPicker).selected_entry
            return not in_field and entry is not None and entry.kind == FILE
        if action == "inspect_checkpoint":
            return not in_field
        return True

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="generate-body"):
            with Vertical(id="generate-controls"):
                picker = CheckpointPicker(id="picker")
                picker.border_title = "Checkpoint"
                yield picker
                yield GenerateForm(self.settings, id="generate-form")
            yield OutputPane(
                id="generate-output-box", colour_by_probability=self.settings.colour_by_probability
            )
        yield KeysFooter(FOOTER_FIRST, compact_below=NARROW_BELOW)

    def on_mount(self) -> None:
        self.query_one(CheckpointPicker).focus()
        # Runs trained elsewhere (the CLI, another app) appear without a key press: the
        # listing reads the disk every few seconds.
        self._listing = shared_listing(self.app, self.paths, self.settings.files)
        self._listing.subscribe(self)

    def on_screen_resume(self) -> None:
        if self._scanned:
            self._scan()

    # -- checkpoints ------------------------------------------------------------------------

    def refresh_checkpoints(self) -> None:
        """Rescan the runs (training saved a checkpoint), keeping the selection."""
        self._scan()

    def _scan(self) -> None:
        """Read the list again (in the shared listing's worker)."""
        if self._listing is not None:
            self._listing.refresh()

    def on_listing_refreshed(self, message: ListingRefreshed) -> None:
        """Show the list, highlighting the remembered checkpoint or else the default one.

        `settings.checkpoint` holds only what the person chose (highlighted or generated
        from), so an automatic choice follows the files: a best saved by training that goes on
        becomes the preselected entry until the person picks one. A reading that changed
        nothing redraws nothing.
        """
        if message.error:
            self._pane.status.say(message.error)
        if message.changed or not self._scanned:
            entries = list(message.listed.checkpoints)
            picker = self.query_one(CheckpointPicker)
            key = default_key(entries, self.settings.checkpoint)
            with self.prevent(OptionList.OptionHighlighted):  # not the person's choice
                picker.show_entries(entries, key)
            if not self._scanned and picker.selected_entry is not None:
                self._say_why(picker.selected_entry)  # (later, what generation said stays)
            self.refresh_bindings()  # Forget is offered on a file opened by path
        self._scanned = True
        if self._generate_when_scanned:
            self._generate_when_scanned = False
            self.action_generate()

    @on(OptionList.OptionHighlighted, "#picker")
    def _checkpoint_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        entry = self.query_one(CheckpointPicker).entry_at(event.option_index)
        if entry is not None:
            self.settings.checkpoint = entry.key
            self._say_why(entry)
        self.refresh_bindings()  # Forget is offered on a file opened by path

    def _say_why(self, entry: CheckpointEntry) -> None:
        """An unusable entry's reason, whole, on the status line (the list cuts it)."""
        if self.generating:
            return
        status = self._pane.status
        if not entry.ok:
            forget = " · x forgets it" if entry.kind == FILE else ""
            status.say(unreadable(entry) + forget, unreadable(entry))
            self._saying_why = True
        elif self._saying_why:
            self._saying_why = False
            status.idle()

    @on(Input.Submitted)
    def _field_submitted(self, event: Input.Submitted) -> None:
        if not self.generating:
            self.action_generate()

    # -- actions ------------------------------------------------------------------------------

    @property
    def _pane(self) -> OutputPane:
        return self.query_one(OutputPane)

    @property
    def generating(self) -> bool:
        return self._pane.generating

    def action_generate(self) -> None:
        """Start streaming, or stop the stream that is running."""
        pane = self._pane
        if pane.generating:
            pane.stop()
            return
        entry = self.query_one(CheckpointPicker).selected_entry
        if entry is None and not self._scanned:
            self._generate_when_scanned = True  # starts as soon as the list is there
            pane.status.say("waiting for the checkpoint list…")
            return
        if entry is None:
            self._tell("Cannot generate: no checkpoint to use yet", severity="warning")
            return
        if not entry.ok:
            self._tell(unreadable(entry), title="Cannot generate", severity="error")
            return
        form = self.query_one(GenerateForm)
        try:
            settings = form.read()
        except SamplingError as exc:
            self._tell(exc.worded(form.label_of), title="Cannot generate", severity="error")
            return
        self.settings.checkpoint = entry.key  # generated from: remembered from now on
        pane.start(entry.path, entry.title, settings)

    def action_stop(self) -> None:
        self._pane.stop()

    def action_leave_field(self) -> None:
        self.query_one(CheckpointPicker).focus()

    def action_nudge_temperature(self, direction: int) -> None:
        self.query_one(GenerateForm).nudge_temperature(direction)

    def action_toggle_colour(self) -> None:
        self.settings.colour_by_probability = self._pane.toggle_colour()

    def action_replay_seed(self) -> None:
        seed = self._pane.last_seed
        if seed is None:
            self._tell("No seed yet: generate something first.", severity="warning")
            return
        self.query_one(GenerateForm).set_seed(seed)

    def action_save_output(self) -> None:
        text = self._pane.text
        if not text.strip():
            self._tell("Nothing to save yet.", severity="warning")
            return
        folder = self.paths.samples
        path = folder / f"{dt.datetime.now().strftime('%Y%m%d-%H%M%S-%f')}.txt"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(self._pane.made_with + "\n" + text + "\n", encoding="utf-8")
        except OSError as exc:
            self._tell(f"Cannot save to {folder}: {exc.strerror or exc}", severity="error")
            return
        self._tell(f"Saved to {path}", title="Output saved")

    def action_forget_file(self) -> None:
        """Take a file opened by path off the list and out of settings.json (an unreadable one
        would otherwise stay listed at every launch)."""
        entry = self.query_one(CheckpointPicker).selected_entry
        if entry is None or entry.kind != FILE:
            self._tell("Only a file opened by path (o) can be forgotten.", severity="warning")
            return
        self.settings.files = [f for f in self.settings.files if f != entry.key]
        if self.settings.checkpoint == entry.key:
            self.settings.checkpoint = ""
        save = getattr(self.app, "save_settings", None)  # None in a bare test app
        if save is not None:
            save()
        if self._listing is not None:
            self._listing.set_files(self.settings.files)
        self._tell(f"{shown(entry.title)} is no longer listed (the file is left as it is)")

    def action_inspect_checkpoint(self) -> None:
        """The highlighted checkpoint in the Inspect view (not the one it showed last)."""
        entry = self.query_one(CheckpointPicker).selected_entry
        opener = getattr(self.app, "inspect_checkpoint", None)  # None in a bare test app
        if entry is None or opener is None:
            self._tell("No checkpoint to inspect yet", severity="warning")
            return
        if not entry.ok:
            self._tell(unreadable(entry), title="Cannot inspect", severity="error")
            return
        opener(entry.path, entry.title)

    def action_open_file(self) -> None:
        def chosen(path: str | None) -> None:
            if not path:
                return
            files = [f for f in self.settings.files if f != path]
            self.settings.files = [path, *files][:MAX_OPENED]
            self.settings.checkpoint = path  # highlighted when the scan shows it
            if self._listing is not None:
                self._listing.set_files(self.settings.files)

        start = Path(self.settings.files[0]).parent if self.settings.files else Path.cwd()
        self.app.push_screen(FilePickerScreen("A checkpoint", start, (".pt",)), chosen)

    def action_inspect_output(self) -> None:
        """The output, with the checkpoint and the settings that wrote it, in the Inspect view."""
        text = self._pane.text
        made_from = self._pane.made_from
        opener = getattr(self.app, "inspect_text", None)  # None in a bare test app
        if made_from is None or not text or opener is None:
            self._tell("Nothing to inspect yet: generate something first.", severity="warning")
            return
        path, title, settings = made_from
        opener(path, title, text, "the text just generated", settings)

    # -- what the output pane tells ------------------------------------------------------------

    @on(OutputPane.Started)
    def _seed_drawn(self, message: OutputPane.Started) -> None:
        self.query_one(GenerateForm).show_last_seed(message.seed)

    @on(OutputPane.Failed)
    def _generation_failed(self, message: OutputPane.Failed) -> None:
        error = message.error
        assert error is not None, "the pane posts Failed for a worker that raised"
        form = self.query_one(GenerateForm)
        if isinstance(error, SamplingError):
            form.show_problem(error)
            text = error.worded(form.label_of)
        else:
            text = one_line(error)
        if message.current:
            self._pane.status.failed(text)
        self._tell(text, title="Cannot generate", severity="error")
        if not isinstance(error, SamplingError):
            self._scan()  # the file may have changed or gone: show the list as it is now

    # -- telling the person ---------------------------------------------------------------------

    def _tell(self, text: str, *, title: str = "", severity: SeverityLevel = "information") -> None:
        """A notification; its text is shown as is (a file name or prompt may hold [brackets])."""
        self.notify(text, title=title, severity=severity, markup=False)
