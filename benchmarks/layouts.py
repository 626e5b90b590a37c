"""Using the cores: one thread, two threads, two processes sharing each step, side by side; and
the engine's step against a plain nn.LSTM loop of the same recipe and layout.

    python -m benchmarks.layouts --paired 45              # the decisive one (~5 min, 2 rounds)
    python -m benchmarks.layouts --faults --rungs m       # page faults a step (~1 min)
    python -m benchmarks.layouts                          # whole `train` runs (~15 min)

`--paired S` (what core/layout.py's rule follows): one torchrun job of 2 processes per rung
(core/sizing/ladder.py's xs, m, l: model, windows, dropout; bf16 as `train` decides it here;
the training's freed memory kept as core/device.py does) that alternates, 3 steps at a time
for S seconds, five variants, so that all of them see the same load on a shared machine:

  1 thread / 2 threads    the engine's TrainingStep, rank 0 alone (rank 1 waits at a barrier)
  2 proc split            both processes, 1 thread each, each on half of every step's windows
                          (DDP, the stop agreement before each step, as the engine's loop):
                          the job trains on one process's windows, so loss per character is
                          the same (dropout masks and rounding differ, not the windows)
  plain 1 / 2 threads     Embedding → nn.LSTM → Linear, the same recipe, autocast, clipping
                          and Adam, rank 0 alone: the engine's ratio to it is what the engine's
                          own work costs

Without `--paired`: whole `shakespeare-tui train` runs of each layout (and the plain loop and
the sizing probe's timing in fresh processes), interleaved round by round; chars/s is the
median over the logged intervals after the first, CPU time (user, sys) the whole process
tree's including imports, and the load average (1 min) before each run is printed beside it.
On a machine shared with other work these runs see different loads; `--paired` does not.

`--faults`: the page faults, sys share and CPU time of a one-thread step, with glibc's default
allocator thresholds and with keep_freed_memory's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import `benchmarks` from the repository root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from benchmarks.common import REPO, TINY_SHAKESPEARE, bench_text

LOG_EVERY = 5


def _env(**extra: str) -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO), "OMP_WAIT_POLICY": "PASSIVE", **extra}


def _rung_flags(name: str) -> list[str]:
    from shakespeare_tui.core.sizing.ladder import rung

    r = rung(name)
    flags = ["--cell", "lstm", "--embed", str(r.embed), "--hidden", str(r.hidden)]
    flags += ["--layers", str(r.layers), "--dropout", str(r.dropout)]
    flags += ["--batch-size", str(r.batch_size), "--seq-len", str(r.seq_len), "--lr", str(r.lr)]
    return flags


def _torchrun(nproc: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={nproc}",
    ]


def _run(command: list[str], env: dict) -> tuple[subprocess.CompletedProcess, dict]:
    """The command's result and {wall, user, sys} of it and its children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command[:6])}… failed ({done.returncode}): {done.stderr[-800:]}"
        )
    return done, {
        "wall": wall,
        "user": after.ru_utime - before.ru_utime,
        "sys": after.ru_stime - before.ru_stime,
    }


def engine(corpus: Path, rung: str, layout: str, steps: int) -> dict:
    """`shakespeare-tui train` of `rung` in `layout` ("1", "2" threads, or "split")."""
    from shakespeare_tui.core.layout import LAYOUT_ENV, Layout

    with tempfile.TemporaryDirectory() as home:
        words = ["-m", "shakespeare_tui", "--data-dir", home, "train", "--corpus", str(corpus)]
        words += _rung_flags(rung) + ["--schedule", "cosine", "--device", "cpu"]
        words += ["--max-steps", str(steps), "--eval-every", "0", "--epochs", "1000"]
        words += ["--sample-length", "0", "--quiet", "--log-every", str(LOG_EVERY), "--name", "b"]
        env = _env()
        if layout == "split":
            split = Layout(2, 1, True, "benchmarks.layouts")
            env = _env(**{LAYOUT_ENV: split.to_env(), "OMP_NUM_THREADS": "1"})
            command = _torchrun(2) + words
        else:
            command = [sys.executable, *words, "--threads", layout]
        done, usage = _run(command, env)
        records = [json.loads(line) for line in open(Path(home) / "runs/b/metrics.jsonl")]
        device = json.loads((Path(home) / "runs/b/config.json").read_text())["device"]
    steps_logged = [r for r in records if r.get("kind") == "step"]
    speeds = [r["chars_per_sec"] for r in steps_logged][1:]
    return {
        **usage,
        "chars_per_s": statistics.median(speeds),
        "loss": steps_logged[-1]["train_loss"],
        "device": device,
    }


