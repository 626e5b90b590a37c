"""`train --max-minutes M` with no size given: the model is sized to the budget, and says so."""

from __future__ import annotations

import json

import pytest

from shakespeare_tui.core.sizing import ladder as size_ladder
from shakespeare_tui.core.sizing.ladder import Rung
from tests.cli_support import cli

LADDER = (
    Rung("a", 8, 16, 1, 0.0, batch_size=4, seq_len=16, lr=1e-2, warmup_steps=0),
    Rung("b", 12, 24, 1, 0.1, batch_size=4, seq_len=16, lr=1e-2, warmup_steps=0),
)
QUALITY = {"a": ((1e4, 3.0), (1e5, 2.6)), "b": ((1e4, 3.1), (1e5, 2.5))}


@pytest.fixture(autouse=True)
def tiny_ladder(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.setattr(size_ladder, "LADDER", LADDER)
    monkeypatch.setattr(size_ladder, "QUALITY", QUALITY)


def test_a_budget_alone_sizes_the_model_and_the_run_says_how(capsys, corpus_file, tmp_path):
    code, out, err = cli(
        capsys, "train", "--corpus", corpus_file, "--max-minutes", "0.5", "--max-steps", "5",
        "--threads", "1", "--no-bf16", "--quiet", "--name", "s", "--data-dir", tmp_path,
    )  # fmt: skip
    assert code == 0, err
    assert "sizing the model for 0.5 min" in out
    reason = next(line for line in out.splitlines() if line.startswith("sized for 0.5 min"))
    assert "chars/s on this machine" in reason and "expected val" in reason
    train = json.loads((tmp_path / "runs" / "s" / "config.json").read_text())["train"]
    assert train["preset"] == "sized" and train["sizing"]["chosen"] in ("a", "b")
    assert train["preset_reason"] == reason

    # The run lists as sized, and repeating the command to resume it is accepted.
    code, out, err = cli(capsys, "runs", "--json", "--data-dir", tmp_path)
    assert code == 0 and '"preset": "sized"' in out
    code, out, err = cli(
        capsys, "train", "--resume", "s", "--max-minutes", "0.5", "--max-steps", "8",
        "--quiet", "--data-dir", tmp_path,
    )  # fmt: skip
    assert code == 0, err
    assert "sizing the model" not in out


def test_a_preset_or_a_size_given_is_not_sized(capsys, corpus_file, tmp_path):
    for extra in (["--preset", "tiny"], ["--preset", "custom", "--hidden", "16", "--embed", "8"]):
        code, out, err = cli(
            capsys, "train", "--corpus", corpus_file, "--max-minutes", "0.05", "--max-steps",
            "2", "--threads", "1", "--no-bf16", "--quiet", "--data-dir", tmp_path, *extra,
        )  # fmt: skip
        assert code == 0, err
        assert "sizing the model" not in out
