"""A unit written "N" or "L:N": read once, checked against the model once, refused in one line."""

from __future__ import annotations

import pytest

from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.inspection.unit_address import (
    UnitAddress,
    check_unit,
    parse_unit,
    read_unit,
    unit_problem,
)


def test_n_is_a_unit_of_the_given_layer_and_l_n_names_the_layer():
    assert parse_unit("203") == UnitAddress(0, 203)
    assert parse_unit("203", layer=2) == (2, 203)
    assert parse_unit("1:7", layer=2) == UnitAddress(layer=1, unit=7)
    assert parse_unit("  1 : 7 ") == (1, 7), "spaces around the numbers are fine"
    layer, unit = parse_unit("0:0")
    assert (layer, unit) == (0, 0)
    assert str(parse_unit("3:12")) == "3:12"


@pytest.mark.parametrize("text", ["", "x", "1:", ":3", "1:2:3", "1.5", "unit 3", "0x10"])
def test_anything_else_is_refused_in_one_line(text):
    with pytest.raises(UserError) as refused:
        parse_unit(text)
    assert str(refused.value).startswith("not UNIT or LAYER:UNIT (e.g. 0:203): ")
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("text", ["-3", "-1:4", "0:-2"])
def test_a_negative_number_is_refused_as_such(text):
    with pytest.raises(UserError, match=f"layers and units count from 0, not {text}$"):
        parse_unit(text)


def test_the_range_check_names_what_exists():
    assert unit_problem(0, 639, layers=1, hidden=640) == ""
    assert unit_problem(1, 0, layers=2, hidden=8) == ""
    assert unit_problem(1, 3, layers=1, hidden=640) == (
        "layer 1 does not exist: this model's only layer is 0"
    )
    assert unit_problem(3, 0, layers=2, hidden=8) == (
        "layer 3 does not exist: this model's layers are 0–1"
    )
    assert unit_problem(0, 640, layers=1, hidden=640) == (
        "unit 640 does not exist: each layer's units are 0–639"
    )
    assert "layer -1 does not exist" in unit_problem(-1, 0, layers=2, hidden=8)
    with pytest.raises(UserError, match="unit 8 does not exist"):
        check_unit(0, 8, layers=2, hidden=8)
    check_unit(1, 7, layers=2, hidden=8)


def test_read_unit_parses_then_checks():
    assert read_unit("5", layers=2, hidden=8, layer=1) == (1, 5)
    assert read_unit("0:7", layers=2, hidden=8, layer=1) == (0, 7)
    with pytest.raises(UserError, match="units are 0–7"):
        read_unit("9", layers=2, hidden=8)
    with pytest.raises(UserError, match="not UNIT or LAYER:UNIT"):
        read_unit("nine", layers=2, hidden=8)
