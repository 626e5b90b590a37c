"""The replay equals the torch modules step for step (h, c, the gates, the predictions), however
the text is cut into pieces, for every cell, and refuses texts it cannot read."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
import torch

from shakespeare_tui.core.config import ModelConfig
from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.inspection.replay import (
    GATES,
    QUANTITIES,
    SIGMOID_GATES,
    ReplayStopped,
    replay,
)
from shakespeare_tui.core.inspection.saturation import gate_saturation
from shakespeare_tui.core.model.network import CharRNN
from shakespeare_tui.core.text.vocab import Vocabulary

TEXT_CHARS = 3000
ATOL = 1e-5


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models gain nothing from a second thread, and on a busy machine lose a lot."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def text(corpus_text) -> str:
    return corpus_text[:TEXT_CHARS]


@pytest.fixture(scope="module")
def vocab(corpus_text) -> Vocabulary:
    return Vocabulary.from_text(corpus_text)


def make_model(vocab, cell="lstm", layers=1, scale=3.0, hidden=40) -> CharRNN:
    torch.manual_seed(0)
    config = ModelConfig(vocab_size=len(vocab), cell=cell, embed=12, hidden=hidden, layers=layers)
    model = CharRNN(config).eval()
    with torch.no_grad():  # sharper than the init: gates saturate, states remember longer
        for p in model.parameters():
            p.mul_(scale)
    return model


def reference(model: CharRNN, codes: list[int]) -> list[dict[str, np.ndarray]]:
    """The obvious way, in float64: every layer stepped one character at a time."""
    sd = {k: v.double() for k, v in model.state_dict().items()}
    cfg = model.config
    x = sd["embed.weight"][torch.tensor(codes)]
    layers = []
    for layer in range(cfg.layers):
        w_ih, w_hh = sd[f"rnn.weight_ih_l{layer}"], sd[f"rnn.weight_hh_l{layer}"]
        b_ih, b_hh = sd[f"rnn.bias_ih_l{layer}"], sd[f"rnn.bias_hh_l{layer}"]
        h = torch.zeros(cfg.hidden, dtype=torch.float64)
        c = torch.zeros_like(h)
        rows: dict[str, list] = {name: [] for name in ("h", "c", *GATES[cfg.cell])}
        for t in range(len(codes)):
            gi, gh = w_ih @ x[t] + b_ih, w_hh @ h + b_hh
            if cfg.cell == "lstm":
                i, f, g, o = (gi + gh).chunk(4)
                i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
                c = f * c + i * g
                h = o * c.tanh()
                values = {"i": i, "f": f, "g": g, "o": o, "c": c}
            elif cfg.cell == "rnn":
                h = (gi + gh).tanh()
                values = {}
            else:
                ir, iz, inn = gi.chunk(3)
                hr, hz, hn = gh.chunk(3)
                r, z = (ir + hr).sigmoid(), (iz + hz).sigmoid()
                n = (inn + r * hn).tanh()
                h = (1 - z) * n + z * h
                values = {"r": r, "z": z, "n": n}
            values["h"] = h
            for name, value in values.items():
                rows[name].append(value.numpy().copy())
        layers.append({k: np.array(v) for k, v in rows.items() if v})
        x = torch.tensor(layers[-1]["h"])
    return layers


MODELS = [("lstm", 1), ("gru", 1), ("rnn", 1), ("lstm", 2), ("gru", 2), ("rnn", 2)]


@pytest.fixture(scope="module")
def expected_for(text, vocab):
    """(cell, layers) → the float64 reference over "\n" + text, computed once per model."""
    cache = {}

    def get(cell, layers):
        if (cell, layers) not in cache:
            model = make_model(vocab, cell, layers)
            cache[cell, layers] = reference(model, vocab.encode("\n" + text).tolist())
        return cache[cell, layers]

    return get


@pytest.mark.parametrize("cell, layers", MODELS, ids=[f"{c}-{n}" for c, n in MODELS])
@pytest.mark.parametrize("streams, burn_in", [(1, 0), (3, 512), (6, 4)])
def test_replay_equals_stepping_the_cell(text, vocab, expected_for, cell, layers, streams, burn_in):
    model = make_model(vocab, cell, layers)
    got = replay(
        model, vocab, text, dtype=np.float32, keep_gates=True, streams=streams, burn_in=burn_in
    )
    codes = vocab.encode("\n" + text).tolist()
    expected = expected_for(cell, layers)
    assert got.layers == layers and got.streams == streams
    for layer in range(layers):
        for name in ("h", *GATES[cell], *(("c",) if cell == "lstm" else ())):
            want = expected[layer][name][1:]  # the context's newline is not kept
            have = got.values(layer, name)
            # c grows past 1: its error is relative.
            scale = np.maximum(1.0, np.abs(want)) if name == "c" else 1.0
            assert np.abs((have - want) / scale).max() < ATOL, (layer, name)
    # And the last layer's h equals the fused torch module's own output.
    with torch.no_grad():
        out, _ = model.rnn(model.embed(torch.tensor([codes])))
    assert np.abs(got.stored[-1]["h"] - out[0, 1:].numpy()).max() < ATOL


def test_pieces_whose_start_is_off_are_run_again(text, vocab):
    # A 4-character burn-in cannot bring a remembering state to where it should be.
    model = make_model(vocab, "lstm", 1, scale=4.0)
    got = replay(model, vocab, text, dtype=np.float32, streams=8, burn_in=4)
    assert got.reruns > 0
    sequential = replay(model, vocab, text, dtype=np.float32, streams=1)
    assert sequential.reruns == 0
    np.testing.assert_allclose(got.stored[0]["h"], sequential.stored[0]["h"], atol=ATOL)


def test_predictions_are_the_models(text, vocab):
    model = make_model(vocab, "lstm", 2, scale=2.0)
    got = replay(model, vocab, text)
    codes = torch.tensor([vocab.encode("\n" + text).tolist()])
    with torch.no_grad():
        logits, _ = model(codes)
    logp = torch.log_softmax(logits[0, :-1].double(), dim=1)  # row t predicts text[t]
    targets = codes[0, 1:]
    want = logp.gather(1, targets[:, None])[:, 0]
    pred = got.prediction
    np.testing.assert_allclose(pred.prob, want.exp().numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(pred.surprise, -want.numpy() / math.log(2), rtol=1e-4, atol=1e-5)
    assert pred.bits_per_char == pytest.approx(-want.mean().item() / math.log(2), rel=1e-5)
    entropy = -(logp.exp() * logp).sum(1) / math.log(2)
    np.testing.assert_allclose(pred.entropy, entropy.numpy(), rtol=1e-4, atol=1e-5)
    ranks = (logp > want[:, None]).sum(1).numpy()
    np.testing.assert_array_equal(pred.rank, ranks)
    assert pred.probs.dtype == np.float16 and pred.probs.shape == (len(text), len(vocab))
    np.testing.assert_allclose(pred.probs.astype(np.float32).sum(1), 1.0, atol=2e-2)
    top = pred.top(10, k=5)
    assert len(top) == 5 and [p for _, p in top] == sorted((p for _, p in top), reverse=True)
    assert top[0][0] == vocab.chars[int(logp[10].argmax())]
    assert vocab.code(top[0][0]) == int(np.argmax(pred.probs[10]))
    buckets = pred.rank_buckets()
    assert set(np.unique(buckets)) <= {0, 1, 2, 3}
    assert (buckets[pred.rank == 0] == 0).all() and (buckets[pred.rank >= 20] == 3).all()


def test_a_context_primes_the_state_and_is_not_kept(text, vocab):
    model = make_model(vocab)
    whole = replay(model, vocab, text, dtype=np.float32)
    tail = replay(model, vocab, text[1000:], context="\n" + text[:1000], dtype=np.float32)
    assert tail.context == 1001 and len(tail.stored[0]["h"]) == len(text) - 1000
    np.testing.assert_allclose(tail.stored[0]["h"], whole.stored[0]["h"][1000:], atol=ATOL)
    np.testing.assert_allclose(tail.prediction.prob, whole.prediction.prob[1000:], rtol=1e-4)
    # Without any context the first character has no prediction, and the mean skips it.
    bare = replay(model, vocab, text, context="")
    assert np.isnan(bare.prediction.prob[0]) and bare.prediction.rank[0] == -1
    assert bare.prediction.top(0) == [] and np.isfinite(bare.bits_per_char)


def test_gates_on_demand_equal_kept_gates(text, vocab):
    for cell, layers in MODELS:
        model = make_model(vocab, cell, layers)
        kept = replay(model, vocab, text, dtype=np.float32, keep_gates=True)
        lean = replay(model, vocab, text, dtype=np.float32, keep_gates=False)
        assert set(lean.stored[0]) == ({"h", "c"} if cell == "lstm" else {"h"})
        for layer in range(layers):
            for gate in GATES[cell]:
                np.testing.assert_allclose(
                    lean.values(layer, gate), kept.values(layer, gate), atol=ATOL
                )
                np.testing.assert_allclose(
                    lean.unit_values(layer, gate, 7), kept.values(layer, gate)[:, 7], atol=ATOL
                )
                part = lean.values(layer, gate, units=[3, 5], start=100, stop=2500)
                want = kept.values(layer, gate)[100:2500, [3, 5]]
                np.testing.assert_allclose(part, want, atol=ATOL)
        # From float16 states a lens's unit is computed in float16 products: close enough.
        half = replay(model, vocab, text, keep_gates=False)
        for layer in range(layers):
            for gate in GATES[cell]:
                want = kept.values(layer, gate)[:, 7]
                np.testing.assert_allclose(half.unit_values(layer, gate, 7), want, atol=5e-3)


def test_float16_storage_by_default_and_its_memory(text, vocab):
    model = make_model(vocab, hidden=64)
    got = replay(model, vocab, text)
    assert got.stored[0]["h"].dtype == np.float16 and got.stored[0]["c"].dtype == np.float16
    assert got.gates_kept  # small: kept
    per_array = len(text) * 64 * 2
    assert got.nbytes >= 6 * per_array  # h, c and four gates
    full = replay(model, vocab, text, dtype=np.float32)
    np.testing.assert_allclose(got.values(0, "h"), full.values(0, "h"), atol=1e-3)
    np.testing.assert_allclose(got.values(0, "tanh_c"), np.tanh(full.values(0, "c")), atol=2e-3)


def test_saturation_counts_the_texts_own_steps(text, vocab):
    model = make_model(vocab, "lstm", 1)
    got = replay(model, vocab, text[1000:], context=text[:1000], dtype=np.float32, streams=3)
    for gate in SIGMOID_GATES["lstm"]:
        expected = gate_saturation(got.values(0, gate))
        found = got.saturation[0][gate]
        assert found.steps == len(text) - 1000
        np.testing.assert_allclose(found.left, expected.left, atol=1.5 / found.steps)
        np.testing.assert_allclose(found.right, expected.right, atol=1.5 / found.steps)


def test_quantities_and_units_are_checked(text, vocab):
    got = replay(make_model(vocab, "gru"), vocab, text[:200])
    assert got.quantities == QUANTITIES["gru"]
    with pytest.raises(UserError, match="tanh_c.*GRU"):
        got.values(0, "tanh_c")
    with pytest.raises(UserError, match="layer 1 does not exist"):
        got.unit_values(1, "h", 0)
    with pytest.raises(UserError, match="unit 40 does not exist.*0–39"):
        got.unit_values(0, "h", 40)


@pytest.mark.parametrize(
    "bad, words",
    [("", ["empty"]), ("Shall I é compare thee €", ["never saw", "'é'", "'€'"])],
)
def test_unusable_texts_are_refused_in_one_line(vocab, bad, words):
    with pytest.raises(UserError) as info:
        replay(make_model(vocab), vocab, bad)
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_progress_is_reported_and_a_stop_event_ends_the_replay(text, vocab):
    model = make_model(vocab, "lstm", 2)
    seen: list[float] = []
    replay(model, vocab, text * 2, streams=2, burn_in=64, progress=seen.append)
    assert len(seen) >= 6 and seen == sorted(seen) and seen[-1] == 1.0
    stop = threading.Event()
    stop.set()
    with pytest.raises(ReplayStopped):
        replay(model, vocab, text, stop=stop)
    stop.clear()  # set halfway through: stops at the next unit of work
    seen.clear()

    def halfway(done: float) -> None:
        seen.append(done)
        if done >= 0.5:
            stop.set()

    with pytest.raises(ReplayStopped):
        replay(model, vocab, text * 2, streams=2, burn_in=64, progress=halfway, stop=stop)
    assert seen[-1] < 1.0


def test_a_basic_rnn_has_only_h_no_gates_and_says_so(text, vocab):
    from shakespeare_tui.core.inspection.neurons import find_units
    from shakespeare_tui.core.inspection.spans import active

    model = make_model(vocab, "rnn", 2)
    seen: list[float] = []
    got = replay(model, vocab, text, streams=2, burn_in=64, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0  # no gate blocks counted, none left over
    assert got.quantities == ("h",) == QUANTITIES["rnn"]
    assert [set(layer) for layer in got.stored] == [{"h"}, {"h"}]
    assert got.saturation == [{}, {}]
    with pytest.raises(UserError) as info:
        got.values(0, "f")
    assert str(info.value) == "'f' is not a quantity of an RNN: use one of h"
    found = find_units(got)  # on h, the cell's only quantity
    assert found and all(0 <= s.unit < 40 for scores in found.values() for s in scores)
    np.testing.assert_array_equal(active(got, 1), got.values(1, "h") >= 0.3)  # spans: on h
