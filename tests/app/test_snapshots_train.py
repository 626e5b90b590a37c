"""SVG snapshots of the Train view, fed by a scripted trainer and a fixed device: no clocks,
no randomness, nothing from this machine. Update with `pytest --snapshot-update` after a
deliberate change of the look, and review the SVGs."""

from __future__ import annotations

import pytest

from shakespeare_tui.app import make_app
from shakespeare_tui.settings import AppSettings, TrainSettings
from shakespeare_tui.views.train.progress import SamplesLog
from tests.app.harness import wait_for

pytestmark = pytest.mark.heavy(25)

SIZE = (120, 40)


@pytest.fixture
def snapshot_app(paths, probe, scripted):
    settings = AppSettings(train=TrainSettings(corpus="plays", preset="tiny", epochs=5))
    return make_app(paths, settings=settings, probe=probe, trainer=scripted)


async def _device_shown(pilot, counted: bool = True) -> None:
    """The device in the header and the estimate made, exact once the corpus's characters are
    counted (a worker) where `counted`; a past run whose config holds no vocabulary keeps "≈",
    and its estimate waits for its own timed speed, read with the run list (another worker).

    Waits that fail saying what they waited for: one that gave up after a few seconds on a busy
    machine went on to a snapshot of the view half-drawn (and one for a count that never came
    spent 10 s on each past run's snapshot)."""
    app = pilot.app
    await wait_for(pilot, lambda: app.sub_title.startswith("CPU"), what="the device")
    estimate = app.screen.query_one("#estimate")
    if counted:
        shown = lambda: not str(estimate.render()).startswith("≈")  # noqa: E731
    else:
        shown = lambda: "timed on this machine" in str(estimate.render())  # noqa: E731
    await wait_for(pilot, shown, what="the estimate")
    await pilot.pause(0.3)  # the empty chart's first draw


async def _mid_training(pilot) -> None:
    await _device_shown(pilot)
    await pilot.press("s")
    screen = pilot.app.screen
    await wait_for(
        pilot,
        lambda: (
            screen.query_one(SamplesLog).epochs_shown == 3
            and "step 250" in str(screen.query_one("#train-numbers").render())
        ),
        what="epoch 3's sample and step 250",
    )
    await pilot.pause(0.4)  # past the chart's redraw throttle


def test_train_view_before_training(snap_compare, snapshot_app):
    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=_device_shown)


def test_train_view_mid_training(snap_compare, snapshot_app):
    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=_mid_training)


def test_help_screen(snap_compare, snapshot_app, paths, monkeypatch):
    monkeypatch.setenv("HOME", str(paths.data.parent))  # the settings file shown as ~/home/…

    async def open_help(pilot):
        await _device_shown(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.1)

    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=open_help)


def test_train_view_mid_training_at_80x24(snap_compare, snapshot_app):
    """The smallest terminal we promise: form, chart, progress and samples all readable."""
    assert snap_compare(snapshot_app, terminal_size=(80, 24), run_before=_mid_training)


def _demo_run(paths, **train_extra) -> None:
    """A past run "demo" in the data folder: 300 steps, evaluations every 60, its samples."""
    import json

    run = paths.ensure().runs / "demo"
    run.mkdir(parents=True)
    train = {"preset": "tiny", "epochs": 5, "patience": 5, "max_steps": 300, "corpus": "plays"}
    train |= {"batch_size": 16, "seq_len": 32}  # as the engine's config.json has them
    train["model"] = {"cell": "lstm", "embed": 16, "hidden": 32, "layers": 1, "dropout": 0.0}
    train |= train_extra
    config = {"train": train, "corpus": {"name": "plays"}, "device": "CPU · 2 threads"}
    config |= {"created": "2026-01-01T12:00:00+00:00", "steps_per_epoch": 120}
    (run / "config.json").write_text(json.dumps(config))
    records, samples = [], []
    for step in range(0, 301, 10):
        loss = 1.6 + 2.6 * 0.985**step
        if step:
            records.append({"kind": "step", "step": step, "epoch": (step - 1) // 120 + 1,
                            "train_loss": loss, "chars_per_sec": 51200.0,
                            "elapsed_s": step * 0.01})  # fmt: skip
        if step % 60 == 0:
            end = step % 120 == 0 and step > 0
            kind = (
                "initial"
                if step == 0
                else "epoch"
                if end
                else "budget"
                if step == 300
                else "interim"
            )
            epoch = 0 if step == 0 else (step - 1) // 120 + 1
            records.append({"kind": "epoch", "epoch": epoch, "step": step, "val_loss": loss + 0.08,
                            "partial": kind in ("interim", "budget"), "eval": kind})  # fmt: skip
            samples.append(f"=== step {step} (epoch {epoch}) · val {loss + 0.08:.4f} ===\n"
                           f"KING:\nA sample drawn at step {step}.\n\n")  # fmt: skip
    records.append({"kind": "finish", "reason": "max-steps", "step": 300, "epoch": 2,
                    "message": "reached 300 steps; best val 1.7055 at step 300 (epoch 3)"})  # fmt: skip
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (run / "samples.txt").write_text("".join(samples))


def _demo_app(paths, probe, scripted):
    settings = AppSettings(train=TrainSettings(corpus="plays", preset="tiny", run="demo"))
    return make_app(paths, settings=settings, probe=probe, trainer=scripted)


async def _demo_shown(pilot):
    await _device_shown(pilot, counted=False)  # the demo run's config names no vocabulary
    status = pilot.app.screen.query_one("#train-status")
    await wait_for(pilot, lambda: "reached 300 steps" in str(status.render()), what="the run's end")
    await pilot.pause(0.5)


def test_train_view_past_run_at_200x50(snap_compare, paths, probe, scripted):
    """A wide terminal showing a past run from its folder: chart, progress, samples, its end."""
    _demo_run(paths)
    app = _demo_app(paths, probe, scripted)
    assert snap_compare(app, terminal_size=(200, 50), run_before=_demo_shown)


def test_train_view_past_sized_run_at_80x24(snap_compare, paths, probe, scripted):
    """A run a time budget sized: the progress area says what it chose and why."""
    reason = (
        "sized for 10 min: LSTM E96/H512 (dropout 0.1) · ~8.1 M characters at 14,200 chars/s "
        "on this machine · expected val ≈ 1.50 (measured in 9 s)"
    )
    sizing = {"chosen": "s", "model": "LSTM E96/H512", "budget_minutes": 10, "rungs": []}
    _demo_run(paths, preset="sized", preset_reason=reason, sizing=sizing, max_minutes=10)
    app = _demo_app(paths, probe, scripted)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_demo_shown)
