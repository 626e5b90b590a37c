"""Corpora larger than memory: encoding a generated multi-GB corpus into its map, and training
from the map against training from the whole tensor.

- Encoding: a generated corpus (`--corpora-mb`, 2,048 MB by default, 512 with --quick) in a
  temp folder under /tmp, twice: plain ASCII (play-like text), and the same with curly
  apostrophes (mostly ASCII with a multi-byte character now and then, as Gutenberg texts are).
  Each is encoded by `core.map_cache.map_corpus` in a fresh child process, which reports its
  MB/s and its peak RSS growth (VmHWM after resetting it, minus VmRSS before), then draws 2,000
  batches from the map and reports how much RSS they added (its own memory, and the file's
  pages), and the same windows through np.memmap, for comparison. The files are deleted
  afterwards.
- Training: the engine's step (benchmarks.training.EngineStep: TextData.batch(), CharRNN, Adam,
  clipping, as `_Run._loop` runs them) on the same windows from a text held whole as a tensor
  and from the same text's map, interleaved round by round; and from the whole multi-GB map
  (random windows over all of it). The tiny preset shows the per-batch cost at its largest.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from benchmarks.common import REPO, Table, Targets, bench_text, fmt, interleave, median, ratios
from benchmarks.common import spread as spread_of

CHILD = """
import json, resource, sys, time, torch
from pathlib import Path
from shakespeare_tui.core.text import corpus_map, map_cache
from shakespeare_tui.core.text.batches import TextData
from shakespeare_tui.core.text.vocab import Vocabulary

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024

with open("/proc/self/clear_refs", "w") as f:  # the peak from here on is the encode's alone
    f.write("5")
before = status("VmRSS")
r0 = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.perf_counter()
entry = map_cache.map_corpus(Path(sys.argv[1]), "bench", Path(sys.argv[2]))
seconds = time.perf_counter() - t0
r1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
growth = status("VmHWM") - before
vocab = Vocabulary("".join(sorted(entry.chars)))
data = TextData(entry.codes(vocab), seq_len=100, batch_size=64, val_fraction=0.1,
                device=torch.device("cpu"), seed=1)
anon, file = status("RssAnon"), status("RssFile")
t1 = time.perf_counter()
for _ in range(2000):
    data.batch()
batch_us = (time.perf_counter() - t1) / 2000 * 1e6
read_anon, read_file = status("RssAnon") - anon, status("RssFile") - file
# The same windows through a memory mapping (what corpus_map does not do, and why).
import numpy as np
mapped = np.memmap(entry.path, dtype=corpus_map.DTYPES[entry.width], mode="r",
                   shape=(entry.length,))
offsets = np.arange(101)
file = status("RssFile")
t1 = time.perf_counter()
for _ in range(2000):
    starts = torch.randint(0, entry.length - 101, (64, 1), generator=data.generator).numpy()
    mapped[starts + offsets]
mmap_us = (time.perf_counter() - t1) / 2000 * 1e6
print(json.dumps({"seconds": seconds, "cpu": cpu, "growth": growth, "width": entry.width,
                  "chars": entry.length, "map": str(entry.path), "batch_us": batch_us,
                  "anon": read_anon, "file": read_file, "mmap_us": mmap_us,
                  "mmap_file": status("RssFile") - file}))
