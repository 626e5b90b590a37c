"""Validation loss per CPU minute: `shakespeare-tui train --preset cpu --max-minutes M`, as a user runs it.

Each budget is its own run (the cosine schedule fits itself to --max-minutes), in a temporary
data folder. The validation set is the last 10% of the text, scored whole (nanoGPT's split).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import Table, fmt, median

NANOGPT = "nanoGPT shakespeare_char: ~1.47 (A100, 10.7M-parameter GPT); its CPU recipe ~1.88"


def _command() -> list[str]:
    exe = shutil.which("shakespeare-tui")
    return [exe] if exe else [sys.executable, "-m", "shakespeare_tui"]


def run_quality(args) -> None:
    path = Path(args.quality_corpus)
    if not path.is_file():
        print(f"quality: skipped — {path} not found (pass --quality-corpus PATH)\n", flush=True)
        return
    table = Table(
        f"Quality: validation loss (nats/char) on {path.name}, cpu preset, `--max-minutes M`",
        "minutes",
        "steps",
        "train chars/s (median)",
        "final val",
        "best val",
        "wall s",
        "exit",
    )
    for minutes in args.quality_minutes:
        with tempfile.TemporaryDirectory(prefix="bench-quality-") as tmp:
            cmd = _command() + [
                "train",
                "--data-dir",
                tmp,
                "--corpus",
                str(path),
                "--preset",
                "cpu",
                "--max-minutes",
                f"{minutes:g}",
                "--name",
                "quality",
                "--quiet",
            ]
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            print(f"quality: training {minutes:g} min: {' '.join(cmd)}", flush=True)
            t0 = time.perf_counter()
            done = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            records = []
            metrics = Path(tmp) / "runs" / "quality" / "metrics.jsonl"
            if metrics.is_file():
                for line in metrics.read_text().splitlines():
                    try:
                        records.append(json.loads(line))
                    except ValueError:
                        pass
            steps = [r for r in records if r.get("kind") == "step"]
            epochs = [r for r in records if r.get("kind") == "epoch" and r.get("epoch", 0) >= 1]
            vals = [r["val_loss"] for r in epochs if r.get("val_loss") is not None]
            table.add(
                f"{minutes:g}",
                steps[-1]["step"] if steps else "—",
                fmt(median([r["chars_per_sec"] for r in steps[1:]])),
                f"{vals[-1]:.4f}" if vals else "—",
                f"{min(vals):.4f}" if vals else "—",
                f"{wall:.0f}",
                done.returncode,
            )
            if done.returncode not in (0, 130):
                tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["?"]
                table.note(f"{minutes:g} min run failed: {tail[0]}")
    table.note(f"for comparison, {NANOGPT}")
    table.print()
