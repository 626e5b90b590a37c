"""SVG snapshot of the Generate view after a generation.

The checkpoint is built, not trained, so the picture is the same on every machine: all weights
are zero except the output bias, set to the log-frequency of each character in a sonnet, so
the model samples characters by their frequency with exactly representable arithmetic. Its
creation date and the run's are fixed, and the picker never shows the data dir's path.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest

from shakespeare_tui.core.paths import Paths
from shakespeare_tui.settings import GenerateSettings
from tests.app.generate_fixtures import generate_app
from tests.app.harness import ViewApp, settle

SONNET = """Shall I compare thee to a summer's day?
Thou art more lovely and more temperate:
Rough winds do shake the darling buds of May,
And summer's lease hath all too short a date;
"""
CREATED = "2026-01-01T12:00:00+00:00"


def build_checkpoint(home: Path) -> Path:
    import torch

    from shakespeare_tui.core.config import ModelConfig
    from shakespeare_tui.core.model.checkpoint import build_payload, save_checkpoint
    from shakespeare_tui.core.model.network import CharRNN
    from shakespeare_tui.core.text.vocab import Vocabulary

    vocab = Vocabulary.from_text(SONNET)
    config = ModelConfig(vocab_size=len(vocab), embed=4, hidden=8)
    model = CharRNN(config)
    counts = Counter(SONNET)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()
        model.head.bias.copy_(torch.tensor([math.log(counts[c]) for c in vocab.chars]))
    payload = build_payload(
        kind="best",
        model=model,
        vocab=vocab,
        train_config={},
        progress={"epoch": 3, "step": 120},
        history=[],
        corpus={"name": "sonnet"},
        val_loss=2.5,
        device="cpu",
        resume=None,
    )
    payload["created"] = CREATED
    run = home / "runs" / "sonnet"
    run.mkdir(parents=True)
    save_checkpoint(run / "best.pt", payload)
    train = {"corpus": "sonnet", "preset": "tiny", "model": dict(vars(config))}
    (run / "config.json").write_text(json.dumps({"train": train, "created": CREATED}))
    return run / "best.pt"


@pytest.fixture
def app(tmp_path, no_bundled) -> ViewApp:
    # (no_bundled: the installed bundled checkpoint changes when it is retrained: leave it out.)
    paths = Paths.resolve(tmp_path).ensure()
    build_checkpoint(tmp_path)
    settings = GenerateSettings(
        temperature=1.0,
        length=700,
        prompt="Shall I",
        seed="42",
        colour_by_probability=True,
    )
    return generate_app(paths, settings, title="shakespeare-tui")


async def _generate(pilot) -> None:
    await settle(pilot)
    await pilot.press("g")
    await settle(pilot)


def test_generate_view_after_a_generation(snap_compare, app):
    assert snap_compare(app, terminal_size=(120, 40), run_before=_generate)


def test_generate_view_after_a_generation_at_80x24(snap_compare, app):
    assert snap_compare(app, terminal_size=(80, 24), run_before=_generate)
