"""Two runs side by side: the settings that differ between them, and their best figures.

Settings are config.json's, flattened: the "train" settings under their own names (`lr`,
`model.hidden`), the corpus as trained on (`corpus.name`, `corpus.checksum`, `corpus.chars`),
where the run ran (`ran_on`) and its parameter count.
"""

from __future__ import annotations

from dataclasses import dataclass

from shakespeare_tui.core.file_json import JSONObject
from shakespeare_tui.core.runs.table import COLUMNS, RunRow

NOT_SET = object()  # a setting one run's config.json does not have (an older version's)
# Why "auto" chose a preset, and what timing the sizes measured: notes, not settings.
SKIPPED = frozenset({"preset_reason", "sizing.rungs", "sizing.probe_s"})
# What None stands for, where it is not "none".
_NONE_MEANS = {
    "bf16": "auto",
    "threads": "auto",
    "max_steps": "no limit",
    "max_minutes": "no limit",
}
# The best figures shown side by side: COLUMNS' keys.
FIGURES = ("state", "best_val_loss", "best_val_bits", "best_epoch", "best_step", "step",
           "epochs_done", "chars_per_sec", "elapsed", "params")  # fmt: skip


def flatten_config(config: JSONObject) -> dict[str, object]:
    """A config.json's settings under flat names (see the module's docstring)."""
    out: dict[str, object] = {}

    def walk(prefix: str, values: JSONObject) -> None:
        for key, value in values.items():
            name = prefix + str(key)
            if isinstance(value, dict):
                walk(name + ".", value)
            elif name not in SKIPPED:
                out[name] = value

    train = config.get("train")
    walk("", train if isinstance(train, dict) else {})
    corpus = config.get("corpus")
    if isinstance(corpus, dict):
        walk("corpus.", corpus)
    for key, name in (("device", "ran_on"), ("parameters", "parameters")):
        if key in config:
            out[name] = config[key]
    return out


def setting_text(key: str, value: object) -> str:
    """A setting's value as a person reads it."""
    if value is NOT_SET:
        return "(not set)"
    if value is None:
        return _NONE_MEANS.get(key, "none")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass(frozen=True)
class SettingDiff:
    key: str  # e.g. "model.hidden"
    a: object  # the first run's value (NOT_SET where it has none)
    b: object

    @property
    def texts(self) -> tuple[str, str]:
        return setting_text(self.key, self.a), setting_text(self.key, self.b)


def diff_settings(a: JSONObject, b: JSONObject) -> list[SettingDiff]:
    """The settings whose values differ between two config.json's, in the first one's order."""
    flat_a, flat_b = flatten_config(a), flatten_config(b)
    keys = list(flat_a) + [k for k in flat_b if k not in flat_a]
    diffs = [SettingDiff(k, flat_a.get(k, NOT_SET), flat_b.get(k, NOT_SET)) for k in keys]
    return [d for d in diffs if not _same(d.a, d.b)]


def _same(a: object, b: object) -> bool:
    if a is NOT_SET or b is NOT_SET:
        return a is b
    return type(a) is type(b) and a == b or (_numeric(a) and _numeric(b) and a == b)


def _numeric(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class RunDiff:
    a: RunRow
    b: RunRow
    settings: tuple[SettingDiff, ...]  # only those that differ
    figures: tuple[tuple[str, str, str], ...]  # (title, the first run's, the second's)

    @property
    def better(self) -> RunRow | None:
        """The run with the lower best validation loss, if both have one and they differ."""
        a, b = self.a.best_val_loss, self.b.best_val_loss
        if a is None or b is None or a == b:
            return None
        return self.a if a < b else self.b


def diff_runs(a: RunRow, b: RunRow) -> RunDiff:
    """Two runs' differing settings (from their rows' config.json) and best figures."""
    figures = tuple((COLUMNS[k].title, COLUMNS[k].text(a), COLUMNS[k].text(b)) for k in FIGURES)
    return RunDiff(a, b, tuple(diff_settings(a.config, b.config)), figures)
