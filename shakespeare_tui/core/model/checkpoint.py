"""Checkpoints: one self-describing file, written atomically, loaded without running anything.

A checkpoint is a torch zip archive of plain values (dicts, lists, str, int, float, bool, None)
and tensors, loaded with `weights_only=True` passed explicitly: the environment variable
TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD would otherwise turn the safe loader off. Anything that needs
a class to unpickle is refused before it can run.
"""

from __future__ import annotations

import datetime as dt
import pickle
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import torch

from shakespeare_tui.core.atomic import atomic_write
from shakespeare_tui.core.config import ModelConfig
from shakespeare_tui.core.errors import CheckpointError, FieldError
from shakespeare_tui.core.model.network import CharRNN
from shakespeare_tui.core.text.vocab import Vocabulary
from shakespeare_tui.core.user_files import read_user_file_head

FORMAT = "shakespeare-tui-checkpoint"
FORMAT_VERSION = 1
_ZIP_MAGIC = b"PK\x03\x04"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# What torch.load raises for bytes that are not a well-formed archive of plain values: the zip
# reader's RuntimeError, the safe unpickler's UnpicklingError, and whatever a damaged pickle or
# storage record makes the loader trip on. Found by loading ~10,000 truncated, bit-flipped and
# spliced checkpoints: each raised one of these (tests/core/test_checkpoint.py keeps a sample).
# Anything else (MemoryError, ImportError, a bug) is not a bad file and is not dressed as one.
_DAMAGED_ARCHIVE = (
    RuntimeError,  # the zip reader ("not a ZIP archive"), a storage that cannot be rebuilt
    pickle.UnpicklingError,  # a class or function the safe unpickler refuses, a bad opcode
    EOFError,  # the pickle stops early
    OSError,  # mapping (mmap=True) a file cut short
    ValueError,  # a string that is not UTF-8, a record with too few fields
    KeyError,  # a memo or storage key that is not there
    IndexError,  # an opcode that pops an empty stack
    TypeError,  # a record rebuilt from values of the wrong kind
    AttributeError,  # likewise, one without the attribute asked for
    AssertionError,  # torch's own checks of a persistent id
    struct.error,  # a length field cut short
)


@dataclass
class Checkpoint:
    """A loaded checkpoint: the model (on the CPU, eval mode) and everything about it."""

    path: Path
    model: CharRNN
    vocab: Vocabulary
    payload: dict  # the file's plain contents (progress, history, resume state, …)

    @property
    def model_config(self) -> ModelConfig:
        return self.model.config

    @property
    def epoch(self) -> int:
        return int(self.payload.get("progress", {}).get("epoch", 0))

    @property
    def val_loss(self) -> float | None:
        return self.payload.get("val_loss")

    @property
    def resumable(self) -> bool:
        return self.payload.get("resume") is not None


def build_payload(
    *,
    kind: str,
    model,
    vocab: Vocabulary,
    train_config: dict,
    progress: dict,
    history: list[dict],
    corpus: dict,
    val_loss: float | None,
    device: str,
    resume: dict | None,
    weights_dtype: torch.dtype | None = None,
) -> dict:
    weights = {}
    for name, tensor in model.state_dict().items():
        tensor = tensor.detach().to("cpu")
        if weights_dtype is not None and tensor.is_floating_point():
            tensor = tensor.to(weights_dtype)
        weights[name] = tensor.clone()
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "model_config": dict(vars(model.config)),
        "vocab": vocab.chars,
        "weights": weights,
        "val_loss": val_loss,
        "train_config": train_config,
        "progress": progress,
        "history": history,
        "corpus": corpus,
        "device": device,
        "torch_version": str(torch.__version__),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "resume": resume,
    }


def save_checkpoint(path: Path, payload: dict) -> None:
    atomic_write(Path(path), lambda f: torch.save(payload, f))


def _read(path: Path, mmap: bool) -> dict:
    path = Path(path)
    name = path.name
    # A checkpoint can be large: only its head is read here, torch maps or reads the rest.
    head = read_user_file_head(path, 4, what="a checkpoint file", error=CheckpointError)
    if not head:
        raise CheckpointError(f"{name} is empty: not a checkpoint")
    if head != _ZIP_MAGIC:
        raise CheckpointError(
            f"{name} is not a shakespeare-tui checkpoint (not a torch zip archive)"
        )
    try:
        data = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except _DAMAGED_ARCHIVE as exc:
        text = _ANSI.sub("", str(exc))
        if "weights_only" in text or "Unsupported global" in text or "GLOBAL" in text:
            raise CheckpointError(
                f"{name} was refused: it contains code or objects that a checkpoint never holds"
            ) from None
        first = (text.strip().splitlines() or ["unreadable"])[0][:160]
        raise CheckpointError(f"{name} is corrupt or truncated ({first})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{name} is a torch file but not a shakespeare-tui checkpoint")
    version = data.get("format_version")
    if not isinstance(version, int):
        raise CheckpointError(f"{name} has no format version: not a shakespeare-tui checkpoint")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{name} uses checkpoint format {version}, newer than this program's "
            f"{FORMAT_VERSION}: upgrade shakespeare-tui"
        )
    return data