def plain(corpus: Path, rung: str, layout: str, steps: int) -> dict:
    """The plain loop (`--plain`, below) of `rung` in `layout`, in a fresh process (or two)."""
    words = ["-m", "benchmarks.layouts", "--plain", rung, "--corpus", str(corpus)]
    words += ["--steps", str(steps)]
    if layout == "split":
        command = _torchrun(2) + words
        env = _env(OMP_NUM_THREADS="1")
    else:
        command = [sys.executable, *words, "--threads", layout]
        env = _env()
    done, usage = _run(command, env)
    line = next(x for x in done.stdout.splitlines() if x.startswith("{"))
    return {**usage, **json.loads(line)}


# -- the plain loop (`--plain RUNG`), alone or under torchrun ---------------------------------


def Plain(model, vocab: int):  # noqa: N802 - a class, built when torch is loaded
    """Embedding → nn.LSTM → Linear with the recipe's dropout: the idiomatic model."""
    import torch.nn as nn

    class PlainLSTM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(vocab, model.embed)
            self.rnn = nn.LSTM(
                model.embed,
                model.hidden,
                model.layers,
                batch_first=True,
                dropout=model.dropout if model.layers > 1 else 0.0,
            )
            self.drop = nn.Dropout(model.dropout)
            self.head = nn.Linear(model.hidden, vocab)

        def forward(self, x):
            out, _ = self.rnn(self.drop(self.embed(x)))
            return self.head(self.drop(out))

    return PlainLSTM()


def plain_update(net, model, optimizer, x, y, *, vocab: int, clip: float, autocast) -> None:
    """One step of the plain loop on windows `x` → `y`, written the textbook way: forward
    under `autocast`, cross-entropy in float32, backward, clipping, Adam (TrainingStep's
    work, without the engine)."""
    import torch
    import torch.nn.functional as F

    with autocast():
        logits = net(x)
    loss = F.cross_entropy(logits.float().reshape(-1, vocab), y.reshape(-1))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()


def plain_loop(rung_name: str, corpus: Path, steps: int, threads: int | None) -> None:
    import torch
    import torch.nn as nn

    from shakespeare_tui.core.device import bf16_is_fast, keep_freed_memory
    from shakespeare_tui.core.sizing.ladder import rung
    from shakespeare_tui.core.training.engine import autocast_for

    keep_freed_memory()  # as the engine's processes do (core/device.py): the same allocator
    r = rung(rung_name)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1:
        import torch.distributed as dist

        dist.init_process_group("gloo")
    torch.set_num_threads(threads or 1)
    text = corpus.read_text(encoding="utf-8")
    chars = sorted(set(text))
    data = torch.tensor([chars.index(c) for c in text[:1_000_000]], dtype=torch.long)
    vocab = len(chars)

    torch.manual_seed(0)
    model = Plain(r, vocab)  # the rung's embed, hidden, layers and dropout
    net = model
    if world > 1:
        net = nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=r.lr)
    bf16 = bf16_is_fast(torch.device("cpu"))
    autocast = autocast_for(torch.device("cpu"), bf16)
    rows = r.batch_size // world
    gen = torch.Generator().manual_seed(1)

    def step() -> None:
        starts = torch.randint(0, len(data) - r.seq_len - 1, (r.batch_size,), generator=gen)
        mine = starts[rank * rows : (rank + 1) * rows]
        window = torch.stack([data[s : s + r.seq_len + 1] for s in mine.tolist()])
        x, y = window[:, :-1], window[:, 1:]
        plain_update(net, model, optimizer, x, y, vocab=vocab, clip=1.0, autocast=autocast)

    step()
    speeds = []
    t0 = time.perf_counter()
    for i in range(1, steps + 1):
        step()
        if i % LOG_EVERY == 0:
            now = time.perf_counter()
            speeds.append(LOG_EVERY * r.batch_size * r.seq_len / (now - t0))
            t0 = now
    if rank == 0:
        print(json.dumps({"chars_per_s": statistics.median(speeds[1:] or speeds), "bf16": bf16}))
    if world > 1:
        import torch.distributed as dist

        dist.destroy_process_group()


