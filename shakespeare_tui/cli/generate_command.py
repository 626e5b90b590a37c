"""`shakespeare-tui generate`: stream text from a checkpoint to stdout; the seed goes to stderr,
first, so `generate | head` shows it too (and at temperature 0, where no seed matters, not at all)."""

from __future__ import annotations

import sys

from shakespeare_tui.cli.exits import EXIT_OK, reader_left
from shakespeare_tui.core.errors import named_by_path
from shakespeare_tui.core.runs.folders import resolve_checkpoint
from shakespeare_tui.core.sampling.settings import SampleSettings
from shakespeare_tui.core.sampling.streaming import ModelCache, chunked
from shakespeare_tui.core.shown_text import shown


def generate_command(args, paths) -> int:
    settings = SampleSettings(
        length=args.length,
        temperature=args.temperature,
        top_k=args.top_k,
        prompt=args.prompt,
        seed=args.seed,
    )
    settings.check()  # before torch loads: a bad flag is refused at once
    from shakespeare_tui.core.sampling.sampler import generate  # torch: after that check

    checkpoint = resolve_checkpoint(args.checkpoint, paths)
    with named_by_path(checkpoint):
        vocab, stepper = ModelCache(size=1).load(str(checkpoint))
    settings.check(vocab)
    settings = settings.with_seed()
    if settings.temperature > 0:
        seed = settings.seed
        print(f"seed {seed} (replay with --seed {seed})", file=sys.stderr, flush=True)
    out = sys.stdout
    # A checkpoint's vocabulary is the file's: a terminal is shown the text with control
    # characters escaped (an ESC the model writes is not obeyed); a pipe gets it as it is.
    show = (lambda text: shown(text, keep="\n\t")) if out.isatty() else (lambda text: text)
    try:
        out.write(show(settings.prompt))
        for text, _ in chunked(generate(stepper, vocab, settings)):
            out.write(show(text))
            out.flush()
        out.write("\n")
        out.flush()
    except BrokenPipeError:  # `generate | head`: the reader has what it wanted
        reader_left()
    return EXIT_OK
