"""Validation loss per training character for each rung of the size ladder (core/sizing/ladder.py).

    python -m benchmarks.sizing                       # the default points, 2 runs at a time
    python -m benchmarks.sizing --points xs:5 s:2.5   # rung:millions of characters
    python -m benchmarks.sizing --points s:5:dropout=0.35,seq_len=100   # a variant of a rung
    python -m benchmarks.sizing --table               # print what is recorded, train nothing

Each point is one headless `shakespeare-tui train` run of the rung's recipe for exactly that
many characters (`--max-steps`, so the cosine schedule spans them), on one thread each. The
figure is the validation loss at the end: it depends on the characters seen, not on the CPU,
so runs may share the machine. Results are appended to --out as they finish (one JSON line
per run, with the CPU they ran on), and points already there are not trained again: an
interrupted sweep goes on where it stopped.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.common import REPO, TINY_SHAKESPEARE, cpu_name
from shakespeare_tui.core.sizing.ladder import LADDER
from shakespeare_tui.core.sizing.ladder import rung as rung_named

OUT = REPO / "benchmarks" / "sizing-runs.jsonl"
# The order they run in: the points that decide 5 and 10 minutes on a slow CPU first.
DEFAULT_POINTS = ("xs:5 s:5 xs:10 s:2.5 m:2.5 m:5 xs:2.5 s:10 l:2.5 l:5 m:10 xl:2.5").split()


def command(rung, chars: int, data_dir: str, corpus: Path, threads: int) -> list[str]:
    steps = max(1, round(chars / (rung.batch_size * rung.seq_len)))
    s = rung.settings()
    return [
        sys.executable, "-m", "shakespeare_tui", "train",
        "--data-dir", data_dir, "--corpus", str(corpus), "--preset", "custom",
        "--cell", s["cell"], "--embed", str(s["embed"]), "--hidden", str(s["hidden"]),
        "--layers", str(s["layers"]), "--dropout", str(s["dropout"]),
        "--batch-size", str(s["batch_size"]), "--seq-len", str(s["seq_len"]),
        "--lr", str(s["lr"]), "--schedule", "cosine",
        "--max-steps", str(steps), "--epochs", "1000", "--patience", "1000",
        "--eval-every", "0", "--sample-length", "0", "--threads", str(threads),
        "--no-bf16", "--name", "sweep", "--quiet",
    ]  # fmt: skip


def _variant(rung, variant: str):
    """The rung with "name=value,…" overrides (its recipe's fields: dropout, seq_len, lr…)."""
    from dataclasses import fields, replace

    kinds = {f.name: f.type for f in fields(rung)}
    changes = {}
    for item in filter(None, variant.split(",")):
        key, _, value = item.partition("=")
        if key not in kinds or key == "name":
            sys.exit(f"sizing: {key!r} is not a setting of a rung ({', '.join(kinds)})")
        changes[key] = float(value) if kinds[key] in (float, "float") else int(value)
    return replace(rung, **changes)


def train_point(
    rung_name: str, millions: float, corpus: Path, threads: int, variant: str = ""
) -> dict:
    rung = _variant(rung_named(rung_name), variant)
    with tempfile.TemporaryDirectory(prefix="bench-sizing-") as tmp:
        cmd = command(rung, int(millions * 1e6), tmp, corpus, threads)
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        result = record_of(Path(tmp) / "runs" / "sweep", rung, millions, variant)
    result.update(wall_s=round(wall, 1), exit=done.returncode, torch_threads=threads)
    return result


def record_of(run_dir: Path, rung, millions: float, variant: str = "") -> dict:
    """A finished sweep run's figures, from its folder."""
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    steps = [r for r in records if r.get("kind") == "step"]
    evals = [r for r in records if r.get("kind") == "epoch" and r.get("epoch", 0) >= 1]
    chars_per_step = rung.batch_size * rung.seq_len
    speeds = sorted(r["chars_per_sec"] for r in steps[1:])
    return {
        "rung": rung.name,
        "recipe": rung.recipe(),
        "variant": variant,
        "summary": rung.summary,
        "dropout": rung.dropout,
        "millions": millions,
        "steps": steps[-1]["step"] if steps else 0,
        "final_val": evals[-1]["val_loss"] if evals else None,
        "best_val": min(r["val_loss"] for r in evals) if evals else None,
        "curve": [(r["step"] * chars_per_step, r["val_loss"]) for r in evals],
        "chars_per_s_1_thread": speeds[len(speeds) // 2] if speeds else None,
        "cpu": cpu_name(),
        "when": time.strftime("%Y-%m-%dT%H:%M"),
    }


def recorded(out: Path) -> list[dict]:
    if not out.is_file():
        return []
    return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]


def print_table(results: list[dict]) -> None:
    millions = sorted({r["millions"] for r in results})
    print("| rung | model | dropout | " + " | ".join(f"{m:g} M chars" for m in millions) + " |")
    print("| --- | --- | --- | " + " | ".join("---" for _ in millions) + " |")
    for rung in LADDER:
        cells = []
        for m in millions:
            hits = [r for r in results if r.get("recipe") == rung.recipe() and r["millions"] == m]
            cells.append(f"{hits[-1]['final_val']:.4f}" if hits and hits[-1]["final_val"] else "")
        if any(cells):
            print(
                f"| {rung.name} | LSTM {rung.summary} | {rung.dropout:g} | "
                + " | ".join(cells)
                + " |"
            )
    print()
    current = {rung.name: rung.recipe() for rung in LADDER}
    others = [r for r in results if r.get("recipe") != current.get(r["rung"])]
    if others:
        print("Other recipes (the difference from the rung's recipe now):")
        print()
        print("| rung | recipe | M chars | val | the rung's recipe now |")
        print("| --- | --- | --- | --- | --- |")
        for r in others:
            now = current.get(r["rung"], {})
            diff = ", ".join(
                f"{k}={v:g}" for k, v in r.get("recipe", {}).items() if now.get(k) != v
            )
            own = [
                b["final_val"]
                for b in results
                if b.get("recipe") == now and b["millions"] == r["millions"]
            ]
            base = f"{own[-1]:.4f}" if own else ""
            print(f"| {r['rung']} | {diff} | {r['millions']:g} | {r['final_val']:.4f} | {base} |")
        print()


def print_quality(results: list[dict]) -> None:
    """The points of each rung's recipe now, as the literal core/sizing/ladder.py holds."""
    print("QUALITY: dict[str, tuple[tuple[float, float], ...]] = {")
    for rung in LADDER:
        points = sorted(
            {
                r["millions"]: r["final_val"] for r in results if r.get("recipe") == rung.recipe()
            }.items()
        )
        cells = ", ".join(f"({m:g}e6, {v:.4f})" for m, v in points)
        print(f'    "{rung.name}": ({cells}{"," if len(points) == 1 else ""}),')
    print("}")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--points", nargs="*", default=list(DEFAULT_POINTS), help="rung:millions")
    p.add_argument("--corpus", type=Path, default=TINY_SHAKESPEARE)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--jobs", type=int, default=2, help="runs at a time (default 2)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per run (default 1)")
    p.add_argument("--table", action="store_true", help="print the recorded table and stop")
    p.add_argument(
        "--quality",
        action="store_true",
        help="print the recorded points as core/sizing/ladder.py's QUALITY and stop",
    )
    args = p.parse_args(argv)
    if args.table:
        print_table(recorded(args.out))
        return
    if args.quality:
        print_quality(recorded(args.out))
        return
    if not args.corpus.is_file():
        sys.exit(f"sizing: {args.corpus} not found (pass --corpus PATH)")
    done = {(json.dumps(r.get("recipe")), r["millions"]) for r in recorded(args.out)}
    todo = []
    for point in args.points:
        name, m, variant = (point.split(":", 2) + [""])[:3]
        if name not in {r.name for r in LADDER}:
            rungs = ", ".join(r.name for r in LADDER)
            sys.exit(f"sizing: unknown rung {name!r} in {point!r}; rungs: {rungs}")
        recipe = _variant(rung_named(name), variant).recipe()  # a bad one stops here
        if (json.dumps(recipe), float(m)) not in done:
            todo.append((name, float(m), variant))
    print(f"sizing: {len(todo)} runs, {args.jobs} at a time, on {cpu_name()}", flush=True)

    def one(point):
        name, millions, variant = point
        result = train_point(name, millions, args.corpus, args.threads, variant)
        with args.out.open("a", encoding="utf-8") as f:
            f.write(json.dumps(result) + "\n")
        print(
            f"  {result['rung']} {variant} {result['summary']} {result['millions']:g} M chars: "
            f"val {result['final_val']} ({result['wall_s']:.0f} s, exit {result['exit']})",
            flush=True,
        )
        return result

    with ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(one, todo))
    print_table(recorded(args.out))


if __name__ == "__main__":
    main()