def faults(rung_name: str, keep: bool, bf16: bool, steps: int = 20) -> None:
    """A step's page faults, sys share and CPU time (`--faults`), in this process."""
    import torch

    from shakespeare_tui.core.config import ModelConfig, TrainConfig
    from shakespeare_tui.core.device import keep_freed_memory
    from shakespeare_tui.core.model.network import CharRNN
    from shakespeare_tui.core.sizing.ladder import rung
    from shakespeare_tui.core.sizing.rule import rung_config
    from shakespeare_tui.core.training.engine import TrainingStep, autocast_for

    if keep:
        keep_freed_memory()
    torch.set_num_threads(1)
    config = rung_config(TrainConfig(model=ModelConfig(vocab_size=65)), rung(rung_name))
    model = CharRNN(config.model)
    codes = torch.randint(0, 65, (config.batch_size, config.seq_len + 1))

    class Same:
        def batch(self):
            return codes[:, :-1], codes[:, 1:]

    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    autocast = autocast_for(torch.device("cpu"), bf16)
    step = TrainingStep(model, model, optimizer, Same(), config.clip, 65, autocast)
    for _ in range(3):
        step(config.lr)
    r0, c0 = resource.getrusage(resource.RUSAGE_SELF), time.thread_time()
    for _ in range(steps):
        step(config.lr)
    r1, c1 = resource.getrusage(resource.RUSAGE_SELF), time.thread_time()
    user, system = r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime
    print(
        f"| {rung_name} | {'kept' if keep else 'glibc default'} | {'bf16' if bf16 else 'fp32'} | "
        f"{(r1.ru_minflt - r0.ru_minflt) / steps:,.0f} | {system / max(1e-9, user + system):.1%} | "
        f"{(c1 - c0) / steps * 1e3:.0f} | {os.getloadavg()[0]:.1f} |",
        flush=True,
    )


