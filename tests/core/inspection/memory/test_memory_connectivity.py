"""Connectivity: each gradient norm agrees with finite differences of the model's own forward
pass, for every cell and layer count with dropout off; a probe at the cursor gives what a
one-off measurement gives (core/inspection/memory/connectivity.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shakespeare_tui.core.inspection.memory.connectivity import (
    ConnectivityProbe,
    connectivity_at,
    gradients,
)
from shakespeare_tui.core.inspection.memory.events import Ticker
from shakespeare_tui.core.inspection.memory.measure import measure_model
from shakespeare_tui.core.inspection.memory.reader import Reader, read_text
from shakespeare_tui.core.inspection.memory.targets import choose_targets
from tests.core.inspection.memory.memory_models import random_codes, tiny_model


def finite_difference(model, codes: np.ndarray, t: int, span: int, eps: float = 1e-5):
    """‖∂ log p(codes[t]) / ∂ e_(t−k)‖ for k = 1 … span by central differences along every
    embedding dimension, the model run in float64 over codes[:t] in one call."""
    copy = type(model)(model.config)
    copy.load_state_dict(model.state_dict())
    copy = copy.double().eval()
    with torch.no_grad():
        x = copy.embed(torch.from_numpy(codes[:t].astype(np.int64)))[None]

        def logp(inputs) -> float:
            out, _ = copy.rnn(inputs)
            return float(torch.log_softmax(copy.head(out[0, -1]), -1)[codes[t]])

        norms = []
        for k in range(1, span + 1):
            squares = 0.0
            for dim in range(x.shape[-1]):
                up, down = x.clone(), x.clone()
                up[0, t - k, dim] += eps
                down[0, t - k, dim] -= eps
                squares += ((logp(up) - logp(down)) / (2 * eps)) ** 2
            norms.append(squares**0.5)
    return np.array(norms)


@pytest.mark.parametrize(
    ("cell", "layers"), [("lstm", 1), ("gru", 1), ("rnn", 1), ("lstm", 2), ("gru", 2)]
)
def test_connectivity_agrees_with_finite_differences(cell, layers):
    model = tiny_model(cell, layers, dropout=0.4 if layers > 1 else 0.0)  # dropout must be off
    codes = random_codes(400, seed=7)
    t, span = 60, 12
    got = np.array(connectivity_at(Reader(model), codes, t, span))
    expected = finite_difference(model, codes, t, span)
    assert got.shape == (span,)
    assert got == pytest.approx(expected, rel=2e-4, abs=1e-7)
    assert expected.max() > 1e-3  # the prediction does depend on what came before


def test_a_batch_of_predictions_gives_each_ones_own_gradients():
    model = tiny_model("lstm")
    codes = random_codes(600, seed=8)
    reader = Reader(model)
    positions = np.array([100, 257, 400, 599])
    span = 20
    start = read_text(reader, codes, positions - span, Ticker("whole text", 1))
    together = gradients(reader, codes, positions, span, start)
    for row, t in zip(together, positions, strict=True):
        assert row == pytest.approx(
            np.array(connectivity_at(reader, codes, int(t), span)), rel=1e-5
        )


def test_the_probe_follows_a_cursor_with_the_one_off_values():
    model = tiny_model("gru", 2)
    codes = random_codes(1_000, seed=9)
    reader = Reader(model)
    probe = ConnectivityProbe(reader, codes, span=30)
    for t in (1, 5, 29, 30, 64, 65, 200, 999):
        near = probe.at(t)
        assert len(near) == min(30, t)
        assert np.array(near) == pytest.approx(
            np.array(connectivity_at(reader, codes, t, 30)), rel=1e-5
        )
    with pytest.raises(ValueError):
        probe.at(0)
    with pytest.raises(ValueError):
        probe.at(1_000)


def test_the_mean_curve_averages_its_share_of_the_targets():
    model = tiny_model("rnn")
    codes = random_codes(2_000, seed=10)
    targets = choose_targets(len(codes), 60, min_context=32, seed=0)
    memory = measure_model(model, codes, targets, contexts=(1, 8, 32), span=16, curve_targets=10)
    curve = memory.connectivity
    assert curve.targets == 10 and curve.distances == tuple(range(1, 17))
    reader = Reader(model)
    rows = [connectivity_at(reader, codes, int(t), 16) for t in targets.subset(10)]
    assert np.array(curve.grad) == pytest.approx(np.mean(rows, axis=0), rel=1e-5)
    assert curve.as_dict()[0] == {"k": 1, "grad": curve.grad[0]}


def test_a_window_that_starts_with_the_text_reads_from_the_zero_state():
    model = tiny_model("lstm", 2)
    codes = random_codes(100, seed=11)
    got = np.array(connectivity_at(Reader(model), codes, 12, span=40))  # only 12 to read back
    assert got == pytest.approx(finite_difference(model, codes, 12, 12), rel=2e-4, abs=1e-7)
    targets = choose_targets(len(codes), 5, min_context=16)
    memory = measure_model(model, codes, targets, contexts=(1, 16), span=16, curve_targets=5)
    assert len(memory.connectivity.grad) == 16  # a target at 16 starts its window at 0
