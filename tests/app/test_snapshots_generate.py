"""SVG snapshot of the Generate view after a generation.

The checkpoint is built, not trained, so the picture is the same on every machine: all weights
are zero except the output bias, set to the log-frequency of each character in a sonnet, so
the model samples characters by their frequency with exactly representable arithmetic. Its
creation date and the run's are fixed, and the picker never shows the data dir's path.
"""

from __future__ import annotations

import json
import math
import sys
from collections import Counter
from pathlib import Path

import pytest
from textual.app import App

from shakespeare_tui.app import ShakespeareApp
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.settings import GenerateSettings
from shakespeare_tui.views.generate.screen import GenerateScreen

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


APP_CSS = str(Path(sys.modules[ShakespeareApp.__module__].__file__).with_name("app.tcss"))


class GenerateApp(App):
    TITLE = "shakespeare-tui"
    CSS_PATH = APP_CSS  # the app's one stylesheet: the view's layout lives there

    def __init__(self, paths: Paths, settings: GenerateSettings) -> None:
        super().__init__()
        self.paths, self.settings = paths, settings

    def on_mount(self) -> None:
        self.push_screen(GenerateScreen(self.paths, self.settings))


@pytest.fixture
def app(tmp_path, monkeypatch) -> GenerateApp:
    from shakespeare_tui.core.runs import folders as core_runs

    # The installed bundled checkpoint changes when it is retrained: leave it out.
    monkeypatch.setattr(core_runs, "bundled_checkpoint", lambda: tmp_path / "none.pt")
    paths = Paths.resolve(tmp_path).ensure()
    build_checkpoint(tmp_path)
    settings = GenerateSettings(
        temperature=1.0,
        length=700,
        prompt="Shall I",
        seed="42",
        colour_by_probability=True,
    )
    return GenerateApp(paths, settings)


async def _generate(pilot) -> None:
    from textual.worker import WorkerCancelled, WorkerFailed

    async def settle():
        for _ in range(3):
            try:
                await pilot.app.workers.wait_for_complete()
            except (WorkerCancelled, WorkerFailed):
                pass
            await pilot.pause()

    await settle()
    await pilot.press("g")
    await settle()


def test_generate_view_after_a_generation(snap_compare, app):
    assert snap_compare(app, terminal_size=(120, 40), run_before=_generate)


def test_generate_view_after_a_generation_at_80x24(snap_compare, app):
    assert snap_compare(app, terminal_size=(80, 24), run_before=_generate)
