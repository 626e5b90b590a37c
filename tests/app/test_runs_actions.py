"""What the Runs view does with a run: continue it in the Train view, its best checkpoint in
Generate and Inspect, rename, delete (asking first; never the bundled checkpoint or a run being
trained), export; the queue; and the view's place in the app (R, settings, help, palette)."""

from __future__ import annotations

import shutil

import pytest
from textual.widgets import Input

from shakespeare_tui.settings import AppSettings
from shakespeare_tui.views.generate.screen import GenerateScreen
from shakespeare_tui.views.help import HelpScreen
from shakespeare_tui.views.inspect.screen import InspectScreen
from shakespeare_tui.views.queue_dialog import QueueScreen
from shakespeare_tui.views.runs.chart import RunsChart
from shakespeare_tui.views.runs.dialogs import DeleteDialog, RenameDialog
from shakespeare_tui.views.runs.screen import RunsScreen
from shakespeare_tui.views.train.form import TrainForm
from shakespeare_tui.views.train.screen import TrainScreen
from tests.app.runs_fixtures import SIZE, opened, select, table
from tests.core.run_folders import locked_by_another_process

pytestmark = pytest.mark.heavy(25)


def highlight(screen, name: str) -> None:
    table(screen).move_cursor(row=table(screen).names.index(name))


@pytest.fixture
def trained(runs_app, paths, trained_run):
    """The session's tiny trained run (a best.pt and a last.pt), copied in as "trained"."""
    source, _, _ = trained_run
    shutil.copytree(source.runs / "trained", paths.runs / "trained")
    return runs_app


async def test_rename_checks_the_name_and_keeps_the_runs_colour(runs_app, until, paths):
    async with runs_app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot, until)
        await select(pilot, until, screen, "rnn-h512", "gru-h320")
        colour = screen.selected["gru-h320"]
        highlight(screen, "gru-h320")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(runs_app.screen, RenameDialog), 5, "the dialog")
        field = runs_app.screen.query_one(Input)
        for bad, why in (("lstm-h256", "exists already"), ("no/slash", "letters, digits"),
                         ("bundled", "pretrained")):  # fmt: skip
            field.value = bad
            await pilot.press("enter")
            assert isinstance(runs_app.screen, RenameDialog)
            assert why in str(runs_app.screen.query_one("#rename-error").render())
        field.value = "gru-small"
        await pilot.press("enter")
        await until(pilot, lambda: "gru-small" in table(screen).names, 10, "the new name")
        assert not (paths.runs / "gru-h320").exists() and (paths.runs / "gru-small").is_dir()
        assert table(screen).highlighted_name == "gru-small"
        assert screen.selected == {"rnn-h512": 0, "gru-small": colour}
        await until(pilot, lambda: "gru-small" in screen.curves, 10, "its curves")
        assert not any("no longer in" in n for n in runs_app.notes)
        assert "renamed run gru-h320 to gru-small" in runs_app.notes


async def test_rename_refuses_the_bundled_checkpoint_and_a_run_being_trained(
    runs_app, until, paths
):
    async with runs_app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot, until)
        highlight(screen, "bundled")
        await pilot.press("n")
        assert "cannot be renamed" in runs_app.notes[-1] and isinstance(runs_app.screen, RunsScreen)
        with locked_by_another_process(paths.runs / "rnn-h512"):
            await until(pilot, lambda: "training elsewhere" in table(screen).cells_of("rnn-h512"),
                        10, "the training state")  # fmt: skip
            highlight(screen, "rnn-h512")
            await pilot.press("n")
            assert "being trained by another process; stop it" in runs_app.notes[-1]
            assert isinstance(runs_app.screen, RunsScreen)