def paired(rung_name: str, seconds: float) -> None:
    """One torchrun job of 2 processes (`--paired`) that alternates, a block of steps each, the
    three layouts of `rung_name`, so that they see the same load: rank 0 alone with 1 thread
    (rank 1 waits at a barrier), rank 0 alone with 2 threads, and both processes with 1 thread
    each on half of the step's windows (DDP). Prints each one's chars/s and the ratios."""
    import torch
    import torch.distributed as dist

    from shakespeare_tui.core.config import ModelConfig, TrainConfig
    from shakespeare_tui.core.device import bf16_is_fast, keep_freed_memory
    from shakespeare_tui.core.layout import Layout
    from shakespeare_tui.core.model.network import CharRNN
    from shakespeare_tui.core.sizing.ladder import rung
    from shakespeare_tui.core.sizing.rule import rung_config
    from shakespeare_tui.core.training.distributed import Ranks
    from shakespeare_tui.core.training.engine import TrainingStep, autocast_for

    keep_freed_memory()
    ranks = Ranks.from_env()
    ranks.layout = Layout(2, 1, True, "benchmarks.layouts")
    ranks.start()
    config = rung_config(TrainConfig(model=ModelConfig(vocab_size=65)), rung(rung_name))
    bf16 = bf16_is_fast(torch.device("cpu"))
    codes = torch.randint(0, 65, (config.batch_size, config.seq_len + 1))

    class Codes:  # the same windows every step: the speed does not depend on the text
        def __init__(self, rows: int) -> None:
            self.x, self.y = codes[:rows, :-1], codes[:rows, 1:]

        def batch(self):
            return self.x, self.y

    autocast = autocast_for(torch.device("cpu"), bf16)

    def engine_step(model, net, rows, collective=contextlib.nullcontext):
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
        step = TrainingStep(
            net, model, optimizer, Codes(rows), config.clip, 65, autocast, collective
        )
        return lambda: step(config.lr)

    def plain_step(model):
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
        x, y = codes[:, :-1], codes[:, 1:]
        return lambda: plain_update(
            model, model, optimizer, x, y, vocab=65, clip=config.clip, autocast=autocast
        )

    torch.manual_seed(0)
    alone = CharRNN(config.model)
    shared = CharRNN(config.model)
    net = ranks.wrap(shared, torch.device("cpu"))
    shared_engine = engine_step(shared, net, config.batch_size // 2, ranks.collective)

    def shared_step():  # as the engine's loop: the stop agreement, then the step
        ranks.agree(False, 0.0)
        shared_engine()

    solo = {  # rank 0 alone, rank 1 waiting at a barrier
        "1 thread": (1, engine_step(alone, alone, config.batch_size)),
        "2 threads": (2, engine_step(alone, alone, config.batch_size)),
        "plain 1 thread": (1, plain_step(Plain(config.model, 65))),
        "plain 2 threads": (2, plain_step(Plain(config.model, 65))),
    }
    torch.set_num_threads(1)
    if ranks.writer:
        for _, step in solo.values():
            step()
    shared_step()
    dist.barrier()
    totals = {name: [0.0, 0] for name in [*solo, "2 proc split"]}
    t_end = time.perf_counter() + seconds
    block = 3
    while True:
        for name in totals:
            t0 = time.perf_counter()
            if name == "2 proc split":
                torch.set_num_threads(1)
                for _ in range(block):
                    shared_step()
            else:
                if ranks.writer:
                    threads, step = solo[name]
                    torch.set_num_threads(threads)
                    for _ in range(block):
                        step()
                dist.barrier()
            totals[name][0] += time.perf_counter() - t0
            totals[name][1] += block * config.batch_size * config.seq_len
        done = torch.tensor([float(time.perf_counter() > t_end)])
        dist.broadcast(done, 0)
        if done.item():
            break
    if ranks.writer:
        speeds = {name: chars / t for name, (t, chars) in totals.items()}
        print(json.dumps({"speeds": speeds, "bf16": bf16}))
    ranks.close()


def probe(corpus: Path, rung: str, layout: str, steps: int) -> dict:
    """The sizing probe's timing of `rung` in `layout` (`--probe`, below): chars/s from the CPU
    time each process got where the machine was busy, what the steps take on an idle one."""
    words = ["-m", "benchmarks.layouts", "--probe", rung]
    if layout == "split":
        command, env = _torchrun(2) + words, _env(OMP_NUM_THREADS="1")
    else:
        command, env = [sys.executable, *words, "--threads", layout], _env()
    done, usage = _run(command, env)
    line = next(x for x in done.stdout.splitlines() if x.startswith("{"))
    return {**usage, **json.loads(line)}


def probe_timing(rung_name: str, threads: int | None, seconds: float = 3.0) -> None:
    import torch

    from shakespeare_tui.core.config import ModelConfig, TrainConfig
    from shakespeare_tui.core.device import bf16_is_fast, configure
    from shakespeare_tui.core.layout import Layout
    from shakespeare_tui.core.sizing.ladder import rung
    from shakespeare_tui.core.sizing.probe import time_rung
    from shakespeare_tui.core.training.distributed import Ranks

    ranks = Ranks.from_env() if "WORLD_SIZE" in os.environ else Ranks()
    if ranks.launched:
        ranks.layout = Layout(ranks.world, 1, True, "benchmarks.layouts")
        ranks.start()
    device = torch.device("cpu")
    configure(device, threads or 1)
    config = TrainConfig(model=ModelConfig(vocab_size=65))
    timing = time_rung(config, rung(rung_name), device, bf16_is_fast(device), seconds, ranks)
    if ranks.writer:
        print(json.dumps({"chars_per_s": timing.chars_per_s, "cpu_share": timing.cpu_share}))
    if ranks.launched:
        ranks.close()


# -- the side-by-side run ---------------------------------------------------------------------

VARIANTS = (  # (label, kind, layout)
    ("engine 1 thread", engine, "1"),
    ("engine 2 threads", engine, "2"),
    ("engine 2 proc split", engine, "split"),
)
PLAIN = (
    ("plain 1 thread", plain, "1"),
    ("plain 2 proc split", plain, "split"),
)
PROBE = (
    ("probe 1 thread", probe, "1"),
    ("probe 2 threads", probe, "2"),
    ("probe 2 proc split", probe, "split"),
)
ENGINE_OF = {"plain 1 thread": "engine 1 thread", "plain 2 proc split": "engine 2 proc split"}


def _load() -> float:
    return os.getloadavg()[0]


def main(argv=None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.layouts", description=__doc__.split("\n\n")[0]
    )
    p.add_argument(
        "--rungs", default="xs,m,l", help="ladder rungs, comma-separated (default xs,m,l)"
    )
    p.add_argument("--steps", type=int, default=100, help="steps per run (default 100)")
    p.add_argument("--rounds", type=int, default=2, help="interleaved rounds (default 2)")
    p.add_argument("--corpus", type=Path, default=TINY_SHAKESPEARE)
    p.add_argument("--no-plain", action="store_true", help="skip the plain nn.LSTM loop")
    p.add_argument("--no-probe", action="store_true", help="skip the sizing probe's timings")
    p.add_argument("--plain", metavar="RUNG", help=argparse.SUPPRESS)
    p.add_argument("--probe", metavar="RUNG", help=argparse.SUPPRESS)
    p.add_argument("--faults", action="store_true", help="page faults a step, see above")
    p.add_argument(
        "--paired",
        type=float,
        metavar="S",
        help="the three layouts alternated in one job, S s a rung",
    )
    p.add_argument("--paired-run", help=argparse.SUPPRESS)
    p.add_argument("--fault-run", nargs=3, help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.plain:
        return plain_loop(args.plain, args.corpus, args.steps, args.threads)
    if args.probe:
        return probe_timing(args.probe, args.threads)
    if args.paired_run:
        return paired(args.paired_run, args.paired or 60.0)
    if args.paired:
        names = ("1 thread", "2 threads", "2 proc split", "plain 1 thread", "plain 2 threads")
        print(
            "| rung | " + " | ".join(names) + " | 2 threads / 1 | split / 1 | split / 2 threads "
            "| engine / plain, 1 thread | engine / plain, 2 threads | load |"
        )
        print("| --- " * 12 + "|", flush=True)
        for _ in range(args.rounds):
            for name in args.rungs.split(","):
                load = _load()
                words = [
                    "-m",
                    "benchmarks.layouts",
                    "--paired-run",
                    name,
                    "--paired",
                    str(args.paired),
                ]
                done, _ = _run(_torchrun(2) + words, _env(OMP_NUM_THREADS="1"))
                got = json.loads(next(x for x in done.stdout.splitlines() if x.startswith("{")))
                v = [got["speeds"][k] for k in names]
                print(
                    f"| {name} | "
                    + " | ".join(f"{x:,.0f}" for x in v)
                    + f" | {v[1] / v[0]:.2f}× | {v[2] / v[0]:.2f}× | {v[2] / v[1]:.2f}× "
                    f"| {v[0] / v[3]:.2f}× | {v[1] / v[4]:.2f}× | {load:.1f}–{_load():.1f} |",
                    flush=True,
                )
        return None
    if args.fault_run:
        name, keep, bf16 = args.fault_run
        return faults(name, keep == "keep", bf16 == "bf16")
    if args.faults:
        print("| rung | allocator | autocast | page faults a step | sys % | CPU ms a step | load |")
        print("| --- | --- | --- | --- | --- | --- | --- |", flush=True)
        for _ in range(args.rounds):
            for name in args.rungs.split(","):
                for keep in ("default", "keep"):
                    for bf16 in ("bf16", "fp32"):
                        words = ["-m", "benchmarks.layouts", "--fault-run", name, keep, bf16]
                        subprocess.run([sys.executable, *words], env=_env(), cwd=REPO, check=True)
        return None

    from shakespeare_tui.core.config import ModelConfig
    from shakespeare_tui.core.layout import choose_layout
    from shakespeare_tui.core.model.estimate import work_per_char
    from shakespeare_tui.core.sizing.ladder import rung

    def model_of(r):
        return ModelConfig(vocab_size=65, embed=r.embed, hidden=r.hidden, layers=r.layers)

    rungs = args.rungs.split(",")
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in open("/proc/cpuinfo")
            if line.startswith("model name")
        ),
        "unknown CPU",
    )
    with tempfile.TemporaryDirectory() as spare:
        corpus = args.corpus
        if not corpus.is_file():
            text, _ = bench_text(1_000_000)
            corpus = Path(spare) / "corpus.txt"
            corpus.write_text(text, encoding="utf-8")
        results: dict[tuple[str, str], list[dict]] = {}
        chosen: dict[str, str] = {}
        for name in rungs:
            r = rung(name)
            step = (r.batch_size, work_per_char(model_of(r)) * r.batch_size * r.seq_len)
            layout = choose_layout(os.cpu_count() or 1, device_type="cpu", steps=[step])
            chosen[name] = "split" if layout.split else str(layout.threads)
        variants = list(VARIANTS) + ([] if args.no_plain else list(PLAIN))
        variants += [] if args.no_probe else list(PROBE)
        print(
            f"{cpu}, {os.cpu_count()} cores, torch steps {args.steps}, rounds {args.rounds}",
            flush=True,
        )
        for r in range(args.rounds):
            for name in rungs:
                order = variants[r % len(variants) :] + variants[: r % len(variants)]
                for label, kind, layout in order:
                    load = _load()
                    got = kind(corpus, name, layout, args.steps)
                    got["load"] = load
                    results.setdefault((name, label), []).append(got)
                    print(
                        f"  round {r + 1} {name} {label} [{layout}]: {got['chars_per_s']:,.0f} chars/s, "
                        f"user {got['user']:.1f} s sys {got['sys']:.1f} s wall {got['wall']:.0f} s, "
                        f"load {load:.2f}"
                        + (f", loss {got['loss']:.3f}" if "loss" in got else "")
                        + (f", CPU share {got['cpu_share']:.0%}" if "cpu_share" in got else ""),
                        flush=True,
                    )

    print(
        f"\n#### Layouts on {cpu}, {os.cpu_count()} cores: {args.steps} steps a run, median of {args.rounds} rounds\n"
    )
    print(
        "| rung | variant | chars/s | vs 1 thread | sys % of CPU | load (1 min) | last train loss |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in rungs:
        base = statistics.median(x["chars_per_s"] for x in results[(name, VARIANTS[0][0])])
        for label, _, _ in variants:
            runs = results[(name, label)]
            speed = statistics.median(x["chars_per_s"] for x in runs)
            sys_share = statistics.median(x["sys"] / max(1e-9, x["user"] + x["sys"]) for x in runs)
            loads = "–".join(f"{x['load']:.1f}" for x in runs)
            loss = "/".join(f"{x['loss']:.3f}" for x in runs if "loss" in x) or ""
            print(
                f"| {name} | {label} | {speed:,.0f} | {speed / base:.2f}× | {sys_share:.1%} | {loads} | {loss} |"
            )
        for label, _, _ in [] if args.no_plain else PLAIN:
            mine = statistics.median(x["chars_per_s"] for x in results[(name, ENGINE_OF[label])])
            theirs = statistics.median(x["chars_per_s"] for x in results[(name, label)])
            print(f"| {name} | {ENGINE_OF[label]} / {label} | {mine / theirs:.2f}× | | | | |")
    print(
        "\nThe rule (core/layout.py) chooses: " + ", ".join(f"{n} {c}" for n, c in chosen.items())
    )


if __name__ == "__main__":
    main()
