"""The Train view driven by Textual's pilot: real training of the tiny preset on a small corpus.

Start, stop (a resumable last.pt), resume (the step continues), refuse invalid settings, and
quit mid-run leaving a loadable checkpoint.
"""

from __future__ import annotations

import threading
import time

import pytest
from textual.widgets import Input, Select

from shakespeare_tui.app import make_app
from shakespeare_tui.core.events import StepLogged, TrainingFinished, TrainingStarted
from shakespeare_tui.messages import TrainingUpdate
from shakespeare_tui.views.train.form import TrainForm, form_config
from shakespeare_tui.views.train.loss_chart import LossChart, downsample_points
from shakespeare_tui.views.train.progress import SamplesLog, TrainProgress
from shakespeare_tui.views.train.screen import TrainScreen

pytestmark = pytest.mark.heavy(35)

SIZE = (120, 40)


def _events(messages: list) -> list:
    return [m.event for m in messages if isinstance(m, TrainingUpdate)]


def _hook(into: list):
    return into.append


async def test_start_stop_resume_real_training(paths, tiny_settings, probe, until):
    from shakespeare_tui.core.model.checkpoint import load_checkpoint

    seen: list = []
    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=SIZE, message_hook=_hook(seen)) as pilot:
        screen = app.screen
        assert isinstance(screen, TrainScreen)
        assert not isinstance(app.focused, Input)  # single-letter keys reach the view

        await pilot.press("s")
        chart, samples = screen.query_one(LossChart), screen.query_one(SamplesLog)
        await until(
            pilot,
            lambda: chart.point_count > 3 and samples.epochs_shown >= 2,
            what="loss points and the epoch 1 sample",
        )
        assert screen.training
        assert screen.query_one(TrainForm).query_one("#lr", Input).disabled

        await pilot.press("s")  # stop after the current step
        await until(pilot, lambda: not screen.training, what="the run to stop")
        await pilot.pause()
        finished = [e for e in _events(seen) if isinstance(e, TrainingFinished)]
        assert finished and finished[-1].reason == "stopped"
        status = screen.query_one(TrainProgress).status_text
        assert "stopped at step" in status and "saved" in status and "s resumes" in status
        last = load_checkpoint(finished[-1].last_checkpoint)
        assert last.resumable
        stopped_at = last.payload["progress"]["step"]
        assert stopped_at > 0
        run_name = next(e for e in _events(seen) if isinstance(e, TrainingStarted)).run_name
        assert screen.query_one(TrainForm).selected_run == run_name  # `s` now resumes it

        seen.clear()
        await pilot.press("s")  # resume
        await until(
            pilot,
            lambda: any(isinstance(e, StepLogged) for e in _events(seen)),
            what="a step of the resumed run",
        )
        started = next(e for e in _events(seen) if isinstance(e, TrainingStarted))
        assert started.resumed and started.run_name == run_name
        assert started.step == stopped_at
        assert started.history  # earlier metrics come back for the chart
        first_step = next(e for e in _events(seen) if isinstance(e, StepLogged))
        assert first_step.step > stopped_at

        await pilot.press("s")
        await until(pilot, lambda: not screen.training, what="the resumed run to stop")


async def test_invalid_field_refuses_to_start(paths, tiny_settings, probe, until):
    notes: list[str] = []
    tiny_settings.train.preset = "custom"  # a named preset locks lr
    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        app.notify = lambda message, **kw: notes.append(str(message))
        screen = app.screen
        lr = screen.query_one("#lr", Input)
        lr.focus()
        lr.value = ""
        await pilot.press("a", "b", "c")
        await pilot.pause()
        error = str(screen.query_one("#lr-error").render())
        assert "number" in error.lower()

        await pilot.press("escape")  # leave the field, so `s` is a command again
        assert not isinstance(app.focused, Input)
        await pilot.press("s")
        await pilot.pause()
        assert not screen.training
        assert any(note.startswith("lr:") for note in notes), notes