async def test_delete_asks_naming_the_run_and_keeps_it_on_no(runs_app, until, paths):
    async with runs_app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot, until)
        await select(pilot, until, screen, "gru-h320")
        highlight(screen, "gru-h320")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(runs_app.screen, DeleteDialog), 5, "the question")
        question = str(runs_app.screen.query_one("#delete-question").render())
        assert (
            "Delete run gru-h320 (2 files," in question and str(paths.runs / "gru-h320") in question
        )
        await pilot.press("n")
        assert isinstance(runs_app.screen, RunsScreen) and (paths.runs / "gru-h320").is_dir()
        await pilot.press("d")
        await until(pilot, lambda: isinstance(runs_app.screen, DeleteDialog), 5, "the question")
        await pilot.press("y")
        await until(pilot, lambda: "gru-h320" not in table(screen).names, 10, "the row gone")
        assert not (paths.runs / "gru-h320").exists()
        assert (paths.runs / "lstm-h256").is_dir() and (paths.runs / "rnn-h512").is_dir()
        assert not screen.selected and screen.query_one(RunsChart).runs == ()
        assert any(n.startswith("deleted run gru-h320 (2 files") for n in runs_app.notes)
        assert not any("no longer in" in n for n in runs_app.notes)


async def test_delete_refuses_the_bundled_checkpoint_and_a_run_being_trained(
    runs_app, until, paths
):
    async with runs_app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot, until)
        highlight(screen, "bundled")
        await pilot.press("d")
        await until(pilot, lambda: runs_app.notes, 5, "the refusal")
        assert (
            "bundled checkpoint ships with the program and cannot be deleted" in runs_app.notes[-1]
        )
        with locked_by_another_process(paths.runs / "lstm-h256") as pid:
            highlight(screen, "lstm-h256")
            await pilot.press("d")
            await until(pilot, lambda: len(runs_app.notes) == 2, 5, "the refusal")
            assert f"being trained by another process (pid {pid})" in runs_app.notes[-1]
            assert isinstance(runs_app.screen, RunsScreen) and (paths.runs / "lstm-h256").is_dir()


async def test_continue_selects_the_run_in_the_train_view(runs_app, until):
    async with runs_app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot, until)
        highlight(screen, "gru-h320")
        await pilot.press("T")
        await until(pilot, lambda: isinstance(runs_app.screen, TrainScreen), 10, "the Train view")
        form = runs_app.screen.query_one(TrainForm)
        await until(pilot, lambda: form.selected_run == "gru-h320", 10, "the run selected")
        await pilot.press("R")
        assert runs_app.screen is screen
        highlight(screen, "lstm-h256")
        await pilot.press("T")  # the Train view is there already
        await until(pilot, lambda: form.selected_run == "lstm-h256", 10, "the other run")
        await pilot.press("R")
        highlight(screen, "bundled")
        await pilot.press("T")
        assert "no run to continue" in runs_app.notes[-1] and runs_app.screen is screen


async def test_generate_inspect_and_export_use_the_best_checkpoint(trained, until, paths):
    runs_app = trained
    async with runs_app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot, until)
        await until(pilot, lambda: "trained" in table(screen).names, 10, "the trained run")
        highlight(screen, "lstm-h256")  # no checkpoint: refused in one line
        await pilot.press("G")
        await until(pilot, lambda: runs_app.notes, 10, "the refusal")
        assert "run lstm-h256 has no checkpoint yet" in runs_app.notes[-1]
        highlight(screen, "trained")
        await pilot.press("e")
        await until(pilot, lambda: (paths.data / "exports" / "trained.pt").is_file(), 30, "export")
        await until(
            pilot, lambda: any("exported trained to" in n for n in runs_app.notes), 5, "note"
        )
        await pilot.press("e")  # again: a second file, the first kept
        await until(pilot, lambda: (paths.data / "exports" / "trained-2.pt").is_file(), 30, "2nd")
        best = str(paths.runs / "trained" / "best.pt")
        await pilot.press("G")
        await until(pilot, lambda: isinstance(runs_app.screen, GenerateScreen), 10, "Generate")
        assert runs_app.settings.generate.checkpoint == best
        picker = runs_app.screen.query_one("#picker")
        await until(pilot, lambda: picker.selected_entry and picker.selected_entry.path == best,
                    30, "the checkpoint highlighted")  # fmt: skip
        await pilot.press("R", "I")
        await until(pilot, lambda: isinstance(runs_app.screen, InspectScreen), 10, "Inspect")
        inspect = runs_app.screen
        await until(pilot, lambda: inspect._entry and inspect._entry[0] == best, 30, "inspected")
        assert inspect._entry[1] == "trained · best"