def read_payload(path: Path) -> dict:
    """A checkpoint's plain contents (progress, settings, …) without building its model; the
    weights are mapped, not read. Raises CheckpointError as `load_checkpoint` does."""
    return _read(Path(path), mmap=True)


def _model_config(data: dict, name: str) -> tuple[ModelConfig, Vocabulary]:
    raw, chars = data.get("model_config"), data.get("vocab")
    if not isinstance(raw, dict) or not isinstance(chars, str) or not chars:
        raise CheckpointError(f"{name} lacks its model config or vocabulary")
    shown = " ".join(str(raw).split())  # one line, whatever a value's repr spans
    invalid = CheckpointError(f"{name} has an invalid model config: {shown}")
    if not all(isinstance(v, str | int | float) for v in raw.values()):
        raise invalid  # a tensor or a list where a number belongs
    try:
        config = ModelConfig(**raw)
        config.validate()
    except (TypeError, FieldError):  # a field unknown or missing, a value of the wrong kind
        raise invalid from None
    if config.vocab_size != len(chars) or len(set(chars)) != len(chars):
        raise CheckpointError(
            f"{name}: its vocabulary ({len(chars)} characters) does not match its model "
            f"({config.vocab_size})"
        )
    return config, Vocabulary(chars)


def load_checkpoint(path: Path) -> Checkpoint:
    """Load onto the CPU (a GPU-trained file loads anywhere), or raise CheckpointError."""
    path = Path(path)
    data = _read(path, mmap=False)
    config, vocab = _model_config(data, path.name)
    weights = data.get("weights")
    if not isinstance(weights, dict):
        raise CheckpointError(f"{path.name} has no weights")
    model = CharRNN(config)
    expected = model.state_dict()
    for key, tensor in expected.items():
        got = weights.get(key)
        if not isinstance(got, torch.Tensor) or got.shape != tensor.shape:
            shape = tuple(got.shape) if isinstance(got, torch.Tensor) else "missing"
            raise CheckpointError(
                f"{path.name}: weight {key} is {shape}, but its config needs {tuple(tensor.shape)}"
            )
    if set(weights) != set(expected):
        raise CheckpointError(
            f"{path.name} has unexpected weights: {sorted(set(weights) - set(expected))}"
        )
    # load_state_dict copies into float32 parameters, so bf16-stored weights load too.
    model.load_state_dict(weights)
    if not all(torch.isfinite(p).all() for p in model.parameters()):
        raise CheckpointError(f"{path.name} has non-finite weights")
    model.eval()
    return Checkpoint(path=path, model=model, vocab=vocab, payload=data)


@dataclass(frozen=True)
class CheckpointInfo:
    """What a picker shows about a checkpoint file, read without building the model."""

    path: str
    ok: bool
    error: str | None = None
    kind: str = ""
    val_loss: float | None = None
    epoch: int = 0
    step: int = 0
    model_summary: str = ""
    parameters: int = 0
    created: str = ""
    corpus: str = ""
    resumable: bool = False


def _check_outer_weights(data: dict, config: ModelConfig, name: str) -> None:
    """The weights that depend on the vocabulary have its shape (cheap: no model is built)."""
    weights = data.get("weights")
    if not isinstance(weights, dict):
        raise CheckpointError(f"{name} has no weights")
    v = config.vocab_size
    for key, need in (("embed.weight", (v, config.embed)), ("head.weight", (v, config.hidden))):
        got = weights.get(key)
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else "missing"
        if shape != need:
            raise CheckpointError(f"{name}: weight {key} is {shape}, but its config needs {need}")


def read_info(path: Path) -> CheckpointInfo:
    """A checkpoint's summary, or `ok=False` with the reason; never raises for a bad file."""
    path = Path(path)
    try:
        data = _read(path, mmap=True)
        config, _ = _model_config(data, path.name)
        _check_outer_weights(data, config, path.name)
    except CheckpointError as exc:
        return CheckpointInfo(path=str(path), ok=False, error=str(exc))
    progress = data.get("progress") or {}
    corpus = data.get("corpus") or {}
    return CheckpointInfo(
        path=str(path),
        ok=True,
        kind=str(data.get("kind", "")),
        val_loss=data.get("val_loss"),
        epoch=int(progress.get("epoch", 0)),
        step=int(progress.get("step", 0)),
        model_summary=config.summary,
        parameters=config.parameter_count(),
        created=str(data.get("created", "")),
        corpus=str(corpus.get("name", "")),
        resumable=data.get("resume") is not None,
    )


def export_checkpoint(
    source: Path, target: Path, *, bf16: bool = True, kind: str = "export"
) -> Path:
    """A small weights-only copy for sharing: no optimiser or RNG state, bf16 weights by default.

    bf16 halves the file; loading casts back to float32, so it generates as the original does
    up to rounding of the weights.
    """
    checkpoint = load_checkpoint(source)
    payload = dict(checkpoint.payload)
    dtype = torch.bfloat16 if bf16 else torch.float32
    payload["weights"] = {
        name: (t.to(dtype) if t.is_floating_point() else t).clone()
        for name, t in checkpoint.model.state_dict().items()
    }
    payload["resume"] = None
    payload["kind"] = kind
    save_checkpoint(Path(target), payload)
    return Path(target)
