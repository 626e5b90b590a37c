"""The app shell: start-up without torch, the header's device, views, help, commands, settings."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from textual.widgets import Input

from shakespeare_tui.app import make_app
from shakespeare_tui.core.errors import UserError
from shakespeare_tui.settings import AppSettings
from shakespeare_tui.views.help import HelpScreen
from shakespeare_tui.views.train.screen import TrainScreen

pytestmark = pytest.mark.heavy(30)

SIZE = (120, 40)


def test_the_app_imports_no_torch():
    code = (
        "import sys; import shakespeare_tui.app, shakespeare_tui.views.train.screen; "
        "assert 'torch' not in sys.modules, 'torch imported at start-up'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


async def test_header_says_loading_until_torch_is_ready(paths, tiny_settings, until):
    release = threading.Event()

    def slow_probe():
        release.wait(10)
        return ("CPU · 2 threads", "cpu")

    app = make_app(paths, settings=tiny_settings, probe=slow_probe)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, TrainScreen)  # drawn before torch is there
        assert "loading torch…" in app.sub_title
        release.set()
        await until(pilot, lambda: app.sub_title.startswith("CPU · 2 threads"), what="the device")
        assert "tiny" in app.sub_title  # corpus and model are in the header too


async def test_header_shows_the_real_device(paths, tiny_settings, until):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available() or torch.backends.mps.is_available():
        pytest.skip("this machine has a GPU; the CPU label is what this test checks")
    app = make_app(paths, settings=tiny_settings)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.sub_title.startswith("CPU · "), timeout=30, what="CPU")


async def test_switch_views_and_remember_the_last(paths, tiny_settings, probe):
    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        assert app.current_mode == "generate"
        await pilot.press("t")
        assert app.current_mode == "train"
        await pilot.press("g")
        await pilot.press("q")
    assert AppSettings.load(paths.settings_file).mode == "generate"
    again = make_app(paths, probe=probe)
    async with again.run_test(size=SIZE):
        assert again.current_mode == "generate"


@pytest.mark.parametrize("remembered", ["train", "generate"])
async def test_a_view_that_cannot_be_built_leaves_the_app_running(
    paths, tiny_settings, probe, monkeypatch, remembered
):
    """The first view is built as the app starts, another when first shown: either failing
    is a toast that names the view, and the app goes on."""

    def broken(*args, **kwargs):
        raise OSError("the disk went away")

    monkeypatch.setattr("shakespeare_tui.app.TrainScreen", broken)
    tiny_settings.mode = remembered
    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        if remembered != "train":
            await pilot.press("t")
        await pilot.pause()
        toasts = [n.message for n in app._notifications]
        said = [t for t in toasts if t.startswith("cannot open the Train view: ")]
        assert len(said) == 1 and "the disk went away" in said[0], toasts
        await pilot.press("g" if remembered == "train" else "R")
        assert app.is_running and app.current_mode != "train"


@pytest.mark.parametrize("size", [(80, 24), (109, 35), (120, 40), (200, 50)])
async def test_a_view_is_built_with_the_classes_textual_gives_it_at_that_size(
    paths, tiny_settings, probe, size
):
    """Set as it is built, so its widgets are styled once, they are the ones Textual's first
    resize gives it."""
    from textual.screen import Screen

    from shakespeare_tui.widgets.breakpoints import add_breakpoint_classes

    class Fresh(Screen):
        HORIZONTAL_BREAKPOINTS = TrainScreen.HORIZONTAL_BREAKPOINTS
        VERTICAL_BREAKPOINTS = TrainScreen.VERTICAL_BREAKPOINTS

    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        fresh = Fresh()
        add_breakpoint_classes(fresh, app)
        assert set(fresh.classes) == {c for c in app.screen.classes if c.startswith("-")}
        assert len(fresh.classes) == 2  # one for the width, one for the height


async def test_help_opens_and_closes(paths, tiny_settings, probe):
    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        for key in ("question_mark", "f1"):
            await pilot.press(key)
            assert isinstance(app.screen, HelpScreen)
            text = str(app.screen.query_one("#help-keys").render())
            assert "Start training" in text and "Quit" in text
            await pilot.press("escape")
            assert isinstance(app.screen, TrainScreen)


async def test_every_action_is_a_command(paths, tiny_settings, probe):
    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=SIZE):
        titles = {c.title for c in app.get_system_commands(app.screen)}
    assert {"Train view", "Generate view", "Help", "Quit", "Start/stop", "Bits/nats"} <= titles


async def test_settings_and_theme_are_restored_and_saved(paths, tiny_settings, probe):
    tiny_settings.theme = "nord"
    tiny_settings.train.epochs = 7
    tiny_settings.save(paths.settings_file)
    app = make_app(paths, probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "nord"
        assert app.screen.query_one("#epochs", Input).value == "7"
        app.theme = "gruvbox"
        await pilot.pause()
        epochs = app.screen.query_one("#epochs", Input)
        epochs.focus()
        epochs.value = "9"
        await pilot.press("escape", "q")
    saved = AppSettings.load(paths.settings_file)
    assert saved.theme == "gruvbox" and saved.train.epochs == 9


async def test_escape_leaves_a_field_so_keys_work_again(paths, tiny_settings, probe):
    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        field = app.screen.query_one("#corpus", Input)
        field.focus()
        await pilot.press("q")  # typed into the field, not quitting
        assert app.is_running and field.value.endswith("q")
        await pilot.press("escape")
        assert not isinstance(app.focused, Input)


async def test_a_failing_trainer_is_reported(paths, tiny_settings, probe, until):
    def broken(*args, **kwargs):
        raise UserError("cannot read corpus.txt: no such file; pass a local file")

    notes: list[str] = []
    app = make_app(paths, settings=tiny_settings, probe=probe, trainer=broken)
    async with app.run_test(size=SIZE) as pilot:
        app.notify = lambda message, **kw: notes.append(str(message))
        await pilot.press("s")
        await until(pilot, lambda: notes, what="the failure notification")
        screen = app.screen
        await until(pilot, lambda: not screen.training, what="the worker to end")
        assert notes == ["cannot read corpus.txt: no such file; pass a local file"]
        assert "failed" in screen.query_one("#train-status").render().plain
        assert not screen.query_one("#epochs", Input).disabled  # the form is usable again


async def test_saved_checkpoints_refresh_the_generate_view(
    paths, tiny_settings, probe, scripted, until, monkeypatch
):
    from shakespeare_tui.views.generate.screen import GenerateScreen

    heard: list[object] = []  # the Generate views that were told, one per reading
    real_handler = GenerateScreen.on_listing_refreshed

    def handler(screen, message) -> None:
        heard.append(screen)
        real_handler(screen, message)

    monkeypatch.setattr(GenerateScreen, "on_listing_refreshed", handler)
    app = make_app(paths, settings=tiny_settings, probe=probe, trainer=scripted)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")  # the Generate view exists now, subscribed to the app's listing
        generate = app.screen
        await pilot.press("t")
        calls: list[int] = []
        real_refresh = app.listing.refresh

        def refresh() -> int:
            calls.append(1)
            return real_refresh()

        app.listing.refresh = refresh  # each checkpoint saved asks the listing to read again
        await pilot.press("s")
        await until(pilot, lambda: len(calls) >= 2, what="listing refreshes")
        heard.clear()
        await until(pilot, lambda: generate in heard, what="the Generate view told")
        await pilot.press("s")


async def test_the_app_starts_with_focus_outside_text_fields(paths, tiny_settings, probe):
    for mode in ("train", "generate"):
        tiny_settings.mode = mode
        app = make_app(paths, settings=tiny_settings, probe=probe)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert app.current_mode == mode
            assert app.focused is not None and not isinstance(app.focused, Input), app.focused


async def test_help_lists_every_key(paths, tiny_settings, probe):
    from shakespeare_tui.views.generate.screen import GenerateScreen
    from shakespeare_tui.views.help import key_names

    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        for view, screen_type in (("t", TrainScreen), ("g", GenerateScreen)):
            await pilot.press(view, "question_mark")
            text = str(app.screen.query_one("#help-keys").render())
            lines = text.splitlines()
            for binding in (*type(app).BINDINGS, *screen_type.BINDINGS, *HelpScreen.BINDINGS):
                keys = ", ".join(key_names(app, binding))
                what = binding.tooltip or binding.description
                assert any(line.startswith(keys + " ") and what in line for line in lines), (
                    f"{binding.key} ({what}) is not in the help:\n{text}"
                )
            assert "^p" in text and "command palette" in text
            assert "[, -" in text or view == "t"  # both keys of a key_display binding
            await pilot.press("escape")


def test_exit_process_flushes_runs_atexit_and_keeps_the_code():
    code = (
        "import atexit, sys\n"
        "from shakespeare_tui.torch_loader import exit_process\n"
        "atexit.register(lambda: print('atexit ran'))\n"
        "print('unflushed', end='')\n"
        "exit_process(3)\n"
        "print('not reached')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3
    assert done.stdout == "unflushedatexit ran\n"


def test_exit_process_waits_normally_for_a_live_thread():
    code = (
        "import threading, time\n"
        "from shakespeare_tui.torch_loader import exit_process\n"
        "t = threading.Thread(target=lambda: (time.sleep(0.3), print('thread done')))\n"
        "t.start()\n"
        "raise SystemExit(exit_process(4))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 4
    assert done.stdout == "thread done\n"


async def test_keys_can_be_remapped_in_the_settings_file(paths, tiny_settings, probe, scripted):
    from shakespeare_tui.views.help import HelpScreen

    tiny_settings.keymap = {"train.toggle": "x", "app.help": "f2", "nope.bad": "y", "app.quit": 3}
    notes: list[str] = []
    app = make_app(paths, settings=tiny_settings, probe=probe, trainer=scripted)
    real_notify = app.notify
    app.notify = lambda message, **kw: (notes.append(str(message)), real_notify(message, **kw))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        problems = [n for n in notes if "keymap" in n]
        assert len(problems) == 1 and "'nope.bad'" in problems[0] and "'app.quit'" in problems[0]
        await pilot.press("f2")
        assert isinstance(app.screen, HelpScreen)
        keys = str(app.screen.query_one("#help-keys").render())
        line = next(row for row in keys.splitlines() if "Start training" in row)
        assert line.startswith("x ") and "train.toggle" in line
        await pilot.press("escape")
        await pilot.press("x")
        assert scripted.started.wait(5)  # the remapped key starts training
        await pilot.press("x")
        await pilot.press("q")  # an entry that failed the check leaves the default key alone
    assert app.return_code == 0
