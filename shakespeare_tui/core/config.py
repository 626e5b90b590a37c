"""Typed settings for the model and the training run, with the named presets.

Every field has a default and a comment; presets are plain overrides of these defaults.
Everything here is plain data (str/int/float/bool/None), so it goes into JSON and checkpoints as is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from shakespeare_tui.core.errors import UserError

CELLS = ("lstm", "gru")
SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int = 0  # set from the corpus' distinct characters
    cell: str = "lstm"  # "lstm" or "gru"
    embed: int = 256  # embedding width (the notebook's 256)
    hidden: int = 1024  # recurrent state width (the notebook's 1024)
    layers: int = 1  # stacked recurrent layers
    dropout: float = 0.0  # on the recurrent output(s); 0 for the notebook

    def validate(self) -> None:
        if self.cell not in CELLS:
            raise UserError(f"cell must be one of {', '.join(CELLS)}, not {self.cell!r}")
        for name in ("embed", "hidden", "layers"):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be at least 1")
        if not 0.0 <= self.dropout < 1.0:
            raise UserError("dropout must be in [0, 1)")

    @property
    def summary(self) -> str:
        layers = f"×{self.layers}" if self.layers > 1 else ""
        return f"{self.cell.upper()} E{self.embed}/H{self.hidden}{layers}"

    def parameter_count(self) -> int:
        gates = 4 if self.cell == "lstm" else 3
        total = self.vocab_size * self.embed + self.hidden * self.vocab_size + self.vocab_size
        width_in = self.embed
        for _ in range(self.layers):
            total += gates * self.hidden * (width_in + self.hidden + 2)
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
    patience: int = 5  # stop after this many epochs without a better validation loss
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

    def validate(self) -> None:
        self.model.validate()
        checks = [
            (self.batch_size >= 1, "batch size must be at least 1"),
            (self.seq_len >= 2, "sequence length must be at least 2"),
            (self.lr > 0 and self.lr < 10, "learning rate must be in (0, 10)"),
            (self.schedule in SCHEDULES, f"schedule must be one of {', '.join(SCHEDULES)}"),
            (self.warmup_steps >= 0, "warm-up steps must be at least 0"),
            (self.clip > 0, "gradient clipping must be positive"),
            (self.epochs >= 1, "epochs must be at least 1"),
            (self.patience >= 1, "patience must be at least 1"),
            (self.max_steps is None or self.max_steps >= 1, "max steps must be at least 1"),
            (self.max_minutes is None or self.max_minutes > 0, "max minutes must be positive"),
            (0 < self.val_fraction < 0.5, "validation fraction must be in (0, 0.5)"),
            (self.threads is None or self.threads >= 1, "threads must be at least 1"),
            (0 <= self.seed < 2**63, "seed must be in [0, 2**63)"),
            (self.log_every >= 1, "log interval must be at least 1"),
            (self.sample_length >= 0, "sample length must be at least 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise UserError(message)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        model_known = {f.name for f in fields(ModelConfig)}
        model = data.get("model") or {}
        values["model"] = ModelConfig(**{k: v for k, v in model.items() if k in model_known})
        return cls(**values)


# Presets override the defaults above. Measured on a 2-core Zen 5 CPU with torch 2.13 (see
# benchmarks/ and FACTS): the notebook model trains at ~9k chars/s there, too slow to watch;
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
