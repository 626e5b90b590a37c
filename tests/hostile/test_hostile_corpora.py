"""Odd corpora, texts and settings through `train` and `inspect`: a pipe or a device named as a
file, a "~" that cannot be expanded, settings no machine can train, and a corpus full of escape
sequences. Each refusal is one line (exit 2) before anything is written; nothing hangs, nothing
is allocated without bound, and what a corpus holds is shown escaped.
"""

from __future__ import annotations

import os

import pytest

from tests.hostile.hostile_support import assert_no_escapes, assert_refused, snapshot

OSC52 = "\x1b]52;c;ZXZpbA==\x07"
TINY = ["--preset", "tiny", "--threads", "1", "--max-steps", "2", "--quiet"]


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "fifo.txt"
    os.mkfifo(path)  # no writer: an open for reading that blocks waits for ever
    return path


# name → (argv with {fifo} and {corpus}, words of the refusal)
CASES = {
    "train --corpus FIFO": (["train", "--corpus", "{fifo}", *TINY], "is a pipe (FIFO)"),
    "inspect --text FIFO": (["inspect", "--checkpoint", "trained", "--text", "{fifo}"], "pipe"),
    "train --corpus /dev/zero": (["train", "--corpus", "/dev/zero", *TINY], "is a device"),
    "inspect --text /dev/zero": (
        ["inspect", "--checkpoint", "trained", "--text", "/dev/zero"],
        "/dev/zero is a device, not a text file",
    ),
    "train --corpus ~nosuchuser": (
        ["train", "--corpus", "~no-such-user-here/corpus.txt", *TINY],
        "cannot tell which folder ~no-such-user-here is",
    ),
    "inspect --text ~nosuchuser": (
        ["inspect", "--checkpoint", "trained", "--text", "~no-such-user-here/a.txt"],
        "cannot tell which folder",
    ),
    "--threads 100000": (
        ["train", "--corpus", "{corpus}", "--preset", "tiny", "--threads", "100000"],
        "--threads must be at most",
    ),
    "--layers 1000000": (
        ["train", "--corpus", "{corpus}", *TINY, "--layers", "1000000"],
        "--layers",
    ),
    "--hidden 1000000": (
        ["train", "--corpus", "{corpus}", *TINY, "--hidden", "1000000"],
        "--hidden",
    ),
    "--sample-length 100000000": (
        ["train", "--corpus", "{corpus}", *TINY, "--sample-length", "100000000", "--name", "s"],
        "--sample-length must be at most 1,000,000",
    ),
    "--resume --threads 100000": (
        ["train", "--resume", "trained", "--epochs", "4", "--threads", "100000"],
        "--threads must be at most",
    ),
    "--resume --sample-length 100000000": (
        ["train", "--resume", "trained", "--epochs", "4", "--sample-length", "100000000"],
        "--sample-length",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_an_odd_input_is_refused_before_anything_is_written(zygote, home, fifo, corpus_file, case):
    argv, words = CASES[case]
    argv = [a.format(fifo=fifo, corpus=corpus_file) for a in argv]
    before = snapshot(home / "runs")
    outcome = zygote.run(*argv, "--data-dir", home, timeout=15)
    assert_refused(outcome, 2, words)
    assert snapshot(home / "runs") == before


def test_data_dir_tilde_without_a_home(zygote, tmp_path):
    """`--data-dir ~` where "~" cannot be expanded (no $HOME and no such user): one line."""
    outcome = zygote.run("runs", "--data-dir", "~no-such-user-here", env={"HOME": ""})
    assert_refused(outcome, 2, "cannot tell which folder ~no-such-user-here is")


def test_data_dir_tilde_when_the_system_knows_no_home(monkeypatch, capsys):
    """No $HOME and no entry for this user in the password database: Path.expanduser raises
    RuntimeError ("Could not determine home directory"), which was an internal error."""
    import pathlib

    from shakespeare_tui.cli import main

    def no_home(self):
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(pathlib.Path, "expanduser", no_home)
    assert main(["runs", "--data-dir", "~"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot tell which folder ~ is" in err


def test_a_corpus_full_of_escapes_trains_and_shows_them_escaped(zygote, home, tmp_path):
    """Its samples are the model's: of escapes, mostly. None reaches the terminal; nor does the
    corpus file's own name."""
    corpus = tmp_path / f"esc{OSC52}.txt"
    corpus.write_text((("ROMEO" + OSC52 + " \x1b[2J\n") * 2000), encoding="utf-8")
    argv = ["train", "--corpus", corpus, "--preset", "tiny", "--threads", "1", "--max-steps", "3",
            "--sample-length", "300", "--name", "e"]  # fmt: skip
    outcome = zygote.run(*argv, "--data-dir", home)
    assert outcome.code == 0, outcome
    assert_no_escapes(outcome)
    assert "\\x1b" in outcome.out.decode()  # shown, escaped
    text = tmp_path / "passage.txt"
    text.write_text("ROMEO" + OSC52 + "\n" * 3)
    outcome = zygote.run("inspect", "--checkpoint", "e", "--text", text, "--unit", "0:1",
                         "--data-dir", home)  # fmt: skip
    assert outcome.code == 0, outcome
    assert_no_escapes(outcome)
