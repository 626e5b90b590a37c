"""Several runs' memories measured over one shared text, so their curves can be compared.

Each run is measured on its best checkpoint (its last one if it has no best), every run over the
same targets of one text: the held-out end of the corpus of the first run given that has a
checkpoint. The n-gram baseline is counted on that run's training text. A run trained on
another corpus is measured on the same text and says so; one that never saw some of its
characters cannot be, and says why. A run still training is measured once it ends.

The measurements are report.measure_checkpoint's, cached on disk by each checkpoint's sha256;
`RunMemories` also keeps, between looks, the shared text and what each checkpoint (by its path,
size and modification time) gave, so a second look reads no checkpoint and measures nothing.
It is used from one thread at a time (the Runs view's worker). What comes out are plain values:
a `Found` per run and one `Baseline`, each given to the `found` callable as it is known.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shakespeare_tui.core.errors import UserError, one_line
from shakespeare_tui.core.inspection.memory.defaults import DEFAULT_LENGTH
from shakespeare_tui.core.inspection.memory.events import MemoryProgress
from shakespeare_tui.core.inspection.memory.ngram import NgramCurve
from shakespeare_tui.core.inspection.memory.report import (
    CheckpointMemory,
    MemorySettings,
    MemoryText,
    measure_checkpoint,
    ngram_baseline,
)
from shakespeare_tui.core.model.checkpoint import load_checkpoint
from shakespeare_tui.core.runs.folders import BEST, CHECKPOINT_FILES, LAST
from shakespeare_tui.core.text.corpus import same_corpus
from shakespeare_tui.core.text.vocab import Vocabulary

TRAINING = "training: measured once it ends"
NO_CHECKPOINT = "no checkpoint yet"


@dataclass(frozen=True)
class RunToMeasure:
    name: str
    folder: Path
    training: bool = False  # a run being trained (here or elsewhere) is measured once it ends


@dataclass(frozen=True)
class Found:
    """What one run's memory is, or why there is none (`memory` None, `note` says why)."""

    name: str
    memory: CheckpointMemory | None
    note: str = ""  # why none, or what a person should know (it was trained on another corpus)


@dataclass(frozen=True)
class Baseline:
    """The n-gram's curve on the shared text (None: `note` says why), and the text itself."""

    curve: NgramCurve | None
    note: str
    source: str  # the shared text, in words
    targets: int


def checkpoint_of(folder: Path) -> Path | None:
    """The checkpoint a run is measured on: its best, else its last; None if it has neither."""
    for kind in (BEST, LAST):
        path = Path(folder) / CHECKPOINT_FILES[kind]
        if path.is_file():
            return path
    return None


Version = tuple[str, int, int]  # a checkpoint's path, size and modification time


def _version(path: Path) -> Version:
    """What tells a rewritten checkpoint from the one measured before, without reading it."""
    stat = path.stat()
    return str(path), stat.st_size, stat.st_mtime_ns


def _corpus_of(payload: dict[str, Any]) -> str:
    train = payload.get("train_config") or {}
    return str(train.get("corpus") or (payload.get("corpus") or {}).get("name") or "")


@dataclass
class _SharedText:
    version: Version  # of the checkpoint it came from
    text: MemoryText
    corpus: str  # that checkpoint's corpus
    payload: dict[str, Any]  # what the n-gram needs of that checkpoint: its corpus and split
    vocab: Vocabulary  # and its vocabulary


class RunMemories:
    """The Runs view worker's memory between looks (see the module docstring)."""

    def __init__(
        self,
        cache_dir: Path,
        settings: MemorySettings | None = None,
        *,
        length: int = DEFAULT_LENGTH,
        device: str | None = None,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.settings = settings or MemorySettings()
        self.length = length  # characters of the held-out end read
        self.device = device
        self._text: _SharedText | None = None
        # name → (its checkpoint's version, the text's checksum, what was found)
        self._measured: dict[str, tuple[Version, str, Found]] = {}
        self._baseline: tuple[str, Baseline] | None = None  # (text checksum, baseline)

    def measure(
        self,
        runs: Sequence[RunToMeasure],
        *,
        found: Callable[[Found | Baseline], None],
        stop: threading.Event | None = None,
        on_event: Callable[[MemoryProgress], None] | None = None,
    ) -> None:
        """Give `found` each run's Found, then the Baseline. Raises MemoryStopped once `stop`
        is set (what was measured until then is kept)."""
        checkpoints = {run.name: checkpoint_of(run.folder) for run in runs}
        owner = next((checkpoints[run.name] for run in runs if checkpoints[run.name]), None)
        if owner is None:
            for run in runs:
                found(Found(run.name, None, TRAINING if run.training else NO_CHECKPOINT))
            return
        try:
            shared = self._shared_text(owner)
        except (UserError, OSError) as exc:
            for run in runs:
                found(Found(run.name, None, f"no text to measure on: {one_line(exc)}"))
            return
        for run in runs:
            path = checkpoints[run.name]
            if run.training:
                found(Found(run.name, None, TRAINING))
            elif path is None:
                found(Found(run.name, None, NO_CHECKPOINT))
            else:
                found(self._measure_run(run.name, path, shared, stop, on_event))
        found(self._ngram(shared, stop, on_event))

    def _shared_text(self, path: Path) -> _SharedText:
        version = _version(path)
        if self._text is not None and self._text.version == version:
            return self._text
        checkpoint = load_checkpoint(path)
        text = MemoryText.held_out(checkpoint.payload, self.cache_dir, self.length)
        payload = {k: checkpoint.payload.get(k) for k in ("train_config", "corpus")}
        self._text = _SharedText(version, text, _corpus_of(payload), payload, checkpoint.vocab)
        return self._text

    def _measure_run(
        self,
        name: str,
        path: Path,
        shared: _SharedText,
        stop: threading.Event | None,
        on_event: Callable[[MemoryProgress], None] | None,
    ) -> Found:
        version = _version(path)
        kept = self._measured.get(name)
        if kept is not None and kept[:2] == (version, shared.text.checksum):
            return kept[2]
        try:
            checkpoint = load_checkpoint(path)
            memory = measure_checkpoint(checkpoint, shared.text, self.settings, self.cache_dir,
                                        name=name, device=self.device, stop=stop,
                                        on_event=on_event)  # fmt: skip
        except (UserError, OSError, RuntimeError, ValueError) as exc:
            # The checkpoint cannot be read or measured (a torn file, characters the model
            # never saw, out of memory): said in one line, and tried again next time.
            return Found(name, None, f"cannot measure: {one_line(exc)}")
        note = ""
        corpus = _corpus_of(checkpoint.payload)
        if corpus and shared.corpus and not same_corpus(corpus, shared.corpus):
            note = f"trained on {Path(corpus).name}, measured on {Path(shared.corpus).name}"
        result = Found(name, memory, note)
        self._measured[name] = (version, shared.text.checksum, result)
        return result

    def _ngram(
        self,
        shared: _SharedText,
        stop: threading.Event | None,
        on_event: Callable[[MemoryProgress], None] | None,
    ) -> Baseline:
        checksum = shared.text.checksum
        if self._baseline is not None and self._baseline[0] == checksum:
            return self._baseline[1]
        try:
            curve, why = ngram_baseline(shared.payload, shared.vocab, shared.text, self.settings,
                                        self.cache_dir, stop=stop, on_event=on_event)  # fmt: skip
        except (UserError, OSError) as exc:
            curve, why = None, f"no n-gram baseline: {one_line(exc)}"
        baseline = Baseline(curve, why, shared.text.source, self.settings.targets)
        self._baseline = (checksum, baseline)
        return baseline
