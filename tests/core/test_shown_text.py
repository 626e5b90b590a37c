"""Text from a file is shown with its control characters escaped: no escape sequence written
into a run name, a corpus name or a checkpoint reaches the terminal."""

from __future__ import annotations

import pytest

from shakespeare_tui.core.shown_text import shown

OSC52 = "x\x1b]52;c;ZXZpbA==\x1b\\y"  # writes "evil" to the clipboard of the terminal


@pytest.mark.parametrize(
    "text, expected",
    [
        (OSC52, "x\\x1b]52;c;ZXZpbA==\\x1b\\y"),
        ("\x1b[2J\x1b]0;title\x07", "\\x1b[2J\\x1b]0;title\\x07"),  # clear screen, window title
        ("a\x9b31mb", "a\\x9b31mb"),  # C1 CSI: an 8-bit ESC [ to some terminals
        ("del\x7f", "del\\x7f"),
        ("two\nlines\tand\r", "two\\nlines\\tand\\r"),  # one field stays one line
        ("lone \ud800 surrogate", "lone \\ud800 surrogate"),  # not UTF-8: printing it raises
        ("plain, é, 🎭, C:\\runs", "plain, é, 🎭, C:\\runs"),  # left as they are
    ],
)
def test_control_characters_are_shown_escaped(text, expected):
    assert shown(text) == expected


def test_a_text_of_several_lines_keeps_them():
    assert shown("ROMEO:\nBut\x1b[2J soft\n", keep="\n") == "ROMEO:\nBut\\x1b[2J soft\n"
    assert shown("a\tb\n", keep="\n\t") == "a\tb\n"


def test_what_it_returns_is_safe_to_write_to_a_terminal():
    every = "".join(chr(c) for c in range(0x0, 0x2000))
    out = shown(every)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in out)
    out.encode("utf-8")  # no lone surrogate left


def test_a_value_that_is_not_text_is_shown_as_text():
    assert shown(42) == "42" and shown(None) == "None"
