"""Checkpoints: one self-describing file, written atomically, loaded without running anything.

A checkpoint is a torch zip archive of plain values (dicts, lists, str, int, float, bool, None)
and tensors, loaded with `weights_only=True` passed explicitly: the environment variable
TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD would otherwise turn the safe loader off. Anything that needs
a class to unpickle is refused before it can run.

Nothing a file says is allocated before it is checked. The archive's records must be stored,
as torch.save writes them (a compressed one could unpack a 1 MB file into gigabytes), so what
is read is never more than the file; torch maps it (mmap=True) rather than reading it; the
model config is checked against core/config.py's limits and every weight's dtype, layout and
shape against that config (network.weight_shapes: arithmetic, no model) — and only then is the
model built and the weights copied in.
"""

from __future__ import annotations

import copy
import datetime as dt
import pickle
import re
import struct
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict, TypeGuard

import torch

from shakespeare_tui.core.atomic import atomic_write
from shakespeare_tui.core.config import ModelConfig
from shakespeare_tui.core.errors import CheckpointError, FieldError
from shakespeare_tui.core.figures import size
from shakespeare_tui.core.file_json import JSONObject, json_object
from shakespeare_tui.core.model.network import CharRNN, weight_shapes
from shakespeare_tui.core.text.corpus import CorpusRecord
from shakespeare_tui.core.text.vocab import Vocabulary
from shakespeare_tui.core.user_files import read_user_file_head

FORMAT = "shakespeare-tui-checkpoint"
FORMAT_VERSION = 1
_ZIP_MAGIC = b"PK\x03\x04"
# A torch archive that cannot be read to its end, in the CLI and the app alike.
NOT_COMPLETE = "{name} is not a complete checkpoint (truncated or not a PyTorch file)"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# What weights may be: real floating point (float32 as trained, bf16 as exported), dense.
WEIGHT_DTYPES = (torch.float32, torch.bfloat16, torch.float16, torch.float64)
# What torch.load raises for bytes that are not a well-formed archive of plain values: the zip
# reader's RuntimeError, the safe unpickler's UnpicklingError, and whatever a damaged pickle or
# storage record makes the loader trip on. Found by loading ~10,000 truncated, bit-flipped and
# spliced checkpoints: each raised one of these (tests/core/model/test_checkpoint.py keeps a sample).
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


class RandomStreams(TypedDict):
    """A process's dropout streams: on the CPU, and on its GPU (None on the CPU)."""

    torch_rng: torch.Tensor
    cuda_rng: torch.Tensor | None


class RankState(RandomStreams):
    """One rank's part of a job's resume state (training/state.py's rank_state)."""

    weights_sha256: str  # the same on every rank


class _ResumeState(RandomStreams):
    optimizer: dict[str, Any]  # torch.optim.Optimizer.state_dict()
    data_rng: torch.Tensor  # the batch stream's generator state
    processes: int  # of the job that saved it


class ResumeState(_ResumeState, total=False):
    """What a run needs to go on bit for bit (training/state.py); rank 0's streams are its
    own, and a job of many processes saves every rank's in `ranks`."""

    ranks: list[RankState]


class CheckpointPayload(TypedDict):
    """A checkpoint file's contents, as `build_payload` writes them. A loaded checkpoint's
    payload is a JSONObject: a file may hold anything, so its readers check each part's kind."""

    format: str  # FORMAT
    format_version: int
    kind: str  # "best", "last", or "export"
    model_config: dict[str, object]  # ModelConfig's fields
    vocab: str  # Vocabulary.chars
    weights: dict[str, torch.Tensor]  # the model's state_dict, on the CPU
    val_loss: float | None
    train_config: dict[str, Any]  # TrainConfig.to_dict()
    progress: dict[str, Any]  # RunProgress.to_dict()
    history: list[JSONObject]  # the validations' metrics records
    corpus: CorpusRecord
    device: str  # where it trained, for a person
    torch_version: str
    created: str  # ISO 8601, UTC
    resume: ResumeState | None  # None for a weights-only export


