"""Typed settings for the model and the training run, with the named presets.

Every field has a default and a comment; presets are plain overrides of these defaults.
Everything here is plain data (str/int/float/bool/None), so it goes into JSON and checkpoints as is.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, TypeGuard

from shakespeare_tui.core.cells import CELLS, WEIGHT_BLOCKS
from shakespeare_tui.core.errors import FieldError, UserError

SCHEDULES = ("constant", "cosine")
# "sized": "auto" with a time budget, the model fitted to it when the run starts (core/sizing/rule.py).
AUTO, CUSTOM, SIZED = "auto", "custom", "sized"

# The sane limits every config is checked against (typed, a queue file, a checkpoint's or a
# run folder's config), before anything is allocated or built. Far above anything this project
# trains (the notebook's model is E256/H1024, 5.3M parameters; the sizing ladder's largest is
# H1024), low enough that no value can ask for a model no machine builds (`layers = 10**6`
# built for minutes before failing) or an allocation torch cannot even size.
MAX_VOCAB = 0x110000  # every Unicode code point: no vocabulary of characters is larger
MAX_WIDTH = 16_384  # embed and hidden
MAX_LAYERS = 16  # char-rnn's models had 2 or 3
MAX_PARAMETERS = 1_000_000_000  # 4 GB of float32 weights, and twice that again for Adam
MAX_WINDOWS = 65_536  # batch size and window length, each
MAX_SAMPLE_LENGTH = 1_000_000  # characters of a sample (sampling's MAX_LENGTH is this)


def machine_threads() -> int:
    """The most CPU threads a run may ask for: this machine's logical CPUs (more only slow a
    run down — 5,000 threads took 112 s for 5 steps — and 100,000 crash the OpenMP runtime)."""
    return os.cpu_count() or 1


def _whole(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _real(value: object) -> TypeGuard[float]:
    """A finite int or float (an int of 400 digits is not finite as a float)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _brief(value: object) -> str:
    """A value as a refusal quotes it: its repr, cut short (a value from a file may be huge)."""
    text = (
        repr(value) if isinstance(value, str | int | float | bool | None) else type(value).__name__
    )
    return text if len(text) <= 24 else text[:23] + "…"


def _check_whole(name: str, value: object, low: int, high: int | None = None) -> None:
    """FieldError unless `value` is a whole number in [low, high] (no upper bound: None)."""
    if not _whole(value):
        raise FieldError(name, f"must be a whole number, not {_brief(value)}")
    if value < low:
        raise FieldError(name, f"must be at least {low:,}")
    if high is not None and value > high:
        raise FieldError(name, f"must be at most {high:,}")


def _check_real(name: str, value: object, ok: Callable[[float], bool], reason: str) -> None:
    """FieldError unless `value` is a finite number for which `ok(value)` holds."""
    if not _real(value):
        raise FieldError(name, f"must be a finite number, not {_brief(value)}")
    if not ok(value):
        raise FieldError(name, reason)


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int = 0  # set from the corpus' distinct characters
    cell: str = "lstm"  # "lstm", "gru" or "rnn" (a basic tanh RNN; see core/cells.py)
    embed: int = 256  # embedding width (the notebook's 256)
    hidden: int = 1024  # recurrent state width (the notebook's 1024)
    layers: int = 1  # stacked recurrent layers
    dropout: float = 0.0  # on the recurrent output(s); 0 for the notebook

    def validate(self) -> None:
        """Raise FieldError, naming the field, for the first unusable one: a value of the wrong
        kind (32.5, "big", a list) or outside the sane limits above, and a model over
        MAX_PARAMETERS. Only arithmetic: nothing is built."""
        if not isinstance(self.cell, str) or self.cell not in CELLS:
            shown = self.cell if isinstance(self.cell, str) else type(self.cell).__name__
            raise FieldError("cell", f"must be one of {', '.join(CELLS)}, not {shown!r}")
        _check_whole("vocab_size", self.vocab_size, 0, MAX_VOCAB)  # 0: set from the corpus
        _check_whole("embed", self.embed, 1, MAX_WIDTH)
        _check_whole("hidden", self.hidden, 1, MAX_WIDTH)
        _check_whole("layers", self.layers, 1, MAX_LAYERS)
        _check_real("dropout", self.dropout, lambda v: 0.0 <= v < 1.0, "must be in [0, 1)")
        if self.parameter_count() > MAX_PARAMETERS:
            raise FieldError(
                "hidden",
                f"is too large: {self.summary} has {self.parameter_count():,} parameters, over "
                f"the limit of {MAX_PARAMETERS:,}",
            )

    @property
    def summary(self) -> str:
        layers = f"×{self.layers}" if self.layers > 1 else ""
        return f"{self.cell.upper()} E{self.embed}/H{self.hidden}{layers}"

    def parameter_count(self) -> int:
        blocks = WEIGHT_BLOCKS[self.cell]  # 4 for an LSTM, 3 for a GRU, 1 for a basic RNN
        total = self.vocab_size * self.embed + self.hidden * self.vocab_size + self.vocab_size
        width_in = self.embed
        for _ in range(self.layers):
            total += blocks * self.hidden * (width_in + self.hidden + 2)
            width_in = self.hidden
        return total


