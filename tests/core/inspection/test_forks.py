"""Forks: the same seed and the same choices grow the same tree; a saved tree reloads whole;
a bad tree file is one clear line."""

from __future__ import annotations

import json
import threading

import pytest

from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.inspection.forks import MIN_CONTINUATION, ForkTree, divergence, grow
from shakespeare_tui.core.model.checkpoint import load_checkpoint
from shakespeare_tui.core.model.network import CharStepper
from shakespeare_tui.core.sampling.sampler import SampleSettings, generate


@pytest.fixture(scope="module")
def model(trained_run):
    _, finished, _ = trained_run
    checkpoint = load_checkpoint(finished.best_checkpoint)
    return str(finished.best_checkpoint), checkpoint.vocab, CharStepper(checkpoint.model)


def new_tree(model, **settings) -> ForkTree:
    path, vocab, stepper = model
    settings = SampleSettings(**{"length": 120, "seed": 7, "prompt": "Th", **settings})
    text = "".join(s.char for s in generate(stepper, vocab, settings))
    return ForkTree.start(path, "tiny · best", settings, text)


def grown(model, tree: ForkTree, branch_id: int, stop=None):
    _, vocab, stepper = model
    chars = "".join(s.char for s in grow(stepper, vocab, tree, branch_id, stop))
    return tree.extend(branch_id, chars, stopped=stop is not None and stop.is_set())


def other_char(vocab, char: str) -> str:
    return next(c for c in vocab.chars if c != char and c.isalpha())


def take(model, tree, parent: int, at: int, nth: int = 0):
    """Fork `parent` at `at` to a character other than the one there, and grow it."""
    vocab = model[1]
    here = tree.branch(parent).text[at]
    char = [c for c in vocab.chars if c != here and c.isalpha()][nth]
    branch, new = tree.fork(parent, at, char)
    return grown(model, tree, branch.id) if new else branch


def test_a_branch_keeps_the_text_before_the_fork_and_the_chosen_character(model):
    tree = new_tree(model)
    root = tree.branch(0)
    branch = take(model, tree, 0, 40)
    assert branch.text[:40] == root.text[:40]
    assert branch.text[40] != root.text[40] and branch.text[40] == branch.forced
    # As long as the text it leaves, and at least MIN_CONTINUATION past the fork.
    assert len(branch.text) == max(len(root.text), 41 + MIN_CONTINUATION) and branch.complete
    assert branch.text[41:] != root.text[41:]
    assert tree.branch(0) == root  # the old continuation stays, as a sibling


def test_a_branch_goes_on_as_the_model_would_after_its_text(model):
    """Growing reads the prompt and the branch so far, then samples with the branch's seed."""
    path, vocab, stepper = model
    tree = new_tree(model, temperature=0.9, top_k=5)
    branch = take(model, tree, 0, 30)
    settings = SampleSettings(
        length=len(branch.text) - 31, temperature=0.9, top_k=5, seed=branch.seed,
        prompt="Th" + branch.text[:31],
    )  # fmt: skip
    assert branch.text[31:] == "".join(s.char for s in generate(stepper, vocab, settings))


def test_same_seed_and_same_choices_grow_the_same_tree(model):
    def build():
        tree = new_tree(model)
        a = take(model, tree, 0, 10)
        take(model, tree, a.id, 60, nth=1)
        take(model, tree, 0, 90, nth=2)
        return tree

    first, second = build(), build()
    assert [b.text for b in first.branches] == [b.text for b in second.branches]
    assert first.to_json() == second.to_json()
    # Another choice, another text.
    other = new_tree(model)
    assert take(model, other, 0, 10, nth=3).text != first.branch(1).text


def test_taking_the_same_alternative_again_is_the_same_branch(model):
    tree = new_tree(model)
    branch = take(model, tree, 0, 25)
    again, new = tree.fork(0, 25, branch.forced)
    assert again.id == branch.id and not new and len(tree.branches) == 2
    # From the branch itself, the root's character at 25 leads back to the root.
    back, new = tree.fork(branch.id, 25, tree.branch(0).text[25])
    assert back.id == 0 and not new