@dataclass
class Checkpoint:
    """A loaded checkpoint: the model (on the CPU, eval mode) and everything about it."""

    path: Path
    model: CharRNN
    vocab: Vocabulary
    payload: JSONObject  # the file's plain contents (progress, history, resume state, …)

    @property
    def model_config(self) -> ModelConfig:
        return self.model.config

    @property
    def epoch(self) -> int:
        return _whole(json_object(self.payload.get("progress")).get("epoch"))

    @property
    def val_loss(self) -> float | None:
        loss = self.payload.get("val_loss")
        return float(loss) if _finite(loss) else None

    @property
    def resumable(self) -> bool:
        return self.payload.get("resume") is not None


def build_payload(
    *,
    kind: str,
    model: CharRNN,
    vocab: Vocabulary,
    train_config: dict[str, Any],
    progress: dict[str, Any],
    history: list[JSONObject],
    corpus: CorpusRecord,
    val_loss: float | None,
    device: str,
    resume: ResumeState | None,
    weights_dtype: torch.dtype | None = None,
) -> CheckpointPayload:
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
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "resume": resume,
    }


def save_checkpoint(path: Path, payload: CheckpointPayload | Mapping[str, object]) -> None:
    atomic_write(Path(path), lambda f: torch.save(payload, f))


def _read(path: Path) -> JSONObject:
    """The file's contents, its tensors mapped from the file (not read), or CheckpointError."""
    path = Path(path)
    name = path.name
    # A checkpoint can be large: only its head is read here (a regular file only: a pipe would
    # block), torch maps the rest.
    head = read_user_file_head(path, 4, what="a checkpoint file", error=CheckpointError)
    if not head:
        raise CheckpointError(f"{name} is empty: not a checkpoint")
    if head != _ZIP_MAGIC:
        raise CheckpointError(
            f"{name} is not a shakespeare-tui checkpoint (not a torch zip archive)"
        )
    _check_records(path)
    try:
        data = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except _DAMAGED_ARCHIVE as exc:
        text = _ANSI.sub("", str(exc))
        if "weights_only" in text or "Unsupported global" in text or "GLOBAL" in text:
            raise CheckpointError(
                f"{name} was refused: it contains code or objects that a checkpoint never holds"
            ) from None
        # torch's own words (a miniz error, cut mid-sentence) mean nothing to a person.
        raise CheckpointError(NOT_COMPLETE.format(name=name)) from None
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


def _check_records(path: Path) -> None:
    """Every record of the archive is stored, as torch.save writes it: a compressed one is
    refused before anything is unpacked (a 1.2 MB file held a 1 GiB tensor of zeros)."""
    try:
        with zipfile.ZipFile(path) as archive:
            packed = [
                i.filename for i in archive.infolist() if i.compress_type != zipfile.ZIP_STORED
            ]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error):
        return  # not a readable zip: torch.load fails on it, and NOT_COMPLETE says so
    if packed:
        raise CheckpointError(
            f"{path.name} holds compressed records ({packed[0]}), which torch.save never "
            "writes: not a checkpoint this program made, and not unpacked"
        )


def read_payload(path: Path) -> JSONObject:
    """A checkpoint's plain contents (progress, settings, …) without building its model; the
    weights are mapped, not read. Raises CheckpointError as `load_checkpoint` does."""
    return _read(Path(path))


