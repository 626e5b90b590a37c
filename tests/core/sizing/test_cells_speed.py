"""The cells comparison planned here: the LSTM timed as a rung is, the three runs of equal
parameters and one recipe named so none clashes, and bad input refused before any timing."""

from __future__ import annotations

import pytest

from shakespeare_tui.core.config import build_config
from shakespeare_tui.core.errors import CorpusError, UserError
from shakespeare_tui.core.sizing import cells_speed
from shakespeare_tui.core.sizing.cell_comparison import LSTM_HIDDEN, RECIPE
from shakespeare_tui.core.sizing.cells_speed import (
    cells_rung,
    free_prefix,
    lstm_speed,
    plan_here,
)

QUICK = 0.05  # seconds of timed steps: enough for a figure, not for a good one


def test_the_rung_timed_is_the_comparisons_lstm():
    rung = cells_rung()
    assert (rung.embed, rung.hidden, rung.layers) == (RECIPE["embed"], LSTM_HIDDEN, 1)
    assert (rung.batch_size, rung.seq_len, rung.lr) == (16, 100, RECIPE["lr"])


def test_the_lstm_is_timed_with_the_runs_threads_and_bf16():
    speed = lstm_speed(65, {"threads": 1, "bf16": False}, seconds=QUICK)
    assert speed.chars_per_s > 0
    assert speed.device == "CPU · 1 thread" and speed.bf16 is False
    assert "16 × 100 windows" in speed.words()
    assert f"{speed.chars_per_s:,.0f} chars/s on CPU · 1 thread, bf16 off" in speed.words()


def test_plan_here_gives_three_cells_of_one_recipe_and_says_what_it_timed(corpus_file, tmp_path):
    timed = []
    plan = plan_here(str(corpus_file), tmp_path, minutes=0.5, prefix="c",
                     settings={"threads": 1, "bf16": False, "eval_every": 50},
                     seconds=QUICK, on_timing=lambda: timed.append(True))  # fmt: skip
    assert timed == [True]
    assert [r.run for r in plan.runs] == ["c-rnn", "c-gru", "c-lstm"]
    lstm = plan.runs[-1].parameters
    assert all(abs(r.parameters - lstm) / lstm <= 0.05 for r in plan.runs)
    configs = [build_config("custom", "cpu", r.settings) for r in plan.runs]
    recipe = {(c.batch_size, c.seq_len, c.lr, c.schedule, c.model.dropout, c.seed,
               c.model.embed, c.max_steps, c.eval_every, c.threads, c.bf16) for c in configs}  # fmt: skip
    assert len(recipe) == 1, "only the cell and its hidden size differ"
    assert all(c.corpus == str(corpus_file.resolve()) for c in configs)
    assert all(c.max_minutes is None for c in configs), "none re-sized to a time budget"
    assert plan.reason.startswith("timed the LSTM (E96/H512, 16 × 100 windows) here for 0.05 s")
    assert "chars/s on CPU · 1 thread, bf16 off; the three cells at ~" in plan.reason


def test_a_budget_not_above_zero_is_refused_before_the_corpus_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(cells_speed, "lstm_speed", lambda *a, **k: pytest.fail("timed"))
    with pytest.raises(UserError) as info:
        plan_here(str(tmp_path / "missing.txt"), tmp_path, minutes=0)
    assert info.value.worded(lambda n: "--" + n.replace("_", "-")) == (
        "--max-minutes must be more than 0"
    )
    with pytest.raises(CorpusError):  # then the corpus, still before any timing
        plan_here(str(tmp_path / "missing.txt"), tmp_path, minutes=1)


def test_free_prefix_skips_names_taken_by_a_run_or_the_queue(tmp_path):
    assert free_prefix(tmp_path, set()) == "cells"
    (tmp_path / "cells-gru").mkdir()
    assert free_prefix(tmp_path, set()) == "cells-2"
    assert free_prefix(tmp_path, {"cells-2-lstm"}) == "cells-3"
    assert free_prefix(tmp_path, set(), base="mine") == "mine"
