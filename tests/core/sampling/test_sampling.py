"""Sampling: reproducible from (checkpoint, prompt, temperature, top-k, seed), and the fast
one-character step gives exactly the text that stepping nn.LSTM/nn.GRU/nn.RNN would."""

from __future__ import annotations

import threading

import pytest
import torch

from shakespeare_tui.core.cells import CELLS
from shakespeare_tui.core.config import ModelConfig
from shakespeare_tui.core.errors import SamplingError, UserError
from shakespeare_tui.core.model.checkpoint import load_checkpoint
from shakespeare_tui.core.model.network import CharRNN, CharStepper
from shakespeare_tui.core.sampling.sampler import (
    SampleSettings,
    check_settings,
    default_start,
    generate,
    resolve_seed,
    sample_text,
)
from shakespeare_tui.core.text.vocab import Vocabulary


@pytest.fixture(scope="module")
def trained(trained_run):
    _, finished, _ = trained_run
    checkpoint = load_checkpoint(finished.best_checkpoint)
    return checkpoint.model, checkpoint.vocab


def text_of(model, vocab, **settings) -> str:
    settings.setdefault("length", 150)
    settings.setdefault("seed", 1)
    stepper = CharStepper(model)
    return "".join(s.char for s in generate(stepper, vocab, SampleSettings(**settings)))


def reference_text(model: CharRNN, vocab: Vocabulary, settings: SampleSettings):
    """The slow, obvious way: nn.LSTM/nn.GRU/nn.RNN one character at a time, the same sampling rule."""
    generator = torch.Generator().manual_seed(settings.seed)
    state = None
    chars, probabilities = [], []

    def feed(code):
        nonlocal state
        logits, state = model(torch.tensor([[code]]), state)
        return logits[0, -1]

    with torch.no_grad():
        for char in settings.prompt or default_start(vocab):
            logits = feed(vocab.chars.index(char))
        for _ in range(settings.length):
            if settings.temperature == 0:
                code = int(torch.argmax(logits))
            else:
                scaled = logits / settings.temperature
                if settings.top_k is not None:
                    kth = torch.topk(scaled, settings.top_k).values[-1]
                    scaled = scaled.masked_fill(scaled < kth, float("-inf"))
                probs = torch.softmax(scaled, dim=0)
                code = int(torch.multinomial(probs, 1, generator=generator))
            chars.append(vocab.chars[code])
            probabilities.append(float(torch.softmax(logits, dim=0)[code]))
            logits = feed(code)
    return "".join(chars), probabilities


def test_same_seed_same_text_and_different_seed_different_text(trained):
    model, vocab = trained
    first = text_of(model, vocab, seed=11, temperature=1.0)
    assert len(first) == 150
    assert text_of(model, vocab, seed=11, temperature=1.0) == first
    assert text_of(model, vocab, seed=12, temperature=1.0) != first
    # A fresh stepper (a new load of the same file) changes nothing.
    assert text_of(load_checkpoint_again(trained), vocab, seed=11, temperature=1.0) == first


def load_checkpoint_again(trained):
    model, _ = trained
    copy = CharRNN(model.config)
    copy.load_state_dict(model.state_dict())
    return copy.eval()


def test_temperature_zero_is_greedy_whatever_the_seed(trained):
    model, vocab = trained
    greedy = {text_of(model, vocab, seed=s, temperature=0.0) for s in (0, 1, 2, 99)}
    assert len(greedy) == 1
    expected, _ = reference_text(model, vocab, SampleSettings(length=150, temperature=0, seed=5))
    assert greedy == {expected}


def test_top_k_one_equals_greedy(trained):
    model, vocab = trained
    greedy = text_of(model, vocab, temperature=0.0)
    for seed in (0, 3, 42):
        assert text_of(model, vocab, seed=seed, temperature=1.5, top_k=1) == greedy


def test_top_k_samples_only_the_likeliest(trained):
    model, vocab = trained
    settings = SampleSettings(length=200, temperature=1.3, top_k=3, seed=4, prompt="Love")
    got = list(generate(CharStepper(model), vocab, settings))
    expected, _ = reference_text(model, vocab, settings)
    assert "".join(s.char for s in got) == expected
    # Wild temperature without top-k reaches characters top-3 never does.
    wild = text_of(model, vocab, length=200, temperature=1.3, seed=4, prompt="Love")
    assert wild != expected


