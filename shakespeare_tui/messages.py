"""Textual messages: how workers and screens tell the UI what happened.

Workers only ever talk to the UI through these (`post_message` is thread-safe and never blocks).
They carry plain values — the core's frozen event dataclasses, strings — never tensors. What the
app broadcasts to every view (torch is ready, the checkpoints changed) goes through the App's
Signals instead (`ShakespeareApp.torch_ready`, `.checkpoints_changed`); the lists of runs and
checkpoints reach each view that shows one as a ListingRefreshed (listing.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # (annotations only)
    from shakespeare_tui.core.events import EngineEvent
    from shakespeare_tui.core.runs.listing import Listed


class TrainingUpdate(Message, bubble=False):
    """One of the engine's plain events (`core.events`), posted from the training thread.

    It stays with the Train view (nothing above it handles it), so it is not bubbled.
    """

    def __init__(self, event: EngineEvent) -> None:
        super().__init__()
        self.event = event


class TorchReady(Message):
    """torch finished loading in the background; `device_label` describes the default device."""

    def __init__(self, device_label: str, device_type: str) -> None:
        super().__init__()
        self.device_label = device_label
        self.device_type = device_type  # "cuda", "mps" or "cpu"


class HeaderInfo(Message):
    """The Train view's corpus and model changed: the header shows them."""

    def __init__(self, corpus: str, model: str) -> None:
        super().__init__()
        self.corpus = corpus
        self.model = model


class ListingRefreshed(Message, bubble=False):
    """The app's listing of runs and checkpoints was read again (listing.py), posted to each
    view that lists them; `changed` is False when nothing listed changed since the last."""

    def __init__(self, listed: Listed, changed: bool, error: str = "", reading: int = 0) -> None:
        super().__init__()
        self.listed = listed
        self.changed = changed
        self.error = error  # why the folder could not be read ("" when it could)
        self.reading = reading  # its number: SharedListing.refresh() says which one to wait for


class RunsListed(Message, bubble=False):
    """The Train view's worker read the run folders."""

    def __init__(self, runs: list, selected: str | None) -> None:
        super().__init__()
        self.runs = runs  # core.runs.summary.RunInfo, newest first
        self.selected = selected


class GenerationStarted(Message, bubble=False):
    """The model is loaded and the seed chosen; characters follow."""

    def __init__(self, generation: int, seed: int, prompt: str) -> None:
        super().__init__()
        self.generation = generation
        self.seed = seed
        self.prompt = prompt


class GenerationChunk(Message, bubble=False):
    """Characters sampled since the last chunk, with the probability the model gave each."""

    def __init__(self, generation: int, chars: str, probabilities: tuple[float, ...]) -> None:
        super().__init__()
        self.generation = generation
        self.chars = chars
        self.probabilities = probabilities


class GenerationFinished(Message, bubble=False):
    """The stream ended: all characters were sampled, or it was stopped."""

    def __init__(self, generation: int, seed: int | None, count: int, stopped: bool) -> None:
        super().__init__()
        self.generation = generation
        self.seed = seed
        self.count = count
        self.stopped = stopped


class RunHistoryRead(Message, bubble=False):
    """The Train view read a run's folder, for the selection or following a run trained
    elsewhere (`core.runs.history.RunHistory`)."""

    def __init__(self, history) -> None:
        super().__init__()
        self.history = history


class TrainingStatus(Message):
    """One line on the run being trained ("" when none), shown in every view's header, and
    the device it trains on as the run says it ("CPU · 1 thread · bf16": its threads and
    processes, core/layout.py), which the header shows while it trains."""

    def __init__(self, text: str, device: str = "") -> None:
        super().__init__()
        self.text = text
        self.device = device


class InspectReady(Message, bubble=False):
    """The Inspect view's worker replayed the model over a text
    (`core.inspection.replay.Replay`).

    The replay holds numpy arrays (and the weights it recomputes gates from); the view only reads
    it, on the UI thread, once this arrives.
    """

    def __init__(self, request: int, replay, title: str, source: str, context: str = "") -> None:
        super().__init__()
        self.request = request
        self.replay = replay
        self.title = title  # the checkpoint, for people
        self.source = source  # where the text came from, for people
        self.context = context  # what the model read before the text (the heat reads it too)


class UnitsFound(Message, bubble=False):
    """The neuron finder's answer: feature → `core.inspection.neurons.UnitScore`s, best first;
    `constant`: feature → its one value, for the features the same all over the text (they rank
    no unit)."""

    def __init__(self, request: int, quantity: str, found: dict, constant: dict) -> None:
        super().__init__()
        self.request = request
        self.quantity = quantity
        self.found = found
        self.constant = constant


