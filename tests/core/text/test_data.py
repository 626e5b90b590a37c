"""Batching and validation: windows and their next-character targets, a resumable batch stream,
and a validation loss over the whole held-out text."""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest
import torch

from shakespeare_tui.core.config import ModelConfig
from shakespeare_tui.core.errors import CorpusError, flag_name
from shakespeare_tui.core.model.network import CharRNN
from shakespeare_tui.core.text.batches import TextData
from shakespeare_tui.core.text.vocab import Vocabulary


def make_data(n: int = 5_000, seq_len: int = 20, batch_size: int = 8, seed: int = 0) -> TextData:
    codes = (np.arange(n) % 50).astype(np.uint8)  # position i holds i % 50: targets are checkable
    return TextData(
        codes,
        seq_len=seq_len,
        batch_size=batch_size,
        val_fraction=0.1,
        device=torch.device("cpu"),
        seed=seed,
    )


def test_split_and_steps_per_epoch():
    data = make_data()
    assert (data.train_chars, data.val_chars) == (4_500, 500)
    assert data.steps_per_epoch == (4_500 - 1) // (8 * 20)


def test_batches_are_windows_with_next_character_targets():
    data = make_data()
    inputs, targets = data.batch()
    assert inputs.shape == targets.shape == (8, 20)
    assert inputs.dtype == targets.dtype == torch.int64
    assert torch.equal(targets, (inputs + 1) % 50)
    assert torch.equal(inputs[:, 1:], targets[:, :-1])


def test_batch_stream_is_seeded_and_resumable():
    a, b = make_data(seed=3), make_data(seed=3)
    for _ in range(3):
        a.batch()
    state = a.rng_state()
    expected = a.batch()
    b.set_rng_state(state)
    assert all(torch.equal(x, y) for x, y in zip(b.batch(), expected, strict=True))
    assert not torch.equal(make_data(seed=4).batch()[0], make_data(seed=3).batch()[0])


def test_too_short_a_text_is_refused_with_what_it_needs():
    with pytest.raises(CorpusError) as info:
        make_data(n=200, seq_len=32)
    message = info.value.worded(flag_name)
    assert "200 characters" in message and "--seq-len" in message and "\n" not in message
    needed = int(message.split("at least ")[1].split(":")[0].replace(",", ""))
    make_data(n=needed + 10, seq_len=32)  # what it asks for is enough


def test_validation_loss_is_the_mean_over_the_held_out_text():
    vocab = Vocabulary.from_text("abcdefghij")
    torch.manual_seed(0)
    model = CharRNN(ModelConfig(vocab_size=len(vocab), embed=4, hidden=8)).eval()
    data = TextData(
        vocab.encode("abcdefghij" * 300),
        seq_len=16,
        batch_size=4,
        val_fraction=0.2,
        device=torch.device("cpu"),
        seed=0,
    )
    loss = data.validation_loss(model, contextlib.nullcontext)
    assert math.isfinite(loss)
    # An untrained model is near-uniform: about ln(vocabulary size) nats per character.
    assert abs(loss - math.log(len(vocab))) < 0.3
    # The same as scoring each of the streams in one go.
    streams = min(32, (data.val_chars - 1) // 16)
    length = (data.val_chars - 1) // streams
    x = data.val[: streams * length].view(streams, length).long()
    y = data.val[1 : streams * length + 1].view(streams, length).long()
    with torch.no_grad():
        logits, _ = model(x)
    expected = torch.nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten()).item()
    assert loss == pytest.approx(expected, rel=1e-5)
    assert not model.training
