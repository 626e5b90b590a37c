"""The numbers the Train view shows and the settings a new run gets: a new run never inherits
a past run's budgets, a resumed run keeps its patience on screen, and the form's estimate is the
model's own count."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import Input, Select, Static

from shakespeare_tui.app import make_app
from shakespeare_tui.core.events import TrainingStarted
from shakespeare_tui.views.train.form import NEW_RUN, TrainForm
from shakespeare_tui.views.train.progress import TrainProgress
from tests.core.run_folders import evaluation, finish, make_run, step


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


class ResumingTrainer:
    """Stands in for the engine on a resume: the run's history comes back with TrainingStarted,
    as the engine sends it, then it waits to be stopped."""

    def __init__(self, records: list[dict], patience: int | None = None) -> None:
        self.records, self.patience = records, patience

    def __call__(self, config, paths, *, on_event=None, stop=None, resume=None, **_):
        run_name = Path(resume).parent.name
        on_event(TrainingStarted(
            run_name=run_name, run_dir=str(paths.runs / run_name), device="CPU · 2 threads",
            model_summary="LSTM E16/H32", parameters=8948, corpus="plays", corpus_chars=9,
            steps_per_epoch=35, epochs=20, step=300, epoch=1, resumed=True,
            history=tuple(self.records), patience=self.patience,
        ))  # fmt: skip
        stop.wait()


@pytest.mark.parametrize("told", [None, 5], ids=["from-the-folder", "from-the-event"])
async def test_a_resumed_run_keeps_its_patience_in_the_status_line(
    paths, tiny_settings, probe, until, told
):
    records = [step(100), evaluation(100, 2.0, "epoch"), step(200), evaluation(200, 2.1),
               step(300), evaluation(300, 2.2), finish("stopped", 300)]  # fmt: skip
    folder = make_run(paths.runs, "r1", records=records, patience=5)
    (folder / "last.pt").write_bytes(b"stands in for a checkpoint")
    train = replace(tiny_settings.train, run="r1")
    app = make_app(paths, trainer=ResumingTrainer(records, told), probe=probe,
                   settings=replace(tiny_settings, train=train))  # fmt: skip
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        best = screen.query_one("#train-best", Static)
        await until(pilot, lambda: "patience" in str(best.render()), 20, "the run's history")
        assert "patience 3 evaluations" in str(best.render())
        await pilot.press("s")
        await until(pilot, lambda: screen.training, 10, "the resume")
        await until(pilot, lambda: "resumed" in screen.query_one(TrainProgress).status_text, 10,
                    "TrainingStarted")  # fmt: skip
        shown = str(best.render())
        assert "best val 2.0000 nats/char at step 100" in shown
        assert "patience 3 evaluations" in shown, shown
        await pilot.press("s")
        await until(pilot, lambda: not screen.training, 10, "stopped")


async def test_the_speed_estimate_is_shown_only_from_a_comparable_run_timed_here(
    paths, tiny_settings, probe, until
):
    from shakespeare_tui.core.runs.summary import run_info
    from shakespeare_tui.views.train.fields import form_config

    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=(120, 40)) as pilot:
        form = app.screen.query_one(TrainForm)
        estimate = form.query_one("#estimate", Static)
        await until(pilot, lambda: form.device_label == "CPU · 2 threads", 20, "the device")
        assert "chars/s" not in str(estimate.render()), "no run timed yet: no speed"
        config = form_config(form.values(app.settings.train), "cpu")
        model = {"cell": config.model.cell, "embed": config.model.embed,
                 "hidden": config.model.hidden, "layers": config.model.layers,
                 "dropout": config.model.dropout, "vocab_size": 65}  # fmt: skip
        batches = {"batch_size": config.batch_size, "seq_len": config.seq_len}
        runs = []
        for name, device, cell, batch in (
            ("gpu", "NVIDIA H200 · bf16", config.model.cell, config.batch_size),  # elsewhere
            ("gru", "CPU · 2 threads", "gru", config.batch_size),  # another cell
            ("batch", "CPU · 2 threads", config.model.cell, config.batch_size * 4),
            ("infinite", "CPU · 2 threads", config.model.cell, float("inf")),  # hand-edited
            ("nan", "CPU · 2 threads", config.model.cell, float("nan")),
        ):
            folder = make_run(paths.runs, name, records=[step(10, speed=90_000.0)],
                              **{**batches, "batch_size": batch})  # fmt: skip
            _device(folder, device, {**model, "cell": cell})
            runs.append(run_info(folder))
        form.set_runs(runs)
        await pilot.pause()
        assert "chars/s" not in str(estimate.render()), "none of them is comparable"
        folder = make_run(paths.runs, "same", records=[step(10, speed=4342.0)], **batches)
        _device(folder, "CPU · 2 threads", model)
        form.set_runs([*runs, run_info(folder)])
        timed = "~4,300 chars/s (timed on this machine)"
        await until(pilot, lambda: timed in str(estimate.render()), 15, "the estimate's speed")


async def test_a_past_run_selected_at_start_shows_its_speed_once_the_device_is_known(
    paths, tiny_settings, until
):
    """The list of runs read before torch has loaded (the device unknown), then the device:
    the past run's own timed speed is in the estimate without touching the form; and a run
    timed later, in a list read again, grounds the estimate of a new run."""
    import threading

    from shakespeare_tui.core.runs.summary import run_info
    from shakespeare_tui.views.train.fields import form_config

    # A GRU: not comparable with the new run's LSTM below, which has no speed until "later".
    model = {"cell": "gru", "embed": 16, "hidden": 32, "layers": 1, "dropout": 0.0}
    folder = make_run(paths.runs, "past", cell="gru", records=[step(10, speed=4342.0)])
    _device(folder, "CPU · 2 threads", {**model, "vocab_size": 52})
    listed = threading.Event()

    def probe_after_the_list() -> tuple[str, str]:
        assert listed.wait(30), "the runs were never listed"
        return "CPU · 2 threads", "cpu"

    settings = replace(tiny_settings, train=replace(tiny_settings.train, run="past"))
    app = make_app(paths, settings=settings, probe=probe_after_the_list)
    async with app.run_test(size=(120, 40)) as pilot:
        form = app.screen.query_one(TrainForm)
        estimate = form.query_one("#estimate", Static)
        await _runs_listed(pilot, form, until)
        assert form.selected_run == "past" and form.device_label is None
        assert "chars/s" not in str(estimate.render())
        listed.set()
        timed = "~4,300 chars/s (timed on this machine)"
        await until(pilot, lambda: timed in str(estimate.render()), 15, "the past run's speed")

        form.query_one("#run", Select).value = NEW_RUN
        await until(pilot, lambda: "chars/s" not in str(estimate.render()), 15, "no speed")
        config = form_config(form.values(app.settings.train), "cpu")
        new = {"cell": config.model.cell, "embed": config.model.embed,
               "hidden": config.model.hidden, "layers": config.model.layers,
               "dropout": config.model.dropout, "vocab_size": 65}  # fmt: skip
        batches = {"batch_size": config.batch_size, "seq_len": config.seq_len}
        later = make_run(paths.runs, "later", records=[step(10, speed=9100.0)], **batches)
        _device(later, "CPU · 2 threads", new)
        form.update_runs([run_info(folder), run_info(later)])
        timed = "~9,100 chars/s (timed on this machine)"
        await until(pilot, lambda: timed in str(estimate.render()), 15, "the later run's speed")


def _device(folder, device: str, model: dict) -> None:
    """Say in a run's config.json that it trained `model` on `device`."""
    import json

    config = json.loads((folder / "config.json").read_text())
    config["device"] = device
    config["train"]["model"] = model
    (folder / "config.json").write_text(json.dumps(config))


async def test_the_form_counts_the_parameters_of_the_model_it_will_build(
    paths, tiny_settings, probe, until
):
    from dataclasses import replace as with_

    from shakespeare_tui.core.figures import params
    from shakespeare_tui.core.model.network import CharRNN
    from shakespeare_tui.views.train.fields import form_config

    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=(120, 40)) as pilot:
        form = app.screen.query_one(TrainForm)
        estimate = form.query_one("#estimate", Static)
        await until(pilot, lambda: not str(estimate.render()).startswith("≈"), 20, "the count")
        config = form_config(form.values(app.settings.train), "cpu")
        text = Path(tiny_settings.train.corpus).read_text(encoding="utf-8")
        model = CharRNN(with_(config.model, vocab_size=len(set(text))))
        built = sum(p.numel() for p in model.parameters())
        assert str(estimate.render()).startswith(params(built) + " · "), estimate.render()
        assert len(set(text)) != 80, "the corpus is not the typical one the form used to assume"