async def test_half_typed_fields_keep_the_last_estimate(paths, tiny_settings, probe):
    """The estimate follows every valid value and keeps the last one while a field is
    half-typed (the form leaves such a field out; nothing is raised)."""
    from shakespeare_tui.views.train.fields import NUMBER_FIELDS

    tiny_settings.train.preset = "custom"  # every size is editable
    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        form = app.screen.query_one(TrainForm)

        def estimate() -> str:
            return str(form.query_one("#estimate").render())

        hidden = form.query_one("#hidden", Input)
        hidden.value = "64"
        await pilot.pause()
        shown = estimate()
        assert "parameters" in shown
        for field in NUMBER_FIELDS:  # each half-typed in turn, then all of them at once
            form.query_one(f"#{field.name}", Input).value = "1e"
            await pilot.pause()
            assert estimate() == shown, field.name
        for name in ("corpus", "device"):
            form.query_one(f"#{name}", Input).value = "/no/such/"
            await pilot.pause()
            assert estimate() == shown, name
        form.query_one("#cell", Select).value = "gru"  # the estimate is made again over them
        await pilot.pause()
        assert "parameters" in estimate() and estimate() != shown
        assert app.is_running


async def test_quit_mid_training_leaves_a_checkpoint(paths, tiny_settings, probe, until):
    from shakespeare_tui.core.model.checkpoint import load_checkpoint

    seen: list = []
    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=SIZE, message_hook=_hook(seen)) as pilot:
        await pilot.press("s")
        await until(
            pilot,
            lambda: any(isinstance(e, StepLogged) for e in _events(seen)),
            what="training to start",
        )
        t0 = time.monotonic()
        await pilot.press("q")
    quit_s = time.monotonic() - t0
    run_dir = next(e for e in _events(seen) if isinstance(e, TrainingStarted)).run_dir
    checkpoint = load_checkpoint(f"{run_dir}/last.pt")
    assert checkpoint.resumable
    assert quit_s < 10, f"quitting took {quit_s:.1f}s"
    assert paths.settings_file.is_file()


async def test_quitting_goes_on_when_the_run_fails_as_it_stops(paths, tiny_settings, probe, until):
    """A run whose engine fails while it stops (its worker ends in an error) is told once, and
    `q` still quits: the failure is no reason to stay."""
    started = threading.Event()

    def fails_on_stop(config, paths, *, stop, **kwargs):
        started.set()
        stop.wait(10)
        raise OSError(28, "No space left on device")

    notes: list[str] = []
    app = make_app(paths, settings=tiny_settings, probe=probe, trainer=fails_on_stop)
    async with app.run_test(size=SIZE) as pilot:
        app.notify = lambda message, **kw: notes.append(str(message))
        await pilot.press("s")
        await until(pilot, started.is_set, what="training to start")
        await app.action_quit()
    assert not app.is_running
    assert sum("No space left on device" in note for note in notes) == 1, notes


async def test_quitting_waits_for_a_slow_step_no_longer_than_its_limit(
    paths, tiny_settings, probe, until
):
    """A step that outlasts the wait at quit (a big model on a slow CPU): the wait gives up
    at its limit and the run stops after that step, as asked."""
    release = threading.Event()
    stopped_after: list[bool] = []

    def slow_step(config, paths, *, stop, **kwargs):
        release.wait(10)  # the step under way
        stopped_after.append(stop.is_set())

    app = make_app(paths, settings=tiny_settings, probe=probe, trainer=slow_step)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.press("s")
        await until(pilot, lambda: screen.training, what="training to start")
        t0 = time.monotonic()
        await screen.stop_and_wait(timeout=0.3)
        waited = time.monotonic() - t0
        assert screen.training  # the step is still under way
        release.set()
        await until(pilot, lambda: not screen.training, what="the step to end")
    assert 0.3 <= waited < 5, waited
    assert stopped_after == [True]


async def test_scripted_run_fills_every_panel(paths, tiny_settings, probe, until, scripted):
    app = make_app(paths, settings=tiny_settings, probe=probe, trainer=scripted)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.press("s")
        await until(pilot, lambda: screen.query_one(SamplesLog).epochs_shown == 3, what="samples")
        await until(
            pilot,
            lambda: "step 250" in str(screen.query_one("#train-numbers").render()),
            what="the last step",
        )
        numbers = str(screen.query_one("#train-numbers").render())
        assert "epoch 3/5" in numbers and "chars/s" in numbers and "ETA" in numbers
        best = str(screen.query_one("#train-best").render())
        assert "best val" in best and "epoch 2" in best and "patience" in best
        config = scripted.calls[0]["config"]
        assert config.preset == "tiny" and config.model.hidden == 32 and config.epochs == 500

        await pilot.press("b")
        assert screen.query_one(LossChart).bits
        await pilot.press("s")
        await until(pilot, lambda: not screen.training, what="the scripted run to stop")


