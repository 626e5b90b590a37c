"""Validation loss per CPU minute, as a user gets it: `shakespeare-tui train --max-minutes M`.

Each budget is its own run in a temporary data folder, one at a time (the machine should be
otherwise idle): "sized" is the default command (no preset: the model is sized to the budget,
core/sizing/rule.py), "cpu" the fixed `cpu` preset beside it. The validation set is the last 10% of
the text, scored whole (nanoGPT's split). Beside the minutes, the figures that travel between
machines: the characters each run trained, its speed, and the recorded validation loss of each
size after a fixed number of characters (benchmarks/sizing.py's table).
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
VARIANTS = {"sized": [], "cpu": ["--preset", "cpu"]}


def _command() -> list[str]:
    exe = shutil.which("shakespeare-tui")
    return [exe] if exe else [sys.executable, "-m", "shakespeare_tui"]


def _records(metrics: Path) -> list[dict]:
    records = []
    if metrics.is_file():
        for line in metrics.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                pass
    return records


def run_quality(args) -> None:
    path = Path(args.quality_corpus)
    if not path.is_file():
        print(f"quality: skipped — {path} not found (pass --quality-corpus PATH)\n", flush=True)
        return
    table = Table(
        f"Quality: validation loss (nats/char) on {path.name}, `train --max-minutes M`",
        "variant",
        "minutes",
        "model",
        "chars trained",
        "train chars/s (median)",
        "final val",
        "best val",
        "wall s",
        "exit",
    )
    variants = getattr(args, "quality_variants", None) or list(VARIANTS)
    chosen = set()
    for minutes in args.quality_minutes:
        for variant in variants:
            with tempfile.TemporaryDirectory(prefix="bench-quality-") as tmp:
                cmd = _command() + ["train", "--data-dir", tmp, "--corpus", str(path)]
                cmd += VARIANTS[variant] + ["--max-minutes", f"{minutes:g}"]
                cmd += ["--name", "quality", "--quiet"]
                if args.threads:
                    cmd += ["--threads", str(args.threads)]
                print(f"quality: {variant}, {minutes:g} min: {' '.join(cmd)}", flush=True)
                t0 = time.perf_counter()
                done = subprocess.run(cmd, capture_output=True, text=True)
                wall = time.perf_counter() - t0
                run = Path(tmp) / "runs" / "quality"
                records = _records(run / "metrics.jsonl")
                try:
                    train = json.loads((run / "config.json").read_text())["train"]
                except (OSError, ValueError, KeyError):
                    train = {}
            model = train.get("model") or {}
            layers = f"×{model.get('layers')}" if model.get("layers", 1) > 1 else ""
            summary = f"E{model.get('embed')}/H{model.get('hidden')}{layers}" if model else "?"
            if train.get("sizing"):
                chosen.add(train["sizing"]["chosen"])
                summary += (
                    f" ({train['sizing']['chosen']}, timed {train['sizing']['probe_s']:.0f} s)"
                )
            steps = [r for r in records if r.get("kind") == "step"]
            evals = [r for r in records if r.get("kind") == "epoch" and r.get("epoch", 0) >= 1]
            vals = [r["val_loss"] for r in evals if r.get("val_loss") is not None]
            per_step = train.get("batch_size", 0) * train.get("seq_len", 0)
            table.add(
                variant,
                f"{minutes:g}",
                summary,
                f"{steps[-1]['step'] * per_step / 1e6:.2f} M" if steps and per_step else "—",
                fmt(median([r["chars_per_sec"] for r in steps[1:]])) if len(steps) > 1 else "—",
                f"{vals[-1]:.4f}" if vals else "—",
                f"{min(vals):.4f}" if vals else "—",
                f"{wall:.0f}",
                done.returncode,
            )
            if done.returncode not in (0, 130):
                tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["?"]
                table.note(f"{variant} {minutes:g} min run failed: {tail[0]}")
    table.note(f"for comparison, {NANOGPT}")
    table.print()
    _print_per_character(chosen)


def _print_per_character(chosen: set[str]) -> None:
    """The CPU-independent figures: each size's val after N characters, as recorded."""
    from benchmarks.sizing import OUT, recorded

    results = recorded(OUT)
    if not results:
        return
    print("#### Validation loss after a fixed number of characters (benchmarks/sizing-runs.jsonl)")
    print()
    from benchmarks.sizing import print_table

    print_table(results)
    cpus = sorted({r["cpu"] for r in results})
    print(
        f"- measured on: {', '.join(cpus)}; sizes the budgets above chose: {', '.join(sorted(chosen)) or '—'}"
    )
    print()