def test_probabilities_are_the_models_at_temperature_one(trained):
    model, vocab = trained
    settings = SampleSettings(length=60, temperature=0.7, seed=3, prompt="Shall I")
    got = list(generate(CharStepper(model), vocab, settings))
    text, probabilities = reference_text(model, vocab, settings)
    assert "".join(s.char for s in got) == text
    for sampled, expected in zip(got, probabilities, strict=True):
        assert 0.0 < sampled.probability <= 1.0
        assert sampled.probability == pytest.approx(expected, rel=1e-4, abs=1e-6)


def test_the_prompt_primes_the_state(trained):
    model, vocab = trained
    # (Greedy text from a tiny model soon loops on " the", whatever the prompt.)
    a = text_of(model, vocab, temperature=1.0, prompt="My mistress")
    b = text_of(model, vocab, temperature=1.0, prompt="Love is not")
    assert a != b
    assert text_of(model, vocab, temperature=0.0, prompt="") == text_of(
        model, vocab, temperature=0.0, prompt=default_start(vocab)
    )


@pytest.mark.parametrize(
    "model_config",
    [
        {"cell": "lstm"},
        {"cell": "gru"},
        {"cell": "lstm", "layers": 2, "dropout": 0.2},
        {"cell": "gru", "layers": 2, "dropout": 0.2},
        {"cell": "rnn"},
        {"cell": "rnn", "layers": 2, "dropout": 0.2},
    ],
    ids=["lstm", "gru", "lstm-2-layers", "gru-2-layers", "rnn", "rnn-2-layers"],
)
@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_fast_stepper_matches_stepping_the_torch_module(trained, model_config, temperature):
    _, vocab = trained
    torch.manual_seed(0)
    config = ModelConfig(vocab_size=len(vocab), embed=12, hidden=40, **model_config)
    model = CharRNN(config).eval()
    with torch.no_grad():  # sharper than the init's near-uniform distributions
        for p in model.parameters():
            p.mul_(3.0)
    settings = SampleSettings(length=300, temperature=temperature, seed=8, prompt="When in ")
    got = list(generate(CharStepper(model), vocab, settings))
    expected, probabilities = reference_text(model, vocab, settings)
    assert "".join(s.char for s in got) == expected
    assert [s.probability for s in got] == pytest.approx(probabilities, rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
def test_stepper_logits_equal_the_models_forward(trained, cell, layers):
    _, vocab = trained
    torch.manual_seed(1)
    config = ModelConfig(vocab_size=len(vocab), cell=cell, embed=12, hidden=40, layers=layers)
    model = CharRNN(config).eval()
    codes = vocab.encode("Shall I compare thee to a summer's day?\n").tolist()
    with torch.no_grad():
        expected, _ = model(torch.tensor([codes]))
    stepper = CharStepper(model)
    state = stepper.initial_state()
    for t, code in enumerate(codes):
        logits, state = stepper.step(code, state)
        torch.testing.assert_close(logits, expected[0, t], atol=1e-5, rtol=0)


def test_stop_event_ends_generation(trained):
    model, vocab = trained
    stop = threading.Event()
    out = []
    for sampled in generate(CharStepper(model), vocab, SampleSettings(length=1000, seed=1), stop):
        out.append(sampled.char)
        if len(out) == 10:
            stop.set()
    assert len(out) == 10


def test_resolve_seed_draws_one_that_replays(trained):
    model, vocab = trained
    settings = resolve_seed(SampleSettings(length=80, temperature=1.0))
    assert settings.seed is not None
    assert resolve_seed(settings) == settings
    first = text_of(model, vocab, length=80, temperature=1.0, seed=settings.seed)
    assert sample_text(model, vocab, settings) == first


@pytest.mark.parametrize(
    "settings, words",
    [
        ({"temperature": -1.0}, ["temperature"]),
        ({"temperature": float("nan")}, ["temperature"]),
        ({"temperature": 11.0}, ["temperature"]),
        ({"length": 0}, ["length"]),
        ({"top_k": 0}, ["top-k"]),
        ({"top_k": 10_000}, ["top-k"]),
        ({"seed": -1}, ["seed"]),
        ({"prompt": "Shall I ☃ thee"}, ["prompt", "☃"]),
    ],
)
def test_unusable_settings_are_refused_in_one_line(trained, settings, words):
    model, vocab = trained
    with pytest.raises(SamplingError) as info:
        check_settings(SampleSettings(**{"seed": 1, **settings}), vocab)
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message
    with pytest.raises(SamplingError):
        next(generate(CharStepper(model), vocab, SampleSettings(**{"seed": 1, **settings})))
    assert issubclass(SamplingError, UserError)


def test_generate_needs_a_seed(trained):
    model, vocab = trained
    with pytest.raises(SamplingError, match="seed"):
        next(generate(CharStepper(model), vocab, SampleSettings(seed=None)))