@dataclass(frozen=True)
class TrainConfig:
    corpus: str = "plays"  # "plays" (bundled), a named download, or a path to a UTF-8 text file
    preset: str = "auto"  # a key of PRESETS; "auto" picks "notebook" on a GPU, "cpu" otherwise
    model: ModelConfig = field(default_factory=ModelConfig)
    batch_size: int = 64  # windows per step (the notebook's 64)
    seq_len: int = 100  # characters per window (the notebook's 100)
    lr: float = 1e-3  # Adam learning rate (the notebook's 1e-3)
    schedule: str = "constant"  # "constant", or "cosine" decay to lr/10 over the run
    warmup_steps: int = 0  # linear warm-up from lr/10, cosine schedule only
    clip: float = 5.0  # gradient-norm clipping (char-rnn's 5)
    epochs: int = 20  # passes over the training text (the notebook's 20)
    patience: int = 5  # stop after this many evaluations without a better validation loss
    # Also evaluate (validation, a sample, checkpoints) every this many steps between epoch
    # ends, so a CPU run shows progress within minutes; 0: at epoch ends only (the notebook's).
    eval_every: int = 200
    max_steps: int | None = None  # bound the whole run (counting before a resume)
    max_minutes: float | None = None  # bound the whole run's training time (ditto)
    val_fraction: float = 0.1  # the last tenth is held out, as nanoGPT does
    device: str = "auto"  # "auto" (CUDA, MPS, CPU), or "cpu", "cuda", "cuda:1", "mps"
    bf16: bool | None = None  # bf16 autocast; None = on where the hardware does it fast
    threads: int | None = None  # CPU threads for torch; None = chosen for the device
    seed: int = 1337  # weights, batches and dropout; the same seed gives the same run
    log_every: int = 10  # steps between progress events (and host syncs on a GPU)
    sample_length: int = 200  # characters in each epoch's sample
    sample_temperature: float = 0.8  # temperature of each epoch's sample
    preset_reason: str = ""  # why "auto" chose this preset, shown when the run starts
    # How a "sized" run chose its model: each rung's measured speed, its characters in the
    # budget and the loss our measurements predict for them (core/sizing/rule.py); None otherwise.
    sizing: dict[str, Any] | None = None

    def validate(self) -> None:
        """Raise FieldError, naming the setting, for the first unusable one: of the wrong kind
        (a string, a float where a whole number belongs, NaN) or outside its limits."""
        if not isinstance(self.model, ModelConfig):
            raise FieldError("model", "must be a model's settings")
        self.model.validate()
        _check_whole("batch_size", self.batch_size, 1, MAX_WINDOWS)
        _check_whole("seq_len", self.seq_len, 2, MAX_WINDOWS)
        _check_real("lr", self.lr, lambda v: 0 < v < 10, "must be in (0, 10)")
        if self.schedule not in SCHEDULES:
            raise FieldError("schedule", f"must be one of {', '.join(SCHEDULES)}")
        _check_whole("warmup_steps", self.warmup_steps, 0)
        _check_real("clip", self.clip, lambda v: v > 0, "must be positive")
        _check_whole("epochs", self.epochs, 1)
        _check_whole("patience", self.patience, 1)
        _check_whole("eval_every", self.eval_every, 0)
        if self.max_steps is not None:
            _check_whole("max_steps", self.max_steps, 1)
        if self.max_minutes is not None:
            _check_real("max_minutes", self.max_minutes, lambda v: v > 0, "must be positive")
        _check_real("val_fraction", self.val_fraction, lambda v: 0 < v < 0.5, "must be in (0, 0.5)")
        if self.threads is not None:
            limit = machine_threads()
            _check_whole("threads", self.threads, 1)
            if self.threads > limit:
                raise FieldError(
                    "threads",
                    f"must be at most {limit:,}, the CPUs of this machine (more only slow a run)",
                )
        if not _whole(self.seed):
            raise FieldError("seed", f"must be a whole number, not {_brief(self.seed)}")
        if not 0 <= self.seed < 2**63:
            raise FieldError("seed", "must be in [0, 2**63)")
        _check_whole("log_every", self.log_every, 1)
        _check_whole("sample_length", self.sample_length, 0, MAX_SAMPLE_LENGTH)
        _check_real(
            "sample_temperature",
            self.sample_temperature,
            lambda v: 0 <= v <= 2,
            "must be from 0 to 2",
        )
        for name in ("corpus", "device"):
            if not isinstance(getattr(self, name), str):
                raise FieldError(name, "must be text")
        if self.bf16 is not None and not isinstance(self.bf16, bool):
            raise FieldError("bf16", "must be true, false or unset")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> TrainConfig:
        """A config from its saved form (a config.json's or a checkpoint's "train"). Fields it
        does not know are left out and a part that is not an object is read as empty; what the
        values are is `validate`'s to say."""
        data = data if isinstance(data, dict) else {}
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        model_known = {f.name for f in fields(ModelConfig)}
        model = data.get("model")
        model = model if isinstance(model, dict) else {}
        values["model"] = ModelConfig(**{k: v for k, v in model.items() if k in model_known})
        return cls(**values)


