"""The three cells planned for a fair comparison: equal parameters, one recipe, equal characters."""

from __future__ import annotations

import pytest

from shakespeare_tui.core.config import build_config
from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.sizing.cell_comparison import hidden_for, parameters, plan_cells


@pytest.mark.parametrize("vocab", [30, 65, 80, 200])
def test_the_three_cells_have_parameter_counts_within_5_percent(vocab):
    plan = plan_cells(vocab_size=vocab, lstm_chars_per_s=10_000, minutes=2)
    counts = {r.cell: r.parameters for r in plan.runs}
    assert [r.cell for r in plan.runs] == ["rnn", "gru", "lstm"]
    lstm = counts["lstm"]
    for cell, count in counts.items():
        assert abs(count - lstm) / lstm <= 0.05, (cell, count, lstm)


def test_only_the_cell_and_its_hidden_size_differ_and_each_sees_the_same_characters():
    plan = plan_cells(vocab_size=65, lstm_chars_per_s=12_000, minutes=3, prefix="x",
                      settings={"corpus": "tiny.txt", "threads": 1})  # fmt: skip
    differing = {"cell", "hidden"}
    first = plan.runs[0].settings
    for run in plan.runs[1:]:
        assert {k for k in first if first[k] != run.settings[k]} <= differing
    configs = [build_config("custom", "cpu", r.settings) for r in plan.runs]
    assert {c.max_steps * c.batch_size * c.seq_len for c in configs} == {plan.characters}
    # 3 minutes at 12,000 chars/s in windows of 16 × 100
    assert plan.steps == round(3 * 60 * 12_000 / 1600)
    assert all(c.preset == "custom" and c.corpus == "tiny.txt" for c in configs)
    assert all(c.max_minutes is None for c in configs)  # never re-sized by a time budget
    assert [r.run for r in plan.runs] == ["x-rnn", "x-gru", "x-lstm"]
    assert "1.3 M parameters" in plan.reason and "each" in plan.reason


def test_hidden_for_is_the_nearest_count():
    target = parameters("lstm", 512, 80, 96, 1)
    h = hidden_for("rnn", target, 80, 96, 1)
    best = abs(parameters("rnn", h, 80, 96, 1) - target)
    assert best <= abs(parameters("rnn", h + 1, 80, 96, 1) - target)
    assert best <= abs(parameters("rnn", h - 1, 80, 96, 1) - target)


def test_no_budget_is_refused_in_the_words_of_the_field():
    with pytest.raises(UserError) as info:
        plan_cells(vocab_size=65, lstm_chars_per_s=10_000, minutes=0)
    assert (
        info.value.worded(lambda n: "--" + n.replace("_", "-"))
        == "--max-minutes must be more than 0"
    )
