"""Numbers in the one vocabulary the CLI and the app share."""

from __future__ import annotations

import pytest

from shakespeare_tui.core import figures as numbers


def test_count_has_thousand_separators():
    assert numbers.count(8406) == "8,406"
    assert numbers.count(12.6) == "13"
    assert numbers.count(0) == "0"


@pytest.mark.parametrize(
    "n, text",
    [
        (1, "1 parameter"),
        (10_124, "10,124 parameters"),
        (999_999, "999,999 parameters"),
        (1_200_000, "1.2M parameters"),
        (5_330_000, "5.3M parameters"),
    ],
)
def test_params_writes_a_small_model_out(n, text):
    assert numbers.params(n) == text


@pytest.mark.parametrize(
    "seconds, text",
    [(0, "0:00"), (42.4, "0:42"), (725, "12:05"), (3723, "1:02:03"), (None, "—"),
     (float("nan"), "—"), (float("inf"), "—"), (-1, "—")],
)  # fmt: skip
def test_duration_is_a_clock_or_a_dash(seconds, text):
    assert numbers.duration(seconds) == text


@pytest.mark.parametrize(
    "n, text",
    [(512, "512 bytes"), (12_345, "12.3 kB"), (4_100_000, "4.1 MB"), (1_234_000_000, "1.2 GB")],
)
def test_size_in_decimal_units(n, text):
    assert numbers.size(n) == text


# A number read from a file may be anything: each function shows "—" rather than raise
# (OverflowError from round(inf) ended `runs` and the app's Runs view).
FROM_A_FILE = [float("inf"), float("-inf"), float("nan"), "12", None, [1], {"a": 1}, True,
               10**400]  # fmt: skip


@pytest.mark.parametrize("value", FROM_A_FILE, ids=repr)
def test_no_figure_raises_on_a_value_from_a_file(value):
    assert numbers.count(value) == numbers.UNKNOWN
    assert numbers.compact(value) == numbers.UNKNOWN
    assert numbers.params(value) == f"{numbers.UNKNOWN} parameters"
    assert numbers.duration(value) == numbers.UNKNOWN
    assert numbers.size(value) == numbers.UNKNOWN


@pytest.mark.parametrize("value", [5, None, ["2026"], "0001-01-01T00:00:00+00:00", "nonsense"])
def test_local_time_never_raises(value):
    assert isinstance(numbers.local_time(value), str)
