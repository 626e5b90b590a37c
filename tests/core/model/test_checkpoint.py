"""Checkpoints: a saved model comes back identical, its summary reads without loading it, and a
file that is truncated, too new, or carries code is refused before anything in it runs."""

from __future__ import annotations

import io
import os
import pickle
import random
import warnings
import zipfile

import pytest
import torch

from shakespeare_tui.core.config import ModelConfig
from shakespeare_tui.core.errors import CheckpointError, UserError
from shakespeare_tui.core.model.checkpoint import (
    FORMAT,
    FORMAT_VERSION,
    build_payload,
    load_checkpoint,
    read_info,
    save_checkpoint,
)
from shakespeare_tui.core.model.network import CharRNN, CharStepper, weight_shapes
from shakespeare_tui.core.sampling.sampler import SampleSettings, generate
from shakespeare_tui.core.text.vocab import Vocabulary

VOCAB = Vocabulary.from_text("abcdefghijklmnopqrstuvwxyz ,.;:!?'\nABCDEFGHIJKLMNOPQRSTUVWXYZ")


def make_model(seed: int = 0, **model) -> CharRNN:
    torch.manual_seed(seed)
    settings = {"vocab_size": len(VOCAB), "embed": 8, "hidden": 24}
    settings.update(model)
    return CharRNN(ModelConfig(**settings)).eval()


def payload_for(model: CharRNN, **extra) -> dict:
    payload = build_payload(
        kind=extra.pop("kind", "best"),
        model=model,
        vocab=VOCAB,
        train_config={"preset": "tiny"},
        progress={"step": 12, "epoch": 2},
        history=[{"kind": "epoch", "epoch": 1, "val_loss": 3.5}],
        corpus={"name": "sonnets.txt", "checksum": "sha256:0", "chars": 100},
        val_loss=3.25,
        device="CPU · 1 thread",
        resume=extra.pop("resume", None),
        weights_dtype=extra.pop("weights_dtype", None),
    )
    payload.update(extra)
    return payload


def sample(model: CharRNN, seed: int = 7) -> str:
    settings = SampleSettings(length=120, temperature=1.0, prompt="Love ", seed=seed)
    return "".join(s.char for s in generate(CharStepper(model), VOCAB, settings))


INPUT = torch.tensor([VOCAB.encode("shall i compare thee to a summer's day?\n").tolist()])


@pytest.mark.parametrize(
    "model",
    [
        {},
        {"cell": "gru"},
        {"cell": "rnn"},
        {"layers": 2, "dropout": 0.1},
        {"cell": "rnn", "layers": 2},
    ],
    ids=["lstm", "gru", "rnn", "lstm-2-layers", "rnn-2-layers"],
)
def test_save_then_load_gives_identical_logits_and_samples(tmp_path, model):
    original = make_model(**model)
    path = tmp_path / "model.pt"
    save_checkpoint(path, payload_for(original))

    loaded = load_checkpoint(path)

    assert loaded.model_config == original.config
    assert loaded.vocab == VOCAB
    assert not loaded.model.training
    with torch.no_grad():
        expected, _ = original(INPUT)
        got, _ = loaded.model(INPUT)
    assert torch.equal(expected, got)
    assert sample(loaded.model) == sample(original)
    assert loaded.epoch == 2 and loaded.val_loss == 3.25 and not loaded.resumable


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "model.pt"
    save_checkpoint(path, payload_for(make_model(seed=1)))
    save_checkpoint(path, payload_for(make_model(seed=2)))
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]
    assert torch.equal(load_checkpoint(path).model.head.weight, make_model(seed=2).head.weight)


def test_bf16_weights_load_into_a_float32_model(tmp_path):
    original = make_model()
    path = tmp_path / "small.pt"
    save_checkpoint(path, payload_for(original, weights_dtype=torch.bfloat16))
    stored = torch.load(path, weights_only=True)["weights"]
    assert all(t.dtype == torch.bfloat16 for t in stored.values())

    loaded = load_checkpoint(path).model
    for name, tensor in loaded.state_dict().items():
        assert tensor.dtype == torch.float32, name
        expected = original.state_dict()[name].to(torch.bfloat16).float()
        assert torch.equal(tensor, expected), name
    # The rounding is small: the model behaves as the original did.
    with torch.no_grad():
        torch.testing.assert_close(loaded(INPUT)[0], original(INPUT)[0], atol=0.05, rtol=0.05)


def test_bf16_file_is_smaller(tmp_path):
    model = make_model(hidden=128)
    save_checkpoint(tmp_path / "f32.pt", payload_for(model))
    save_checkpoint(tmp_path / "bf16.pt", payload_for(model, weights_dtype=torch.bfloat16))
    assert (tmp_path / "bf16.pt").stat().st_size < 0.6 * (tmp_path / "f32.pt").stat().st_size


