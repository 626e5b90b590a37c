"""The layout (core/layout.py) of a run's settings: the steps it may take, measured in windows
and multiply-adds, given to the rule with the cores of this machine."""

from __future__ import annotations

from shakespeare_tui.core.config import SIZED, TrainConfig
from shakespeare_tui.core.device import cpu_threads
from shakespeare_tui.core.layout import Layout, choose_layout
from shakespeare_tui.core.model.estimate import work_per_char
from shakespeare_tui.core.sizing import ladder
from shakespeare_tui.core.sizing.rule import rung_config


def run_steps(config: TrainConfig) -> list[tuple[int, float]]:
    """(windows, multiply-adds) of a step of this run; of each size of the ladder for a run
    that is sized when it starts (any of them may be chosen)."""
    configs = [config]
    if config.preset == SIZED and not config.sizing:
        configs = [rung_config(config, rung) for rung in ladder.LADDER]
    return [(c.batch_size, work_per_char(c.model) * c.batch_size * c.seq_len) for c in configs]


def run_layout(
    config: TrainConfig,
    device_type: str,
    *,
    processes: int | None = None,
) -> Layout:
    """How this run uses the machine: `processes` as --nproc gives it, `config.threads` as
    --threads does; otherwise the rule's choice for its steps on this machine's cores."""
    return choose_layout(
        cpu_threads(),
        device_type=device_type,
        steps=run_steps(config),
        threads=config.threads,
        processes=processes,
    )
