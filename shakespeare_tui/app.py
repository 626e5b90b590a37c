"""The full-screen app: four views (Train, Generate, Inspect, Runs), global keys, commands and
remembered settings.

`make_app` is the one way to build it, shared by the CLI and the tests (which inject a scripted
trainer and a fixed device label). Nothing here imports torch: a thread worker loads it after
the first frame, and the header says "loading torch…" until then. What every view needs to hear
(torch is ready, the checkpoints changed) is broadcast through Signals the views subscribe to;
the lists of runs and checkpoints come from one SharedListing (shared_listing.py) for every view.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial

from textual import work
from textual.actions import parse as parse_action
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.signal import Signal
from textual.worker import Worker, WorkerState

from shakespeare_tui.core.errors import one_line
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.shown_text import shown
from shakespeare_tui.keymap import check_keymap, view_bindings
from shakespeare_tui.messages import HeaderInfo, TorchReady, TrainingStatus
from shakespeare_tui.settings import VIEWS, AppSettings
from shakespeare_tui.shared_listing import SharedListing
from shakespeare_tui.torch_loader import default_trainer, probe_device
from shakespeare_tui.view_host import ViewHost
from shakespeare_tui.views.generate.screen import GenerateScreen
from shakespeare_tui.views.help import HelpScreen
from shakespeare_tui.views.inspect.screen import InspectScreen
from shakespeare_tui.views.runs.screen import RunsScreen
from shakespeare_tui.views.train.screen import TrainScreen
from shakespeare_tui.widgets.breakpoints import add_breakpoint_classes

# Whose bindings a person may remap (settings.json's keymap): the app's and every view's
# (with the widgets each view keys: keymap.view_bindings).
KEYED_SCREENS = (TrainScreen, GenerateScreen, InspectScreen, RunsScreen, HelpScreen)


class ShakespeareApp(App):
    """Train a character-level model on Shakespeare, then make it write."""

    CSS_PATH = "app.tcss"
    TITLE = "shakespeare-tui"
    BINDINGS = [
        Binding("t", "show_view('train')", "Train", id="app.train", tooltip="Show the Train view"),
        Binding(
            "g",
            "show_view('generate')",
            "Generate",
            id="app.generate",
            tooltip="Show the Generate view",
        ),
        Binding(
            "i",
            "show_view('inspect')",
            "Inspect",
            show=False,  # 80 columns hold no more keys; the help and the palette name it
            id="app.inspect",
            tooltip="Show the Inspect view: what the network learned",
        ),
        Binding(
            "Q",
            "show_queue",
            "Queue",
            show=False,
            id="app.queue",
            tooltip="Show the run queue: reorder, cancel, start",
        ),
        Binding(
            "R",
            "show_view('runs')",
            "Runs",
            show=False,
            id="app.runs",
            tooltip="Show the Runs view: every run, their curves compared",
        ),
        Binding(
            "ctrl+r",
            "refresh_lists",
            "Refresh",
            show=False,  # the lists refresh by themselves; the help and the palette have it
            id="app.refresh",
            tooltip="Look for new runs and checkpoints now (the lists also refresh every few "
            "seconds)",
        ),
        Binding(
            "question_mark,f1",
            "help",
            "Help",
            id="app.help",
            tooltip="Show the keys and what they do",
        ),
        Binding(
            "q",
            "quit",
            "Quit",
            id="app.quit",
            tooltip="Quit (a training run stops and saves first)",
        ),
        Binding(
            "ctrl+q",
            "quit",
            "Quit",
            show=False,
            priority=True,
            id="app.quit_anywhere",
            tooltip="Quit, even from a text field",
        ),
    ]

    def __init__(
        self, paths: Paths, settings: AppSettings, trainer: Callable, probe: Callable
    ) -> None:
        # The remembered view is the mode Textual builds as it starts. Its own "_default" mode
        # (an empty screen) and a switch from it styled the first view's widgets again (a
        # switch resumes a new mode's screen twice): 262 of the 1,420 style applications of
        # the Train view's start.
        self.DEFAULT_MODE = settings.mode if settings.mode in VIEWS else "train"  # type: ignore[misc]
        super().__init__()
        self.paths = paths
        self.settings = settings
        self.trainer = trainer
        self._probe = probe
        self.device_label = "loading torch…"
        self.device_type: str | None = None
        self.keymap: dict[str, str] = {}  # the person's keys in force (binding id → keys)
        self.torch_ready: Signal[TorchReady] = Signal(self, "torch-ready")
        self.checkpoints_changed: Signal[str] = Signal(self, "checkpoints-changed")  # a path
        # The runs and checkpoints every view lists, read in a worker once the views subscribe.
        self.listing = SharedListing(self, paths, settings.generate.files)
        self._header = {"corpus": settings.train.corpus, "model": settings.train.preset}
        self.training_status = ""  # what the run being trained is doing, for every view
        self.training_device = ""  # the device line of the run being trained (its layout)
        self._train_screen: TrainScreen | None = None  # once built: quitting stops its run
        self._inspect_screen: InspectScreen | None = None  # once built: others hand over to it
        self._runs_screen: RunsScreen | None = None  # once built: it selects runs to compare
        self._runs_to_compare: tuple[str, ...] = ()  # for a Runs view built later
        builders = {
            "train": self._build_train,
            "generate": self._build_generate,
            "inspect": self._build_inspect,
            "runs": self._build_runs,
        }
        for view, build in builders.items():
            self.add_mode(view, partial(self._built, view, build))
        if settings.theme in self.available_themes:
            self.theme = settings.theme

    # -- the views, built when first shown -------------------------------------------------

    def _built(self, view: str, build: Callable[[], Screen]) -> Screen:
        """View `view`'s screen, carrying the classes of its breakpoints at this size. A view
        that cannot be built is a blank screen, and a toast says why: the app goes on (the
        first view is built as the app starts)."""
        try:
            screen = build()
        except Exception as exc:  # noqa: BLE001 - a view that cannot be built must not end the app
            self.notify(f"cannot open the {VIEWS[view]} view: {one_line(exc)}", severity="error")
            return Screen()
        add_breakpoint_classes(screen, self)
        return screen

    def _build_train(self) -> Screen:
        self._train_screen = TrainScreen(self.paths, self.settings.train, self.trainer)
        return self._train_screen

    def _build_generate(self) -> Screen:
        return GenerateScreen(self.paths, self.settings.generate)

    def _build_inspect(self) -> Screen:
        self._inspect_screen = InspectScreen(self.paths)
        return self._inspect_screen

    def _build_runs(self) -> Screen:
        self._runs_screen = RunsScreen(self.paths, self.settings.runs, listing=self.listing.listing)
        self._runs_screen.compare(self._runs_to_compare)
        return self._runs_screen

    # -- what one view asks of another -----------------------------------------------------

    def continue_run(self, name: str, trained_here: bool = False) -> str | None:
        """The Train view with run `name` selected, so `s` resumes it (a run another process
        trains is followed there, live); or why not."""
        train = self._train_screen
        if train is not None and train.training and not trained_here:
            return f"the Train view is training another run; stop it (s) to show {name} there"
        if not trained_here:
            self.settings.train.run = name  # what a Train view built now selects
            if train is not None and train.is_mounted:
                train.refresh_runs(name)
        self.action_show_view("train")
        return None

    def generate_from(self, checkpoint: str) -> None:
        """The Generate view with `checkpoint` (a path, or "bundled") highlighted."""
        self.settings.generate.checkpoint = checkpoint  # its next scan highlights it
        self.action_show_view("generate")

    def inspect_checkpoint(self, path: str, title: str) -> None:
        """The Inspect view on the checkpoint at `path`, over its corpus's held-out text."""
        self.action_show_view("inspect")
        if self._inspect_screen is not None:
            self._inspect_screen.inspect_checkpoint(path, title)

    def compare_runs(self, names: Iterable[str]) -> None:
        """The Runs view selects these runs as each appears (a queued run appears when it
        starts), overlaid by characters seen."""
        self._runs_to_compare = tuple(names)
        self.settings.runs.x_axis = "chars"
        if self._runs_screen is not None:
            self._runs_screen.compare(self._runs_to_compare)

    def compare_cells(self) -> None:
        """The Train view's "compare the cells" (C), from any view."""
        self.action_show_view("train")
        if self._train_screen is not None and self._train_screen.is_mounted:
            self._train_screen.action_compare_cells()
        else:
            self.call_later(self.compare_cells)

    def show_queue(self) -> None:
        """The run queue's dialog, from any view (the Train view works the queue)."""
        if self._train_screen is None or not self._train_screen.is_mounted:
            self.action_show_view("train")  # builds it; it offers a queue with runs left
            self.call_later(self.show_queue)
            return
        self._train_screen.show_queue()

    def inspect_text(self, path: str, title: str, text: str, source: str, settings=None) -> None:
        """Open the Inspect view on `text` with the checkpoint at `path` (and the settings it
        was generated with, seed set, so its forks can be taken)."""
        self.action_show_view("inspect")
        if self._inspect_screen is not None:
            self._inspect_screen.inspect(path, title, text, source, settings)

    # -- start-up ----------------------------------------------------------------------------

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast goes through the one sanitiser: a run's, a corpus's or a file's name in it
        comes from a file and may hold escape sequences the terminal would obey."""
        super().notify(shown(message, keep="\n"), title=shown(title), severity=severity,
                       timeout=timeout, markup=markup)  # fmt: skip

    def on_mount(self) -> None:
        self._apply_keymap()
        if self.settings.load_error:
            self.notify(
                f"{self.settings.load_error}: using defaults, and leaving the file as it is",
                severity="warning",
                timeout=10,
            )
        elif self.settings.load_warnings:
            shown = "; ".join(self.settings.load_warnings[:3])
            more = len(self.settings.load_warnings) - 3
            self.notify(
                f"settings.json: {shown}{f' (and {more} more)' if more > 0 else ''} — kept in "
                "the file, not used",
                severity="warning",
                timeout=10,
                markup=False,
            )
        self._update_header()
        self.theme_changed_signal.subscribe(self, lambda _theme: self.save_settings())
        self.checkpoints_changed.subscribe(self, lambda _path: self.listing.refresh())
        self._load_torch()

    def _apply_keymap(self) -> None:
        self.keymap, problems = check_keymap(self.settings.keymap, (type(self), *KEYED_SCREENS))
        if self.keymap:
            self.set_keymap(self.keymap)
        if problems:
            self.notify(
                "keymap in settings.json: " + "; ".join(problems) + " (ignored)",
                severity="warning",
                timeout=10,
            )

    @work(thread=True, group="torch", exit_on_error=False)
    def _load_torch(self) -> None:
        label, device_type = self._probe()
        self.post_message(TorchReady(label, device_type))

    # -- header and messages ---------------------------------------------------------------

    def _update_header(self) -> None:
        parts: tuple[str, ...] = (
            self.device_label,
            f"corpus {self._header['corpus']}",
            self._header["model"],
        )
        if self.training_status:  # a run is training: that matters more than its settings
            parts = (self.training_status, self.training_device or self.device_label)
        self.sub_title = " │ ".join(p for p in parts if p)

    def on_torch_ready(self, message: TorchReady) -> None:
        self.device_label, self.device_type = message.device_label, message.device_type
        self._update_header()
        self.torch_ready.publish(message)

    def on_training_status(self, message: TrainingStatus) -> None:
        self.training_status = message.text
        self.training_device = message.device
        self._update_header()

    def on_header_info(self, message: HeaderInfo) -> None:
        self._header = {"corpus": message.corpus, "model": message.model}
        self._update_header()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "torch" and event.state == WorkerState.ERROR:
            error = event.worker.error
            assert error is not None, "Textual keeps a worker's error before it says ERROR"
            self.device_label = "torch failed to load"
            self._update_header()
            self.notify(f"cannot load torch: {one_line(error)}", severity="error", timeout=15)

    # -- actions ---------------------------------------------------------------------------

    def action_show_view(self, view: str) -> None:
        if view in VIEWS and view != self.current_mode:
            self.switch_mode(view)
            self.settings.mode = view
            self.save_settings()

    def action_refresh_lists(self) -> None:
        self.listing.refresh()
        self.notify("looking for runs and checkpoints…", timeout=2)

    def action_show_queue(self) -> None:
        self.show_queue()

    def action_toggle_training(self) -> None:
        """Start, stop or resume training from any view (the Train view's settings apply)."""
        train = self._train_screen
        if train is None or not train.is_mounted:
            self.action_show_view("train")
            self.notify("this is the Train view: press s to start", timeout=4)
            return
        train.action_toggle_training()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    async def action_quit(self) -> None:
        """Stop a training run (it saves a resumable checkpoint), remember settings, exit."""
        train = self._train_screen
        if train is not None and train.training:
            self.notify("stopping training…", timeout=2)
            await train.stop_and_wait()
        self.save_settings()
        self.exit()

    def save_screenshot_to_data(self) -> None:
        """An SVG of the screen under the data folder, as ctrl+s keeps the generated text."""
        folder = self.paths.screenshots
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = self.save_screenshot(path=str(folder))
        except OSError as exc:
            self.notify(
                f"Cannot save a screenshot in {folder}: {exc.strerror or exc}",
                title="Screenshot",
                severity="error",
                markup=False,
            )
            return
        self.notify(f"Saved to {path}", title="Screenshot", markup=False)

    def save_settings(self) -> None:
        self.settings.theme = self.theme
        if self.settings.save(self.paths.settings_file) is False:
            self.log.warning("could not save settings to", self.paths.settings_file)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            # Ours below: Quit saves first, Screenshot goes to the data folder, and "Keys"
            # (Textual's key panel) would be a second Help.
            if command.title not in ("Quit", "Screenshot", "Keys"):
                yield command
        yield SystemCommand("Quit", "Quit; a training run stops and saves first", self.action_quit)
        yield SystemCommand(
            "Screenshot",
            f"Save an SVG picture of the screen in {self.paths.screenshots}",
            lambda: self.set_timer(0.1, self.save_screenshot_to_data),  # once the palette closed
        )
        for view, title in VIEWS.items():
            yield SystemCommand(
                f"{title} view", f"Show the {title} view", partial(self.action_show_view, view)
            )
        yield SystemCommand("Help", "Show the keys and what they do", self.action_help)
        yield SystemCommand("Queue", "Show the run queue: reorder, cancel, start", self.show_queue)
        train = self._train_screen
        if screen is not train:  # the Train view lists its own keys below
            yield SystemCommand(
                "Compare cells",
                "Queue a basic RNN, a GRU and an LSTM of equal parameters and one recipe, and "
                "train them (the Train view's C)",
                self.compare_cells,
            )
            training = train is not None and train.training
            yield SystemCommand(
                "Stop training" if training else "Start training",
                "Stop the run (saving a resumable checkpoint)"
                if training
                else "Start or resume a run with the Train view's settings",
                self.action_toggle_training,
            )
        for owner, binding in view_bindings(type(screen)):
            # Keys kept out of a crowded footer (a tooltip, no show) are still commands; escape
            # only ever leaves a field, which means nothing from the palette.
            shown = binding.show or (binding.tooltip and binding.key != "escape")
            if not (shown and binding.description):
                continue
            # A widget's key acts on that widget, wherever the focus is when the palette opens.
            target = screen if isinstance(screen, owner) else next(iter(screen.query(owner)), None)
            if target is None:
                continue
            _, name, parameters = parse_action(binding.action)
            if target.check_action(name, parameters) is False:
                continue  # not offered where the focus is (the footer hides it too)
            yield SystemCommand(
                binding.description,
                binding.tooltip or binding.description,
                partial(target.run_action, binding.action),
            )


def make_app(
    paths: Paths,
    *,
    trainer: Callable | None = None,
    settings: AppSettings | None = None,
    probe: Callable[[], tuple[str, str]] | None = None,
) -> ShakespeareApp:
    """The app over `paths`, with remembered settings unless `settings` is given.

    `trainer` (default `core.training.engine.train`) and `probe` (the device label and type, default
    `probe_device`) are injectable so tests run deterministic, scripted training.
    """
    if settings is None:
        settings = AppSettings.load(paths.settings_file)
    return ShakespeareApp(paths, settings, trainer or default_trainer, probe or probe_device)


# The views reach the app through this protocol (view_host.py): mypy checks here that the app
# is one, since no view imports this module.
_THE_VIEWS_HOST: type[ViewHost] = ShakespeareApp
