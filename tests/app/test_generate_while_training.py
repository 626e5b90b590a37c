"""Generate from a run's best checkpoint while that run keeps training, in the full app.

Real training of the tiny preset (tests/app/conftest.py's `tiny_settings`) on a small corpus:
the Generate view, opened before the run saved anything, lists the new best.pt as soon as it
is written and preselects it; generating from it leaves training running.
"""

from __future__ import annotations

import time

from shakespeare_tui.app import make_app
from shakespeare_tui.core.events import CheckpointSaved, StepLogged, TrainingStarted
from shakespeare_tui.messages import GenerationFinished, TrainingUpdate
from shakespeare_tui.views.generate.generated_text import GeneratedText
from shakespeare_tui.views.generate.screen import GenerateScreen
from shakespeare_tui.views.train.screen import TrainScreen
from shakespeare_tui.widgets.checkpoint_picker import CheckpointPicker

SIZE = (120, 40)


async def test_generate_from_the_best_checkpoint_while_training_goes_on(
    paths, tiny_settings, probe, until
):
    tiny_settings.generate.length = 300
    tiny_settings.generate.seed = "11"
    seen: list[tuple[float, object]] = []  # (when, event or message)

    def hook(message) -> None:
        if isinstance(message, TrainingUpdate):
            seen.append((time.monotonic(), message.event))
        elif isinstance(message, GenerationFinished):
            seen.append((time.monotonic(), message))

    def events_of(kind) -> list:
        return [e for _, e in seen if isinstance(e, kind)]

    notes: list[tuple[str, str]] = []
    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        real_notify = app.notify

        def notify(message, *, severity="information", **kwargs):
            notes.append((severity, str(message)))
            return real_notify(message, severity=severity, **kwargs)

        app.notify = notify
        train = app.screen
        assert isinstance(train, TrainScreen)

        # The Generate view exists (and has scanned) before the run writes any checkpoint.
        await pilot.press("g")
        generate = app.screen
        assert isinstance(generate, GenerateScreen)
        await until(pilot, lambda: generate._scanned, what="the first checkpoint scan")
        picker = generate.query_one(CheckpointPicker)
        assert not any(e.kind == "best" for e in picker.entries)  # only the bundled one, if any
        refreshes = []
        real_refresh = app.listing.refresh  # what a saved checkpoint asks for
        app.listing.refresh = lambda: (refreshes.append(1), real_refresh())[1]

        await pilot.press("t")
        assert app.screen is train
        await pilot.press("s")
        await until(
            pilot,
            lambda: any(e.kind == "best" for e in events_of(CheckpointSaved)),
            timeout=60,
            what="the run's first best.pt",
        )
        run = events_of(TrainingStarted)[0]
        best = next(e for e in events_of(CheckpointSaved) if e.kind == "best")
        # The hook sees the event before the Train view has handled it (and published it).
        await until(pilot, lambda: refreshes, what="a saved checkpoint rescanning the list")

        await pilot.press("g")
        assert app.screen is generate
        await until(
            pilot,
            lambda: picker.selected_entry is not None and picker.selected_entry.path == best.path,
            what="the new best.pt preselected",
        )
        assert picker.selected_entry.title.startswith(f"{run.run_name} · best")
        assert picker.selected_entry.ok

        await pilot.press("g")  # generate from it
        await until(pilot, lambda: events_of(GenerationFinished), timeout=60, what="the generation")
        done_at, done = next((t, e) for t, e in seen if isinstance(e, GenerationFinished))
        assert not done.stopped and done.count == 300
        assert len(generate.query_one(GeneratedText).text) == 300
        assert train.training, "training went on while the text was generated"

        steps_before = [e.step for t, e in seen if isinstance(e, StepLogged) and t <= done_at]
        await until(
            pilot,
            lambda: any(isinstance(e, StepLogged) and t > done_at for t, e in seen),
            timeout=30,
            what="a training step after the generation",
        )
        after = [e.step for t, e in seen if isinstance(e, StepLogged) and t > done_at]
        assert steps_before and after[0] > steps_before[-1]

        await pilot.press("t")
        await pilot.press("s")  # stop the run (it saves a resumable last.pt)
        await until(pilot, lambda: not train.training, timeout=30, what="training to stop")
        await pilot.pause()
    errors = [text for severity, text in notes if severity in ("error", "warning")]
    assert not errors, errors