"""


def _generate(path: Path, megabytes: int, curly: bool) -> int:
    text, _ = bench_text(1_000_000)
    if curly:
        text = text.replace("'", "\u2019")
    block = text.encode("utf-8")
    target = megabytes * 2**20
    with open(path, "wb") as f:
        written = 0
        while written < target:
            piece = block[: target - written]
            f.write(piece)
            written += len(piece)
    return written


def _encode_in_child(path: Path, cache: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(cache)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=1800,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_corpora(args, device, targets: Targets) -> None:
    megabytes = args.corpora_mb or (512 if args.quick else 2048)
    rounds = args.rounds or (3 if args.quick else 5)
    folder = Path(tempfile.mkdtemp(prefix="stui-corpora-", dir="/tmp"))
    try:
        need = 3 * megabytes * 2**20 + 2**30  # a source, its map, and the other's
        free = shutil.disk_usage(folder).free
        if free < need:
            print(
                f"corpora: skipped — {free / 2**30:.1f} GiB free in /tmp, need {need / 2**30:.1f}"
            )
            return
        table = Table(
            f"Encoding a generated {megabytes:,} MB corpus into its map (a fresh process each)",
            "text",
            "MB/s",
            "seconds",
            "CPU-seconds (of 2 cores)",
            "MB per CPU-second",
            "peak RSS growth",
            "bytes/char",
            "batch() from the map",
            "RSS growth over 2,000 batches: own / the map's pages",
            "through np.memmap instead: µs / RSS growth",
        )
        big_map = None
        for curly in (False, True):
            name = "mostly ASCII, curly apostrophes" if curly else "ASCII"
            source = folder / f"corpus-{'curly' if curly else 'ascii'}.txt"
            cache = folder / ("cache-curly" if curly else "cache")
            size = _generate(source, megabytes, curly)
            shutil.rmtree(cache, ignore_errors=True)
            r = _encode_in_child(source, cache)
            rate = size / r["seconds"] / 1e6
            growth_mb = r["growth"] / 2**20
            table.add(
                name,
                fmt(rate),
                f"{r['seconds']:.1f}",
                f"{r['cpu']:.1f}",
                fmt(size / r["cpu"] / 1e6),
                f"{growth_mb:.0f} MB",
                str(r["width"]),
                f"{r['batch_us']:.0f} µs",
                f"{r['anon'] / 2**20:.1f} MB / {r['file'] / 2**20:.0f} MB",
                f"{r['mmap_us']:.0f} µs / {r['mmap_file'] / 2**20:.0f} MB",
            )
            targets.add(f"encoding ≥ 100 MB/s ({name})", f"{rate:.0f} MB/s", rate >= 100)
            targets.add(
                f"encoding peak RSS growth < 300 MB ({name})",
                f"{growth_mb:.0f} MB",
                growth_mb < 300,
            )
            source.unlink()
            if curly:
                shutil.rmtree(cache, ignore_errors=True)
            else:
                big_map = cache
        table.note(
            f"the files live in {folder} (deleted afterwards); a child process per encode, so "
            "its CPU time is the encode's (hashing and writing run beside it on a second thread) "
            "and "
            "its peak RSS the encode's alone. batch() is 64 × 101 windows read from the map "
            "(pread); the last column draws the same windows through a memory mapping, whose "
            "page-cache pages then count in the process's RSS"
        )
        table.print()
        _training(args, device, targets, big_map, folder, rounds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _training(args, device, targets, big_map: Path, folder: Path, rounds: int) -> None:
    from benchmarks.training import EngineStep
    from shakespeare_tui.core.config import TrainConfig, apply_preset
    from shakespeare_tui.core.text import corpus_map, map_cache
    from shakespeare_tui.core.text.batches import TextData
    from shakespeare_tui.core.text.vocab import Vocabulary

    text, source = bench_text(4_000_000)
    (folder / "small.txt").write_text(text, encoding="utf-8")
    small_map = map_cache.map_corpus(folder / "small.txt", "small", folder / "cache-small")
    vocab = Vocabulary("".join(sorted(small_map.chars)))
    whole = vocab.encode(text)
    big = next(corpus_map.open_entry(p) for p in (big_map / "corpora").glob("*.map"))
    sources = {
        "whole tensor (today's path)": whole,
        "map, same text": small_map.codes(vocab),
        f"map, {big.length / 1e9:.1f}G chars": big.codes(vocab),
    }
    table = Table(
        "TextData.batch() alone: µs per batch (64 × 101, the notebook's shape)",
        "windows from",
        "µs (median)",
        "min–max",
    )
    batches = {
        name: TextData(codes, seq_len=100, batch_size=64, val_fraction=0.1, device=device, seed=1)
        for name, codes in sources.items()
    }

    def per_batch(data, n=500):
        t0 = time.perf_counter()
        for _ in range(n):
            data.batch()
        return (time.perf_counter() - t0) / n * 1e6

    res = interleave({n: (lambda d=d: per_batch(d)) for n, d in batches.items()}, rounds)
    for name, values in res.items():
        table.add(name, fmt(median(values), 1), spread_of(values))
    table.print()
    for preset in ("tiny", "cpu"):
        config = apply_preset(TrainConfig(device=str(device)), preset)
        config = replace(config, model=replace(config.model, vocab_size=len(vocab)))
        steps = (60 if args.quick else 200) if preset == "tiny" else (3 if args.quick else 8)
        contenders = {
            name: EngineStep(config, codes, device, False, seed=1)
            for name, codes in sources.items()
        }
        for c in contenders.values():
            c.run(1)  # warm-up
        t0 = time.perf_counter()
        calls = {n: (lambda c=c, k=steps: c.run(k)) for n, c in contenders.items()}
        res = interleave(calls, rounds)
        wall = time.perf_counter() - t0
        base = res["whole tensor (today's path)"]
        table = Table(
            f"Training from the map vs the whole tensor: {preset} preset "
            f"({config.model.summary}, batch {config.batch_size} × {config.seq_len}, fp32), "
            f"{device}",
            "windows from",
            "chars/s (median)",
            "min–max",
            "÷ whole tensor",
        )
        for name, speeds in res.items():
            ratio = "1" if speeds is base else f"{ratios(speeds, base):.3f}×"
            table.add(name, fmt(median(speeds)), spread_of(speeds), ratio)
        table.note(
            f"{rounds} rounds × {steps} steps, interleaved ({wall:.0f} s); the first two draw "
            f"the same windows (same seed) from {source}"
        )
        table.print()
        r = ratios(res["map, same text"], base)
        targets.add(
            f"training from the map ≥ 0.95× whole tensor ({preset})", f"{r:.3f}×", r >= 0.95
        )
