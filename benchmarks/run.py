"""Benchmarks: how fast we train and sample, against the obvious alternatives, measured side by side.

    python -m benchmarks.run                    # every section below but quality (~20 min)
    python -m benchmarks.run --quick            # fewer rounds and steps (~2 min)
    python -m benchmarks.run --sections sample  # some sections: train, sample, app, generate, inspect, runs, runs-view, corpora, memory
    python -m benchmarks.run --device cuda      # training on the GPU (sampling stays on the CPU)
    python -m benchmarks.run --quality          # + validation loss after 5 and 10 CPU minutes (30 min)
    python benchmarks/run.py ...                # the same

Every figure in a table is measured in the same run, its contenders interleaved round by round,
and reported as a median, so the ratios hold on a busy machine. Benchmarks print; they never
fail anything. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import platform
import sys
from functools import partial
from pathlib import Path

# As the CLI does, before torch loads: idle OpenMP threads sleep instead of spinning.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

if __package__ in (None, ""):  # run as a script: import `benchmarks` from the repository root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

# Each section's runner, (module, function), imported only when the section is asked for; it
# is called with (args, targets), and those in ON_DEVICE with (args, device, targets).
SECTIONS = {
    "train": ("benchmarks.training", "run_training"),
    "sample": ("benchmarks.sampling", "run_sampling"),
    "app": ("benchmarks.app", "run_app"),
    "generate": ("benchmarks.generation", "run_generation"),
    "inspect": ("benchmarks.inspection", "run_inspect"),
    "runs": ("benchmarks.runs", "run_runs"),
    "runs-view": ("benchmarks.runs_view", "run_runs_view"),
    "corpora": ("benchmarks.corpora", "run_corpora"),
    "memory": ("benchmarks.memory", "run_memory"),
}
ON_DEVICE = ("train", "corpora")
DEFAULT_QUALITY_CORPUS = "../shared/data/tinyshakespeare.txt"  # from the repository root


def _list(kind, choices=None):
    def parse(text: str):
        items = [kind(t) for t in text.split(",") if t.strip()]
        if choices and any(i not in choices for i in items):
            raise argparse.ArgumentTypeError(f"choose from {', '.join(choices)}")
        return items

    return parse


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0]
    )
    p.add_argument(
        "--sections",
        type=_list(str, SECTIONS),
        default=list(SECTIONS),
        help="comma-separated: train, sample, app, generate, inspect, runs, runs-view, corpora, "
        "memory (default: all nine)",
    )
    p.add_argument("--quick", action="store_true", help="fewer rounds and steps")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N")
    p.add_argument("--threads", type=int, help="CPU threads for torch (default: all cores)")
    p.add_argument("--rounds", type=int, help="interleaved rounds per table (default 5; quick 3)")
    p.add_argument(
        "--models",
        type=_list(str, ("notebook", "cpu")),
        default=["notebook", "cpu"],
        help="presets whose models to time: notebook (E256/H1024), cpu (E128/H640)",
    )
    p.add_argument("--precision", choices=("fp32", "bf16", "both"), default="both")
    p.add_argument(
        "--no-e2e", action="store_true", help="leave out the core.engine.train() contender"
    )
    p.add_argument(
        "--corpus",
        type=Path,
        help="text for the training-speed batches (default: tiny Shakespeare if present)",
    )
    p.add_argument("--app-seconds", type=float, default=20.0, help="training time per app figure")
    p.add_argument(
        "--corpora-mb",
        type=int,
        help="size of the generated corpus the corpora section encodes (default 2048; quick 512)",
    )
    q = p.add_argument_group("quality (not part of the default run: it takes 30 minutes)")
    q.add_argument("--quality", action="store_true", help="run the quality section too")
    q.add_argument("--quality-only", action="store_true", help="run only the quality section")
    q.add_argument(
        "--quality-minutes",
        type=_list(float),
        default=[5.0, 10.0],
        metavar="M[,M…]",
        help="training budgets, one run each (default 5,10)",
    )
    q.add_argument(
        "--quality-variants",
        type=_list(str, ("sized", "cpu")),
        default=["sized", "cpu"],
        metavar="V[,V…]",
        help="sized (the default command: sized to the budget) and/or cpu (the preset)",
    )
    q.add_argument(
        "--quality-corpus",
        default=DEFAULT_QUALITY_CORPUS,
        metavar="PATH",
        help=f"default {DEFAULT_QUALITY_CORPUS} (relative to the repository root)",
    )
    return p


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    repo = Path(__file__).resolve().parents[1]
    if not Path(args.quality_corpus).is_absolute():
        args.quality_corpus = str((repo / args.quality_corpus).resolve())
    if args.quality_only:
        args.sections, args.quality = [], True

    import torch

    from benchmarks.common import Targets
    from shakespeare_tui.core import device as devices

    device = devices.resolve_device(args.device)
    described = devices.configure(device, args.threads)
    if device.type != "cpu":  # sampling and the app's threads still use the CPU
        devices.configure(torch.device("cpu"), args.threads)
    from benchmarks.common import cpu_name

    print(
        f"# shakespeare-tui benchmarks — {dt.datetime.now().isoformat(timespec='minutes')}\n\n"
        f"- device: {described}; CPU: {cpu_name()} ({os.cpu_count()} cores visible)\n"
        f"- torch {torch.__version__}, Python {platform.python_version()}, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, "
        f"bf16 fast here: {devices.bf16_is_fast(device)}\n"
        f"- load average at start: {_load()}"
        f"{' — quick mode' if args.quick else ''}\n",
        flush=True,
    )
    targets = Targets()
    sections = []
    for name, (module, function) in SECTIONS.items():
        if name in args.sections:
            run = getattr(importlib.import_module(module), function)
            on = (args, device, targets) if name in ON_DEVICE else (args, targets)
            sections.append((name, partial(run, *on)))
    if args.quality:
        from benchmarks.quality import run_quality

        sections.append(("quality", lambda: run_quality(args)))
    for name, section in sections:
        try:
            section()
        except Exception as exc:  # noqa: BLE001 - report and go on to the next section
            print(f"{name}: failed — {type(exc).__name__}: {exc}\n", flush=True)
    if targets.table.rows:
        targets.table.print()
    print(f"- load average at end: {_load()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