async def test_q_shows_the_queue(runs_app, until):
    async with runs_app.run_test(size=SIZE) as pilot:
        await opened(pilot, until, bundled=False)
        await pilot.press("Q")
        await until(pilot, lambda: isinstance(runs_app.screen, QueueScreen), 30, "the queue")


async def test_r_opens_the_view_and_settings_remember_it(paths, probe, until):
    from shakespeare_tui.app import make_app

    app = make_app(paths, settings=AppSettings(), probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, TrainScreen)
        await pilot.press("R")
        assert isinstance(app.screen, RunsScreen)
        await pilot.press("question_mark")
        keys = str(app.screen.query_one("#help-keys").render())
        assert isinstance(app.screen, HelpScreen) and "Runs view" in keys
        assert "runs.select" in keys and "Show the Runs view" in keys
        await pilot.press("escape", "q")
    assert AppSettings.load(paths.settings_file).mode == "runs"
    again = make_app(paths, probe=probe)
    async with again.run_test(size=SIZE):
        assert again.current_mode == "runs"
        titles = [c.title for c in again.get_system_commands(again.screen)]
        assert "Runs view" in titles and "Select" in titles and "Delete" in titles


async def test_a_run_trained_in_this_program_is_shown_so_and_kept(runs_app, until, paths):
    from shakespeare_tui.core.runs.lock import RunLock

    lock = RunLock(paths.runs / "gru-h320").acquire(wait_s=0)  # as the Train view's trainer
    try:
        async with runs_app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot, until)
            assert table(screen).cells_of("gru-h320")[2] == "training here"
            assert "1 training" in str(screen.query_one("#runs-status").render())
            highlight(screen, "gru-h320")
            await pilot.press("d")
            await until(pilot, lambda: runs_app.notes, 5, "the refusal")
            assert "run gru-h320 is being trained by this program; stop it" in runs_app.notes[-1]
            await pilot.press("T")  # it trains here: the Train view shows it
            await until(pilot, lambda: isinstance(runs_app.screen, TrainScreen), 10, "Train view")
        assert (paths.runs / "gru-h320").is_dir()
    finally:
        lock.release()


async def test_continue_on_a_run_trained_elsewhere_follows_it_in_the_train_view(
    runs_app, until, paths
):
    from textual.widgets import Static

    from shakespeare_tui.views.train.form import HINT_FOLLOWED, HINT_RESUME
    from shakespeare_tui.views.train.progress import TrainProgress

    async with runs_app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot, until)
        with locked_by_another_process(paths.runs / "rnn-h512"):
            await until(pilot, lambda: "training elsewhere" in table(screen).cells_of("rnn-h512"),
                        10, "the training state")  # fmt: skip
            highlight(screen, "rnn-h512")
            await pilot.press("T")
            await until(pilot, lambda: isinstance(runs_app.screen, TrainScreen), 10, "Train")
            train = runs_app.screen
            await until(pilot, lambda: train.following == "rnn-h512", 20, "following it")
            assert not any("continue it once" in n for n in runs_app.notes)
            form = train.query_one(TrainForm)
            assert form.selected_run == "rnn-h512"
            hint = str(form.query_one("#run-hint", Static).render())
            assert hint == HINT_FOLLOWED and "resumes" not in hint
            progress = train.query_one(TrainProgress).status_text
            assert "being trained by another process" in progress and "resumes" not in progress
            assert all(w.disabled for w in form.query("Input") if w.id != "run")
        # Let go there: the last read shows how it ended, and now s resumes it here.
        await until(pilot, lambda: train.following is None, 20, "following stopped")
        await until(pilot, lambda: form.query_one("#run-hint", Static).render() == HINT_RESUME,
                    10, "the resume hint")  # fmt: skip
        assert not form.query_one("#epochs").disabled
