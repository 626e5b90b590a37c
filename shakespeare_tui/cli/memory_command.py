"""`shakespeare-tui memory`: how far back each checkpoint really uses what it read.

Prints, over the same targets of one text, each checkpoint's loss when it reads only the last k
characters (k = 1, 2, 4, … 512, and the whole text), the n-gram baseline's with 0 … 8
characters, each one's effective context, and the mean connectivity against distance;
`--at POSITION` the connectivity of that one prediction per earlier character instead;
`--json` one JSON object. Every check that needs no model runs before torch loads.
"""

from __future__ import annotations

import json
import math
import sys

from rich.table import Table

from shakespeare_tui.cli.console import PipeConsole
from shakespeare_tui.cli.exits import EXIT_OK
from shakespeare_tui.core.errors import FieldError, UserError
from shakespeare_tui.core.inspection.memory.context import TOLERANCE
from shakespeare_tui.core.inspection.memory.defaults import DEFAULT_LENGTH
from shakespeare_tui.core.inspection.memory.targets import MAX_CONTEXT
from shakespeare_tui.core.runs.folders import resolve_checkpoint


def memory_command(args, paths) -> int:
    if args.targets < 1:
        raise FieldError("targets", "must be at least 1")
    if args.length is not None and args.length < 1:
        raise FieldError("length", "must be at least 1")
    if not 1 <= args.span <= MAX_CONTEXT:
        raise FieldError("span", f"must be from 1 to {MAX_CONTEXT}")
    if args.at is not None and args.at < 1:
        raise UserError(
            "{at} must be at least 1: the first character has nothing before it", names=["at"]
        )
    # torch: measuring needs the model; every check above ran before it loads
    from shakespeare_tui.core.inspection.memory.report import MemorySettings, MemoryText
    from shakespeare_tui.core.model.checkpoint import load_checkpoint

    text = None
    if args.text is not None:
        text = MemoryText.from_file(args.text, args.length)
        if args.at is not None and args.at >= len(text.text):
            raise UserError(
                f"{{at}} {args.at} is past the end of {args.text} ({len(text.text):,} characters)",
                names=["at"],
            )

    specs = args.checkpoint or ["bundled"]
    checkpoints = [(spec, load_checkpoint(resolve_checkpoint(spec, paths))) for spec in specs]
    first = checkpoints[0][1]
    if text is None:
        text = MemoryText.held_out(first.payload, paths.cache, args.length or DEFAULT_LENGTH)
        if args.at is not None and args.at >= len(text.text):
            raise UserError(
                f"{{at}} {args.at} is past the end of the text ({len(text.text):,} characters)",
                names=["at"],
            )
    if text.note:
        print(f"note: {text.note}", file=sys.stderr)
    settings = MemorySettings(targets=args.targets, span=args.span, bf16=args.bf16)
    bar = _ProgressLine(quiet=args.json)
    try:
        rows, ngram = _measure(checkpoints, text, settings, paths, args.at, bar)
    finally:
        bar.close()
    described = f"{settings.targets:,} targets in {text.source}"
    if args.json:
        _print_json(rows, ngram, settings.targets, args.at)
    else:
        _print_tables(rows, ngram, described, text.text, args.at, settings)
    return EXIT_OK


def _measure(checkpoints, text, settings, paths, at, bar):
    """[(memory, connectivity at `at` or None)], and the n-gram's curve (None: a note said why)."""
    # torch: these read the model
    from shakespeare_tui.core.inspection.memory.connectivity import connectivity_at
    from shakespeare_tui.core.inspection.memory.reader import Reader
    from shakespeare_tui.core.inspection.memory.report import (
        measure_checkpoint,
        ngram_baseline,
        text_codes,
    )

    rows = []
    for spec, checkpoint in checkpoints:
        memory = measure_checkpoint(
            checkpoint, text, settings, paths.cache, name=spec, on_event=bar
        )
        one = None
        if at is not None:
            codes = text_codes(checkpoint.vocab, text, spec)
            reader = Reader(checkpoint.model)  # fp32: bf16 autocast only slows one prediction
            one = connectivity_at(reader, codes, at, settings.span)
        rows.append((memory, one))
    first = checkpoints[0][1]
    ngram, why = ngram_baseline(
        first.payload, first.vocab, text, settings, paths.cache, on_event=bar
    )
    if why:
        print(f"note: {why}", file=sys.stderr)
    return rows, ngram


