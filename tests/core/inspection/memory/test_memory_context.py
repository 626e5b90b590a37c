"""The context curve: its windows and its "all" pass equal the plain computations, its targets
are reproducible, its effective context is as documented, and a model whose memory is known
shows it (core/inspection/memory/)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from shakespeare_tui.core.errors import FieldError, UserError, flag_name
from shakespeare_tui.core.inspection.memory import reader as memory_reader
from shakespeare_tui.core.inspection.memory.context import ContextCurve
from shakespeare_tui.core.inspection.memory.events import MemoryProgress, MemoryStopped
from shakespeare_tui.core.inspection.memory.measure import measure_model
from shakespeare_tui.core.inspection.memory.reader import window_plan
from shakespeare_tui.core.inspection.memory.targets import CONTEXTS, choose_targets
from tests.core.inspection.memory.memory_models import (
    TASK_VOCAB,
    direct_losses,
    hand_set_recall_model,
    random_codes,
    recall_text,
    tiny_model,
)

SHORT = (1, 2, 4, 8, 16, 32, 64)  # the curve's k up to 64: tiny models, short texts


def measure(model, codes, count=40, contexts=SHORT, **kw):
    targets = choose_targets(len(codes), count, min_context=max(contexts), seed=3)
    kw.setdefault("span", 8)
    kw.setdefault("curve_targets", 4)
    return targets, measure_model(model, codes, targets, contexts=contexts, **kw)


@pytest.mark.parametrize(("cell", "layers"), [("lstm", 1), ("gru", 2), ("rnn", 1), ("lstm", 2)])
def test_each_k_equals_the_windows_read_directly_and_all_the_whole_text(cell, layers):
    model = tiny_model(cell, layers, dropout=0.3 if layers > 1 else 0.0)
    codes = random_codes(7_000)  # three pieces side by side in the whole-text pass
    targets, memory = measure(model, codes)
    curve = memory.context
    assert curve.contexts == SHORT and curve.targets == 40
    for k, loss in zip(curve.contexts, curve.loss, strict=True):
        assert loss == pytest.approx(
            direct_losses(model, codes, targets.positions, k).mean(), rel=1e-6
        )
    whole = direct_losses(model, codes, targets.positions, None)
    assert curve.loss_all == pytest.approx(whole.mean(), rel=1e-6)


def test_a_burn_in_too_short_for_the_model_is_caught_and_the_pieces_run_again(monkeypatch):
    monkeypatch.setattr(memory_reader, "BURN_IN", 1)  # every piece starts far from its true state
    model = tiny_model("lstm")
    codes = random_codes(7_000, seed=1)
    targets, memory = measure(model, codes, count=30)
    whole = direct_losses(model, codes, targets.positions, None)
    assert memory.context.loss_all == pytest.approx(whole.mean(), rel=1e-6)


def recall_codes(gap: int) -> np.ndarray:
    text = recall_text(blocks=2_400 // (gap + 2), gap=gap, seed=5)
    return np.array([TASK_VOCAB.index(c) for c in text], dtype=np.uint8)


def test_the_hand_set_lstm_uses_exactly_the_gap_and_the_basic_rnn_much_less():
    """The recall task: the key comes back `gap` characters after it was read. The LSTM that
    keeps its key reaches its whole-text loss at k = 16 and not before (8 characters cannot
    see the key); the basic RNN, whose memory fades in three characters, recalls a key three
    back (effective context 4) but not sixteen, and gains nothing from context there."""
    codes = recall_codes(gap=16)
    lstm = measure(hand_set_recall_model("lstm"), codes, count=300)[1].context
    rnn = measure(hand_set_recall_model("rnn"), codes, count=300)[1].context
    assert lstm.effective_context() == 16
    by_k = dict(zip(lstm.contexts, lstm.loss, strict=True))
    assert by_k[8] > 1.05 * lstm.loss_all and by_k[16] == pytest.approx(lstm.loss_all, abs=1e-4)
    assert rnn.effective_context() == 1
    assert rnn.loss_all > lstm.loss_all + 0.1  # the RNN pays for every recall it misses

    near = measure(hand_set_recall_model("rnn"), recall_codes(gap=3), count=300)[1].context
    assert near.effective_context() == 4
    assert near.loss_all < near.loss[0] - 0.1


def test_the_curve_of_a_trained_model_does_not_rise_with_k(trained_run):
    """A trained model does at least as well with more to read: each k's loss is at most the
    shortest window's before it plus 0.02 nats (sampling noise over 200 targets)."""
    from shakespeare_tui.core.model.checkpoint import load_checkpoint
    from shakespeare_tui.core.text.passages import held_out_passage

    paths, finished, _ = trained_run
    checkpoint = load_checkpoint(finished.best_checkpoint)
    text = held_out_passage(checkpoint.payload, paths.cache, 2_000).text
    codes = checkpoint.vocab.encode(text)
    contexts = (1, 2, 4, 8, 16, 32, 64, 128)
    _, memory = measure(checkpoint.model, codes, count=200, contexts=contexts)
    loss = memory.context.loss
    for i in range(1, len(loss)):
        assert loss[i] <= min(loss[:i]) + 0.02, memory.context
    assert memory.context.loss_all <= min(loss) + 0.02
    assert loss[-1] < loss[0] - 0.3  # and it did learn something from context