def _model_config(data: JSONObject, name: str) -> tuple[ModelConfig, Vocabulary]:
    """The checkpoint's model config, checked against core/config.py's limits, and its
    vocabulary; CheckpointError, in one line, naming the first unusable field."""
    raw, chars = data.get("model_config"), data.get("vocab")
    if not isinstance(raw, dict) or not isinstance(chars, str) or not chars:
        raise CheckpointError(f"{name} lacks its model config or vocabulary")
    # Checked before it is shown: a tensor or a deeply nested list where a number belongs
    # (its str() could span lines, or run out of stack).
    if not all(isinstance(k, str) and isinstance(v, str | int | float) for k, v in raw.items()):
        raise CheckpointError(f"{name} has an invalid model config: a value is not a number")
    shown = " ".join(str(raw).split())  # one line, whatever a value's repr spans
    try:
        config = ModelConfig(**raw)
        config.validate()
    except TypeError:  # a field unknown or missing
        raise CheckpointError(f"{name} has an invalid model config: {shown}") from None
    except FieldError as exc:  # a value of the wrong kind, or beyond the limits
        raise CheckpointError(f"{name} has an invalid model config: {exc} ({shown})") from None
    if config.vocab_size != len(chars) or len(set(chars)) != len(chars):
        raise CheckpointError(
            f"{name}: its vocabulary ({len(chars)} characters) does not match its model "
            f"({config.vocab_size})"
        )
    return config, Vocabulary(chars)


def resume_state(payload: JSONObject, name: str) -> ResumeState:
    """The state a resume goes on from (`payload["resume"]`), each part of the kind this
    program writes, and a progress record to go with it; CheckpointError, in one line,
    naming the first part that is not (`name`: the checkpoint's file name)."""
    resume = payload.get("resume")
    if not isinstance(resume, dict):
        raise damaged_state(name, "its resume state is not an object")
    if not isinstance(payload.get("progress"), dict):
        raise damaged_state(name, "its progress is not an object")
    optimizer, processes = resume.get("optimizer"), resume.get("processes", 1)
    if not isinstance(optimizer, dict):
        raise damaged_state(name, "its optimizer state is not an object")
    if not isinstance(processes, int) or isinstance(processes, bool) or processes < 1:
        raise damaged_state(name, "its count of processes is not a whole number")
    streams = _streams(resume, name)
    state = ResumeState(
        optimizer=optimizer,
        data_rng=_tensor(resume.get("data_rng"), name, "data_rng"),
        torch_rng=streams["torch_rng"],
        cuda_rng=streams["cuda_rng"],
        processes=processes,
    )
    ranks = resume.get("ranks")
    if ranks is not None:
        if not isinstance(ranks, list) or not all(isinstance(r, dict) for r in ranks):
            raise damaged_state(name, "its ranks are not a list of objects")
        state["ranks"] = [
            RankState(**_streams(rank, name), weights_sha256=_text(rank.get("weights_sha256")))
            for rank in ranks
        ]
    return state


def damaged_state(name: str, why: str) -> CheckpointError:
    """A resume refused: the checkpoint's training state cannot be used (`why`)."""
    return CheckpointError(f"{name} cannot be resumed: its training state is damaged ({why})")


def _streams(part: dict[str, object], name: str) -> RandomStreams:
    """A process's dropout streams from a resume state (or a rank's part of it)."""
    cuda = part.get("cuda_rng")
    return RandomStreams(
        torch_rng=_tensor(part.get("torch_rng"), name, "torch_rng"),
        cuda_rng=None if cuda is None else _tensor(cuda, name, "cuda_rng"),
    )


