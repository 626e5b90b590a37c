"""`shakespeare-tui queue --cells`: a basic RNN, a GRU and an LSTM of equal parameter counts
(within 5%) and one recipe, each trained on the same characters, queued together and trained;
its flags refused in one line where they do not belong."""

from __future__ import annotations

import pytest

from shakespeare_tui.cli import EXIT_OK
from shakespeare_tui.core.runs.folders import read_json, read_metrics
from shakespeare_tui.core.runs.run_queue import DONE, WAITING, RunQueue
from tests.cli_support import assert_one_line_error, cli, wide_console  # noqa: F401

pytestmark = [pytest.mark.usefixtures("wide_console"), pytest.mark.heavy(15)]


def test_queue_cells_trains_three_cells_of_equal_size_and_one_recipe(
    capsys, paths, corpus_file, monkeypatch
):
    monkeypatch.setenv("SHAKESPEARE_TUI_BF16", "off")  # the same numbers on every CPU
    code, out, err = cli(capsys, "--data-dir", paths.data, "queue", "--cells", "--max-minutes",
                         "0.01", "--corpus", corpus_file, "--quiet")  # fmt: skip
    assert code == EXIT_OK, err
    assert "timing the LSTM here for a second…" in out
    assert "timed the LSTM (E96/H512, 16 × 100 windows) here for 1 s: " in out
    assert "queued 3 runs: cells-rnn, cells-gru, cells-lstm" in out
    assert "queue done: 3 done" in out
    queue = RunQueue.load(paths.data)
    assert [(e.run, e.state) for e in queue.entries] == [
        ("cells-rnn", DONE), ("cells-gru", DONE), ("cells-lstm", DONE)]  # fmt: skip
    configs = [read_json(paths.runs / e.run / "config.json") for e in queue.entries]
    counts = [c["parameters"] for c in configs]
    assert all(abs(n - counts[-1]) / counts[-1] <= 0.05 for n in counts), counts
    assert [c["train"]["model"]["cell"] for c in configs] == ["rnn", "gru", "lstm"]
    recipes = []
    for c in configs:
        train = c["train"]
        model = {k: v for k, v in train["model"].items() if k not in ("cell", "hidden")}
        rest = {k: v for k, v in train.items() if k != "model"}
        recipes.append((model, rest))
    assert all(r == recipes[0] for r in recipes), "one recipe: only the cell and its size differ"
    assert recipes[0][1]["max_minutes"] is None and recipes[0][1]["preset"] == "custom"
    steps = {e.run: max(r["step"] for r in read_metrics(paths.runs / e.run) if "step" in r)
             for e in queue.entries}  # fmt: skip
    assert len(set(steps.values())) == 1, f"each sees the same characters: {steps}"
    assert set(steps.values()) == {recipes[0][1]["max_steps"]}


def test_a_second_comparison_gets_names_of_its_own_and_add_only_queues(
    capsys, paths, corpus_file, monkeypatch
):
    monkeypatch.setenv("SHAKESPEARE_TUI_BF16", "off")
    for _ in range(2):
        code, out, err = cli(capsys, "--data-dir", paths.data, "queue", "--cells", "--add",
                             "--corpus", corpus_file)  # fmt: skip
        assert code == EXIT_OK, err
    assert "queued 3 runs: cells-2-rnn, cells-2-gru, cells-2-lstm" in out
    queue = RunQueue.load(paths.data)
    assert [e.state for e in queue.entries] == [WAITING] * 6
    assert not any(paths.runs.iterdir()), "--add trains nothing"
    for group in (queue.entries[:3], queue.entries[3:]):
        assert len({e.settings["max_steps"] for e in group}) == 1
    assert all(e.settings["max_minutes"] is None for e in queue.entries)
    code, _, err = cli(capsys, "--data-dir", paths.data, "queue", "--cells", "--add",
                       "--name", "cells", "--corpus", corpus_file)  # fmt: skip
    assert_one_line_error(code, err, "--name cells", "already exists or is queued")
    assert len(RunQueue.load(paths.data).entries) == 6, "nothing queued after a refusal"


def test_the_cells_flags_are_refused_where_they_do_not_belong(capsys, paths, tmp_path):
    data = ["--data-dir", paths.data, "queue"]
    code, out, err = cli(capsys, *data, "--cells", "--max-minutes", "0")
    assert_one_line_error(code, err, "--max-minutes must be more than 0")
    assert "timing" not in out, "refused before anything is timed"
    code, _, err = cli(capsys, *data, "--max-minutes", "3")
    assert_one_line_error(code, err, "--max-minutes goes with --cells")
    code, _, err = cli(capsys, *data, "--corpus", "plays", "--add")
    assert_one_line_error(code, err, "--corpus goes with --cells")
    code, _, err = cli(capsys, *data, tmp_path / "q.toml", "--cells")
    assert_one_line_error(code, err, "--cells queues its own runs")
    code, _, err = cli(capsys, *data, "--cells", "--name", "no/slash")
    assert_one_line_error(code, err, "run name")
    code, _, err = cli(capsys, *data, "--cells", "--corpus", tmp_path / "missing.txt")
    assert_one_line_error(code, err, "missing.txt")
    assert not RunQueue.load(paths.data).entries
