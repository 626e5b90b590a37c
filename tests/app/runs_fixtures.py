"""Run folders for the Runs view's tests, written by hand as the engine writes them: three
cells of about one size trained for a while (the notebook's lesson), their curves noisy the
way training curves are, and nothing random (the snapshots must not change)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from shakespeare_tui.views.runs.screen import RunsScreen
from shakespeare_tui.views.runs.table import RunsTable
from tests.core.run_folders import make_run

SIZE = (120, 40)
# name: (cell, hidden, where its loss levels off, how fast it gets there, speed in chars/s)
THREE = {
    "rnn-h512": ("rnn", 512, 1.82, 700.0, 61_000.0),
    "gru-h320": ("gru", 320, 1.58, 420.0, 38_000.0),
    "lstm-h256": ("lstm", 256, 1.38, 600.0, 33_000.0),
}


def curve_records(floor: float, pace: float, steps: int, speed: float, *, every: int = 10,
                  eval_every: int = 200, finish: str | None = "max-steps") -> list[dict]:  # fmt: skip
    """A run's metrics: a step record every `every` steps, an evaluation every `eval_every`."""
    chars = 16 * 32
    records = [{"kind": "epoch", "epoch": 0, "step": 0, "train_loss": None, "val_loss": 4.17,
                "elapsed_s": 0.0, "partial": False, "eval": "initial"}]  # fmt: skip
    for step in range(every, steps + 1, every):
        loss = floor + 2.6 * math.exp(-step / pace) + 0.08 * math.sin(step * 0.37)
        loss += 0.05 * math.sin(step * 1.91 + floor)  # a second wobble: noise to smooth
        elapsed = step * chars / speed
        records.append({"kind": "step", "step": step, "epoch": 1, "train_loss": round(loss, 4),
                        "chars_per_sec": speed, "elapsed_s": round(elapsed, 3), "lr": 0.002})  # fmt: skip
        if step % eval_every == 0:
            val = floor + 0.06 + 2.6 * math.exp(-step / pace) + 0.002 * (step / 1000) ** 2
            records.append({"kind": "epoch", "epoch": 1, "step": step, "train_loss": None,
                            "val_loss": round(val, 4), "elapsed_s": round(elapsed, 3),
                            "partial": True, "eval": "interim"})  # fmt: skip
    if finish:
        records.append({"kind": "finish", "reason": finish, "step": steps, "epoch": 1,
                        "message": f"reached {steps:,} steps"})  # fmt: skip
    return records


def make_three(runs: Path, steps: int = 3000) -> dict[str, Path]:
    """The three cells, created a minute apart (the LSTM newest)."""
    folders = {}
    for i, (name, (cell, hidden, floor, pace, speed)) in enumerate(THREE.items()):
        folders[name] = make_run(
            runs, name, cell=cell, hidden=hidden, lr=0.002,
            created=f"2026-12-01T10:0{i}:00+00:00",
            records=curve_records(floor, pace, steps, speed),
        )  # fmt: skip
        _set_parameters(folders[name], {"rnn": 312_000, "gru": 331_000, "lstm": 298_000}[cell])
    return folders


def _set_parameters(folder: Path, n: int) -> None:
    config = json.loads((folder / "config.json").read_text())
    config["parameters"] = n
    (folder / "config.json").write_text(json.dumps(config, indent=2))


def append(folder: Path, records: list[dict]) -> None:
    with open(folder / "metrics.jsonl", "a") as f:
        f.write("".join(json.dumps(r) + "\n" for r in records))


async def opened(pilot, until, bundled: bool = True) -> RunsScreen:
    """The Runs view once it lists the three runs (and the bundled checkpoint)."""
    screen = pilot.app.screen
    assert isinstance(screen, RunsScreen)
    want = 4 if bundled else 3
    await until(pilot, lambda: len(screen.query_one(RunsTable).names) >= want, 30, "the rows")
    return screen


def table(screen) -> RunsTable:
    return screen.query_one(RunsTable)


def runs_only(screen) -> list[str]:
    return [n for n in table(screen).names if n != "bundled"]


async def select(pilot, until, screen, *names: str) -> None:
    for name in names:
        table(screen).move_cursor(row=table(screen).names.index(name))
        await pilot.press("space")
    await until(pilot, lambda: all(n in screen.curves for n in screen.selected), 20, "curves")