def _tensor(value: object, name: str, key: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise damaged_state(name, f"its {key} is not a tensor")
    return value


def _check_weights(data: JSONObject, config: ModelConfig, name: str) -> dict[str, torch.Tensor]:
    """The weights, each a dense real floating-point tensor of the shape `config` gives it and
    holding no more data than that shape, with none missing or left over; else CheckpointError.
    Only metadata is looked at: a mapped file is not read, and no model is built."""
    weights = data.get("weights")
    if not isinstance(weights, dict):
        raise CheckpointError(f"{name} has no weights")
    expected = weight_shapes(config)
    for key, need in expected.items():
        got = weights.get(key)
        if not isinstance(got, torch.Tensor):
            raise CheckpointError(f"{name}: weight {key} is missing, but its config needs {need}")
        if got.layout != torch.strided:
            raise CheckpointError(
                f"{name}: weight {key} is a sparse tensor ({got.layout}); a checkpoint holds "
                "dense weights"
            )
        if got.dtype not in WEIGHT_DTYPES:
            raise CheckpointError(
                f"{name}: weight {key} is {str(got.dtype).removeprefix('torch.')}; a checkpoint "
                "holds real floating-point weights"
            )
        if tuple(got.shape) != need:
            raise CheckpointError(
                f"{name}: weight {key} is {tuple(got.shape)}, but its config needs {need}"
            )
        held, shaped = got.untyped_storage().nbytes(), got.numel() * got.element_size()
        if held > shaped:  # a view of a larger tensor: what the file holds is not the weight
            raise CheckpointError(
                f"{name}: weight {key} holds {size(held)} for a {need} tensor of "
                f"{size(shaped)}: not a checkpoint this program made"
            )
    extra = [str(k) for k in weights if k not in expected]
    if extra:
        raise CheckpointError(f"{name} has unexpected weights: {sorted(extra)[:5]}")
    return weights


def load_checkpoint(path: Path) -> Checkpoint:
    """Load onto the CPU (a GPU-trained file loads anywhere), or raise CheckpointError.

    The file is mapped and checked (its config, then every weight against it) before the model
    is built; then the weights are copied in and the payload is copied out of the mapping, so
    the loaded checkpoint holds no open mapping of the file (which a resume then rewrites).
    """
    path = Path(path)
    mapped = _read(path)
    config, vocab = _model_config(mapped, path.name)
    weights = _check_weights(mapped, config, path.name)
    model = CharRNN(config)
    # load_state_dict copies into float32 parameters, so bf16-stored weights load too.
    model.load_state_dict(weights)
    if not all(torch.isfinite(p).all() for p in model.parameters()):
        raise CheckpointError(f"{path.name} has non-finite weights")
    model.eval()
    try:
        data = copy.deepcopy(mapped)  # every tensor read out of the file: at most its size
    except RecursionError:
        raise CheckpointError(f"{path.name} is nested too deeply to be a checkpoint") from None
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


def read_info(path: Path) -> CheckpointInfo:
    """A checkpoint's summary, or `ok=False` with the reason; never raises for a bad file.

    Its config and every weight's shape are checked as `load_checkpoint` checks them (from the
    mapped file: nothing is read or built); what else it says is taken only where it is of the
    right kind ("" or 0 otherwise), as a listing shows it.
    """
    path = Path(path)
    try:
        data = _read(path)
        config, _ = _model_config(data, path.name)
        _check_weights(data, config, path.name)
    except CheckpointError as exc:
        return CheckpointInfo(path=str(path), ok=False, error=str(exc))
    progress, corpus = json_object(data.get("progress")), json_object(data.get("corpus"))
    step = _whole(progress.get("step"))
    return CheckpointInfo(
        path=str(path),
        ok=True,
        kind=_text(data.get("kind")),
        val_loss=_own_val_loss(data, step),
        epoch=_whole(progress.get("epoch")),
        step=step,
        model_summary=config.summary,
        parameters=config.parameter_count(),
        created=_text(data.get("created")),
        corpus=_text(corpus.get("name")),
        resumable=data.get("resume") is not None,
    )


def _own_val_loss(data: Mapping[str, object], step: int) -> float | None:
    """The validation loss of these very weights, or None. A last.pt saved between evaluations
    (a stop, a budget) carries the latest evaluation's loss, measured on earlier weights: it is
    not this file's, and a list must not show it as if it were."""
    loss = data.get("val_loss")
    if not _finite(loss):
        return None
    if data.get("kind") == "last":
        history = data.get("history")
        evaluations = (
            [r for r in history if isinstance(r, dict) and "val_loss" in r]
            if isinstance(history, list)
            else []
        )
        if not evaluations or evaluations[-1].get("step") != step:
            return None
    return float(loss)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _whole(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _finite(value: object) -> TypeGuard[float]:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return abs(float(value)) < float("inf")
    except OverflowError:
        return False


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
