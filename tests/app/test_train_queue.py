"""The queue in the Train view: `a` queues the form's run, `w` trains the queue one run after
another with the real trainer, `Q` shows and edits it, and a quit mid-queue is offered to go
on at the next launch."""

from __future__ import annotations

from dataclasses import replace

import pytest
from textual.widgets import DataTable

from shakespeare_tui.app import make_app
from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.runs.folders import read_json, read_metrics
from shakespeare_tui.core.runs.run_queue import (
    CANCELLED,
    DONE,
    FAILED,
    STOPPED,
    WAITING,
    RunQueue,
)
from shakespeare_tui.views.queue_dialog import QueueScreen
from shakespeare_tui.views.queue_offer import QueueOfferScreen

pytestmark = pytest.mark.heavy(20)

SIZE = (120, 40)


def budgeted(settings, steps: int):
    train = replace(settings.train, max_steps=steps, eval_every=10, sample_length=10)
    return replace(settings, train=train)


def states(paths) -> list[str]:
    return [e.state for e in RunQueue.load(paths.data).entries]


def last_step(run_dir) -> int:
    return max((r["step"] for r in read_metrics(run_dir) if "step" in r), default=0)


async def test_queued_runs_train_one_after_another(paths, tiny_settings, probe, until):
    app = make_app(paths, settings=budgeted(tiny_settings, 15), probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("a", "a")
        await pilot.pause()
        queue = RunQueue.load(paths.data)
        assert states(paths) == [WAITING, WAITING]
        first, second = (e.run for e in queue.entries)
        assert first != second and not (paths.runs / first).exists(), "a queues, not trains"
        await pilot.press("w")
        await until(pilot, lambda: states(paths) == [DONE, DONE], 120, "both runs trained")
        for run in (first, second):
            assert last_step(paths.runs / run) == 15
            assert read_json(paths.runs / run / "config.json")["train"]["preset"] == "tiny"
        await until(pilot, lambda: not app.screen.training, 30, "the view idle")
        assert not RunQueue.load(paths.data).lock().held_by_other_process()


async def test_the_queue_dialog_reorders_and_cancels(paths, tiny_settings, probe, until):
    queue = RunQueue.load(paths.data)
    for name in ("one", "two", "three"):
        queue.add({"preset": "tiny"}, name)
    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, QueueOfferScreen), 30, "the offer")
        await pilot.press("escape")  # later
        await pilot.pause()
        await pilot.press("Q")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen), 30, "the queue")
        table = app.screen.query_one(DataTable)
        assert table.row_count == 3
        table.move_cursor(row=2)
        await pilot.press("shift+up", "shift+up")
        await pilot.pause()
        assert [e.run for e in RunQueue.load(paths.data).entries] == ["three", "one", "two"]
        await pilot.press("x")
        await pilot.pause()
        assert states(paths) == [CANCELLED, WAITING, WAITING]
        await pilot.press("c")
        await pilot.pause()
        assert [e.run for e in RunQueue.load(paths.data).entries] == ["one", "two"]
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, QueueScreen)
        assert not (paths.runs / "one").exists()


async def test_a_quit_mid_queue_is_offered_to_go_on(paths, tiny_settings, probe, until):
    settings = budgeted(tiny_settings, 400)
    app = make_app(paths, settings=settings, probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("a", "w")
        run = RunQueue.load(paths.data).entries[0].run
        await until(pilot, lambda: last_step(paths.runs / run) >= 20, 60, "some training")
        await app.action_quit()
    assert states(paths) == [STOPPED]
    stopped_at = last_step(paths.runs / run)
    assert stopped_at < 400

    app = make_app(paths, settings=budgeted(tiny_settings, 400), probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, QueueOfferScreen), 30, "the offer")
        await pilot.press("enter")  # go on
        await until(pilot, lambda: states(paths) == [DONE], 120, "the run finished")
    assert last_step(paths.runs / run) == 400
    steps = [r["step"] for r in read_metrics(paths.runs / run) if r.get("kind") == "step"]
    assert steps == sorted(steps) and len(set(steps)) == len(steps), "went on, not restarted"


async def test_a_queued_run_that_fails_is_marked_and_the_next_one_trains(
    paths, tiny_settings, probe, until, make_scripted
):
    queue = RunQueue.load(paths.data)
    for name in ("broken", "fine"):
        queue.add({"preset": "tiny"}, name)
    finishing = make_scripted(finish=True)
    asked: list[str | None] = []

    def trainer(config, paths, **kwargs):
        asked.append(kwargs["run_name"])
        if len(asked) == 1:
            raise UserError("cannot read corpus.txt: no such file")
        return finishing(config, paths, **kwargs)

    app = make_app(paths, settings=tiny_settings, probe=probe, trainer=trainer)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, QueueOfferScreen), 30, "the offer")
        await pilot.press("enter")  # go on
        await until(pilot, lambda: states(paths) == [FAILED, DONE], 60, "the queue worked")
        await until(pilot, lambda: not app.screen.training, 30, "the view idle")
    assert asked == ["broken", "fine"]
    failed = RunQueue.load(paths.data).entries[0]
    assert "cannot read corpus.txt" in failed.note
    assert not RunQueue.load(paths.data).lock().held_by_other_process()


async def test_q_shows_the_queue_from_another_view(paths, tiny_settings, probe, until):
    from shakespeare_tui.settings import AppSettings

    settings = AppSettings(mode="generate", train=tiny_settings.train)
    app = make_app(paths, settings=settings, probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("Q")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen), 30, "the queue")

        def title() -> str:  # filled when the dialog mounts, a frame after it is pushed
            return str(app.screen.query_one("#queue-title").render())

        await until(pilot, lambda: "runs to train" in title(), 30, "the queue's title")
        assert "0 runs to train" in title()