# Presets override the defaults above. Measured on a 2-core Zen 5 CPU with torch 2.13 (see
# benchmarks/RESULTS.md): the notebook model trains at ~9k chars/s there, too slow to watch;
# "cpu" is sized so a 10-minute run beats nanoGPT's GPU figure on tiny Shakespeare and its
# checkpoint (bf16 weights) stays under 5 MB.
PRESETS: dict[str, dict[str, Any]] = {
    "notebook": {
        "model": {"cell": "lstm", "embed": 256, "hidden": 1024, "layers": 1, "dropout": 0.0},
        "lr": 1e-3,
        "schedule": "constant",
    },
    "cpu": {
        "model": {"cell": "lstm", "embed": 128, "hidden": 640, "layers": 1, "dropout": 0.25},
        # Windows of 200 (32 per batch, the same characters per step): validation scores every
        # character with its full context, and training on longer windows gave 1.437 instead of
        # 1.443 nats/char on tiny Shakespeare after 10 minutes here, at 0.8x the steps per second.
        "batch_size": 32,
        "seq_len": 200,
        "lr": 2e-3,
        "schedule": "cosine",
        "warmup_steps": 50,
    },
    # For tests and demos: trains in seconds, learns little.
    "tiny": {
        "model": {"cell": "lstm", "embed": 16, "hidden": 32, "layers": 1, "dropout": 0.0},
        "batch_size": 16,
        "seq_len": 32,
        "lr": 1e-2,
        "schedule": "constant",
        "sample_length": 60,
    },
}


def apply_preset(config: TrainConfig, name: str) -> TrainConfig:
    """`config` with the preset's values; model fields merge rather than replace."""
    if name not in PRESETS:
        raise UserError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    overrides = dict(PRESETS[name])
    model = replace(config.model, **overrides.pop("model", {}))
    return replace(config, preset=name, model=model, **overrides)


# -- the settings of a run, as the CLI and the app both make them ------------------------------

