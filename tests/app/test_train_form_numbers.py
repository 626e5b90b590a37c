"""The numbers the Train form shows and the settings a new run gets: a new run never inherits
a past run's budgets, and the form's estimate is the model's own count."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import Input, Select

from shakespeare_tui.app import make_app
from shakespeare_tui.views.train.form import NEW_RUN, TrainForm
from tests.core.run_folders import make_run


async def _runs_listed(pilot, form, until):
    await until(pilot, lambda: len(form._runs) >= 1, 20, "runs listed")


async def test_a_new_run_does_not_inherit_the_max_steps_of_a_run_looked_at(
    paths, tiny_settings, probe, until
):
    make_run(paths.runs, "r1", max_steps=300, max_minutes=7.5, epochs=3)
    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=(120, 40)) as pilot:
        form = app.screen.query_one(TrainForm)
        await _runs_listed(pilot, form, until)
        max_steps = form.query_one("#max_steps", Input)
        assert max_steps.value == ""
        form.query_one("#run", Select).value = "r1"
        await until(pilot, lambda: max_steps.value == "300", 10, "r1's budget shown")
        form.query_one("#run", Select).value = NEW_RUN
        await pilot.pause()
        assert max_steps.value == "", "the new run's own (none), not r1's 300"
        assert form.query_one("#max_minutes", Input).value == ""
        assert form.query_one("#epochs", Input).value == str(tiny_settings.train.epochs)
        assert app.settings.train.max_steps is None


async def test_a_new_run_after_a_restart_on_a_past_run_gets_the_default_budgets(
    paths, tiny_settings, probe, until
):
    make_run(paths.runs, "r1", max_steps=300, epochs=3)
    # Quit with r1 selected: the settings file holds r1's budgets.
    train = replace(tiny_settings.train, run="r1", max_steps=300, epochs=3)
    app = make_app(paths, settings=replace(tiny_settings, train=train), probe=probe)
    async with app.run_test(size=(120, 40)) as pilot:
        form = app.screen.query_one(TrainForm)
        await _runs_listed(pilot, form, until)
        assert form.selected_run == "r1"
        form.query_one("#run", Select).value = NEW_RUN
        await pilot.pause()
        assert form.query_one("#max_steps", Input).value == ""
        assert form.query_one("#epochs", Input).value == "20"
