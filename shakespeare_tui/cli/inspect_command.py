"""`shakespeare-tui inspect`: what a checkpoint's units do over a text.

Prints the text's bits per character and, per feature of the text (core/inspection/neurons.py), the units
whose value tracks it best; `--unit L:N` also prints the text coloured by that unit, `--json`
one JSON object instead. Every check that needs no model runs before torch loads.
"""

from __future__ import annotations

import json
import math
import re
import sys

import numpy as np
from rich.console import Console
from rich.table import Table
from rich.text import Text

from shakespeare_tui.cli.exits import EXIT_OK
from shakespeare_tui.core.cells import DEFAULT_QUANTITY, QUANTITIES, QUANTITY_NAMES, cell_name
from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.inspection import lens
from shakespeare_tui.core.inspection.neurons import correlations, find_units, text_features
from shakespeare_tui.core.inspection.unit_address import unit_problem
from shakespeare_tui.core.runs.folders import resolve_checkpoint
from shakespeare_tui.core.shown_text import shown
from shakespeare_tui.core.text.passages import Passage, held_out_passage, read_text_file

MAX_CHARS = 200_000  # ~0.5 GB of float16 states at H640; a view of more is no longer usable
VALIDATION_LENGTH = 10_000
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\ud800-\udfff]")


def inspect_command(args, paths) -> int:
    if args.length is not None and args.length > MAX_CHARS:
        raise UserError(f"{{length}} must be at most {MAX_CHARS:,}", names=["length"])
    passage = None
    if args.text is not None:
        text = read_text_file(args.text)
        if args.length is not None:
            text = text[: args.length]
        elif len(text) > MAX_CHARS:
            raise UserError(
                f"{args.text} has {len(text):,} characters; inspect reads at most "
                f"{MAX_CHARS:,}: give {{length}}",
                names=["length"],
            )
        passage = Passage(text=text, context="\n", source=f"{args.text} ({len(text):,} characters)")

    # torch: only after every check that needs no model
    from shakespeare_tui.core.inspection.replay import replay
    from shakespeare_tui.core.model.checkpoint import load_checkpoint

    checkpoint = load_checkpoint(resolve_checkpoint(args.checkpoint, paths))
    config = checkpoint.model_config
    quantity = args.quantity or DEFAULT_QUANTITY[config.cell]
    if quantity not in QUANTITIES[config.cell]:
        raise UserError(
            f"{{quantity}} {quantity} is not a quantity of {cell_name(config.cell)}: use one of "
            f"{', '.join(QUANTITIES[config.cell])}",
            names=["quantity"],
        )
    if args.unit is not None:
        layer, unit = args.unit
        problem = unit_problem(layer, unit, config.layers, config.hidden)
        if problem:
            raise UserError(f"{{unit}} {args.unit}: {problem}", names=["unit"])
    if passage is None:
        passage = held_out_passage(
            checkpoint.payload, paths.cache, args.length or VALIDATION_LENGTH
        )
    if passage.note:
        print(f"note: {shown(passage.note)}", file=sys.stderr)
    context = passage.context if "\n" in checkpoint.vocab or passage.context != "\n" else ""
    result = replay(checkpoint.model, checkpoint.vocab, passage.text, context=context)
    found = find_units(result, quantity=quantity, top=args.top)

    described = f"{checkpoint.path.name} · {config.summary} · {passage.source}"
    if args.json:
        _print_json(result, found, quantity, described, args.unit)
    else:
        _print_table(result, found, quantity, described)
        if args.unit is not None:
            _print_unit(result, quantity, *args.unit)
    return EXIT_OK


def _finite(value: float) -> float | None:
    return round(value, 4) if math.isfinite(value) else None


def _print_json(result, found, quantity, described, unit) -> None:
    document = {
        "checkpoint": described,
        "chars": len(result.text),
        "bits_per_char": _finite(result.bits_per_char),
        "quantity": quantity,
        "features": {name: [s.as_dict() for s in scores] for name, scores in found.items()},
    }
    if unit is not None:
        values = result.unit_values(unit[0], quantity, unit[1])
        document["unit"] = {
            "layer": unit[0],
            "unit": unit[1],
            "quantity": quantity,
            "r": _unit_correlations(result, values),
            "values": [round(float(v), 3) for v in values],
        }
    # JSON escapes C0 controls itself; DEL, C1 and a lone surrogate (a file name that is not
    # UTF-8) would pass as they are: written as \u escapes, which JSON reads back the same.
    text = json.dumps(document, ensure_ascii=False)
    sys.stdout.write(_UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m[0]):04x}", text) + "\n")


def _unit_correlations(result, values) -> dict[str, float]:
    features = text_features(result.text)
    r = correlations(values[:, None], np.stack(list(features.values()), axis=1))[0]
    return {name: round(float(x), 4) for name, x in zip(features, r, strict=True)}


def _console():
    console = Console()
    return console if console.is_terminal else Console(width=200)  # piped: no wrapping


def _print_table(result, found, quantity, described) -> None:

    console = _console()
    console.print(Text(shown(described)), highlight=False)  # a file's name: never markup
    console.print(f"{result.bits_per_char:.3f} bits per character", highlight=False)
    console.print(
        f"units whose {QUANTITY_NAMES[quantity]} tracks each feature (Pearson r):",
        highlight=False,
    )
    table = Table(box=None, pad_edge=False)
    for header in ("feature", "layer", "unit", "r"):
        table.add_column(header, justify="left" if header == "feature" else "right")
    for name, scores in found.items():
        if not scores:
            table.add_row(name, "—", "—", "constant in this text")
        for i, score in enumerate(scores):
            table.add_row(
                name if i == 0 else "", str(score.layer), str(score.unit), f"{score.r:+.3f}"
            )
    console.print(table)


def _print_unit(result, quantity: str, layer: int, unit: int) -> None:

    values = result.unit_values(layer, quantity, unit)
    level = lens.quantise(lens.to_scale(quantity, values))
    text = Text()
    chars, start = result.text, 0
    # One span per run of equal colour; newlines unstyled, so no colour bleeds to the edge.
    for i in range(1, len(chars) + 1):
        if i < len(chars) and level[i] == level[start] and chars[i] != "\n" != chars[start]:
            continue
        piece = chars[start:i]
        if piece == "\n":
            text.append(piece)
        else:
            x = level[start] / lens.LEVELS
            style = f"{_rgb(lens.ink(x))} on {_rgb(lens.colour(x))}"
            text.append(shown(piece, keep="\t"), style=style)  # the text is a file's
        start = i
    console = _console()
    r = _unit_correlations(result, values)
    best = max(r, key=lambda name: abs(r[name]))
    console.print(
        f"\nlayer {layer} unit {unit}, {QUANTITY_NAMES[quantity]}: blue −1 … white 0 … red +1"
        f" (most like {best}, r {r[best]:+.2f})",
        highlight=False,
    )
    console.print(text, highlight=False, soft_wrap=True)


def _rgb(rgb: tuple[int, int, int]) -> str:
    return "rgb({},{},{})".format(*rgb)