MODEL_FIELDS = tuple(f.name for f in fields(ModelConfig) if f.name != "vocab_size")
# The settings a preset decides besides the model.
OPTIMISER_FIELDS = ("batch_size", "seq_len", "lr", "schedule", "warmup_steps")
# The settings a resume may change; everything else is the run's own and stays.
RESUMABLE_FIELDS = (
    "epochs",
    "patience",
    "max_steps",
    "max_minutes",
    "device",
    "threads",
    "log_every",
    "eval_every",
    "sample_length",
    "sample_temperature",
)
# Custom runs start from this preset's values for whatever the person leaves unset.
CUSTOM_BASE = "cpu"


def auto_preset(device_type: str | None) -> str:
    """What "auto" means on a device: the notebook's model on a GPU, the CPU preset elsewhere.
    (With a time budget, "auto" is sized instead: this preset is then only where it starts.)"""
    return "notebook" if device_type == "cuda" else "cpu"


def auto_reason(device_type: str | None) -> str:
    if device_type == "cuda":
        return "auto preset: notebook, the original model, as a GPU was found"
    return "auto preset: cpu, as no GPU was found (preset notebook is the original model)"


SIZED_REASON = "auto with a time budget: the model is sized to it when the run starts"


def _auto(config: TrainConfig, device_type: str | None) -> TrainConfig:
    """The label and reason of an "auto" run: sized where it has a time budget."""
    if config.max_minutes:
        return replace(config, preset=SIZED, preset_reason=SIZED_REASON)
    return replace(config, preset_reason=auto_reason(device_type))


def resolve_auto(config: TrainConfig, device_type: str | None) -> TrainConfig:
    """An "auto" config as the preset it means on this device (other configs as they are)."""
    if config.preset != AUTO:
        return config
    return _auto(apply_preset(config, auto_preset(device_type)), device_type)


def preset_values(name: str, device_type: str | None = None) -> dict[str, Any]:
    """The model and optimiser settings a preset stands for ("auto" as it resolves on the device)."""
    if name in (AUTO, SIZED):
        name = auto_preset(device_type)
    config = apply_preset(TrainConfig(), CUSTOM_BASE if name == CUSTOM else name)
    return {k: v for k, v in flat(config).items() if k in MODEL_FIELDS + OPTIMISER_FIELDS}


def flat(config: TrainConfig) -> dict[str, Any]:
    """Every setting by its own name, the model's among the rest (as the CLI's flags name them)."""
    values = {k: v for k, v in config.to_dict().items() if k != "model"}
    values.update({k: getattr(config.model, k) for k in MODEL_FIELDS})
    return values


def with_settings(config: TrainConfig, settings: Mapping[str, Any]) -> TrainConfig:
    """`config` with flat settings (model fields included) replaced."""
    model = {k: v for k, v in settings.items() if k in MODEL_FIELDS}
    rest = {k: v for k, v in settings.items() if k not in MODEL_FIELDS}
    unknown = set(rest) - {f.name for f in fields(TrainConfig)}
    if unknown:
        raise UserError(f"unknown setting {sorted(unknown)[0]!r}")
    return replace(config, model=replace(config.model, **model), **rest)


def build_config(
    preset: str, device_type: str | None, settings: Mapping[str, Any] | None = None
) -> TrainConfig:
    """A new run's settings: the preset's, then the person's `settings` (flat names) on top.

    "auto" resolves on `device_type` and says why in `preset_reason`; a run whose model or
    optimiser differs from its preset's is labelled "custom", so its name never claims a
    preset it does not train.
    """
    settings = {k: v for k, v in (settings or {}).items() if v is not None}
    name = auto_preset(device_type) if preset == AUTO else preset
    base = apply_preset(TrainConfig(), CUSTOM_BASE if name == CUSTOM else name)
    config = with_settings(base, settings)
    mine, its = flat(config), flat(base)
    if name == CUSTOM or any(mine[k] != its[k] for k in MODEL_FIELDS + OPTIMISER_FIELDS):
        return replace(config, preset=CUSTOM)
    if preset == AUTO:
        return _auto(config, device_type)
    return config
