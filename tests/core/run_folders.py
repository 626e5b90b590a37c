"""Run folders written by hand, as the engine writes them, for the table, diff and action tests."""

from __future__ import annotations

import json
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path


def step(n: int, loss: float = 2.0, speed: float = 1000.0) -> dict:
    return {"kind": "step", "step": n, "epoch": 1, "train_loss": loss,
            "chars_per_sec": speed, "elapsed_s": n / 10, "lr": 0.01}  # fmt: skip


def evaluation(n: int, val: float, kind: str = "interim", epoch: int = 1) -> dict:
    return {"kind": "epoch", "epoch": epoch, "step": n, "train_loss": None, "val_loss": val,
            "elapsed_s": n / 10, "partial": kind != "epoch", "eval": kind}  # fmt: skip


def finish(reason: str, n: int) -> dict:
    return {
        "kind": "finish",
        "reason": reason,
        "step": n,
        "epoch": 1,
        "message": f"{reason} at {n}",
    }


def make_run(
    runs: Path,
    name: str,
    *,
    cell: str = "lstm",
    hidden: int = 32,
    lr: float = 0.01,
    corpus: str = "plays",
    created: str = "2026-11-28T12:00:00+00:00",
    records: list[dict] | None = None,
    **train,
) -> Path:
    """A run folder with a config.json like the engine's and the given metrics records."""
    folder = Path(runs) / name
    folder.mkdir(parents=True)
    settings = {"corpus": corpus, "preset": "custom", "batch_size": 16, "seq_len": 32, "lr": lr,
                "schedule": "constant", "epochs": 20, "patience": 5, "device": "auto",
                "seed": 1337, "max_steps": None,
                "model": {"vocab_size": 52, "cell": cell, "embed": 16, "hidden": hidden,
                          "layers": 1, "dropout": 0.0}}  # fmt: skip
    settings.update(train)
    config = {"train": settings, "corpus": {"name": corpus, "checksum": "sha256:x", "chars": 9},
              "device": "CPU · 1 thread", "created": created, "vocab_size": 52,
              "parameters": 8948, "steps_per_epoch": 35}  # fmt: skip
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    if records is not None:
        (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return folder


@contextmanager
def locked_by_another_process(folder: Path):
    """The run's lock file names a live process other than this one, as a trainer's does."""
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (Path(folder) / ".lock").write_text(str(holder.pid))
        yield holder.pid
    finally:
        holder.kill()
        holder.wait()
