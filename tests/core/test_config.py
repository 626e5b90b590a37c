"""Typed configs and presets: plain data that round-trips through JSON, one-line refusals."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from shakespeare_tui.core.config import PRESETS, ModelConfig, TrainConfig, apply_preset
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
