"""A checkpoint's memory: measured over its held-out text, kept in the cache under its sha256
and read back instantly, never trusted when the file is damaged; the n-gram baseline from its
own corpus (core/inspection/memory/report.py)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest

from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.inspection.memory import report as memory_report
from shakespeare_tui.core.inspection.memory.report import (
    CheckpointMemory,
    MemorySettings,
    MemoryText,
    cached_memory,
    measure_checkpoint,
    ngram_baseline,
)
from shakespeare_tui.core.model.checkpoint import load_checkpoint

SETTINGS = MemorySettings(targets=100, span=40, curve_targets=20, bf16=False)


@pytest.fixture
def checkpoint(trained_run, tmp_path):
    """The tiny trained run's best checkpoint, copied (its sha256 is what the cache keys on)."""
    _, finished, _ = trained_run
    path = tmp_path / "best.pt"
    shutil.copy(finished.best_checkpoint, path)
    return load_checkpoint(path)


@pytest.fixture
def text(checkpoint, paths):
    return MemoryText.held_out(checkpoint.payload, paths.cache, length=2_000)


def test_a_checkpoint_is_measured_on_its_held_out_text(checkpoint, text, paths):
    assert "held out from training" in text.source and len(text.text) <= 2_000
    memory = measure_checkpoint(checkpoint, text, SETTINGS, paths.cache, name="trained")
    assert (memory.name, memory.cell, memory.summary) == ("trained", "lstm", "LSTM E16/H32")
    assert memory.params == checkpoint.model_config.parameter_count()
    assert memory.context.contexts == (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
    assert memory.context.targets == 100 and memory.connectivity.targets == 20
    assert len(memory.connectivity.grad) == 40
    assert memory.effective_context in memory.context.contexts
    assert CheckpointMemory.from_dict(json.loads(json.dumps(memory.to_dict()))) == memory


def test_the_second_look_comes_from_the_cache(checkpoint, text, paths, monkeypatch):
    assert cached_memory(checkpoint.path, text, SETTINGS, paths.cache) is None
    first = measure_checkpoint(checkpoint, text, SETTINGS, paths.cache, name="trained")
    assert cached_memory(checkpoint.path, text, SETTINGS, paths.cache) == first

    def no_measuring(*args, **kwargs):
        raise AssertionError("measured again")

    monkeypatch.setattr(memory_report, "measure_model", no_measuring)
    again = measure_checkpoint(checkpoint, text, SETTINGS, paths.cache, name="renamed")
    assert again.context == first.context and again.name == "renamed"
    with pytest.raises(AssertionError, match="measured again"):  # other settings: not cached
        measure_checkpoint(
            checkpoint, text, MemorySettings(targets=50, span=40, bf16=False), paths.cache
        )


def test_bf16_left_unset_follows_the_machine(checkpoint, text, paths, monkeypatch):
    unset = replace(SETTINGS, bf16=None)
    monkeypatch.setenv("SHAKESPEARE_TUI_BF16", "off")
    off = measure_checkpoint(checkpoint, text, unset, paths.cache)
    assert off.bf16 is False
    assert cached_memory(checkpoint.path, text, SETTINGS, paths.cache) == off
    monkeypatch.setenv("SHAKESPEARE_TUI_BF16", "on")
    on = measure_checkpoint(checkpoint, text, unset, paths.cache)
    assert on.bf16 is True
    assert on.context.loss_all == pytest.approx(off.context.loss_all, rel=0.01)


@pytest.mark.parametrize("damage", ["torn", "other key", "not json", "wrong shape"])
def test_a_damaged_cache_file_is_measured_again(checkpoint, text, paths, damage):
    first = measure_checkpoint(checkpoint, text, SETTINGS, paths.cache)
    (path,) = (paths.cache / "memory").glob("*.json")
    document = json.loads(path.read_text())
    if damage == "torn":
        path.write_text(path.read_text()[:100])
    elif damage == "other key":
        document["key"]["text"] = "0" * 64
        path.write_text(json.dumps(document))
    elif damage == "not json":
        path.write_bytes(b"\x00\x01")
    else:
        document["memory"]["context"] = document["memory"]["context"][:-1]  # no "all"
        path.write_text(json.dumps(document))
    assert cached_memory(checkpoint.path, text, SETTINGS, paths.cache) is None
    assert measure_checkpoint(checkpoint, text, SETTINGS, paths.cache) == first
    assert cached_memory(checkpoint.path, text, SETTINGS, paths.cache) == first  # rewritten


def test_the_ngram_baseline_counts_the_checkpoints_own_training_text(checkpoint, text, paths):
    curve, why = ngram_baseline(checkpoint.payload, checkpoint.vocab, text, SETTINGS, paths.cache)
    assert why == "" and curve.contexts == tuple(range(9))
    assert curve.loss[0] > curve.loss[4]
    assert list((paths.cache / "memory").glob("ngram-*.npz"))


def test_without_its_corpus_there_is_no_baseline_and_a_note_says_why(checkpoint, text, paths):
    payload = dict(checkpoint.payload, train_config={"corpus": "/nowhere/gone.txt"})
    curve, why = ngram_baseline(payload, checkpoint.vocab, text, SETTINGS, paths.cache)
    assert (
        curve is None
        and why == "no n-gram baseline: the checkpoint's corpus /nowhere/gone.txt no longer exists"
    )


def test_a_text_the_model_cannot_read_or_too_short_is_refused_in_one_line(
    checkpoint, paths, tmp_path
):
    odd = tmp_path / "odd.txt"
    odd.write_text("Shall I compare thee → to a summer's day? ☀\n" * 40, encoding="utf-8")
    with pytest.raises(UserError, match=r"^the text has characters trained never saw: '→', '☀'$"):
        measure_checkpoint(
            checkpoint, MemoryText.from_file(odd), SETTINGS, paths.cache, name="trained"
        )
    short = tmp_path / "short.txt"
    short.write_text("Shall I compare thee to a summer's day?\n" * 15, encoding="utf-8")
    with pytest.raises(UserError, match="too few for targets 100"):
        measure_checkpoint(checkpoint, MemoryText.from_file(short), SETTINGS, paths.cache)


def test_a_file_is_read_whole_or_its_first_characters(tmp_path):
    path = tmp_path / "verse.txt"
    path.write_text("abc\n" * 500, encoding="utf-8")
    whole = MemoryText.from_file(path)
    assert len(whole.text) == 2_000 and whole.source.endswith("(2,000 characters)")
    first = MemoryText.from_file(path, length=600)
    assert first.text == "abc\n" * 150 and first.source.startswith("the first 600 characters")
