"""What the app remembers between launches: last corpus, training settings, chosen checkpoint,
the view, how the Runs view sorts and draws, theme, and the person's own keys.

Stored as JSON in the user config dir (or under --data-dir). A missing or damaged file means
defaults, never a crash; a failure to save is not fatal. A file that could not be read (not
JSON, nested too deep, over MAX_BYTES) is never overwritten: the person's keymap and choices
stay there. A save writes only what this app changed since it read the file, into the file as
it is then (a locked read-modify-write, core/shared_file.py): keys it does not know, values it
could not use, and changes another app made meanwhile are all kept. What it could not use is
said once, at launch.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from shakespeare_tui.core.config import CUSTOM_BASE, TrainConfig, preset_values
from shakespeare_tui.core.errors import ActionFailed, UserError
from shakespeare_tui.core.shared_file import SharedFile

MAX_BYTES = 1 << 20  # a settings file is a few kB; a larger one is not read (nor rewritten)
_SECTIONS = ("train", "generate", "runs")  # the tables of the file, beside the plain keys

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
    # What the file holds that this version does not use (kept in it), said once at launch.
    load_warnings: tuple[str, ...] = field(default=(), compare=False, repr=False)
    # The values as read, by (section, key): a save writes only those that changed since.
    # None (settings made in code, not read): a save writes them all.
    _read: dict | None = field(default=None, compare=False, repr=False)

    @classmethod
    def load(cls, path: Path) -> AppSettings:
        path = Path(path)
        try:
            if path.stat().st_size > MAX_BYTES:
                return cls(load_error=f"{path} is over {MAX_BYTES >> 20} MiB, too large for "
                           "a settings file")  # fmt: skip
            data = _parse(path.read_bytes(), path)
        except FileNotFoundError:
            return cls(_read={})
        except OSError as exc:
            return cls(load_error=f"{path} could not be read ({exc.strerror or exc})")
        except UserError as exc:
            return cls(load_error=str(exc))
        problems: list[str] = []
        keymap = data.get("keymap")
        mode = data.get("mode")
        view = mode if isinstance(mode, str) and mode in VIEWS else None  # a list: unhashable
        settings = cls(
            theme=str(data.get("theme", cls.theme)),
            mode=view or "train",
            train=_known(TrainSettings, data.get("train"), "train", problems),
            generate=_known(GenerateSettings, data.get("generate"), "generate", problems),
            runs=_known(RunsSettings, data.get("runs"), "runs", problems),
            keymap=dict(keymap) if isinstance(keymap, dict) else {},
        )
        known = {f.name for f in fields(cls)}  # (our own bookkeeping's names are no news)
        problems += [f"{key!r} is not a setting" for key in data if key not in known]
        if "mode" in data and view is None:
            problems.append(f"mode {mode!r} is not a view")
        settings.load_warnings = tuple(problems)
        settings._read = _flat(settings)
        return settings

    def save(self, path: Path) -> bool:
        """Write what changed since the file was read into the file as it is now; return False
        (and keep going) if it cannot or must not be written."""
        if self.load_error:
            return False
        now = _flat(self)
        changed = {
            k: v for k, v in now.items() if self._read is None or self._read.get(k, _UNSET) != v
        }
        if not changed:
            return True
        path = Path(path)

        def apply(document: dict) -> dict:
            for (section, key), value in changed.items():
                if section is None:
                    document[key] = value
                else:
                    table = document.get(section)
                    if not isinstance(table, dict):
                        table = document[section] = {}
                    table[key] = value
            return document

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            SharedFile(path, lambda data: {} if data is None else _parse(data, path), _dump).update(
                apply
            )
        except (OSError, UserError, ActionFailed):
            return False
        self._read = now
        return True


_UNSET = object()


def _parse(data: bytes, path: Path) -> dict:
    """The file's JSON object; UserError (one line) for anything else."""
    if len(data) > MAX_BYTES:
        raise UserError(f"{path} is over {MAX_BYTES >> 20} MiB, too large for a settings file")
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise UserError(f"{path} could not be read (not valid JSON)") from None
    except RecursionError:
        raise UserError(f"{path} could not be read (nested too deeply)") from None
    if not isinstance(document, dict):
        raise UserError(f"{path} does not hold a JSON object")
    return document


def _dump(document: dict) -> bytes:
    return json.dumps(document, indent=2).encode("utf-8")


def _flat(settings: AppSettings) -> dict[tuple[str | None, str], Any]:
    """Every value the app keeps, by (section or None, key), as the file holds it."""
    values = asdict(settings)
    flat: dict[tuple[str | None, str], Any] = {}
    for key in ("theme", "mode", "keymap"):
        flat[(None, key)] = values[key]
    for section in _SECTIONS:
        for key, value in values[section].items():
            flat[(section, key)] = value
    return flat


def _known(cls, data, section: str, problems: list[str]):
    """An instance from the keys we know with the types we expect; what else `data` holds is
    left in the file and said in `problems`."""
    if data is None:
        return cls()
    if not isinstance(data, dict):
        problems.append(f"{section!r} is not a table of settings")
        return cls()
    defaults = cls()
    values = {}
    names = {f.name for f in fields(cls)}
    problems += [f"{section}.{key} is not a setting" for key in data if key not in names]
    for f in fields(cls):
        if f.name not in data:
            continue
        value, default = data[f.name], getattr(defaults, f.name)
        if _fits(value, default):
            values[f.name] = (
                [v for v in value if isinstance(v, str)] if isinstance(default, list) else value
            )
        else:
            problems.append(f"{section}.{f.name} = {json.dumps(value)[:40]} is not a usable value")
    return cls(**values)


def _fits(value, default) -> bool:
    """Whether `value` read from the file can stand for a setting whose default is `default`."""
    if isinstance(value, bool) and not isinstance(default, bool):
        return False  # JSON true is no number
    if isinstance(default, list):
        return isinstance(value, list)
    if default is None:  # an optional number (a budget): a number or nothing
        return value is None or isinstance(value, (int, float))
    return isinstance(value, type(default)) or (
        isinstance(default, float) and isinstance(value, int)
    )
