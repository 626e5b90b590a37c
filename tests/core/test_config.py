"""Typed configs and presets: plain data that round-trips through JSON, one-line refusals."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from shakespeare_tui.core.config import (
    PRESETS,
    ModelConfig,
    TrainConfig,
    apply_preset,
    machine_threads,
)
from shakespeare_tui.core.errors import UserError


@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_preset_is_valid_and_round_trips_through_json(preset):
    config = apply_preset(TrainConfig(), preset)
    config.validate()
    assert config.preset == preset
    again = TrainConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config


def test_presets_merge_model_fields():
    config = replace(TrainConfig(), model=ModelConfig(layers=3, vocab_size=65))
    tiny = apply_preset(config, "tiny")
    assert (tiny.model.embed, tiny.model.hidden) == (16, 32)
    assert tiny.model.vocab_size == 65  # kept: the preset does not name it
    assert tiny.batch_size == 16 and tiny.lr == 1e-2


def test_unknown_preset_is_refused():
    with pytest.raises(UserError, match="tiny"):
        apply_preset(TrainConfig(), "huge")


def test_from_dict_ignores_unknown_fields_and_fills_defaults():
    config = TrainConfig.from_dict(
        {"lr": 0.5, "from_the_future": 1, "model": {"hidden": 7, "x": 2}}
    )
    assert config.lr == 0.5 and config.model.hidden == 7
    assert config.model.embed == ModelConfig().embed and config.epochs == TrainConfig().epochs
    assert TrainConfig.from_dict({}) == TrainConfig()


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"batch_size": 0}, "batch size"),
        ({"seq_len": 1}, "sequence length"),
        ({"lr": 0.0}, "learning rate"),
        ({"lr": 10.0}, "learning rate"),
        ({"schedule": "linear"}, "schedule"),
        ({"clip": 0.0}, "clipping"),
        ({"epochs": 0}, "epochs"),
        ({"patience": 0}, "patience"),
        ({"max_steps": 0}, "max steps"),
        ({"max_minutes": 0.0}, "max minutes"),
        ({"val_fraction": 0.5}, "validation fraction"),
        ({"threads": 0}, "threads"),
        ({"seed": -1}, "seed"),
        ({"model": ModelConfig(cell="transformer")}, "cell"),
        ({"model": ModelConfig(hidden=0)}, "hidden"),
        ({"model": ModelConfig(dropout=1.0)}, "dropout"),
    ],
)
def test_invalid_settings_are_refused_in_one_line(changes, words):
    with pytest.raises(UserError) as info:
        replace(TrainConfig(), **changes).validate()
    assert words in str(info.value) and "\n" not in str(info.value)


def test_summary():
    assert ModelConfig(cell="gru", embed=8, hidden=16).summary == "GRU E8/H16"
    assert ModelConfig(cell="rnn", embed=8, hidden=16).summary == "RNN E8/H16"
    assert ModelConfig(layers=2).summary == "LSTM E256/H1024×2"


# Values of the wrong kind or beyond the sane limits: from a queue file, a hand-edited
# config.json or a crafted checkpoint, each is refused by name before anything is built (a
# float reached torch as "hidden_size should be of type int", layers = 10**6 built for minutes).
@pytest.mark.parametrize(
    "model, words",
    [
        ({"hidden": 32.5}, "hidden must be a whole number, not 32.5"),
        ({"hidden": 32.0}, "hidden must be a whole number"),
        ({"hidden": "big"}, "hidden must be a whole number"),
        ({"hidden": True}, "hidden must be a whole number"),
        ({"embed": 2**62}, "embed must be at most 16,384"),
        ({"layers": 10**6}, "layers must be at most 16"),
        ({"vocab_size": 10**9}, "vocab size must be at most 1,114,112"),
        ({"dropout": float("nan")}, "dropout must be a finite number, not nan"),
        ({"dropout": "0.1"}, "dropout must be a finite number"),
        ({"cell": ["lstm"]}, "cell must be one of lstm, gru, rnn"),
        ({"hidden": 16_384, "layers": 16}, "over the limit of 1,000,000,000"),
    ],
)
def test_a_model_of_the_wrong_kind_or_beyond_the_limits_is_refused(model, words):
    with pytest.raises(UserError) as info:
        ModelConfig(**{"vocab_size": 65, **model}).validate()
    assert words in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"batch_size": 10**9}, "batch size must be at most 65,536"),
        ({"seq_len": 2.5}, "sequence length must be a whole number"),
        ({"lr": float("inf")}, "learning rate must be a finite number"),
        ({"lr": "0.1"}, "learning rate must be a finite number"),
        ({"epochs": "20"}, "epochs must be a whole number"),
        ({"max_minutes": float("nan")}, "max minutes must be a finite number"),
        ({"max_steps": 1.5}, "max steps must be a whole number"),
        (
            {"sample_length": 100_000_000},
            "sample length must be at most 1,000,000",
        ),
        ({"corpus": 5}, "corpus must be text"),
        ({"bf16": "yes"}, "bf16 must be true, false or unset"),
        ({"seed": 1.0}, "seed"),
    ],
)
def test_settings_of_the_wrong_kind_or_beyond_the_limits_are_refused(changes, words):
    with pytest.raises(UserError) as info:
        replace(TrainConfig(), **changes).validate()
    assert words in str(info.value) and "\n" not in str(info.value)


def test_threads_are_bounded_by_the_machine():
    """100,000 threads crashed the OpenMP runtime (a segmentation fault); 5,000 took 112 s for
    5 steps. The limit is this machine's CPUs, and the refusal says so."""
    cpus = machine_threads()
    replace(TrainConfig(), threads=cpus).validate()
    for threads in (cpus + 1, 100_000):
        with pytest.raises(UserError) as info:
            replace(TrainConfig(), threads=threads).validate()
        assert str(info.value) == (
            f"threads must be at most {cpus:,}, the CPUs of this machine (more only slow a run)"
        )


def test_from_dict_reads_a_part_that_is_not_an_object_as_empty():
    assert TrainConfig.from_dict([1, 2]) == TrainConfig()
    assert TrainConfig.from_dict({"model": [1], "lr": 0.5}).model == ModelConfig()
