"""What every section shares: interleaved timing, medians, the text to train on, table printing."""

from __future__ import annotations

import statistics
import string
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TINY_SHAKESPEARE = REPO.parent / "shared" / "data" / "tinyshakespeare.txt"

# Sonnet 18 (public domain), for when tiny Shakespeare is not beside the repository.
_SONNET = """Shall I compare thee to a summer's day?
Thou art more lovely and more temperate:
Rough winds do shake the darling buds of May,
And summer's lease hath all too short a date;
Sometime too hot the eye of heaven shines,
And often is his gold complexion dimm'd;
And every fair from fair sometime declines,
By chance or nature's changing course untrimm'd;
But thy eternal summer shall not fade,
Nor lose possession of that fair thou ow'st;
Nor shall Death brag thou wander'st in his shade,
When in eternal lines to time thou grow'st:
So long as men can breathe or eyes can see,
So long lives this, and this gives life to thee.
"""
# Tiny Shakespeare's 65 characters, so the output layer has its real size.
VOCAB_65 = string.ascii_letters + " \n!$&',-.3:;?"


def bench_text(chars: int, path: Path | None = None) -> tuple[str, str]:
    """(text, where it came from): the first `chars` of tiny Shakespeare, else a repeated sonnet."""
    path = path or TINY_SHAKESPEARE
    if path.is_file():
        return path.read_text(encoding="utf-8")[:chars], f"{path.name} (first {chars:,} chars)"
    unit = _SONNET + VOCAB_65 + "\n"
    text = (unit * (chars // len(unit) + 1))[:chars]
    return text, f"Sonnet 18 repeated to {chars:,} chars ({path} not found)"


def sync(device) -> None:
    """Wait for queued GPU work, so a timer measures the work and not its queueing."""
    if getattr(device, "type", device) == "cuda":
        import torch

        torch.cuda.synchronize(device)


def timed(fn: Callable[[], object], device=None) -> float:
    """Seconds `fn()` takes, the device synchronised before and after."""
    sync(device)
    t0 = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - t0


def interleave(contenders: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Call each contender once per round, rotating who goes first; every figure per round.

    Contenders return their own figure (e.g. chars/s). Running them side by side, round after
    round, exposes them to the same load, so ratios hold on a busy machine.
    """
    names = list(contenders)
    results: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            results[name].append(contenders[name]())
    return results


def median(values) -> float:
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def percentile(values, q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    i = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[i]


def ratios(a: list[float], b: list[float]) -> float:
    """Median of the per-round ratios a/b (same-round figures saw the same load)."""
    return median([x / y for x, y in zip(a, b, strict=False) if y])


def spread(values) -> str:
    """min–max, to show how noisy a figure was."""
    values = [v for v in values if v == v]
    if not values:
        return "—"
    return f"{fmt(min(values))}–{fmt(max(values))}"


def fmt(value: float, digits: int = 0) -> str:
    if value != value:
        return "—"
    if digits:
        return f"{value:,.{digits}f}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("yes" if ok else "**no**")


class Table:
    """A markdown table, printed as soon as it is complete (paste it as is into RESULTS.md)."""

    def __init__(self, title: str, *headers: str):
        self.title = title
        self.headers = headers
        self.rows: list[tuple[str, ...]] = []
        self.notes: list[str] = []

    def add(self, *cells) -> None:
        self.rows.append(tuple(str(c) for c in cells))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def render(self) -> str:
        cols = [list(self.headers), *[list(r) for r in self.rows]]
        widths = [max(len(row[i]) for row in cols) for i in range(len(self.headers))]

        def line(cells) -> str:
            return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

        out = [f"### {self.title}", "", line(self.headers)]
        out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        out += [line(r) for r in self.rows]
        if self.notes:
            out.append("")
            out += [f"- {n}" for n in self.notes]
        return "\n".join(out) + "\n"

    def print(self) -> None:
        print(self.render(), flush=True)


class Targets:
    """The issue's targets, met or not, collected across sections for one summary table."""

    def __init__(self):
        self.table = Table("Targets", "target", "measured", "met")

    def add(self, what: str, measured: str, ok: bool | None) -> None:
        self.table.add(what, measured, verdict(ok))


def cpu_name() -> str:
    """The CPU's model name (/proc/cpuinfo), else what platform says."""
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
