"""A checkpoint's memory as the CLI prints it and the app shows it, measured once and cached.

`measure_checkpoint` measures a loaded checkpoint over a `MemoryText` (its corpus's held-out
end by default) with `MemorySettings`, and keeps the figures in the cache folder under the
checkpoint file's sha256 and everything else they depend on (the text's checksum, the
settings), so a second look at the same checkpoint is instant (`cached_memory` answers
without measuring). `ngram_baseline` gives the counting model's curve on the same targets,
trained on the checkpoint's own training text. Cache files that cannot be read, or that do
not match their key, are ignored and measured again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from shakespeare_tui.core.atomic import atomic_write_text, file_sha256
from shakespeare_tui.core.errors import CorpusError, UserError
from shakespeare_tui.core.inspection.memory.connectivity import ConnectivityCurve
from shakespeare_tui.core.inspection.memory.context import ContextCurve
from shakespeare_tui.core.inspection.memory.defaults import CURVE_TARGETS, DEFAULT_LENGTH, SPAN
from shakespeare_tui.core.inspection.memory.events import MemoryProgress
from shakespeare_tui.core.inspection.memory.measure import measure_model
from shakespeare_tui.core.inspection.memory.ngram import NgramCurve
from shakespeare_tui.core.inspection.memory.ngram_cache import FOLDER, ngram_counts
from shakespeare_tui.core.inspection.memory.targets import (
    DEFAULT_SEED,
    DEFAULT_TARGETS,
    Targets,
    choose_targets,
)
from shakespeare_tui.core.model.checkpoint import Checkpoint
from shakespeare_tui.core.text.corpus import NAMED_CORPORA, load_corpus
from shakespeare_tui.core.text.passages import held_out_passage, read_text_file, trained_on
from shakespeare_tui.core.text.vocab import Vocabulary

CACHE_FORMAT = "shakespeare-tui-memory"
CACHE_VERSION = 1  # bump when a measurement changes


@dataclass(frozen=True)
class MemorySettings:
    """How a checkpoint's memory is measured; part of the cache key."""

    targets: int = DEFAULT_TARGETS  # target positions the context curve averages over
    seed: int = DEFAULT_SEED  # which ones (core/inspection/memory/targets.py)
    span: int = SPAN  # connectivity: characters back from each prediction
    curve_targets: int = CURVE_TARGETS  # connectivity: predictions the mean curve averages
    # bf16 autocast: ~1.5-2x faster where the CPU or GPU has native bf16; on the bundled model
    # its losses were within 0.02% of fp32's. None: on where it is fast (core/device.py).
    bf16: bool | None = None

    def resolved(self, device: torch.device) -> MemorySettings:
        """These settings with bf16 decided for `device` (what a cache entry is keyed on)."""
        if self.bf16 is not None:
            return self
        from shakespeare_tui.core.device import bf16_is_fast

        return replace(self, bf16=bf16_is_fast(device))


@dataclass(frozen=True)
class MemoryText:
    """The text a memory is measured on: every target lies in it, "all" reads it from its start."""

    text: str
    source: str  # one line for people
    note: str = ""  # something a person should know (the corpus changed since training)

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @classmethod
    def held_out(
        cls, payload: Mapping[str, object], cache_dir: Path, length: int = DEFAULT_LENGTH
    ) -> MemoryText:
        """The last `length` characters of the held-out end of a checkpoint's corpus (its
        payload's), from a line start. UserError if the corpus cannot be read."""
        passage = held_out_passage(payload, Path(cache_dir), length)
        return cls(text=passage.text, source=passage.source, note=passage.note)

    @classmethod
    def from_file(cls, path: str | Path, length: int | None = None) -> MemoryText:
        """A UTF-8 text file's first `length` characters (all of it with None)."""
        text = read_text_file(path)
        if length is not None and len(text) > length:
            text = text[:length]
            return cls(text=text, source=f"the first {length:,} characters of {path}")
        return cls(text=text, source=f"{path} ({len(text):,} characters)")


@dataclass(frozen=True)
class CheckpointMemory:
    """One checkpoint's context curve and mean connectivity over one text."""

    name: str  # as the person named it ("bundled", a run, a file)
    sha256: str  # of the checkpoint file
    cell: str  # "lstm", "gru" or "rnn"
    summary: str  # e.g. "LSTM E128/H640"
    params: int
    context: ContextCurve
    connectivity: ConnectivityCurve
    bf16: bool

    @property
    def effective_context(self) -> int | None:
        return self.context.effective_context()

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "sha256": self.sha256,
            "cell": self.cell,
            "summary": self.summary,
            "params": self.params,
            "targets": self.context.targets,
            "context": self.context.as_dict(),
            "connectivity": self.connectivity.as_dict(),
            "connectivity_targets": self.connectivity.targets,
            "bf16": self.bf16,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckpointMemory:
        """Back from `to_dict()`; ValueError/KeyError/TypeError for anything else.

        `data` is JSON read back from the cache, and read by trying (Any): whatever a torn or
        foreign file holds raises one of those, and `_read` measures again."""
        grads = data["connectivity"]
        if [g["k"] for g in grads] != list(range(1, len(grads) + 1)):
            raise ValueError("not a connectivity curve")
        return cls(
            name=str(data["name"]),
            sha256=str(data["sha256"]),
            cell=str(data["cell"]),
            summary=str(data["summary"]),
            params=int(data["params"]),
            context=ContextCurve.from_dict(data["context"], int(data["targets"])),
            connectivity=ConnectivityCurve(
                grad=tuple(float(g["grad"]) for g in grads),
                targets=int(data["connectivity_targets"]),
            ),
            bf16=bool(data["bf16"]),
        )