def test_downsample_keeps_a_few_points_per_column():
    points = [(float(i), float(i % 7)) for i in range(20_000)]
    small = downsample_points(points, 200)
    assert len(small) == 200
    assert small[0][0] < small[-1][0]
    assert downsample_points(points[:10], 200) == points[:10]


def test_a_named_preset_trains_its_own_model_whatever_the_fields_hold():
    """The form's remembered fields (an older settings.json's, say) never leak into a preset."""
    from shakespeare_tui.settings import TrainSettings

    tiny = form_config(TrainSettings(preset="tiny"), "cpu")  # fields hold E128/H640, 32×200
    assert (tiny.preset, tiny.model.embed, tiny.model.hidden) == ("tiny", 16, 32)
    assert (tiny.batch_size, tiny.seq_len, tiny.lr) == (16, 32, 1e-2)
    stale = TrainSettings(preset="cpu", hidden=99, layers=3, batch_size=7, lr=0.5)
    cpu = form_config(stale, "cpu")
    assert (cpu.preset, cpu.model.hidden, cpu.model.layers, cpu.batch_size, cpu.lr) == (
        "cpu",
        640,
        1,
        32,
        2e-3,
    )


def test_build_config_follows_the_preset(tiny_settings):
    from dataclasses import replace

    s = tiny_settings.train
    tiny = form_config(s, "cpu")
    assert (tiny.preset, tiny.batch_size, tiny.model.embed) == ("tiny", 16, 16)
    auto_cpu = form_config(replace(s, preset="auto"), "cpu")
    assert auto_cpu.preset == "cpu" and auto_cpu.model.hidden == 640
    auto_gpu = form_config(replace(s, preset="auto"), "cuda")
    assert auto_gpu.preset == "notebook" and auto_gpu.model.hidden == 1024
    custom = form_config(replace(s, preset="custom", cell="gru", hidden=48, lr=0.005), "cpu")
    assert (custom.preset, custom.model.cell, custom.model.hidden, custom.lr) == (
        "custom",
        "gru",
        48,
        0.005,
    )
    custom.validate()


def test_a_fresh_custom_run_trains_the_cpu_preset_and_the_core_defaults():
    """The form's first values are the core's: a custom run left as it opens trains the cpu
    preset's model and optimiser, with the core's budgets and reporting."""
    from dataclasses import fields

    from shakespeare_tui.core.config import TrainConfig
    from shakespeare_tui.settings import TrainSettings

    custom = form_config(TrainSettings(preset="custom"), "cpu")
    cpu = form_config(TrainSettings(preset="cpu"), "cpu")
    assert custom.preset == "custom"
    assert (custom.model, custom.batch_size, custom.seq_len, custom.lr, custom.schedule) == (
        cpu.model,
        cpu.batch_size,
        cpu.seq_len,
        cpu.lr,
        cpu.schedule,
    )
    core = TrainConfig()
    same = ("epochs", "patience", "eval_every", "clip", "seed", "val_fraction", "sample_length")
    assert all(getattr(custom, name) == getattr(core, name) for name in same)
    assert custom.sample_temperature == core.sample_temperature
    assert {f.name for f in fields(TrainSettings)} >= set(same)


async def test_best_marker_is_never_the_untrained_epoch(paths, tiny_settings, probe):
    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        chart = app.screen.query_one(LossChart)
        chart.add_epoch(0, 4.17, 0)  # the untrained model
        assert chart.best is None
        chart._redraw()
        assert "best" not in chart.plt.build()
        chart.add_epoch(100, 4.5, 1)  # worse than epoch 0, but the only trained epoch
        chart.add_epoch(200, 2.3, 2)
        chart.add_epoch(300, 2.6, 3)
        assert chart.best == (200, 2.3, 2)
        chart._redraw()
        assert "best 2.30 (epoch 2)" in chart.render().plain
        await pilot.pause()


async def test_the_run_list_is_read_off_the_ui_thread(
    paths, tiny_settings, probe, until, monkeypatch
):
    """Hundreds of runs with long metrics take a while to read: never on the UI thread."""
    import threading

    from shakespeare_tui.core.runs.listing import Listing

    threads: list[threading.Thread] = []
    real = Listing.refresh

    def recorded(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(Listing, "refresh", recorded)  # the app's one reading of the runs
    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: threads, what="the run list")
        assert threading.main_thread() not in threads


