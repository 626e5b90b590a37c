"""One model's memory over one text: its context curve and its mean connectivity curve.

The three passes share their work: the windows (reader.read_windows) give the curve at each k;
one pass over the whole text (reader.read_text) gives both the "all" loss at every target and
the state each connectivity window starts from; the gradients (connectivity.gradients) run on
an evenly spread subset of the same targets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from shakespeare_tui.core.inspection.memory.connectivity import (
    ConnectivityCurve,
    gradients,
    mean_curve,
)
from shakespeare_tui.core.inspection.memory.context import ContextCurve
from shakespeare_tui.core.inspection.memory.defaults import CURVE_TARGETS, SPAN
from shakespeare_tui.core.inspection.memory.events import MemoryProgress, Stage, Ticker
from shakespeare_tui.core.inspection.memory.reader import (
    Reader,
    read_text,
    read_windows,
    window_plan,
)
from shakespeare_tui.core.inspection.memory.targets import CONTEXTS, Targets
from shakespeare_tui.core.model.network import CharRNN


@dataclass(frozen=True)
class ModelMemory:
    context: ContextCurve
    connectivity: ConnectivityCurve


def measure_model(
    model: CharRNN,
    codes: np.ndarray,
    targets: Targets,
    *,
    contexts: tuple[int, ...] = CONTEXTS,
    span: int = SPAN,
    curve_targets: int = CURVE_TARGETS,
    bf16: bool = False,
    device: torch.device | str | None = None,
    stop: threading.Event | None = None,
    on_event: Callable[[MemoryProgress], None] | None = None,
    name: str = "",
) -> ModelMemory:
    """The context curve of `model` (a CharRNN) over `targets` of `codes` (the text as the
    model's codes) and its connectivity averaged over `curve_targets` of them, `span` back.

    Raises MemoryStopped once `stop` is set; sends MemoryProgress events to `on_event`.
    """
    if max(contexts) > targets.min_context or span > targets.min_context:
        raise ValueError("the targets need as many characters before them as the longest window")
    reader = Reader(model, device=device, bf16=bf16)
    positions = targets.positions

    def ticker_for(stage: Stage, total: float) -> Ticker:
        return Ticker(stage, total, stop=stop, on_event=on_event, checkpoint=name)

    _, lengths, _ = window_plan(positions, contexts)
    ticker = ticker_for("context", int(lengths.sum()))
    windows = read_windows(reader, codes, positions, contexts, ticker)
    ticker.finish()

    chosen = targets.subset(curve_targets) if span > 0 and curve_targets > 0 else positions[:0]
    ticker = ticker_for("whole text", 1)
    states = read_text(reader, codes, np.concatenate([positions, chosen - span]), ticker)
    ticker.finish()
    n = len(positions)
    goal = torch.from_numpy(codes[positions].astype(np.int64)).to(reader.device)
    whole = reader.nll(states.h[-1, :n], goal)

    ticker = ticker_for("connectivity", len(chosen))
    grads = gradients(reader, codes, chosen, span, states.rows(slice(n, None)), ticker)
    ticker.finish()

    ks = tuple(sorted(windows))
    curve = ContextCurve(
        contexts=ks,
        loss=tuple(float(windows[k].mean()) for k in ks),
        loss_all=float(whole.mean()),
        targets=n,
    )
    return ModelMemory(
        context=curve, connectivity=mean_curve(grads) if len(chosen) else ConnectivityCurve((), 0)
    )
