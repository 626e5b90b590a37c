"""Tiny checkpoints for the Inspect view's Memory tab and comparison tests: seeded weights (no
training, so nothing random and nothing slow), saved as the best.pt of run folders the
checkpoint picker lists, measured with settings that take a blink (bf16 off)."""

from __future__ import annotations

from pathlib import Path

import torch

from shakespeare_tui.core.config import ModelConfig
from shakespeare_tui.core.inspection.memory.report import MemorySettings
from shakespeare_tui.core.model.checkpoint import build_payload, save_checkpoint
from shakespeare_tui.core.model.network import CharRNN
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.text.corpus import checksum_of
from shakespeare_tui.core.text.vocab import Vocabulary
from tests.app.harness import ViewApp
from tests.app.inspect_fixtures import checkpoint_app
from tests.core.run_folders import make_run

# 50 targets over the corpus's held-out 2,000 characters, the heat 32 characters back.
MEMORY_SETTINGS = MemorySettings(targets=50, span=32, curve_targets=10, bf16=False)
MEMORY_LENGTH = 2_000


def make_checkpoint(
    paths: Paths,
    name: str,
    corpus: Path,
    *,
    cell: str = "lstm",
    layers: int = 1,
    hidden: int = 16,
    seed: int = 0,
    vocab_text: str | None = None,
) -> Path:
    """runs/`name`/best.pt: a CharRNN E8/H`hidden` on `corpus` (its vocabulary from
    `vocab_text`, default the corpus), weights seeded and scaled up so it remembers a little."""
    text = Path(corpus).read_text(encoding="utf-8")
    vocab = Vocabulary.from_text(vocab_text if vocab_text is not None else text)
    torch.manual_seed(seed)
    config = ModelConfig(
        vocab_size=len(vocab), cell=cell, embed=8, hidden=hidden, layers=layers, dropout=0.0
    )
    model = CharRNN(config).eval()
    with torch.no_grad():
        for weight, p in model.rnn.named_parameters():
            if weight.startswith("weight"):
                p.mul_(3.0)
    folder = make_run(paths.runs, name, cell=cell, hidden=hidden, corpus=str(corpus))
    payload = build_payload(
        kind="best",
        model=model,
        vocab=vocab,
        train_config={"corpus": str(corpus), "val_fraction": 0.1},
        progress={"epoch": 1, "step": 10},
        history=[],
        corpus={"name": str(corpus), "checksum": checksum_of(text), "chars": len(text)},
        val_loss=2.0,
        device="cpu",
        resume=None,
    )
    payload["created"] = "2026-12-01T10:00:00+00:00"  # the picker shows it: no clock in it
    save_checkpoint(folder / "best.pt", payload)
    return folder / "best.pt"


def MemoryApp(
    paths: Paths,
    checkpoint: Path,
    text: str,
    title: str = "tiny",
    settings: MemorySettings = MEMORY_SETTINGS,
) -> ViewApp:
    """The Inspect view on one checkpoint and text (`title` names both), measuring memory with
    `settings`."""
    options = {"memory_settings": settings, "memory_length": MEMORY_LENGTH}
    return checkpoint_app(paths, checkpoint, text, title, app_title=title, **options)
