"""A checkpoint's effective context in words, as the Memory tab says it.

The numbers are the measured ones (core/inspection/memory/report.py), and the definition is
the README's: the effective context is the smallest k of 1, 2, 4, … 512 whose loss, reading
only the last k characters, is within 2% of the loss with the whole text read (so "~16" means
somewhere between 9 and 16); the n-gram's is the fewest characters within 2% of its own best.
`headline` says it in one sentence; `definition` gives the losses that make it so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shakespeare_tui.core.inspection.memory.context import TOLERANCE

if TYPE_CHECKING:
    from shakespeare_tui.core.inspection.memory.context import ContextCurve
    from shakespeare_tui.core.inspection.memory.ngram import NgramCurve

CLOSER = 0.01  # a second, stricter tolerance said beside the first ("64 within 1%")


def headline(curve: ContextCurve, cell: str, ngram: NgramCurve | None, why: str = "") -> str:
    """e.g. "This LSTM keeps improving up to ~16 characters back (64 within 1%); the n-gram
    baseline stops at 5." """
    return f"{_model(curve, cell)}; {_ngram(ngram, why)}."


def definition(curve: ContextCurve) -> str:
    """What the headline's number means, with the two losses it compares."""
    k = curve.effective_context()
    over = f"({curve.targets:,} predictions of its held-out text)"
    if k is None:
        longest = max(curve.contexts)
        loss = curve.loss[curve.contexts.index(longest)]
        return (
            f"Even the last {longest} leave its loss at {loss:.3f}, over {TOLERANCE:.0%} above "
            f"its loss with the whole text read, {curve.loss_all:.3f} nats/char {over}."
        )
    loss = curve.loss[curve.contexts.index(k)]
    return (
        f"Within {TOLERANCE:.0%} of its loss with the whole text read: {loss:.3f} against "
        f"{curve.loss_all:.3f} nats/char {over}."
    )


def _model(curve: ContextCurve, cell: str) -> str:
    name = f"This {cell.upper()}"
    k = curve.effective_context()
    if k is None:
        return f"{name} keeps improving past {max(curve.contexts)} characters back"
    closer = curve.effective_context(CLOSER)
    also = ""
    if closer != k:
        shown = closer if closer is not None else f"over {max(curve.contexts)}"
        also = f" ({shown} within {CLOSER:.0%})"
    if k == 1:
        return f"{name} gets nothing from context beyond the last character{also}"
    return f"{name} keeps improving up to ~{k} characters back{also}"


def _ngram(ngram: NgramCurve | None, why: str) -> str:
    """Where counting stops helping, or why there is no baseline."""
    if ngram is None:
        return why or "no n-gram baseline"
    c = ngram.effective_context()
    if c == 0:
        return "the n-gram baseline gains nothing from context"
    if c == max(ngram.contexts):
        return f"the n-gram baseline still improves at {c}, its longest"
    return f"the n-gram baseline stops at {c}"