def test_read_info_of_a_trained_run(trained_run):
    paths, finished, events = trained_run
    best_saved = [e for e in events if type(e).__name__ == "CheckpointSaved" and e.kind == "best"]
    info = read_info(finished.best_checkpoint)

    assert info.ok and info.error is None
    assert info.kind == "best"
    assert info.val_loss == finished.best_val_loss == best_saved[-1].val_loss
    assert info.epoch == finished.best_epoch
    assert info.step == best_saved[-1].step
    assert info.model_summary == "LSTM E16/H32"
    model = load_checkpoint(finished.best_checkpoint).model
    assert info.parameters == sum(p.numel() for p in model.parameters())
    assert info.corpus.endswith("sonnets.txt")
    assert info.resumable
    assert info.created

    last = read_info(finished.last_checkpoint)
    assert last.ok and last.kind == "last" and last.epoch == 3 and last.step == finished.step


@pytest.mark.parametrize(
    "model",
    [
        {},
        {"cell": "gru"},
        {"cell": "rnn"},
        {"layers": 3},
        {"cell": "gru", "layers": 2, "embed": 5},
        {"cell": "rnn", "layers": 3, "embed": 5},
    ],
)
def test_parameter_count_matches_the_model(model):
    m = make_model(**model)
    assert m.config.parameter_count() == sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize(
    "model",
    [{}, {"cell": "gru"}, {"cell": "rnn"}, {"layers": 3}, {"cell": "gru", "layers": 2, "embed": 5}],
)
def test_weight_shapes_are_the_models_without_building_it(model):
    """What a checkpoint's weights are checked against before any model is built."""
    m = make_model(**model)
    assert weight_shapes(m.config) == {k: tuple(v.shape) for k, v in m.state_dict().items()}
    assert list(weight_shapes(m.config)) == list(m.state_dict())


# ---------------------------------------------------------------- refusals


def assert_refused(path, *words, info_too: bool = True) -> str:
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert message and "\n" not in message and "\x1b" not in message
    for word in words:
        assert word in message
    summary = read_info(path)  # never raises
    if info_too:  # read_info does not build the model, so it cannot see bad weights
        assert not summary.ok and summary.error == message
    return message


def test_checkpoint_error_is_a_user_error():
    assert issubclass(CheckpointError, UserError)


def test_truncated_checkpoint_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    save_checkpoint(path, payload_for(make_model()))
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 30, 10):
        path.write_bytes(data[:cut])
        assert_refused(path, "model.pt")


@pytest.mark.parametrize(
    "content, words",
    [
        (b"", ["empty"]),
        (b"hello, I am a text file\n", ["not a shakespeare-tui checkpoint"]),
        (
            b"PK\x03\x04" + b"\x00" * 100,
            ["not a complete checkpoint (truncated or not a PyTorch file)"],
        ),
    ],
    ids=["empty", "text", "zip-magic-only"],
)
def test_non_checkpoints_are_refused(tmp_path, content, words):
    path = tmp_path / "model.pt"
    path.write_bytes(content)
    assert_refused(path, *words)


def test_missing_file_and_directory_are_refused(tmp_path):
    assert_refused(tmp_path / "nope.pt", "nope.pt does not exist")
    assert_refused(tmp_path, "is a directory, not a checkpoint file")


