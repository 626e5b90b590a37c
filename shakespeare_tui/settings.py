"""What the app remembers between launches: last corpus, training settings, chosen checkpoint,
the view, how the Runs view sorts and draws, theme, and the person's own keys.

Stored as JSON in the user config dir (or under --data-dir). A missing or damaged file means
defaults, never a crash; saving is atomic and a failure to save is not fatal. A file that could
not be read is never overwritten with defaults: the person's keymap and choices stay there.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from shakespeare_tui.core.atomic import atomic_write_text
from shakespeare_tui.core.config import CUSTOM_BASE, TrainConfig, preset_values

# The views a launch can open on (the App's modes), with the names a person reads.
VIEWS = {"train": "Train", "generate": "Generate", "inspect": "Inspect", "runs": "Runs"}

# A "custom" run starts from this preset's model and optimiser, and a run's budgets from the
# core's defaults: the form's first values are the core's, never a copy of them.
_CUSTOM = preset_values(CUSTOM_BASE)
_RUN = TrainConfig()


@dataclass
class TrainSettings:
    corpus: str = "plays"  # "plays", "tinyshakespeare", or a file path
    preset: str = "auto"  # "auto", "notebook", "cpu", "tiny", or "custom" (the fields below)
    cell: str = _CUSTOM["cell"]  # "lstm", "gru" or "rnn" (a basic tanh RNN)
    embed: int = _CUSTOM["embed"]
    hidden: int = _CUSTOM["hidden"]
    layers: int = _CUSTOM["layers"]
    dropout: float = _CUSTOM["dropout"]
    batch_size: int = _CUSTOM["batch_size"]
    seq_len: int = _CUSTOM["seq_len"]
    lr: float = _CUSTOM["lr"]
    schedule: str = _CUSTOM["schedule"]
    epochs: int = _RUN.epochs
    patience: int = _RUN.patience
    max_steps: int | None = None  # None: no step budget
    max_minutes: float | None = None  # None: no time budget
    eval_every: int = _RUN.eval_every  # steps between evaluations; 0 = at epoch ends only
    device: str = "auto"
    clip: float = _RUN.clip
    bf16: str = "auto"  # "auto", "on" or "off"
    seed: int = _RUN.seed
    val_fraction: float = _RUN.val_fraction
    sample_length: int = _RUN.sample_length
    sample_temperature: float = _RUN.sample_temperature
    run: str = ""  # the selected run to resume ("" = a new run)


@dataclass
class GenerateSettings:
    checkpoint: str = ""  # a checkpoint path, "bundled", or "" (the newest best)
    temperature: float = 0.8
    top_k: int | None = None
    length: int = 500
    prompt: str = ""
    seed: str = ""  # as typed: "" = random
    colour_by_probability: bool = False
    files: list = field(default_factory=list)  # checkpoint files opened by hand ("o")


@dataclass
class RunsSettings:
    sort: str = "created"  # a column of core.runs.table.COLUMNS
    descending: bool = True  # newest first
    smoothing: float = 0.6  # the training curves' TensorBoard smoothing weight
    x_axis: str = "step"  # "step", "chars" (characters seen) or "time" (wall time)
    log_y: bool = False


@dataclass
class AppSettings:
    theme: str = "textual-dark"
    mode: str = "train"  # the view shown at launch
    train: TrainSettings = field(default_factory=TrainSettings)
    generate: GenerateSettings = field(default_factory=GenerateSettings)
    runs: RunsSettings = field(default_factory=RunsSettings)
    # Binding id → keys, e.g. {"train.toggle": "space", "app.quit": "ctrl+x"} (see the help).
    keymap: dict = field(default_factory=dict)
    # Why the file could not be read ("" if it could): then it is never overwritten, since
    # saving would lose what it holds.
    load_error: str = field(default="", compare=False, repr=False)

    @classmethod
    def load(cls, path: Path) -> AppSettings:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or "not valid JSON"
            return cls(load_error=f"{path} could not be read ({reason})")
        if not isinstance(data, dict):
            return cls(load_error=f"{path} does not hold a JSON object")
        keymap = data.get("keymap")
        return cls(
            theme=str(data.get("theme", cls.theme)),
            mode=data.get("mode") if data.get("mode") in VIEWS else "train",
            train=_known(TrainSettings, data.get("train")),
            generate=_known(GenerateSettings, data.get("generate")),
            runs=_known(RunsSettings, data.get("runs")),
            keymap=dict(keymap) if isinstance(keymap, dict) else {},
        )

    def save(self, path: Path) -> bool:
        """Write atomically; return False (and keep going) if it cannot or must not be written."""
        if self.load_error:
            return False
        path = Path(path)
        values = asdict(self)
        del values["load_error"]
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, json.dumps(values, indent=2))
        except OSError:
            return False
        return True


def _known(cls, data):
    """An instance from the keys we know with the types we expect; anything else is dropped."""
    if not isinstance(data, dict):
        return cls()
    defaults = cls()
    values = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        value, default = data[f.name], getattr(defaults, f.name)
        if isinstance(value, bool) and not isinstance(default, bool):
            continue  # JSON true is no number
        if isinstance(default, list):
            if isinstance(value, list):
                values[f.name] = [v for v in value if isinstance(v, str)]
            continue
        if default is None:
            # An optional number (a budget): a number or nothing.
            if value is None or isinstance(value, (int, float)):
                values[f.name] = value
        elif isinstance(value, type(default)) or (
            isinstance(default, float) and isinstance(value, int)
        ):
            values[f.name] = value
    return cls(**values)
