"""The Train view remembers runs: a past run shows its whole history when selected, the run
being trained shows in the selector, a run that reached its end asks how far to go on, and
every loss on screen follows the nats/bits switch."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from textual.widgets import Input, Select

from shakespeare_tui.app import make_app
from shakespeare_tui.core.runs.history import read_run_history
from shakespeare_tui.core.training.engine import train
from shakespeare_tui.views.train.extend_dialog import ExtendScreen
from shakespeare_tui.views.train.form import TrainForm
from shakespeare_tui.views.train.loss_chart import LossChart
from shakespeare_tui.views.train.progress import SamplesLog, TrainProgress
from tests.conftest import tiny_config

pytestmark = pytest.mark.heavy(20)

SIZE = (120, 40)


@pytest.fixture
def two_runs(paths, corpus_file):
    """Run "budget" (stopped by --max-steps 50) and run "stopped" (stopped by hand at 30)."""
    import threading

    train(tiny_config(corpus_file, max_steps=50), paths.ensure(), run_name="budget")
    stop = threading.Event()

    def on_event(event):
        if getattr(event, "step", 0) >= 30 and type(event).__name__ == "StepLogged":
            stop.set()

    train(tiny_config(corpus_file), paths, run_name="stopped", on_event=on_event, stop=stop)
    return paths


def _status(screen) -> str:
    return screen.query_one(TrainProgress).status_text


async def test_selecting_a_past_run_shows_its_history_without_training(
    two_runs, tiny_settings, probe, until
):
    app = make_app(two_runs, settings=tiny_settings, probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        form = screen.query_one(TrainForm)
        chart, samples = screen.query_one(LossChart), screen.query_one(SamplesLog)
        await until(pilot, lambda: len(form._runs) == 2, what="the run list")
        assert chart.point_count == 0 and "ready" in _status(screen)

        form.query_one("#run", Select).value = "budget"
        await until(pilot, lambda: "reached 50 steps" in _status(screen), what="budget history")
        assert not screen.training
        history = read_run_history(two_runs.runs / "budget")
        assert chart.point_count > 3
        assert samples.epochs_shown == len(history.samples) >= 2
        assert "s trains on" in _status(screen)
        numbers = str(screen.query_one("#train-numbers").render())
        assert "step 50" in numbers and "epoch 2/3" in numbers
        assert "best val" in str(screen.query_one("#train-best").render())

        # Another run replaces everything: nothing of the first stays on screen.
        form.query_one("#run", Select).value = "stopped"
        await until(pilot, lambda: "stopped at step" in _status(screen), what="stopped history")
        assert "s resumes" in _status(screen)
        assert samples.epochs_shown == len(read_run_history(two_runs.runs / "stopped").samples)

        form.query_one("#run", Select).value = "new"
        await until(pilot, lambda: chart.point_count == 0, what="a blank chart for a new run")
        assert samples.epochs_shown == 0 and "ready" in _status(screen)


async def test_reopening_the_app_shows_the_remembered_run(two_runs, tiny_settings, probe, until):
    tiny_settings.train.run = "budget"
    app = make_app(two_runs, settings=tiny_settings, probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await until(pilot, lambda: "reached 50 steps" in _status(screen), what="the history")
        assert screen.query_one(LossChart).point_count > 3


async def test_a_run_at_its_budget_asks_how_far_to_go_on(two_runs, tiny_settings, probe, until):
    tiny_settings.train.run = "budget"
    app = make_app(two_runs, settings=tiny_settings, probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await until(pilot, lambda: "reached 50 steps" in _status(screen), what="the history")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ExtendScreen), what="the dialog")
        dialog = app.screen
        assert dialog.query_one(Input).value == "100"  # twice the budget, to be edited
        dialog.query_one(Input).value = "70"
        await pilot.press("enter")
        await until(pilot, lambda: not screen.training and "70" in _status(screen), timeout=60)
        assert "reached 70 steps" in _status(screen)
        saved = json.loads((two_runs.runs / "budget" / "config.json").read_text())
        assert saved["train"]["max_steps"] == 70

        # Cancelling leaves the run as it is.
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ExtendScreen), what="the dialog again")
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert app.screen is screen and not screen.training


async def test_the_selector_shows_the_run_being_trained(paths, tiny_settings, probe, until):
    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        form = screen.query_one(TrainForm)
        await pilot.press("s")
        await until(pilot, lambda: form.selected_run is not None, what="the selector")
        assert screen.training and form.selected_run == screen._run_name
        # Sample now: drawn from the current weights into the log, training goes on.
        samples = screen.query_one(SamplesLog)
        before = samples.epochs_shown
        await pilot.press("n")
        await until(pilot, lambda: samples.epochs_shown > before, what="the sample")
        assert screen.training
        assert any("on request" in entry[0] for entry in samples._entries)
        await pilot.press("s")
        await until(pilot, lambda: not screen.training, what="the stop")


async def test_bits_switch_every_loss_on_screen(two_runs, tiny_settings, probe, until):
    tiny_settings.train.run = "budget"
    app = make_app(two_runs, settings=tiny_settings, probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await until(pilot, lambda: "reached 50 steps" in _status(screen), what="the history")
        best = screen.query_one("#train-best")
        assert "nats/char" in str(best.render())
        log_text = "\n".join(str(line.text) for line in screen.query_one(SamplesLog).lines)
        nats = float(log_text.split("val ")[1].split()[0])
        await pilot.press("b")
        await pilot.pause()
        assert "bits/char" in str(best.render())
        log_text = "\n".join(str(line.text) for line in screen.query_one(SamplesLog).lines)
        assert float(log_text.split("val ")[1].split()[0]) == pytest.approx(nats / 0.693147, 1e-3)
        assert screen.query_one(LossChart).bits


async def test_typing_over_a_presets_size_makes_the_run_custom(paths, tiny_settings, probe):
    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        hint = screen.query_one("#preset-hint")
        assert "tiny fixes the sizes" in str(hint.render())
        estimate = str(screen.query_one("#estimate").render())
        # The memory in its own unit: kB once the small corpus's 52 characters are counted
        # (MB while the form still assumed 80).
        assert "parameters" in estimate and re.search(r"\d [kMG]B to train", estimate)
        hidden = screen.query_one("#hidden", Input)
        assert not hidden.disabled  # editable under a named preset: it becomes custom
        hidden.value = "48"
        await pilot.pause()
        assert screen.query_one("#preset", Select).value == "custom"
        assert "custom" in str(hint.render())
        assert estimate != str(screen.query_one("#estimate").render())  # the count followed


async def test_device_and_corpus_are_checked_as_typed(paths, tiny_settings, probe):
    app = make_app(paths, settings=tiny_settings, probe=probe)  # probe: a CPU-only machine
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.pause(0.3)
        screen.query_one("#device", Input).value = "cuda"
        await pilot.pause()
        error = screen.query_one("#device-error")
        assert error.display and "no CUDA GPU" in error.render().plain
        screen.query_one("#corpus", Input).value = "/nonexistent.txt"
        await pilot.pause()
        assert "no such file" in screen.query_one("#corpus-error").render().plain
        screen.query_one("#corpus", Input).value = "plays"
        await pilot.pause()
        assert not screen.query_one("#corpus-error").display


def test_a_killed_run_reads_as_interrupted(two_runs):
    folder = two_runs.runs / "budget"
    copy = two_runs.runs / "killed"
    shutil.copytree(folder, copy)
    lines = (copy / "metrics.jsonl").read_text().splitlines()
    (copy / "metrics.jsonl").write_text("\n".join(lines[:-1]) + "\n")  # no finish record
    history = read_run_history(copy)
    assert history.state == "interrupted" and "killed?" in history.state_text
    assert read_run_history(folder).state == "max-steps"
