"""What the app remembers between launches: last corpus, training settings, chosen checkpoint, theme.

Stored as JSON in the user config dir (or under --data-dir). A missing or damaged file means
defaults, never a crash; saving is atomic and a failure to save is not fatal.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path


@dataclass
class TrainSettings:
    corpus: str = "plays"  # "plays", "tinyshakespeare", or a file path
    preset: str = "auto"  # "auto", "notebook", "cpu", "tiny", or "custom" (the fields below)
    cell: str = "lstm"
    embed: int = 128
    hidden: int = 640
    layers: int = 1
    dropout: float = 0.25
    batch_size: int = 32
    seq_len: int = 200
    lr: float = 2e-3
    epochs: int = 20
    patience: int = 5
    device: str = "auto"
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


@dataclass
class AppSettings:
    theme: str = "textual-dark"
    mode: str = "train"  # the view shown at launch
    train: TrainSettings = field(default_factory=TrainSettings)
    generate: GenerateSettings = field(default_factory=GenerateSettings)

    @classmethod
    def load(cls, path: Path) -> AppSettings:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(data, dict):
            return cls()
        return cls(
            theme=str(data.get("theme", cls.theme)),
            mode=data.get("mode") if data.get("mode") in ("train", "generate") else "train",
            train=_known(TrainSettings, data.get("train")),
            generate=_known(GenerateSettings, data.get("generate")),
        )

    def save(self, path: Path) -> bool:
        """Write atomically; return False (and keep going) if it cannot be written."""
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".settings.", dir=path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(asdict(self), f, indent=2)
            os.replace(tmp, path)
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
        if (
            default is None
            or isinstance(value, type(default))
            or (isinstance(default, float) and isinstance(value, int))
        ):
            values[f.name] = value
    return cls(**values)
