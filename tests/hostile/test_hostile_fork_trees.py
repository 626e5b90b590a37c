"""Fork trees (the Inspect view's `o` opens them; no command does): a crafted file is one
UserError line naming the file, read within a bound (64 MiB) and in bounded time — never a
RecursionError, an OverflowError, or a tree holding text no terminal can be sent."""

from __future__ import annotations

import json
import time

import pytest

from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.inspection.forks import ForkTree


def _tree(**changes) -> dict:
    """A valid two-branch tree, as ForkTree.to_json writes it, with `changes` made to it."""
    data = {
        "format": "shakespeare-tui fork tree",
        "version": 1,
        "checkpoint": {"path": "/x/best.pt", "title": "x · best", "sha256": ""},
        "settings": {"prompt": "", "temperature": 0.8, "top_k": None, "seed": 7, "length": 20},
        "branches": [
            {"id": 0, "parent": None, "at": 0, "forced": "", "seed": 7, "target": 20,
             "stopped": False, "text": "Shall I compare thee"},
            {"id": 1, "parent": 0, "at": 6, "forced": "X", "seed": 9, "target": 20,
             "stopped": False, "text": "X compare"},
        ],
    }  # fmt: skip
    for path, value in changes.items():
        *parents, key = path.split(".")
        target = data
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        target[int(key) if isinstance(target, list) else key] = value
    return data


NESTED = "[" * 100_000 + "]" * 100_000
# name → (the file's text, words of the refusal)
CASES = {
    "nested 100,000 deep": (NESTED, "nested too deeply"),
    "a value nested 100,000 deep": (
        json.dumps(_tree()).replace('"temperature": 0.8', '"temperature": ' + NESTED),
        "nested too deeply",
    ),
    "temperature of 400 digits": (
        json.dumps(_tree()).replace('"temperature": 0.8', '"temperature": 1' + "0" * 400),
        "temperature must be a finite number",
    ),
    "temperature NaN": (
        json.dumps(_tree()).replace('"temperature": 0.8', '"temperature": NaN'),
        "temperature must be a finite number",
    ),
    "a lone surrogate in the text": (
        json.dumps(_tree(**{"branches.0.text": "Shall \ud800 compare"})),
        "lone surrogate (U+D800)",
    ),
    "a lone surrogate in the prompt": (
        json.dumps(_tree(**{"settings.prompt": "\udfff"})),
        "lone surrogate (U+DFFF)",
    ),
    "a list for the checkpoint": (json.dumps(_tree(checkpoint=[1])), "not a usable fork tree"),
    "a branch that is a string": (
        json.dumps(_tree(**{"branches.1": "x"})),
        "not a usable fork tree",
    ),
    "an id of a megabyte": (json.dumps(_tree(**{"branches.1.id": "9" * 2**20})), "numbered"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_crafted_fork_tree_is_one_line(tmp_path, case):
    text, words = CASES[case]
    path = tmp_path / "tree.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    before = path.read_bytes()
    started = time.monotonic()
    with pytest.raises(UserError) as caught:
        ForkTree.load(path)
    message = str(caught.value)
    assert time.monotonic() - started < 10
    assert "\n" not in message and str(path) in message and len(message) < 400, message
    assert words in message, message
    message.encode("utf-8")  # no lone surrogate: it can be shown
    assert path.read_bytes() == before


def test_the_valid_tree_of_these_cases_loads(tmp_path):
    path = tmp_path / "tree.json"
    path.write_text(json.dumps(_tree()))
    tree = ForkTree.load(path)
    assert tree.branch(1).text == "Shall X compare"
