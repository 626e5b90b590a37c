"""Damaged or crafted run folders (config.json, metrics.jsonl, the folder's own name) through
`runs`, `runs --json`, `runs diff` and `train --resume`: never a crash, a bad value shown as "—",
one bad run never hides the table, no escape sequence from a file on the terminal, and a
listing changes no file.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hostile.hostile_support import assert_no_escapes, assert_refused, snapshot

OSC52 = "x\x1b]52;c;ZXZpbA==\x1b\\y"
RUN = "trained"
NESTED = "[" * 100_000 + "]" * 100_000


def _append(line: str) -> Callable[[Path], None]:
    def change(run: Path) -> None:
        with open(run / "metrics.jsonl", "a", encoding="utf-8") as f:
            f.write(line + "\n")

    return change


def _config(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def edit(run: Path) -> None:
        data = json.loads((run / "config.json").read_text())
        change(data)
        (run / "config.json").write_text(json.dumps(data))

    return edit


def _raw_config(text: str) -> Callable[[Path], None]:
    return lambda run: (run / "config.json").write_text(text)


def _replace_text(old: str, new: str) -> Callable[[Path], None]:
    def edit(run: Path) -> None:
        text = (run / "config.json").read_text()
        assert old in text, old
        (run / "config.json").write_text(text.replace(old, new, 1))

    return edit


# name → how the run folder is damaged
CASES: dict[str, Callable[[Path], None]] = {
    "speed Infinity": _append('{"kind": "step", "step": 41, "chars_per_sec": Infinity}'),
    "speed NaN": _append('{"kind": "step", "step": 41, "chars_per_sec": NaN}'),
    "elapsed -Infinity": _append('{"kind": "step", "step": 41, "elapsed_s": -Infinity}'),
    "val loss Infinity": _append('{"kind": "epoch", "epoch": 2, "step": 41, "val_loss": Infinity}'),
    "val loss NaN": _append('{"kind": "epoch", "epoch": 2, "step": 41, "val_loss": NaN}'),
    "step 1e400": _append('{"kind": "step", "step": 1e400}'),
    "step of 5,000 digits": _append('{"kind": "step", "step": ' + "9" * 5000 + "}"),
    "step and elapsed as text": _append('{"kind": "step", "step": "x", "elapsed_s": "y"}'),
    "a line nested 100,000 deep": _append(NESTED),
    "config nested 100,000 deep": _raw_config(NESTED),
    "corpus name with OSC 52": _config(lambda d: d["corpus"].update(name=OSC52)),
    "device with clear screen": _config(lambda d: d.update(device="\x1b[2J\x1b]0;title\x07")),
    "corpus name with markup": _config(lambda d: d["corpus"].update(name="[/][bold]x")),
    "parameters Infinity": _replace_text('"parameters": ', '"parameters": Infinity, "p": '),
    "lr Infinity, hidden 32.5": _config(
        lambda d: d["train"].update(lr=float("inf"), model={**d["train"]["model"], "hidden": 32.5})
    ),
    "created is a list": _config(lambda d: d.update(created=["2026"])),
}
COMMANDS = ("runs", "runs --json", "runs diff", "train --resume")
# Where `runs diff` refuses rather than compares: a run without a readable config.json.
DIFF_REFUSED = {"config nested 100,000 deep": "no readable config.json"}


def _params():
    for case in CASES:
        for command in COMMANDS:
            yield pytest.param(case, command, id=f"{case}-{command}")


@pytest.fixture
def damaged(home) -> Callable[[str], Path]:
    """The data folder with run "trained" damaged as a case says, and "other" left whole."""

    def make(case: str) -> Path:
        shutil.copytree(home / "runs" / RUN, home / "runs" / "other")
        CASES[case](home / "runs" / RUN)
        return home

    return make


@pytest.mark.parametrize("case, command", list(_params()))
def test_a_damaged_run_folder(zygote, damaged, case, command):
    home = damaged(case)
    before = snapshot(home / "runs")
    if command == "train --resume":  # one epoch more: two steps, no evaluation before them
        argv = ["train", "--resume", RUN, "--epochs", "4", "--max-steps", "107", "--quiet"]
        outcome = zygote.run(*argv, "--threads", "1", "--data-dir", home)
        assert outcome.code in (0, 2), outcome  # resumed, or refused in one line
        if outcome.code == 2:
            assert_refused(outcome, 2)
        assert_no_escapes(outcome)
        return
    argv = {"runs": ["runs"], "runs --json": ["runs", "--json"],
            "runs diff": ["runs", "diff", RUN, "other"]}[command]  # fmt: skip
    outcome = zygote.run(*argv, "--data-dir", home)
    if command == "runs diff" and case in DIFF_REFUSED:
        assert_refused(outcome, 2, DIFF_REFUSED[case])
        assert snapshot(home / "runs") == before
        return
    assert outcome.code == 0, outcome
    assert outcome.err_lines == [], outcome
    assert_no_escapes(outcome)
    assert snapshot(home / "runs") == before  # a listing writes nothing into a run
    out = outcome.out.decode()
    if command == "runs":  # one bad run never hides the table: both runs are rows
        rows = [line.split()[0] for line in out.splitlines()[1:] if line.strip()]
        assert RUN in rows and "other" in rows, out
    if command == "runs --json":
        assert {RUN, "other"} <= {row["name"] for row in json.loads(out)}


def test_a_bad_value_shows_as_a_dash(zygote, damaged):
    """chars_per_sec Infinity: the speed column shows "—", the other run its figure."""
    home = damaged("speed Infinity")
    outcome = zygote.run("runs", "--sort", "name", "--data-dir", home)
    assert outcome.code == 0, outcome
    lines = {line.split()[0]: line for line in outcome.out.decode().splitlines()[1:]}
    header = outcome.out.decode().splitlines()[0]
    at = header.index("chars/s")
    assert "—" in lines[RUN][at - 4 : at + 8] and "—" not in lines["other"][at - 4 : at + 8]


def test_an_osc52_corpus_name_never_reaches_the_terminal(zygote, damaged):
    """The issue's case: `x ESC ]52;c;ZXZpbA== ESC \\ y` as a corpus name in config.json."""
    home = damaged("corpus name with OSC 52")
    outcome = zygote.run("runs", "--data-dir", home)
    assert outcome.code == 0, outcome
    assert b"\x1b" not in outcome.out and b"\x1b" not in outcome.err
    assert "x\\x1b]52;c;ZXZpbA==\\x1b\\y" in outcome.out.decode()


def test_a_run_folder_named_with_escapes_is_shown_escaped(zygote, home):
    """Listed with its name escaped; named on the command line, refused (no run is called
    that) with the name escaped too."""
    shutil.copytree(home / "runs" / RUN, home / "runs" / f"r{OSC52}")
    outcome = zygote.run("runs", "--data-dir", home)
    assert outcome.code == 0, outcome
    assert_no_escapes(outcome)
    assert "\\x1b]52" in outcome.out.decode()
    outcome = zygote.run("runs", "diff", RUN, f"r{OSC52}", "--data-dir", home)
    assert_refused(outcome, 2, "\\x1b]52")