def test_bf16_gives_the_same_curve_within_a_percent():
    model = tiny_model("lstm")
    codes = random_codes(3_000, seed=2)
    _, fp32 = measure(model, codes, contexts=(1, 4, 16))
    _, bf16 = measure(model, codes, contexts=(1, 4, 16), bf16=True)
    for a, b in zip(fp32.context.loss, bf16.context.loss, strict=True):
        assert b == pytest.approx(a, rel=0.01)
    assert bf16.context.loss_all == pytest.approx(fp32.context.loss_all, rel=0.01)


def test_progress_events_come_stage_by_stage_and_a_stop_ends_it():
    model = tiny_model("gru")
    codes = random_codes(3_000, seed=4)
    events: list[MemoryProgress] = []
    measure(model, codes, on_event=events.append, name="tiny")
    stages = [e.stage for e in events if e.done == 1.0]
    assert stages == ["context", "whole text", "connectivity"]
    assert all(0 <= e.done <= 1 and e.checkpoint == "tiny" for e in events)
    assert events[0].summary().startswith("tiny: reading the last k characters")

    stop = threading.Event()

    def stop_at_first(event: MemoryProgress) -> None:
        stop.set()

    with pytest.raises(MemoryStopped):
        measure(model, codes, on_event=stop_at_first, stop=stop)


def test_targets_are_reproducible_spread_and_cheap_to_read():
    a = choose_targets(100_000, 1_000)
    b = choose_targets(100_000, 1_000)
    assert np.array_equal(a.positions, b.positions) and len(a) == 1_000
    assert a.positions.min() >= 512 and np.all(np.diff(a.positions) > 0)
    assert (a.stride, a.stretches) == (32, 10)
    assert not np.array_equal(a.positions, choose_targets(100_000, 1_000, seed=1).positions)
    # the stretches spread over the whole text, one in each tenth
    tenths = (a.positions - 512) * 10 // (100_000 - 512)
    assert set(tenths.tolist()) == set(range(10))
    # Sharing runs: under 0.6 of the 1,023 characters per target that separate windows read.
    _, lengths, _ = window_plan(a.positions, CONTEXTS)
    assert lengths.sum() < 0.6 * 1_023 * 1_000


def test_a_short_text_takes_a_denser_stride_and_too_short_a_one_is_refused():
    dense = choose_targets(2_000, 1_000)
    assert dense.stride == 1 and dense.positions.min() >= 512 and len(dense) == 1_000
    with pytest.raises(UserError) as refused:
        choose_targets(1_000, 1_000)
    assert refused.value.worded(flag_name).startswith(
        "the text has 1,000 characters, too few for --targets 1,000"
    )
    with pytest.raises(FieldError) as zero:
        choose_targets(10_000, 0)
    assert zero.value.worded(flag_name) == "--targets must be at least 1"


def test_the_effective_context_is_the_first_k_within_two_percent_of_all():
    curve = ContextCurve((1, 2, 4, 8), (3.0, 1.5, 1.021, 1.019), loss_all=1.0, targets=10)
    assert curve.effective_context() == 8  # 1.021 is 2.1% above 1.0; 1.019 is within
    assert curve.effective_context(tolerance=0.05) == 4
    assert ContextCurve((1, 2), (3.0, 2.0), 1.0, 10).effective_context() is None
    assert curve.bits[0] == pytest.approx(3.0 / np.log(2))
    assert ContextCurve.from_dict(curve.as_dict(), 10) == curve
    assert curve.as_dict()[-1] == {"k": "all", "loss": 1.0}