class SpansMatched(Message, bubble=False):
    """LSTMVis's selection over a marked span: the units, and the passages where they fire."""

    def __init__(self, request: int, span: tuple[int, int], units: list, matches: list) -> None:
        super().__init__()
        self.request = request
        self.span = span
        self.units = units  # unit numbers of the lens's layer
        self.matches = matches  # core.inspection.spans.SpanMatch, best first


class ForkGrew(Message, bubble=False):
    """Characters a growing branch of a fork tree (`core.inspection.forks.ForkTree`) just got."""

    def __init__(self, tree, branch_id: int, chars: str) -> None:
        super().__init__()
        self.tree = tree  # the tree it grows in: a tree replaced meanwhile drops it
        self.branch_id = branch_id
        self.chars = chars


class ForkGrown(Message, bubble=False):
    """A branch stopped growing: at its length, or `stopped` early (esc)."""

    def __init__(self, tree, branch_id: int, stopped: bool) -> None:
        super().__init__()
        self.tree = tree
        self.branch_id = branch_id
        self.stopped = stopped


class ForkTreeOpened(Message, bubble=False):
    """A saved fork tree was read (and its checkpoint found), with a warning if it changed."""

    def __init__(self, tree, path: str, warning: str) -> None:
        super().__init__()
        self.tree = tree
        self.path = path
        self.warning = warning


class MemoryMeasured(Message, bubble=False):
    """The Inspect view's Memory tab has a checkpoint's memory: its
    `core.inspection.memory.report.CheckpointMemory` and the n-gram baseline's `NgramCurve`
    (None, and `why` there is none), measured or read from the cache; `note` says what a
    person should know about the text (its corpus changed since training)."""

    def __init__(self, request: int, memory, ngram, why: str, note: str) -> None:
        super().__init__()
        self.request = request
        self.memory = memory
        self.ngram = ngram
        self.why = why
        self.note = note


class MemoryWorking(Message, bubble=False):
    """A memory measurement's progress (`core.inspection.memory.events.MemoryProgress`), for
    the status line."""

    def __init__(self, request: int, progress) -> None:
        super().__init__()
        self.request = request
        self.progress = progress


class HeatMeasured(Message, bubble=False):
    """The connectivity of the prediction at `position` of the inspected text: grads[k − 1] is
    ‖∂ log p / ∂ e‖ of the character k back."""

    def __init__(self, request: int, position: int, grads: tuple[float, ...]) -> None:
        super().__init__()
        self.request = request
        self.position = position
        self.grads = grads


class CheckpointCompared(Message, bubble=False):
    """A checkpoint added to the finder's comparison, replayed over the text shown: its
    `Replay` and the finder's answer in its cell's own quantity (feature → `UnitScore`s), or
    `error`, one line on why it could not be."""

    def __init__(self, request: int, path: str, replay=None, found=None, error: str = "") -> None:
        super().__init__()
        self.request = request
        self.path = path
        self.replay = replay
        self.found = found or {}
        self.error = error


class QueueRead(Message, bubble=False):
    """The run queue as queue.json holds it (`core.runs.run_queue.RunQueue`), read for `then`."""

    def __init__(self, queue, elsewhere: bool, then: str) -> None:
        super().__init__()
        self.queue = queue
        self.elsewhere = elsewhere  # another process holds the queue's lock
        self.then = then  # "show", "work" or "offer"


class RunsRefreshed(Message, bubble=False):
    """The Runs view's worker caught up with the runs folder
    (`core.runs.catalog.RunCatalog`)."""

    def __init__(self, rows: tuple, curves: dict, pending: int = 0) -> None:
        super().__init__()
        self.rows = rows  # core.runs.table.RunRow, newest first; the same tuple if none changed
        self.curves = curves  # run name → core.runs.curves.RunCurves, for the selected runs
        self.pending = pending  # runs not read yet (a first look at many: more rows follow)


class BundledRowRead(Message, bubble=False):
    """The bundled checkpoint's row for the Runs view (reading it loads torch)."""

    def __init__(self, row) -> None:
        super().__init__()
        self.row = row  # core.runs.table.RunRow


class RunActionDone(Message, bubble=False):
    """A Runs view action's worker finished: `result` on success, else `error` (one line)."""

    def __init__(self, action: str, name: str, result=None, error: str = "") -> None:
        super().__init__()
        self.action = action  # "rename", "delete", "ask-delete", "export", "generate", "inspect"
        self.name = name  # the run acted on
        self.result = result
        self.error = error