def test_other_torch_files_are_refused(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save(make_model().state_dict(), path)
    assert_refused(path, "not a shakespeare-tui checkpoint")


def test_newer_format_is_refused_with_upgrade_advice(tmp_path):
    path = tmp_path / "future.pt"
    save_checkpoint(path, payload_for(make_model(), format_version=FORMAT_VERSION + 1))
    assert_refused(path, "upgrade", str(FORMAT_VERSION + 1))


def test_mismatched_weights_are_refused(tmp_path):
    payload = payload_for(make_model())
    payload["model_config"]["hidden"] = 25
    save_checkpoint(tmp_path / "shape.pt", payload)
    assert_refused(tmp_path / "shape.pt", "rnn.weight_ih_l0", info_too=False)

    payload = payload_for(make_model())
    payload["vocab"] = VOCAB.chars[:-1]
    save_checkpoint(tmp_path / "vocab.pt", payload)
    assert_refused(tmp_path / "vocab.pt", "vocabulary")


@pytest.mark.parametrize("saved, claimed", [("lstm", "rnn"), ("rnn", "gru"), ("gru", "rnn")])
def test_weights_of_another_cell_are_refused(tmp_path, saved, claimed):
    """A basic RNN's weight_ih_l0 has `hidden` rows, a GRU's 3x and an LSTM's 4x that."""
    payload = payload_for(make_model(cell=saved))
    payload["model_config"]["cell"] = claimed
    save_checkpoint(tmp_path / "cell.pt", payload)
    message = assert_refused(tmp_path / "cell.pt", "rnn.weight_ih_l0", info_too=False)
    rows = {"lstm": 4 * 24, "gru": 3 * 24, "rnn": 24}
    assert f"({rows[saved]}, 8)" in message and f"needs ({rows[claimed]}, 8)" in message


def test_non_finite_weights_are_refused(tmp_path):
    model = make_model()
    with torch.no_grad():
        model.head.bias[3] = float("nan")
    save_checkpoint(tmp_path / "nan.pt", payload_for(model))
    assert_refused(tmp_path / "nan.pt", "non-finite", info_too=False)


# ---------------------------------------------------------------- code in a checkpoint


class _Exploit:
    """Unpickling this runs `exec`, which creates the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


def exploit_file(path, marker) -> None:
    """A real torch zip checkpoint whose data.pkl calls builtins.exec when unpickled."""
    payload = payload_for(make_model())
    payload["history"] = [_Exploit(marker)]
    torch.save(payload, path)


def test_the_crafted_exploit_really_runs_code_when_loaded_unsafely(tmp_path):
    """Control: prove the file below is dangerous, so its refusal means something."""
    path, marker = tmp_path / "evil.pt", tmp_path / "marker"
    exploit_file(path, marker)
    with zipfile.ZipFile(path) as archive:
        pickled = next(n for n in archive.namelist() if n.endswith("data.pkl"))
        assert b"exec" in archive.read(pickled)
    torch.load(path, weights_only=False)
    assert marker.read_text() == "pwned"


@pytest.mark.parametrize("force_unsafe", [False, True], ids=["default", "env-forces-unsafe"])
def test_code_in_a_checkpoint_is_refused_and_never_runs(tmp_path, monkeypatch, force_unsafe):
    if force_unsafe:
        monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    path, marker = tmp_path / "evil.pt", tmp_path / "marker"
    exploit_file(path, marker)

    assert_refused(path, "evil.pt", "refused")
    assert not marker.exists()


def test_a_hand_made_pickle_in_a_zip_is_refused(tmp_path):
    """Not made by torch.save: a zip whose data.pkl reduces to os.system."""
    marker = tmp_path / "marker"

    class System:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    pickled = pickle.dumps({"format": FORMAT, "x": System()}, protocol=2)
    path = tmp_path / "handmade.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("handmade/data.pkl", pickled)
        archive.writestr("handmade/version", "3\n")
        archive.writestr("handmade/byteorder", "little")
    assert path.read_bytes()[:4] == b"PK\x03\x04"

    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    assert not read_info(path).ok
    assert not marker.exists()


def damaged_copies(data: bytes, pickled: bytes, seed: int = 0):
    """Checkpoint bytes cut short, with bytes flipped, and with bytes of the pickle deleted or
    inserted: the damage a disk, a copy or a person does."""
    rng = random.Random(seed)
    at = data.index(pickled)
    for cut in range(4, len(data), max(1, len(data) // 80)):
        yield data[:cut]
    for _ in range(250):
        damaged = bytearray(data)
        for _ in range(rng.choice((1, 2, 4))):
            damaged[at + rng.randrange(len(pickled))] = rng.randrange(256)
        yield bytes(damaged)
    for _ in range(120):
        changed = bytearray(pickled)
        where = rng.randrange(len(changed))
        if rng.random() < 0.5:
            del changed[where : where + rng.randint(1, 4)]
        else:
            changed[where:where] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
        yield data[:at] + bytes(changed) + data[at + len(pickled) :]


def test_a_damaged_checkpoint_is_always_one_checkpoint_error(tmp_path):
    """Whatever torch.load raises for a damaged archive is refused as a bad file (the list of
    what it raises is core/model/checkpoint.py's; a new kind would fail here, not crash a
    picker): load_checkpoint raises CheckpointError in one line, read_info never raises."""
    good = tmp_path / "good.pt"
    save_checkpoint(good, payload_for(make_model()))
    with zipfile.ZipFile(good) as archive:
        pickled = archive.read(next(n for n in archive.namelist() if n.endswith("data.pkl")))
    path = tmp_path / "damaged.pt"
    refused = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns of odd pickle protocols and storages
        for damaged in damaged_copies(good.read_bytes(), pickled):
            path.write_bytes(damaged)
            try:
                load_checkpoint(path)
            except CheckpointError as exc:
                refused += 1
                assert str(exc) and "\n" not in str(exc)
            info = read_info(path)  # it builds no model, so it may see less wrong; never raises
            assert info.ok or (info.error and "\n" not in info.error)
    assert refused > 300  # most damage is caught; a flip in a weight's bytes may load


def test_a_model_config_of_other_values_is_refused(tmp_path):
    path = tmp_path / "odd.pt"
    big = torch.ones(40, 40)  # its repr spans lines: the refusal stays one
    for odd in ({"embed": big}, {"hidden": "24"}, {"extra": 1}, {"layers": 0}):
        payload = payload_for(make_model())
        payload["model_config"] = {**payload["model_config"], **odd}
        save_checkpoint(path, payload)
        assert_refused(path, "invalid model config")


def test_payload_round_trips_through_a_file_object():
    """build_payload keeps only plain values and tensors, so the safe loader accepts it."""
    buffer = io.BytesIO()
    torch.save(payload_for(make_model(), resume={"optimizer": {"state": {}}}), buffer)
    buffer.seek(0)
    data = torch.load(buffer, weights_only=True)
    assert data["format"] == FORMAT and data["format_version"] == FORMAT_VERSION