async def test_a_failed_start_keeps_the_form_and_the_new_run_selection(
    paths, tiny_settings, probe, until, tmp_path
):
    """Train run A and stop it; a new run that cannot start leaves every field as typed, on
    "new run" (not back on A, which the next `s` would then resume)."""
    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        form = screen.query_one(TrainForm)
        await pilot.press("s")
        await until(pilot, lambda: screen.query_one(TrainProgress)._first, what="training")
        await pilot.press("s")
        await until(pilot, lambda: not screen.training and form._runs, what="run A saved")
        await pilot.pause(0.3)
        form.query_one("#run").value = "new"
        await pilot.pause()
        # A folder is refused by the field itself, before anything starts.
        screen.query_one("#corpus", Input).value = str(tmp_path)
        await pilot.pause()
        error = screen.query_one("#corpus-error")
        assert error.display and "folder" in error.render().plain
        await pilot.press("s")
        await pilot.pause(0.3)
        assert not screen.training and form.selected_run is None
        # A file that only the engine can find wrong (it is empty) fails in the worker.
        empty = tmp_path / "empty.txt"
        empty.write_text("")
        screen.query_one("#corpus", Input).value = str(empty)
        await pilot.pause()
        await pilot.press("s")
        status = screen.query_one("#train-status")
        await until(pilot, lambda: "failed" in status.render().plain, what="the failure")
        await pilot.pause(0.5)
        assert form.selected_run is None  # still "new run", not A
        assert screen.query_one("#corpus", Input).value == str(empty)
        assert "empty" in status.render().plain


async def test_the_form_offers_a_basic_rnn_and_a_run_with_it_records_its_cell(
    paths, tiny_settings, probe, until
):
    import json

    from textual.widgets import Select, Static

    seen: list = []
    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=SIZE, message_hook=_hook(seen)) as pilot:
        screen = app.screen
        form = screen.query_one(TrainForm)
        cell = form.query_one("#cell", Select)
        assert [value for _, value in cell._options] == ["lstm", "gru", "rnn"]
        assert cell.value == "lstm"
        lstm_estimate = str(form.query_one("#estimate", Static).render())
        cell.focus()
        # pilot.press does not wait for the list to open: a key that comes before it moves
        # nothing, and the app's first reading of the checkpoints keeps the CPU busy just then.
        await pilot.press("enter")
        await until(pilot, lambda: cell.expanded, what="the cell list open")
        await pilot.pause()
        await pilot.press("down", "down", "enter")  # LSTM, GRU, RNN
        await until(pilot, lambda: not cell.expanded, what="the cell list closed")
        assert cell.value == "rnn"
        assert form.query_one("#preset", Select).value == "custom"  # the presets are LSTMs
        assert str(form.query_one("#estimate", Static).render()) != lstm_estimate
        await pilot.press("escape")
        await pilot.press("s")
        await until(
            pilot,
            lambda: any(isinstance(e, StepLogged) for e in _events(seen)),
            what="a step of the RNN run",
        )
        started = next(e for e in _events(seen) if isinstance(e, TrainingStarted))
        assert started.model_summary == "RNN E16/H32"
        await pilot.press("s")
        await until(pilot, lambda: not screen.training, what="the run to stop")
    config = json.loads((paths.runs / started.run_name / "config.json").read_text())
    assert config["train"]["model"]["cell"] == "rnn"
    assert config["train"]["preset"] == "custom"


async def test_a_large_corpus_shows_its_encoding_in_the_progress_area(
    paths, tiny_settings, probe, until
):
    from shakespeare_tui.core.errors import EncodingStopped
    from shakespeare_tui.core.events import CorpusEncoding

    def encoding(config, paths, *, on_event=None, stop=None, **kwargs):
        on_event(CorpusEncoding(300_000_000, 1_200_000_000, 150.0, corpus="big.txt"))
        stop.wait(30)
        raise EncodingStopped("stopped while encoding big.txt (25% done); nothing was kept")

    app = make_app(paths, settings=tiny_settings, probe=probe, trainer=encoding)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        progress = screen.query_one(TrainProgress)
        await pilot.press("s")
        await until(pilot, lambda: "encoding big.txt" in progress.status_text, what="encoding")
        assert "25% of 1.2 GB · 150 MB/s · ETA 0:06" in progress.status_text
        bar = screen.query_one("#epoch-bar")
        assert (bar.total, bar.progress) == (1_200_000_000, 300_000_000)
        await pilot.press("s")
        await until(pilot, lambda: not screen.training, what="the encoding to stop")
        assert "stopped while encoding big.txt" in progress.status_text
        assert "failed" not in progress.status_text and "s starts again" in progress.status_text
