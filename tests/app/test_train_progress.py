"""The Train view's progress lines keep up with a run that logs faster than a person reads: the
latest step is on screen within a quarter of a second, without a redraw for every step, and the
end of a run shows the step it ended at at once."""

from __future__ import annotations

from textual.widgets import Static

from shakespeare_tui.core.events import StepLogged, TrainingFinished
from shakespeare_tui.views.train.progress import STEP_SHOWN_EVERY_S, TrainProgress
from tests.app.harness import ViewApp, wait_for


def _step(step: int) -> StepLogged:
    return StepLogged(step=step, epoch=1, epoch_step=step, steps_per_epoch=1000, train_loss=2.0,
                      chars_per_sec=50_000.0, elapsed_s=step / 20, lr=1e-3)  # fmt: skip


def _numbers_drawn(app) -> list[str]:
    """Every text the numbers line is given, from now on."""
    numbers = app.query_one("#train-numbers", Static)
    drawn: list[str] = []
    update = numbers.update

    def recorded(content="", **kwargs):
        drawn.append(str(content))
        update(content, **kwargs)

    numbers.update = recorded
    return drawn


async def test_a_burst_of_steps_shows_the_latest_soon_without_drawing_each():
    app = ViewApp(lambda: TrainProgress())
    async with app.run_test(size=(100, 10)) as pilot:
        progress = app.query_one(TrainProgress)
        drawn = _numbers_drawn(app)
        for step in range(1, 51):  # 50 steps in one go, as a tiny model logs them
            progress.step(_step(step))
        numbers = app.query_one("#train-numbers", Static)
        await wait_for(pilot, lambda: "step 50 " in str(numbers.render()), 2, "step 50")
        assert drawn[0].startswith("epoch 1/0 · step 1 ·")  # the first at once
        assert len(drawn) <= 3, f"{len(drawn)} of 50 steps drawn"
        await pilot.pause(STEP_SHOWN_EVERY_S + 0.1)
        assert len(drawn) <= 3, "nothing more to draw"


async def test_the_end_of_a_run_shows_its_last_step_at_once():
    app = ViewApp(lambda: TrainProgress())
    async with app.run_test(size=(100, 10)) as pilot:
        progress = app.query_one(TrainProgress)
        progress.step(_step(1))
        progress.step(_step(2))  # within the wait: due, not shown yet
        numbers = app.query_one("#train-numbers", Static)
        assert "step 2 " not in str(numbers.render())
        progress.finished(
            TrainingFinished(
                reason="stopped",
                message="stopped at step 2",
                step=2,
                epoch=1,
                best_val_loss=None,
                best_epoch=None,
                run_dir="r",
                last_checkpoint=None,
                best_checkpoint=None,
            )  # fmt: skip
        )
        await pilot.pause()
        assert "step 2 " in str(numbers.render())
        assert progress.status_text.startswith("stopped at step 2")