def test_forks_and_alternatives_are_found_from_any_branch(model):
    tree = new_tree(model)
    a = take(model, tree, 0, 20)
    b = take(model, tree, 0, 20, nth=1)
    c = take(model, tree, a.id, 70)
    assert tree.forks_on(0) == {20: [a.id, b.id, c.id]}  # c shares a's 'a' at 20
    assert tree.forks_on(a.id) == {20: [0, b.id], 70: [c.id]}
    assert tree.alternatives(0, 20) == [0, a.id, b.id]  # one per character at 20
    assert tree.alternatives(c.id, 20) == [0, b.id, c.id]
    assert tree.alternatives(c.id, 70) == [a.id, c.id]
    assert tree.alternatives(0, 5) == [0]
    assert [b.id for b in tree.path_to(c.id)] == [0, a.id, c.id]


def test_the_character_already_there_and_positions_past_the_text_are_refused(model):
    tree = new_tree(model)
    with pytest.raises(UserError, match="already there"):
        tree.fork(0, 3, tree.branch(0).text[3])
    with pytest.raises(UserError, match="outside the generated text"):
        tree.fork(0, 120, "a")


def test_stopping_keeps_what_grew(model):
    tree = new_tree(model, length=2000)
    branch, _ = tree.fork(0, 5, other_char(model[1], tree.branch(0).text[5]))
    stop = threading.Event()
    _, vocab, stepper = model
    chars = []
    for sampled in grow(stepper, vocab, tree, branch.id, stop):
        chars.append(sampled.char)
        if len(chars) == 50:
            stop.set()
    branch = tree.extend(branch.id, "".join(chars), stopped=True)
    assert len(branch.text) == 6 + 50 and branch.stopped and not branch.complete


def test_a_saved_tree_reloads_whole(model, tmp_path):
    tree = new_tree(model)
    a = take(model, tree, 0, 15)
    take(model, tree, a.id, 50)
    path = tmp_path / "forks" / "tree.json"
    tree.save(path)
    loaded = ForkTree.load(path)
    assert loaded.branches == tree.branches
    assert loaded.settings == tree.settings and loaded.checkpoint == tree.checkpoint
    # Only each branch's own characters are stored.
    saved = json.loads(path.read_text())
    assert saved["branches"][2]["text"] == tree.branch(2).text[50:]
    # A reloaded tree grows on exactly as the original would.
    assert take(model, loaded, 0, 99).text == take(model, tree, 0, 99).text


@pytest.mark.parametrize(
    "content, why",
    [
        (b"\x89PNG\r\n", "not JSON"),
        (b'{"format": "something else"}', "not written by shakespeare-tui"),
        (b"[1, 2]", "not written by shakespeare-tui"),
        (None, "branch 1's parent"),
        (b"", "not JSON"),
    ],
)
def test_a_bad_tree_file_is_one_clear_line(model, tmp_path, content, why):
    path = tmp_path / "tree.json"
    if content is None:  # a tree edited by hand into nonsense
        tree = new_tree(model)
        take(model, tree, 0, 10)
        data = tree.to_json()
        data["branches"][1]["parent"] = 5
        content = json.dumps(data).encode()
    path.write_bytes(content)
    with pytest.raises(UserError, match=why) as caught:
        ForkTree.load(path)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)


def test_a_missing_file_or_a_folder_is_named(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        ForkTree.load(tmp_path / "nope.json")
    with pytest.raises(UserError, match="is a directory, not a fork tree"):
        ForkTree.load(tmp_path)


@pytest.mark.parametrize(
    "a, b, expected", [("abc", "abd", 2), ("abc", "abc", 3), ("ab", "abc", 2), ("", "x", 0),
                       ("x" * 999 + "a", "x" * 999 + "b", 999), ("a", "b", 0)]
)  # fmt: skip
def test_divergence(a, b, expected):
    assert divergence(a, b) == expected
