"""Queue files a person hands to `queue FILE --add`, and a queue.json edited by hand: every
entry is checked with `train`'s rules when it is added, so a value no run can start with is one
line (exit 2) and the queue is left as it was; what `queue --list` shows of a queue.json is
escaped."""

from __future__ import annotations

import json

import pytest

from tests.hostile.hostile_support import assert_no_escapes, assert_refused, snapshot

# name → (file name, its text, words of the refusal)
CASES = [
    ("threads 100000", "q.toml", "[[runs]]\nthreads = 100000\n", "threads must be at most"),
    ("hidden 32.5", "q.toml", "[[runs]]\nhidden = 32.5\n", "hidden must be a whole number"),
    ("hidden 10**8", "q.toml", "[[runs]]\nhidden = 100000000\n", "hidden must be at most 16,384"),
    ("layers 10**6", "q.toml", "[[runs]]\nlayers = 1000000\n", "layers must be at most 16"),
    ("corpus 5", "q.toml", "[[runs]]\ncorpus = 5\n", "corpus must be text"),
    ("hidden 'big'", "q.json", '[{"hidden": "big"}]', "hidden must be a whole number"),
    ("lr NaN", "q.json", '[{"lr": NaN}]', "lr must be a finite number"),
    ("sample length 10**8", "q.toml", "[[runs]]\nsample_length = 100000000\n", "sample_length"),
    ("a name with escapes", "q.json", '[{"name": "a\\u001b]52;c;eA==\\u0007"}]', "\\x1b]52"),
    ("JSON nested 100,000 deep", "q.json", "[" * 100_000 + "]" * 100_000, "q.json"),
    ("TOML nested 100,000 deep", "q.toml", "a = " + "[" * 100_000 + "]" * 100_000, "q.toml"),
]


@pytest.mark.parametrize(
    "case, name, text, words",
    [pytest.param(*c, id=c[0]) for c in CASES],
)
def test_a_queue_file_no_run_can_start_with_is_refused_when_added(
    zygote, home, tmp_path, case, name, text, words
):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    before = snapshot(home)
    outcome = zygote.run("queue", path, "--add", "--data-dir", home)
    assert_refused(outcome, 2, words)
    assert snapshot(home) == before  # no queue.json written, no run folder made


def _queue_json(home, **entry) -> None:
    row = {"id": 1, "run": "r", "settings": {"preset": "tiny"}, "state": "waiting", "note": "",
           **entry}  # fmt: skip
    text = json.dumps({"format": "shakespeare-tui queue", "version": 1, "entries": [row]})
    (home / "queue.json").write_text(text)


def test_queue_list_shows_a_hand_edited_queue_escaped(zygote, home):
    _queue_json(home, run="r\x1b]52;c;eA==\x07", settings={"preset": "tiny", "hidden": "\x9b31m"},
                note="[/]\x1b]0;t\x07")  # fmt: skip
    before = snapshot(home)
    outcome = zygote.run("queue", "--list", "--data-dir", home)
    assert outcome.code == 0, outcome
    assert_no_escapes(outcome)
    assert "r\\x1b]52" in outcome.out.decode() and "[/]" in outcome.out.decode()
    assert snapshot(home) == before


def test_queue_list_with_a_budget_of_text_is_one_line_at_most(zygote, home):
    """`max_minutes = "x"` in queue.json: the budget column's format code 'g' raised ValueError
    (core/runs/run_queue.py's QueueEntry.budget, another session's)."""
    _queue_json(home, settings={"preset": "tiny", "max_minutes": "x"})
    outcome = zygote.run("queue", "--list", "--data-dir", home)
    assert outcome.code in (0, 2) and len(outcome.err_lines) <= 1, outcome
    assert "internal error" not in outcome.err.decode()
