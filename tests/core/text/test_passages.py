"""Texts to inspect: the held-out end of a checkpoint's corpus, and text files."""

from __future__ import annotations

import pytest

from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.text.passages import (
    CONTEXT_CHARS,
    HELD_OUT,
    held_out_passage,
    read_text_file,
    trained_on,
)


def payload(corpus: str, fraction: float = 0.1, checksum: str | None = None) -> dict:
    return {
        "train_config": {"corpus": corpus, "val_fraction": fraction},
        "corpus": {"name": corpus, "checksum": checksum},
    }


def test_a_passage_is_the_held_out_end_from_a_line_start(corpus_file, corpus_text, tmp_path):
    passage = held_out_passage(payload(str(corpus_file)), tmp_path, 1000)
    held_start = len(corpus_text) - len(corpus_text) // 10
    assert corpus_text.endswith(passage.text) and len(passage.text) <= 1000
    start = len(corpus_text) - len(passage.text)
    assert corpus_text[start - 1] == "\n" and start >= held_start
    assert corpus_text[:start].endswith(passage.context)
    assert len(passage.context) == CONTEXT_CHARS and passage.note == ""
    assert "sonnets.txt" in passage.source
    # Longer than the held-out part: the whole of it, and no context from the training text.
    whole = held_out_passage(payload(str(corpus_file)), tmp_path, 10**6)
    assert len(whole.text) <= len(corpus_text) - held_start
    skipped = corpus_text[held_start : len(corpus_text) - len(whole.text)]  # up to a line start
    assert whole.context == (skipped or "\n")


def test_a_changed_corpus_is_noted_and_a_missing_one_refused(corpus_file, tmp_path):
    changed = held_out_passage(payload(str(corpus_file), checksum="sha256:0"), tmp_path, 500)
    assert "changed since" in changed.note
    with pytest.raises(UserError, match="no longer exists"):
        held_out_passage(payload(str(tmp_path / "gone.txt")), tmp_path, 500)
    with pytest.raises(UserError, match="does not record its corpus"):
        held_out_passage({}, tmp_path, 500)


@pytest.mark.parametrize(
    "parts, expected",
    [
        ({"train_config": {"corpus": "a.txt", "val_fraction": 0.2}}, ("a.txt", 0.2)),
        ({"train_config": [1], "corpus": {"name": "plays"}}, ("plays", HELD_OUT)),
        ({"train_config": {"corpus": "a.txt"}, "corpus": [1]}, ("a.txt", HELD_OUT)),
        ({"train_config": "x", "corpus": "plays"}, ("", HELD_OUT)),
        ({"train_config": {"corpus": "a", "val_fraction": float("nan")}}, ("a", HELD_OUT)),
        ({"train_config": {"corpus": "a", "val_fraction": "0.2"}}, ("a", HELD_OUT)),
        ({"train_config": {"corpus": "a", "val_fraction": -0.5}}, ("a", HELD_OUT)),
        ({"train_config": {"corpus": "a", "val_fraction": True}}, ("a", HELD_OUT)),
    ],
)
def test_the_corpus_a_checkpoint_names_is_read_by_each_parts_kind(parts, expected):
    """A part of another kind than this program writes reads as missing, never raises."""
    assert trained_on(parts) == expected


def test_text_files_are_read_as_utf8_with_newlines_normalised(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(b"\xef\xbb\xbfROMEO:\r\nO, she doth teach\r")
    assert read_text_file(path) == "ROMEO:\nO, she doth teach\n"
    path.write_bytes(b"caf\xe9")
    with pytest.raises(UserError, match="not UTF-8.*0xe9"):
        read_text_file(path)
