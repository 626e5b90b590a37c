"""Several runs' memories over one shared text (core/inspection/run_memories.py): each run on
its best checkpoint, the n-gram of the first run's corpus, a second look that reads nothing,
and a run that cannot be measured said in one line."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from shakespeare_tui.core.inspection import run_memories
from shakespeare_tui.core.inspection.memory.report import MemorySettings
from shakespeare_tui.core.inspection.run_memories import (
    NO_CHECKPOINT,
    TRAINING,
    Baseline,
    Found,
    RunMemories,
    RunToMeasure,
)
from shakespeare_tui.core.model.checkpoint import load_checkpoint
from tests.core.run_folders import make_run

SETTINGS = MemorySettings(targets=200, span=40, curve_targets=20, bf16=False)


def copy_run(source: Path, runs: Path, name: str) -> Path:
    folder = runs / name
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns(".lock"))
    return folder


@pytest.fixture
def two_runs(trained_run, rnn_run, paths):
    """An LSTM and a basic RNN trained on the same corpus, as run folders of `paths`."""
    lstm = copy_run(trained_run[0].runs / "trained", paths.runs, "lstm-a")
    rnn = copy_run(Path(rnn_run.run_dir), paths.runs, "rnn-b")
    return lstm, rnn


def measured(memories, runs, **kw) -> list:
    out: list = []
    memories.measure(runs, found=out.append, **kw)
    return out


def test_each_run_on_its_best_checkpoint_over_the_first_runs_held_out_text(two_runs, paths):
    lstm, rnn = two_runs
    events = []
    out = measured(RunMemories(paths.cache, SETTINGS, length=2_000),
                   [RunToMeasure("lstm-a", lstm), RunToMeasure("rnn-b", rnn)],
                   on_event=events.append)  # fmt: skip
    first, second, baseline = out
    assert (first.name, first.memory.cell, first.note) == ("lstm-a", "lstm", "")
    assert (second.name, second.memory.cell) == ("rnn-b", "rnn")
    assert first.memory.sha256 != second.memory.sha256
    assert first.memory.context.targets == second.memory.context.targets == 200
    assert isinstance(baseline, Baseline) and baseline.curve is not None
    assert baseline.curve.contexts == tuple(range(9)) and baseline.targets == 200
    assert "held out from training" in baseline.source
    assert {e.checkpoint for e in events} >= {"lstm-a", "rnn-b"}, "progress names each run"
    # Measured on the best checkpoint: the same figures as measuring best.pt directly.
    from shakespeare_tui.core.inspection.memory.report import MemoryText, measure_checkpoint

    best = load_checkpoint(lstm / "best.pt")
    text = MemoryText.held_out(best.payload, paths.cache, 2_000)
    direct = measure_checkpoint(best, text, SETTINGS, paths.cache, name="lstm-a")
    assert direct == first.memory


def test_a_second_look_reads_no_checkpoint_and_measures_nothing(two_runs, paths, monkeypatch):
    lstm, rnn = two_runs
    runs = [RunToMeasure("lstm-a", lstm), RunToMeasure("rnn-b", rnn)]
    memories = RunMemories(paths.cache, SETTINGS, length=2_000)
    first = measured(memories, runs)

    def heavy(*args, **kwargs):
        raise AssertionError("read or measured again")

    for name in ("load_checkpoint", "measure_checkpoint", "ngram_baseline"):
        monkeypatch.setattr(run_memories, name, heavy)
    assert measured(memories, runs) == first
    # A checkpoint written again (the run went on) is measured again.
    monkeypatch.undo()
    (lstm / "best.pt").touch()
    calls = []
    real = run_memories.measure_checkpoint
    monkeypatch.setattr(run_memories, "measure_checkpoint",
                        lambda c, *a, **k: calls.append(k["name"]) or real(c, *a, **k))  # fmt: skip
    again = measured(memories, runs)
    assert calls == ["lstm-a"] and again[0].memory == first[0].memory  # same bytes: cached


def test_training_no_checkpoint_and_a_torn_file_each_get_one_line(two_runs, paths):
    lstm, _ = two_runs
    empty = make_run(paths.runs, "empty", records=[])
    torn = copy_run(lstm, paths.runs, "torn")
    (torn / "best.pt").write_bytes((torn / "best.pt").read_bytes()[:200])
    runs = [RunToMeasure("lstm-a", lstm), RunToMeasure("going", lstm, training=True),
            RunToMeasure("empty", empty), RunToMeasure("torn", torn)]  # fmt: skip
    out = {f.name: f for f in measured(RunMemories(paths.cache, SETTINGS, length=2_000), runs)
           if isinstance(f, Found)}  # fmt: skip
    assert out["lstm-a"].memory is not None
    assert (out["going"].memory, out["going"].note) == (None, TRAINING)
    assert (out["empty"].memory, out["empty"].note) == (None, NO_CHECKPOINT)
    assert out["torn"].memory is None and out["torn"].note.startswith("cannot measure: ")
    assert "\n" not in out["torn"].note


def test_no_run_with_a_checkpoint_measures_nothing(paths):
    empty = make_run(paths.runs, "empty", records=[])
    out = measured(RunMemories(paths.cache, SETTINGS), [RunToMeasure("empty", empty, True)])
    assert out == [Found("empty", None, TRAINING)]


def test_a_run_on_another_corpus_is_measured_on_the_shared_text_and_says_so(
    two_runs, paths, tmp_path, corpus_text
):
    from shakespeare_tui.core.training.engine import train
    from tests.conftest import tiny_config

    other = tmp_path / "other.txt"
    other.write_text(corpus_text[::-1].replace("\n", " ") + "\n" + corpus_text)
    config = tiny_config(other, max_steps=5, eval_every=5)
    finished = train(replace(config, model=replace(config.model, cell="gru")), paths,
                     run_name="gru-other")  # fmt: skip
    lstm, _ = two_runs
    runs = [RunToMeasure("lstm-a", lstm), RunToMeasure("gru-other", Path(finished.run_dir))]
    out = measured(RunMemories(paths.cache, SETTINGS, length=2_000), runs)
    assert out[1].memory is not None
    assert out[1].note == "trained on other.txt, measured on sonnets.txt"
    assert out[0].note == "", "the first run's corpus gives the text"