class _ProgressLine:
    """The stage in progress on stderr, in a terminal only, gone once measured."""

    def __init__(self, quiet: bool = False):
        self.live = sys.stderr.isatty() and not quiet
        self.shown = False

    def __call__(self, event) -> None:
        if self.live:
            sys.stderr.write("\r\x1b[2K" + event.summary())
            sys.stderr.flush()
            self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[2K")
            sys.stderr.flush()
            self.shown = False


def _number(value: float, digits: int = 6) -> float | None:
    return round(value, digits) if math.isfinite(value) else None


def _print_json(rows, ngram, targets: int, at) -> None:
    checkpoints = []
    for memory, one in rows:
        grads = memory.connectivity.grad if one is None else one
        checkpoints.append(
            {
                "name": memory.name,
                "cell": memory.cell,
                "params": memory.params,
                "context": [
                    {"k": p["k"], "loss": _number(p["loss"])} for p in memory.context.as_dict()
                ],
                "effective_context": memory.effective_context,
                "connectivity": [
                    {"k": k, "grad": _number(g, 8)} for k, g in enumerate(grads, start=1)
                ],
            }
        )
    document = {
        "targets": targets,
        "checkpoints": checkpoints,
        "ngram": None
        if ngram is None
        else [
            {"context": c, "loss": _number(x)}
            for c, x in zip(ngram.contexts, ngram.loss, strict=True)
        ],
    }
    json.dump(document, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


def _console():
    console = PipeConsole()
    return console if console.is_terminal else PipeConsole(width=200)  # piped: no wrapping


def _print_tables(rows, ngram, described, text, at, settings) -> None:
    console = _console()
    print_ = lambda *a: console.print(*a, highlight=False, soft_wrap=True)  # noqa: E731
    names = [m.name for m, _ in rows]
    print_(f"{' · '.join(f'{m.name} ({m.summary})' for m, _ in rows)} · {described}")
    print_("loss (nats per character) when only the last k characters are read:")
    table = Table(box=None, pad_edge=False)
    table.add_column("k", justify="right")
    for name in names:
        table.add_column(name, justify="right")
    table.add_column("n-gram" if ngram is not None else "", justify="right")
    curves = [dict(zip(m.context.contexts, m.context.loss, strict=True)) for m, _ in rows]
    counted = dict(zip(ngram.contexts, ngram.loss, strict=True)) if ngram is not None else {}
    ks = sorted(set(counted) | {k for curve in curves for k in curve})
    for k in ks:
        cells = [_cell(curve.get(k)) for curve in curves]
        table.add_row(str(k), *cells, _cell(counted.get(k)) if ngram is not None else "")
    table.add_row("all", *[_cell(m.context.loss_all) for m, _ in rows], "")
    console.print(table)
    within = f"{TOLERANCE:.0%}"
    parts = [f"{m.name} {_context(m.effective_context, m.context)}" for m, _ in rows]
    if ngram is not None:
        parts.append(f"the n-gram {ngram.effective_context()}")
    print_(
        f"effective context, the fewest characters within {within} of the whole text's loss "
        "(the n-gram's: of its best): " + "; ".join(parts)
    )
    if at is not None:
        _print_at(console, rows, text, at)
        return
    print_(
        f"\nconnectivity, ‖∂ log p / ∂ embedding‖ of the character k back, mean over "
        f"{rows[0][0].connectivity.targets} predictions:"
    )
    table = Table(box=None, pad_edge=False)
    table.add_column("k", justify="right")
    for name in names:
        table.add_column(name, justify="right")
    span = max(len(m.connectivity.grad) for m, _ in rows)
    shown = sorted({k for k in (2**i for i in range(10)) if k <= span} | {span})
    for k in shown:
        table.add_row(str(k), *[_grad(m.connectivity.grad, k) for m, _ in rows])
    console.print(table)


def _print_at(console, rows, text: str, at: int) -> None:
    console.print(
        f"\nconnectivity of the prediction of character {at} ({text[at]!r}), "
        "‖∂ log p / ∂ embedding‖ of each character before it:",
        highlight=False,
    )
    table = Table(box=None, pad_edge=False)
    table.add_column("k", justify="right")
    table.add_column("character", justify="left")
    for memory, _ in rows:
        table.add_column(memory.name, justify="right")
    span = max(len(one) for _, one in rows)
    for k in range(1, span + 1):
        table.add_row(str(k), repr(text[at - k]), *[_grad(one, k) for _, one in rows])
    console.print(table)


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _grad(grads, k: int) -> str:
    return f"{grads[k - 1]:.2e}" if k <= len(grads) else ""


def _context(k: int | None, curve) -> str:
    if k is None:
        return f"over {max(curve.contexts)}"
    return str(k)
