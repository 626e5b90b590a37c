"""Batch-1 sampling speed: the real path (`CharStepper` + `generate`) against `nn.LSTM` per character.

Both sample the same way (temperature 0.8, `torch.multinomial` with a seeded generator) from
the same randomly initialised model; speed does not depend on what the weights learned.
Generation always runs on the CPU in float32 (core/sampling/sampler.py), whatever --device says.
Also timed: from the start of generation (building the stepper from the loaded model) to the
first character, as the app's generate screen and `shakespeare-tui generate` do it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from dataclasses import replace

import torch

from benchmarks.common import (
    REPO,
    VOCAB_65,
    Table,
    Targets,
    fmt,
    interleave,
    median,
    ratios,
    spread,
)
from shakespeare_tui.core.config import TrainConfig, apply_preset
from shakespeare_tui.core.model.network import CharRNN, CharStepper
from shakespeare_tui.core.sampling.sampler import SampleSettings, generate
from shakespeare_tui.core.text.vocab import Vocabulary

TARGETS = {1024: 1_200, 640: 6_000}  # chars/s the issue asks for, by hidden width


@torch.inference_mode()
def generate_with_lstm(model: CharRNN, vocab: Vocabulary, settings: SampleSettings):
    """`core.sampling.generate`, but calling the whole model once per character."""
    generator = torch.Generator().manual_seed(settings.seed)
    state = None
    logits, state = model(torch.tensor([[vocab.code("\n")]]), state)
    logits = logits[0, -1]
    for _ in range(settings.length):
        probs = torch.softmax(logits, dim=0)
        scaled = logits / settings.temperature
        code = int(torch.multinomial(torch.softmax(scaled, dim=0), 1, generator=generator))
        yield vocab.chars[code], float(probs[code])
        logits, state = model(torch.tensor([[code]]), state)
        logits = logits[0, -1]


def _rate(chars) -> float:
    t0 = time.perf_counter()
    n = sum(1 for _ in chars)
    return n / (time.perf_counter() - t0)


def _model(preset: str, vocab: Vocabulary) -> CharRNN:
    m = apply_preset(TrainConfig(), preset).model
    torch.manual_seed(0)
    return CharRNN(replace(m, vocab_size=len(vocab))).eval()


def _one_thread(fn):
    """`fn` with torch on one thread (restored afterwards)."""

    def call():
        n = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return fn()
        finally:
            torch.set_num_threads(n)

    return call


class _OtherPolicy:
    """The real path in a child process without OMP_WAIT_POLICY: idle OpenMP threads spin a
    little (libgomp's default) before they sleep. (ACTIVE would spin for ever, and a child
    spinning between its turns would slow every other contender.)

    The policy is read once when torch loads, so comparing it needs a second process; it
    answers one figure per line it is sent, so it interleaves with the rest.
    """

    def __init__(self, preset: str, length: int, threads: int):
        env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
        self.length = length
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.sampling", "--worker", preset, str(threads)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=REPO,
        )

    def __call__(self) -> float:
        try:
            self.proc.stdin.write(f"{self.length}\n")
            self.proc.stdin.flush()
            return float(self.proc.stdout.readline())
        except (OSError, ValueError):
            return float("nan")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _worker(preset: str, threads: int) -> None:
    torch.set_num_threads(threads)
    vocab = Vocabulary("".join(sorted(VOCAB_65)))
    stepper = CharStepper(_model(preset, vocab))
    for line in sys.stdin:
        settings = SampleSettings(length=int(line), temperature=0.8, seed=1)
        print(_rate(generate(stepper, vocab, settings)), flush=True)


def run_sampling(args, targets: Targets) -> None:
    rounds = args.rounds or (3 if args.quick else 5)
    length = 300 if args.quick else 1_000
    vocab = Vocabulary("".join(sorted(VOCAB_65)))
    settings = SampleSettings(length=length, temperature=0.8, seed=1)
    first = SampleSettings(length=1, temperature=0.8, seed=1)
    threads = torch.get_num_threads()
    policy = os.environ.get("OMP_WAIT_POLICY", "unset")
    table = Table(
        f"Batch-1 sampling on the CPU ({threads} threads, OMP_WAIT_POLICY={policy} as the CLI "
        f"sets it; {length} chars per figure, interleaved)",
        "model",
        "contender",
        "chars/s (median)",
        "min–max",
        "CharStepper ÷ it",
    )
    latency = Table(
        "Start of generation → first character (model loaded; stepper built and prompt primed)",
        "model",
        "median ms",
        "min–max ms",
    )
    for preset in args.models:
        model = _model(preset, vocab)
        m = model.config
        stepper = CharStepper(model)

        def ours(stepper=stepper):
            return _rate(generate(stepper, vocab, settings))

        def lstm(model=model):
            return _rate(generate_with_lstm(model, vocab, settings))

        def first_char(model=model):
            t0 = time.perf_counter()
            next(iter(generate(CharStepper(model), vocab, first)))
            return 1000 * (time.perf_counter() - t0)

        @torch.inference_mode()
        def floor(stepper=stepper):
            # The step's one unavoidable cost: reading W_hh (4H × H floats) once per character.
            _, w_hh, _, b_hh = stepper.layers[0]
            h = torch.zeros(w_hh.shape[1])
            t0 = time.perf_counter()
            for _ in range(length):
                torch.addmv(b_hh, w_hh, h)
            return length / (time.perf_counter() - t0)

        calls = {"CharStepper + generate": ours, "nn.LSTM per char": lstm, "first": first_char}
        if threads > 1:
            calls["CharStepper + generate, 1 thread"] = _one_thread(ours)
        other = None
        if threads > 1 and policy == "PASSIVE" and not args.quick:
            other = _OtherPolicy(preset, length, threads)
            calls["CharStepper + generate, OMP_WAIT_POLICY unset (child process)"] = other
        calls["floor: W_hh·h alone, once per char"] = floor
        if threads > 1:
            calls["floor: W_hh·h alone, 1 thread"] = _one_thread(floor)
        for call in calls.values():  # warm-up
            call()
        try:
            res = interleave(calls, rounds)
        finally:
            if other is not None:
                other.close()
        mine = res["CharStepper + generate"]
        for name, values in res.items():
            if name == "first":
                continue
            table.add(
                m.summary,
                name,
                fmt(median(values)),
                spread(values),
                "1" if name == "CharStepper + generate" else f"{ratios(mine, values):.2f}×",
            )
        latency.add(m.summary, f"{median(res['first']):.1f}", spread(res["first"]))
        target = TARGETS.get(m.hidden)
        if target:
            targets.add(
                f"sampling {m.summary} ≥ {target:,} chars/s",
                fmt(median(mine)),
                median(mine) >= target,
            )
        targets.add(
            f"first character {m.summary} < 100 ms",
            f"{median(res['first']):.1f} ms",
            median(res["first"]) < 100,
        )
    table.note(
        "OMP_WAIT_POLICY=PASSIVE (set by the CLI so training beside the UI is not slowed by "
        "spinning threads) makes each parallel matrix-vector product wake a sleeping thread"
    )
    table.note(
        "floor rows: only the recurrent matrix-vector product (fp32, memory-bound), the most any "
        "step with these weights can reach"
    )
    table.print()
    latency.print()


if __name__ == "__main__" and sys.argv[1:2] == ["--worker"]:
    _worker(sys.argv[2], int(sys.argv[3]))
