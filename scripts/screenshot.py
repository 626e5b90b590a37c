"""Screenshots for the README: the Train view mid-run and the Generate view after a generation.

    python scripts/screenshot.py [--out assets]

Runs the app headless at 120×40. Training is scripted (fixed events, as in the snapshot tests:
the numbers are those of a typical cpu-preset run on the plays, not measured now), so the
picture is the same on every machine; the Generate view samples the bundled checkpoint with a
fixed seed. Writes train-view.svg and generate-view.svg.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

from shakespeare_tui.app import make_app
from shakespeare_tui.core.config import TrainConfig, apply_preset
from shakespeare_tui.core.events import (
    CheckpointSaved,
    EpochEnded,
    StepLogged,
    TrainingFinished,
    TrainingStarted,
)
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.settings import AppSettings, GenerateSettings, TrainSettings

SIZE = (120, 40)
DEVICE = ("CPU · 2 threads", "cpu")
RUN = "20261128-140000-cpu"
STEPS_PER_EPOCH = 680  # the plays (4.8 M characters, 10% held out) in 64 × 100 windows
EPOCHS = 20
SHOWN_STEPS = 3 * STEPS_PER_EPOCH + 410  # three epochs done, the fourth under way
CHARS_PER_SEC = 31_400.0
VOCAB = 80  # distinct characters in the plays
SEED = 20261128
# Validation loss after each epoch (nats/char); epoch 0 is the untrained model.
VAL = {0: 4.382, 1: 1.652, 2: 1.534, 3: 1.497}
SAMPLES = {
    0: "Pk;XqT'mb&zE\nwuJ:?vAyLcGr -fHQ!h.oN3",
    1: "KING HENRY:\nWhat so the dore the serve and bear the lord,\nAnd the wind of my "
    "lord, and the son\nThat shall be the sent of the breath.",
    2: "GLOUCESTER:\nI will not speak to thee, my gracious lord,\nThe king is dead, and "
    "thou shalt see the crown\nWith heavy news that makes me weep for it.",
    3: "PORTIA:\nThe quality of mercy is not strain'd so;\nI pray you, sir, what should "
    "I say to him?\nHe hath a heart as true as any man's.",
}


class DemoTrainer:
    """Emits a fixed run up to SHOWN_STEPS, then waits for `stop` like the engine."""

    def __init__(self) -> None:
        self.shown = threading.Event()

    def __call__(self, config, paths, *, on_event, stop, run_name=None, resume=None, **_):
        model = replace(config.model, vocab_size=VOCAB)
        on_event(
            TrainingStarted(
                run_name=RUN,
                run_dir=str(paths.runs / RUN),
                device=DEVICE[0],
                model_summary=model.summary,
                parameters=model.parameter_count(),
                corpus="plays",
                corpus_chars=4_812_000,
                steps_per_epoch=STEPS_PER_EPOCH,
                epochs=EPOCHS,
                step=0,
                epoch=0,
                resumed=False,
            )
        )
        on_event(_epoch(0, 0))
        rng = random.Random(SEED)
        best = math.inf
        for step in range(10, SHOWN_STEPS + 1, 10):
            epoch = (step - 1) // STEPS_PER_EPOCH + 1
            loss = 1.38 + 2.9 * math.exp(-step / 160) + 0.22 * math.exp(-step / 1400)
            on_event(
                StepLogged(
                    step=step,
                    epoch=epoch,
                    epoch_step=step - (epoch - 1) * STEPS_PER_EPOCH,
                    steps_per_epoch=STEPS_PER_EPOCH,
                    train_loss=loss + rng.gauss(0, 0.035),
                    chars_per_sec=CHARS_PER_SEC + rng.gauss(0, 300),
                    elapsed_s=step * 6400 / CHARS_PER_SEC,
                    lr=2e-3,
                )
            )
            if step % STEPS_PER_EPOCH == 0:
                done = step // STEPS_PER_EPOCH
                best = min(best, VAL[done])
                on_event(_epoch(done, step))
                on_event(CheckpointSaved(f"runs/{RUN}/best.pt", "best", done, step, VAL[done]))
        self.shown.set()
        stop.wait()
        finished = TrainingFinished(
            reason="stopped",
            message=f"stopped at step {SHOWN_STEPS} — saved, resume any time",
            step=SHOWN_STEPS,
            epoch=3,
            best_val_loss=best,
            best_epoch=3,
            run_dir=f"runs/{RUN}",
            last_checkpoint=None,
            best_checkpoint=None,
        )
        on_event(finished)
        return finished


def _epoch(epoch: int, step: int) -> EpochEnded:
    best = min(v for e, v in VAL.items() if 1 <= e <= epoch) if epoch else VAL[0]
    return EpochEnded(
        epoch=epoch,
        step=step,
        train_loss=float("nan") if epoch == 0 else VAL[epoch] - 0.05,
        val_loss=VAL[epoch],
        best_val_loss=best,
        best_epoch=epoch,  # VAL only improves
        improved=epoch >= 1,
        patience_left=5,
        sample=SAMPLES[epoch],
        elapsed_s=step * 6400 / CHARS_PER_SEC,
    )


async def _until(pilot, predicate, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshot: timed out waiting for {what}")
        await pilot.pause(0.05)


async def shoot(out: Path) -> list[Path]:
    trainer = DemoTrainer()
    home = Path(tempfile.mkdtemp(prefix="shakespeare-screenshot-"))
    paths = Paths.resolve(home / "data").ensure()
    cpu = apply_preset(TrainConfig(), "cpu")
    settings = AppSettings(
        train=TrainSettings(corpus="plays", preset="auto", epochs=EPOCHS, **_model(cpu)),
        generate=GenerateSettings(
            checkpoint="bundled", seed="1606", length=700, colour_by_probability=True
        ),
    )
    app = make_app(paths, settings=settings, trainer=trainer, probe=lambda: DEVICE)
    written = []
    async with app.run_test(size=SIZE) as pilot:
        await _until(pilot, lambda: app.sub_title.startswith("CPU"), "the device")
        await pilot.press("s")
        await _until(pilot, trainer.shown.is_set, "the scripted run")
        numbers = app.screen.query_one("#train-numbers")
        await _until(pilot, lambda: f"step {SHOWN_STEPS:,}" in str(numbers.render()), "the view")
        await pilot.pause(0.5)  # past the chart's redraw throttle
        written.append(Path(app.save_screenshot("train-view.svg", str(out))))

        await pilot.press("s")
        await _until(pilot, lambda: not app.screen.training, "the stop")
        await pilot.press("g")
        status = "#generate-status"
        await _until(pilot, lambda: app.screen.query_one("#picker").option_count > 0, "the scan")
        await pilot.press("g")
        await _until(
            pilot, lambda: "done:" in str(app.screen.query_one(status).render()), "the text"
        )
        await pilot.pause(0.3)
        written.append(Path(app.save_screenshot("generate-view.svg", str(out))))
        await pilot.press("q")
    return written


def _model(config: TrainConfig) -> dict:
    m = config.model
    return {
        "cell": m.cell,
        "embed": m.embed,
        "hidden": m.hidden,
        "layers": m.layers,
        "dropout": m.dropout,
        "batch_size": config.batch_size,
        "seq_len": config.seq_len,
        "lr": config.lr,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "assets")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for path in asyncio.run(shoot(args.out)):
        print(f"{path} ({path.stat().st_size / 1000:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
