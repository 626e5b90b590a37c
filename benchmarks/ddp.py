"""Training in 2 CPU processes (torchrun, gloo, DDP) against 1, side by side.

    python -m benchmarks.ddp              # cpu preset, 2 rounds (~4 min on 2 cores)
    python -m benchmarks.ddp --quick      # 1 round, fewer steps (~2 min)
    python -m benchmarks.ddp --preset tiny --steps 300

Every contender is `shakespeare-tui train` itself (a subprocess, `--nproc 2` for two
processes), on the same corpus and seed, validation only before the first step (excluded from
the speed: chars/s is the engine's own, from metrics.jsonl, median over the logged intervals
after the first). Contenders are interleaved round by round; figures are medians.

  1 × 2 threads, batch B          what `train` does alone on this machine
  2 × 1 thread, batch B/2 each    the same windows a step, split over two processes
  2 × 1 thread, batch B each      twice the windows a step (what --nproc 2 gives as typed)
  1 × 1 thread, batch B/2         one of those processes' share, alone: the cost of the split

Then the collectives a job adds per step, timed inside a 2-process gloo group: the stop
agreement (one all-reduce of two float64s, before every step), and the gradient all-reduce of
a model of this size (DDP's, in backward).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import `benchmarks` from the repository root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from benchmarks.common import REPO, TINY_SHAKESPEARE, bench_text

CONTENDERS = (  # (label, processes, threads each, batch as a fraction of B)
    ("1 × 2 threads, batch B", 1, 2, 1.0),
    ("2 × 1 thread, batch B/2 each", 2, 1, 0.5),
    ("2 × 1 thread, batch B each", 2, 1, 1.0),
    ("1 × 1 thread, batch B/2", 1, 1, 0.5),
)


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO), "OMP_WAIT_POLICY": "PASSIVE"}


def train_speed(corpus: Path, preset: str, batch: int, nproc: int, threads: int, steps: int):
    """(chars/s of the whole job, seconds of wall time) for one `train` run."""
    with tempfile.TemporaryDirectory() as home:
        command = [sys.executable, "-m", "shakespeare_tui", "--data-dir", home, "train"]
        command += ["--corpus", str(corpus), "--preset", preset, "--batch-size", str(batch)]
        command += ["--threads", str(threads), "--device", "cpu", "--max-steps", str(steps)]
        command += ["--eval-every", "0", "--epochs", "1000", "--sample-length", "0", "--quiet"]
        command += ["--log-every", "5", "--name", "b"]
        if nproc > 1:
            command += ["--nproc", str(nproc)]
        t0 = time.perf_counter()
        done = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=900)
        wall = time.perf_counter() - t0
        if done.returncode != 0:
            raise RuntimeError(f"train failed ({done.returncode}): {done.stderr[-500:]}")
        records = [json.loads(line) for line in open(Path(home) / "runs/b/metrics.jsonl")]
    speeds = [r["chars_per_sec"] for r in records if r.get("kind") == "step"][1:]
    return statistics.median(speeds), wall


# -- the collectives, timed inside a 2-process group (`--collectives`, under torchrun) ----


def collectives(preset: str, calls: int) -> None:
    import torch
    import torch.distributed as dist

    from shakespeare_tui.core.config import TrainConfig, apply_preset
    from shakespeare_tui.core.training.distributed import Ranks

    torch.set_num_threads(1)
    ranks = Ranks.from_env()
    ranks.start()
    config = apply_preset(TrainConfig(), preset)
    size = config.model.parameter_count()
    grads = torch.zeros(size)

    def per_call(fn, n) -> float:
        for _ in range(max(3, n // 20)):
            fn()
        dist.barrier()
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - t0) / n

    agree = per_call(lambda: ranks.agree(False, 1.0), calls)
    gradients = per_call(lambda: dist.all_reduce(grads), max(5, calls // 50))
    if ranks.writer:
        print(json.dumps({"agree_s": agree, "gradients_s": gradients, "parameters": size}))
    ranks.close()


def measure_collectives(preset: str, calls: int) -> dict:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc-per-node=2", "-m", "benchmarks.ddp", "--collectives"]
    command += ["--preset", preset, "--calls", str(calls)]
    done = subprocess.run(
        command, env=_env(), cwd=REPO, capture_output=True, text=True, timeout=300
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("{")), None)
    if line is None:
        raise RuntimeError(f"collectives failed: {done.stderr[-500:]}")
    return json.loads(line)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.ddp", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--preset", default="cpu", help="the model and batch B (default: cpu)")
    p.add_argument("--steps", type=int, help="steps per run (default 60; quick 30)")
    p.add_argument("--rounds", type=int, help="interleaved rounds (default 2; quick 1)")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--corpus", type=Path, default=TINY_SHAKESPEARE)
    p.add_argument("--collectives", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--calls", type=int, default=2000, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.collectives:
        return collectives(args.preset, args.calls)

    from shakespeare_tui.core.config import TrainConfig, apply_preset

    steps = args.steps or (30 if args.quick else 60)
    rounds = args.rounds or (1 if args.quick else 2)
    config = apply_preset(TrainConfig(), args.preset)
    batch = config.batch_size
    corpus = args.corpus
    with tempfile.TemporaryDirectory() as spare:
        if not corpus.is_file():
            text, _ = bench_text(1_000_000)
            corpus = Path(spare) / "corpus.txt"
            corpus.write_text(text, encoding="utf-8")
        speeds: dict[str, list[float]] = {label: [] for label, *_ in CONTENDERS}
        walls: dict[str, list[float]] = {label: [] for label, *_ in CONTENDERS}
        for r in range(rounds):
            order = CONTENDERS[r % len(CONTENDERS) :] + CONTENDERS[: r % len(CONTENDERS)]
            for label, nproc, threads, share in order:
                b = max(1, int(batch * share))
                speed, wall = train_speed(corpus, args.preset, b, nproc, threads, steps)
                speeds[label].append(speed)
                walls[label].append(wall)
                print(f"  round {r + 1}: {label}: {speed:,.0f} chars/s ({wall:.0f} s)", flush=True)
        comm = measure_collectives(args.preset, 200 if args.quick else args.calls)

    base = statistics.median(speeds[CONTENDERS[0][0]])
    print(
        f"\n#### 2 CPU processes against 1: `{args.preset}` preset ({config.model.summary}, "
        f"B = {batch} windows of {config.seq_len}), {steps} steps, {os.cpu_count()} cores, "
        f"median of {rounds} round{'s' if rounds > 1 else ''}\n"
    )
    print("| processes × threads, batch | chars/s (whole job) | vs 1 × 2 threads | wall s |")
    print("| --- | --- | --- | --- |")
    for label, *_ in CONTENDERS:
        s = statistics.median(speeds[label])
        w = statistics.median(walls[label])
        print(f"| {label} | {s:,.0f} | {s / base:.2f}× | {w:.0f} |")
    step_s = config.batch_size * config.seq_len / base
    print(
        f"\nPer step, in a 2-process gloo group: the stop agreement {comm['agree_s'] * 1e3:.2f} ms, "
        f"the gradient all-reduce of {comm['parameters']:,} parameters "
        f"{comm['gradients_s'] * 1e3:.1f} ms; a step of 1 × 2 threads takes "
        f"{step_s * 1e3:.0f} ms (the agreement {comm['agree_s'] / step_s:.2%} of it)."
    )


if __name__ == "__main__":
    main()