def text_codes(vocab: Vocabulary, text: MemoryText, name: str = "the model") -> np.ndarray:
    """The text as `vocab`'s codes; UserError naming the characters the model never saw."""
    unknown = vocab.unknown(text.text)
    if unknown:
        shown = ", ".join(repr(c) for c in unknown[:8]) + (" …" if len(unknown) > 8 else "")
        raise UserError(f"the text has characters {name} never saw: {shown}")
    return vocab.encode(text.text)


def memory_targets(text: MemoryText, settings: MemorySettings) -> Targets:
    """The targets every checkpoint and the n-gram are measured on, for this text."""
    return choose_targets(len(text.text), settings.targets, seed=settings.seed)


def cache_path(cache_dir: Path, sha256: str, text: MemoryText, settings: MemorySettings) -> Path:
    key = json.dumps(_key(sha256, text, settings), sort_keys=True)
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return Path(cache_dir) / FOLDER / f"{sha256[:32]}-{digest}.json"


def _key(sha256: str, text: MemoryText, settings: MemorySettings) -> dict[str, object]:
    return {
        "version": CACHE_VERSION,
        "checkpoint": sha256,
        "text": text.checksum,
        "settings": asdict(settings),
    }


def cached_memory(
    checkpoint_path: Path, text: MemoryText, settings: MemorySettings, cache_dir: Path
) -> CheckpointMemory | None:
    """The figures measured before for this checkpoint file, text and settings, or None
    (bf16 None means what it means on the CPU)."""
    settings = settings.resolved(torch.device("cpu"))
    sha256 = file_sha256(Path(checkpoint_path))
    if not sha256:
        return None
    return _read(cache_path(cache_dir, sha256, text, settings), _key(sha256, text, settings))


def measure_checkpoint(
    checkpoint: Checkpoint,
    text: MemoryText,
    settings: MemorySettings,
    cache_dir: Path,
    *,
    name: str = "",
    device: torch.device | str | None = None,
    stop: threading.Event | None = None,
    on_event: Callable[[MemoryProgress], None] | None = None,
) -> CheckpointMemory:
    """A loaded checkpoint's (core/model/checkpoint.py) memory over `text`: from the cache,
    else measured and cached. UserError for a text it cannot read or too short for the
    targets; MemoryStopped once `stop` is set (nothing is cached then)."""
    name = name or checkpoint.path.name
    settings = settings.resolved(torch.device(device or "cpu"))
    codes = text_codes(checkpoint.vocab, text, name)
    targets = memory_targets(text, settings)
    sha256 = file_sha256(checkpoint.path)
    key = _key(sha256, text, settings)
    path = cache_path(cache_dir, sha256, text, settings) if sha256 else None
    if path is not None:
        found = _read(path, key)
        if found is not None:
            return found if found.name == name else replace(found, name=name)
    measured = measure_model(
        checkpoint.model,
        codes,
        targets,
        span=settings.span,
        curve_targets=settings.curve_targets,
        bf16=bool(settings.bf16),
        device=device,
        stop=stop,
        on_event=on_event,
        name=name,
    )
    config = checkpoint.model_config
    memory = CheckpointMemory(
        name=name,
        sha256=sha256,
        cell=config.cell,
        summary=config.summary,
        params=config.parameter_count(),
        context=measured.context,
        connectivity=measured.connectivity,
        bf16=bool(settings.bf16),
    )
    if path is not None:
        _write(path, key, memory)
    return memory


def ngram_baseline(
    payload: Mapping[str, object],
    vocab: Vocabulary,
    text: MemoryText,
    settings: MemorySettings,
    cache_dir: Path,
    *,
    stop: threading.Event | None = None,
    on_event: Callable[[MemoryProgress], None] | None = None,
) -> tuple[NgramCurve | None, str]:
    """The n-gram's curve on `text`'s targets, trained on the training text of the corpus a
    checkpoint (its `payload`) was trained on: (curve, "") or (None, why there is none)."""
    spec, fraction = trained_on(payload)
    if not spec:
        return None, "no n-gram baseline: the checkpoint does not record its corpus"
    if spec not in NAMED_CORPORA and not Path(spec).is_file():
        return None, f"no n-gram baseline: the checkpoint's corpus {spec} no longer exists"
    try:
        corpus = load_corpus(spec, Path(cache_dir))
    except CorpusError as exc:
        return None, f"no n-gram baseline: cannot read the checkpoint's corpus ({exc})"
    try:
        counts = ngram_counts(corpus, vocab, fraction, cache_dir, stop=stop, on_event=on_event)
    except ValueError:
        return None, f"no n-gram baseline: {spec} has characters the checkpoint never saw"
    codes = text_codes(vocab, text)
    return counts.curve(codes, memory_targets(text, settings).positions), ""


def _read(path: Path, key: dict[str, object]) -> CheckpointMemory | None:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("format") != CACHE_FORMAT or data.get("key") != key:
            return None
        return CheckpointMemory.from_dict(data["memory"])
    except Exception:  # noqa: BLE001 - missing, torn or foreign: measure again
        return None


def _write(path: Path, key: dict[str, object], memory: CheckpointMemory) -> None:
    document = {"format": CACHE_FORMAT, "key": key, "memory": memory.to_dict()}
    with contextlib.suppress(OSError):  # the cache is an optimisation
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(document))
