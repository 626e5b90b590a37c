"""Generation in the app against the CLI: the bundled checkpoint, the same settings, side by side.

- *in the app*: `make_app` driven headless with `run_test()` at a terminal size, the real torch
  probe and the Generate view's worker; `g` pressed once the model is loaded, timed from the
  view's `GenerationStarted` to its `GenerationFinished` (what a person sees stream).
- *core path, as the CLI*: `cli/generate_command.py`'s loop in this process's main thread —
  `ModelCache.load`, `chunked(generate(...))`, each chunk written and flushed to /dev/null —
  timed from the first character to the last.
- *the CLI itself* (not with `--quick`): `shakespeare-tui generate` in a child process, timed
  from the first byte it prints to its end (torch's import and the model's load excluded).

Contenders alternate round by round (`interleave`); figures are medians, ratios medians of the
per-round ratios.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time

from benchmarks.common import REPO, Table, Targets, interleave, median, ratios, spread

SEED = 1


def _checkpoint() -> str:
    from shakespeare_tui.core.runs.folders import bundled_checkpoint

    return str(bundled_checkpoint())


def core_path(length: int):
    """chars/s of `shakespeare-tui generate`'s loop, run here (the model loaded once)."""
    from shakespeare_tui.core.sampling.sampler import generate
    from shakespeare_tui.core.sampling.settings import SampleSettings
    from shakespeare_tui.core.sampling.streaming import ModelCache, chunked

    vocab, stepper = ModelCache(size=1).load(_checkpoint())
    settings = SampleSettings(length=length, seed=SEED)

    def run() -> float:
        with open(os.devnull, "w", encoding="utf-8") as out:
            t0, n = time.perf_counter(), 0
            for text, _ in chunked(generate(stepper, vocab, settings)):
                out.write(text)
                out.flush()
                n += len(text)
            return n / (time.perf_counter() - t0)

    return run


def cli_process(length: int):
    """chars/s of the real CLI in a child process, from its first byte to its end."""

    def run() -> float:
        cmd = [sys.executable, "-m", "shakespeare_tui", "--data-dir", tmp.name, "generate"]
        cmd += ["--length", str(length), "--seed", str(SEED)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=REPO)
        first = proc.stdout.read1(1 << 16)
        t0, n = time.perf_counter(), 0
        while chunk := proc.stdout.read1(1 << 16):
            n += len(chunk)
        elapsed = time.perf_counter() - t0
        proc.wait()
        return n / elapsed if first and proc.returncode == 0 else float("nan")

    tmp = tempfile.TemporaryDirectory(prefix="bench-cli-")
    return run


def in_app(length: int, size: tuple[int, int], colour: bool, busy: list[float]):
    """chars/s in the app's Generate view, from GenerationStarted to GenerationFinished; the
    share of that time the UI thread spent on the CPU goes to `busy`."""

    async def run_app() -> float:
        from shakespeare_tui.app import make_app
        from shakespeare_tui.core.paths import Paths
        from shakespeare_tui.messages import GenerationFinished, GenerationStarted
        from shakespeare_tui.settings import AppSettings, GenerateSettings

        marks: dict[str, float] = {}
        count = [0]

        def hook(message) -> None:
            if isinstance(message, GenerationStarted):
                marks["start"], marks["cpu"] = time.perf_counter(), time.thread_time()
            elif isinstance(message, GenerationFinished):
                marks["end"], marks["cpu"] = time.perf_counter(), time.thread_time() - marks["cpu"]
                count[0] = message.count

        generate = GenerateSettings(
            checkpoint="bundled", length=length, seed=str(SEED), colour_by_probability=colour
        )
        with tempfile.TemporaryDirectory(prefix="bench-gen-app-") as tmp:
            paths = Paths.resolve(tmp).ensure()
            app = make_app(paths, settings=AppSettings(mode="generate", generate=generate))
            async with app.run_test(size=size, message_hook=hook) as pilot:
                deadline = time.monotonic() + 60
                while app.device_type is None and time.monotonic() < deadline:
                    await pilot.pause(0.05)  # torch loads in the background
                await pilot.pause(0.3)  # the checkpoint scan
                await pilot.press("g")
                deadline = time.monotonic() + 120
                while "end" not in marks and time.monotonic() < deadline:
                    await asyncio.sleep(0.02)
                await pilot.pause()
        if "end" not in marks or "start" not in marks:
            return float("nan")
        busy.append(marks["cpu"] / (marks["end"] - marks["start"]))
        return count[0] / (marks["end"] - marks["start"])

    return lambda: asyncio.run(run_app())


def run_generation(args, targets: Targets) -> None:
    length = 6_000 if args.quick else 20_000
    rounds = args.rounds or (3 if args.quick else 5)
    apps = {
        "in the app, 120×40": ((120, 40), False),
        "in the app, 120×40, coloured": ((120, 40), True),
        "in the app, 200×50, coloured": ((200, 50), True),
    }
    busy: dict[str, list[float]] = {name: [] for name in apps}
    contenders = {
        name: in_app(length, size, colour, busy[name]) for name, (size, colour) in apps.items()
    }
    contenders["core path, as the CLI"] = core_path(length)
    if not args.quick:
        contenders["the CLI itself (child process)"] = cli_process(length)
    for call in contenders.values():  # warm-up: imports, torch, the first model load
        call()
    res = interleave(contenders, rounds)
    core = res["core path, as the CLI"]
    table = Table(
        f"Generation in the app against the CLI (bundled checkpoint, {length:,} chars, "
        f"seed {SEED}, temperature 0.8)",
        "where",
        "chars/s (median)",
        "min–max",
        "÷ core path",
        "UI thread on the CPU",
    )
    for name, values in res.items():
        ratio = "1" if values is core else f"{ratios(values, core):.2f}×"
        ui = f"{median(busy[name][1:]):.0%}" if name in busy else "—"  # [0]: the warm-up
        table.add(name, f"{median(values):,.0f}", spread(values), ratio, ui)
    table.note(
        f"{rounds} rounds, interleaved; app figures from GenerationStarted to Finished; the UI "
        "thread's share of that time on the CPU is time the sampler cannot hold the GIL"
    )
    table.print()
    worst = min(ratios(v, core) for k, v in res.items() if k.startswith("in the app"))
    targets.add("generation in the app ≥ 0.9× the CLI's path", f"{worst:.2f}×", worst >= 0.9)


if __name__ == "__main__":  # python -m benchmarks.generation: this section alone
    from benchmarks.run import main

    sys.exit(main(["--sections", "generate", *sys.argv[1:]]))
