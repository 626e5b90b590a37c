"""The header while a run trains shows the threads and processes the run trains in (its device
line, core/layout.py), not the machine's cores that the header shows before."""

from __future__ import annotations

from dataclasses import replace

from shakespeare_tui.app import make_app
from shakespeare_tui.core.events import TrainingStarted
from tests.app.conftest import ScriptedTrainer

SIZE = (120, 40)


class OneThreadTrainer(ScriptedTrainer):
    """The scripted run, trained in one thread as the rule chooses for small steps."""

    def events(self):
        for event in super().events():
            if isinstance(event, TrainingStarted):
                event = replace(event, device="CPU · 1 thread · bf16")
            yield event


async def test_the_header_says_the_runs_threads_while_it_trains(paths, tiny_settings, probe, until):
    trainer = OneThreadTrainer()
    app = make_app(paths, settings=tiny_settings, probe=probe, trainer=trainer)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.sub_title.startswith("CPU · 2 threads"), what="the device")
        await pilot.press("s")
        await until(
            pilot,
            lambda: (
                app.sub_title.startswith("training") and "CPU · 1 thread · bf16" in app.sub_title
            ),
            what="the run's threads in the header",
        )
        assert "2 threads" not in app.sub_title
        await pilot.press("s")  # stop: the header shows the machine again
        await until(pilot, lambda: app.sub_title.startswith("CPU · 2 threads"), what="the machine")
