"""Memory: how far back a model really uses what it read (issue 19).

Three measurements, each over the same target positions of one text (by default the end of
the held-out part of the checkpoint's corpus):

- the **context curve** (context.py; Khandelwal et al. 2018): the mean loss when the model
  reads only the last k = 1, 2, 4, … 512 characters before each target, and with the whole
  text before it ("all"); its **effective context** is the smallest k within 2% of "all";
- the **n-gram baseline** (ngram.py): an interpolated modified Kneser–Ney character model,
  counted on the checkpoint's own training text, with 0 … 8 characters of context;
- **connectivity** (connectivity.py; Madsen 2019): ‖∂ log p(x_t) / ∂ e_(t−k)‖, how strongly a
  prediction depends on the character k back, at one position or averaged over targets.

`report.measure_checkpoint` measures a checkpoint (cached by its sha256) and
`report.ngram_baseline` gives the n-gram's curve for the same text; `measure.measure_model`
and `connectivity.ConnectivityProbe` work on a model directly. Everything takes a
`threading.Event` to stop (raising MemoryStopped) and an `on_event` callable for
MemoryProgress events; results are plain values (floats, tuples, strings).
"""

from shakespeare_tui.core.inspection.memory.connectivity import (
    CURVE_TARGETS,
    SPAN,
    ConnectivityCurve,
    ConnectivityProbe,
    connectivity_at,
)
from shakespeare_tui.core.inspection.memory.context import TOLERANCE, ContextCurve
from shakespeare_tui.core.inspection.memory.events import MemoryProgress, MemoryStopped
from shakespeare_tui.core.inspection.memory.measure import ModelMemory, measure_model
from shakespeare_tui.core.inspection.memory.ngram import NgramCurve
from shakespeare_tui.core.inspection.memory.reader import Reader
from shakespeare_tui.core.inspection.memory.report import (
    DEFAULT_LENGTH,
    CheckpointMemory,
    MemorySettings,
    MemoryText,
    cached_memory,
    measure_checkpoint,
    ngram_baseline,
    text_codes,
)
from shakespeare_tui.core.inspection.memory.targets import (
    CONTEXTS,
    MAX_CONTEXT,
    Targets,
    choose_targets,
)

__all__ = [
    "CONTEXTS",
    "CURVE_TARGETS",
    "DEFAULT_LENGTH",
    "MAX_CONTEXT",
    "SPAN",
    "TOLERANCE",
    "CheckpointMemory",
    "ConnectivityCurve",
    "ConnectivityProbe",
    "ContextCurve",
    "MemoryProgress",
    "MemorySettings",
    "MemoryStopped",
    "MemoryText",
    "ModelMemory",
    "NgramCurve",
    "Reader",
    "Targets",
    "cached_memory",
    "choose_targets",
    "connectivity_at",
    "measure_checkpoint",
    "measure_model",
    "ngram_baseline",
    "text_codes",
]
