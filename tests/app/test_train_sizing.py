"""The Train view with a time budget and the auto preset: the form says the model will be sized,
the progress area shows the sizing and then the size chosen and why, for the live run and for
the run shown afterwards."""

from __future__ import annotations

import json
from dataclasses import replace

from textual.widgets import Static

from shakespeare_tui.app import make_app
from shakespeare_tui.core.events import ModelSized, StepLogged, TrainingStarted
from shakespeare_tui.core.runs.history import read_run_history
from shakespeare_tui.core.sizing import ladder as size_ladder
from shakespeare_tui.core.sizing.ladder import Rung
from shakespeare_tui.messages import TrainingUpdate
from shakespeare_tui.views.train.form import TrainForm
from shakespeare_tui.views.train.progress import TrainProgress

LADDER = (
    Rung("a", 8, 16, 1, 0.0, batch_size=4, seq_len=16, lr=1e-2, warmup_steps=0),
    Rung("b", 12, 24, 1, 0.1, batch_size=4, seq_len=16, lr=1e-2, warmup_steps=0),
)
QUALITY = {"a": ((1e4, 3.0), (1e5, 2.6)), "b": ((1e4, 3.1), (1e5, 2.5))}


def _text(widget) -> str:
    return str(widget.render())


async def test_a_budget_with_auto_sizes_the_model_and_the_view_says_what_it_chose(
    paths, tiny_settings, probe, until, monkeypatch
):
    monkeypatch.setattr(size_ladder, "LADDER", LADDER)
    monkeypatch.setattr(size_ladder, "QUALITY", QUALITY)
    settings = replace(
        tiny_settings, train=replace(tiny_settings.train, preset="auto", max_minutes=5.0)
    )
    seen: list = []
    app = make_app(paths, settings=settings, probe=probe)
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        screen = app.screen
        form = screen.query_one(TrainForm)
        await pilot.pause()
        assert "sized to the budget when it starts" in _text(form.query_one("#preset-hint"))
        assert _text(form.query_one("#estimate")).startswith("one of 2 sizes, LSTM E8/H16")
        sizing_line = screen.query_one("#train-sizing", Static)
        assert not sizing_line.display
        await pilot.press("s")

        def events():
            return [m.event for m in seen if isinstance(m, TrainingUpdate)]

        await until(pilot, lambda: any(isinstance(e, StepLogged) for e in events()), what="a step")
        sized = next(e for e in events() if isinstance(e, ModelSized))
        started = next(e for e in events() if isinstance(e, TrainingStarted))
        assert sizing_line.display and _text(sizing_line) == sized.reason
        assert sized.reason.startswith("sized for 5 min: LSTM E")
        assert started.model_summary == sized.model_summary
        await pilot.press("s")
        await until(pilot, lambda: not screen.training, what="the run to stop")
        # The stopped run, shown from its folder, still says how it was sized.
        progress = screen.query_one(TrainProgress)
        progress.clear()
        assert not sizing_line.display
        progress.show_history(read_run_history(paths.runs / started.run_name))
        assert sizing_line.display and _text(sizing_line) == sized.reason
    train = json.loads((paths.runs / started.run_name / "config.json").read_text())["train"]
    assert train["preset"] == "sized" and train["preset_reason"] == sized.reason
