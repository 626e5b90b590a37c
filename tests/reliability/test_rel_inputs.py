"""Bad corpora and bad controls through the CLI: exit 2, one line on stderr, nothing written.

Also: a 50 MB corpus loads with bounded memory, a file too large to read whole trains from its
memory map (and a disk too small for the map is refused in one line), and CRLF line endings or
characters outside the BMP train fine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from rel_support import TINY, make_text, run_dirs

from shakespeare_tui.cli import build_parser
from shakespeare_tui.core.model.checkpoint import load_checkpoint
from shakespeare_tui.core.text import corpus as corpus_module


def assert_refused(result, *words: str) -> None:
    assert result.code == 2, result
    assert len(result.err_lines) == 1, result.err
    assert "Traceback" not in result.err + result.out, result
    for word in words:
        assert word in result.err, (word, result.err)


def _bad_corpora(folder):
    """name → (path, a word the refusal must contain)."""
    cases = {}

    def add(name, data, word):
        path = folder / name
        if data is not None:
            path.write_bytes(data)
        cases[name] = (path, word)

    add("missing.txt", None, "not found")
    (folder / "a-directory").mkdir()
    cases["a-directory"] = (folder / "a-directory", "directory")
    add("binary.bin", bytes(range(256)) * 64, "binary")
    add("latin1.txt", "Ophélie\n".encode("latin-1") * 500, "not UTF-8")
    add("empty.txt", b"", "empty")
    add("blank.txt", b" \n\t\n" * 100, "whitespace")
    add("one-char.txt", b"a", "needs at least")
    add("short.txt", make_text(300).encode(), "needs at least")
    return cases


def test_bad_corpora_are_refused_in_one_line(tmp_path, cli):
    home = tmp_path / "home"
    for name, (path, word) in _bad_corpora(tmp_path).items():
        result = cli("--data-dir", home, "train", "--corpus", path, *TINY, "--max-steps", "2")
        assert_refused(result, word)
        assert run_dirs(home) == [], f"{name} left a run folder"


def test_a_corpus_too_large_to_read_whole_trains_from_its_map(tmp_path, cli, monkeypatch):
    from collections import namedtuple

    from shakespeare_tui.core.text import encode as corpus_encode

    monkeypatch.setattr(corpus_module, "MAP_ABOVE_BYTES", 4096)
    path = tmp_path / "big.txt"
    path.write_text(make_text(12_000))
    home = tmp_path / "home"
    args = ("--data-dir", home, "train", "--corpus", path, *TINY, "--max-steps", "2")
    result = cli(*args, "--run", "r")
    assert result.code == 0, result
    assert "encoded" in result.out and "MB/s" in result.out  # piped: one line, not the bar
    assert len(list((home / "cache" / "corpora").glob("*.map"))) == 1
    # A disk too small for the map: one line, no run folder, nothing half-written.
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(corpus_encode.shutil, "disk_usage", lambda p: usage(10**9, 10**9, 100))
    other = tmp_path / "home2"
    result = cli("--data-dir", other, *args[2:])
    assert_refused(result, "not enough disk space", "100 bytes free")
    assert run_dirs(other) == []
    assert [p.name for p in (other / "cache" / "corpora").iterdir()] == ["keys"]


def test_crlf_and_characters_outside_the_bmp_train(tmp_path, cli):
    text = make_text(12_000).replace("\n", "\r\n").replace("summer", "summer \U0001f3ad")
    path = tmp_path / "crlf.txt"
    path.write_bytes(text.encode("utf-8"))
    home = tmp_path / "home"
    result = cli(
        "--data-dir",
        home,
        "train",
        "--corpus",
        path,
        *TINY,
        "--name",
        "r",
        "--max-steps",
        "3",
        "--quiet",
    )
    assert result.code == 0, result
    checkpoint = load_checkpoint(home / "runs" / "r" / "last.pt")
    assert "\U0001f3ad" in checkpoint.vocab.chars and "\r" not in checkpoint.vocab.chars
    result = cli(
        "--data-dir",
        home,
        "generate",
        "--checkpoint",
        "r",
        "--prompt",
        "\U0001f3ad",
        "--length",
        "20",
        "--seed",
        "1",
    )
    assert result.code == 0, result
    assert result.out.startswith("\U0001f3ad")


LARGE_MB = 50
MEMORY_PROBE = textwrap.dedent(
    """
    import json, resource, sys, time
    import torch
    from shakespeare_tui.core.text.corpus import load_corpus
    from shakespeare_tui.core.text.batches import TextData
    from shakespeare_tui.core.text.vocab import Vocabulary

    def status(key):
        for line in open("/proc/self/status"):
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024

    try:  # Linux: reset the peak to now, so the peak below is this work's alone
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        before, peak = status("VmRSS"), lambda: status("VmHWM")
    except OSError:
        peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        before = peak()
    t0 = time.perf_counter()
    corpus = load_corpus(sys.argv[1], sys.argv[2])
    vocab = Vocabulary.from_text(corpus.text)
    data = TextData(vocab.encode(corpus.text), seq_len=100, batch_size=64, val_fraction=0.1,
                    device=torch.device("cpu"), seed=1)
    data.batch()
    print(json.dumps({"growth": peak() - before, "seconds": time.perf_counter() - t0,
                      "chars": len(corpus.text), "vocab": len(vocab)}))
    """
)


def test_a_large_corpus_loads_with_bounded_memory(tmp_path):
    path = tmp_path / "large.txt"
    block = make_text(1 << 20).encode("ascii")
    with open(path, "wb") as f:
        for _ in range(LARGE_MB):
            f.write(block)
    size = path.stat().st_size
    proc = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(path), str(tmp_path / "cache")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"\n{size / 2**20:.0f} MB corpus: max RSS grew {report['growth'] / 2**20:.0f} MB "
        f"({report['growth'] / size:.1f}x the file) in {report['seconds']:.1f} s"
    )
    assert report["chars"] == size
    assert report["growth"] < 4 * size
    assert report["seconds"] < 60


# ------------------------------------------------------------------ controls


GENERATE_BAD = [
    (["--temperature", "-1"], "temperature"),
    (["--temperature", "nan"], "finite"),
    (["--temperature", "inf"], "finite"),
    (["--temperature", "1e9"], "temperature"),
    (["--temperature", "warm"], "not a number"),
    (["--seed", "abc"], "whole number"),
    (["--seed", str(2**63)], "2**63"),
    (["--seed", "-1"], "2**63"),
    (["--length", "0"], "length"),
    (["--length", "1000000000"], "length"),
    (["--length", "ten"], "whole number"),
    (["--top-k", "0"], "top-k"),
    (["--top-k", "100000"], "top-k"),
    (["--top-k", "many"], "whole number"),
    (["--prompt", "\u2603 snow"], "never saw"),
]


@pytest.mark.parametrize("args,word", GENERATE_BAD, ids=[" ".join(a) for a, _ in GENERATE_BAD])
def test_bad_generation_controls(args, word, trained_checkpoint, tmp_path, cli):
    result = cli(
        "--data-dir", tmp_path / "home", "generate", "--checkpoint", trained_checkpoint, *args
    )
    assert_refused(result, word)
    assert result.out == ""


def _train_flags_of_type():
    """Every `train` option that takes a typed value (a number), by its flag."""
    parser = build_parser()
    train = parser._subparsers._group_actions[0].choices["train"]
    return [
        action.option_strings[-1]
        for action in train._actions
        if action.option_strings and action.type is not None and action.nargs is None
    ]


def test_every_numeric_train_flag_refuses_text(tmp_path, small_corpus, cli):
    flags = _train_flags_of_type()
    assert {"--lr", "--epochs", "--seed", "--hidden", "--max-minutes"} <= set(flags)
    home = tmp_path / "home"
    for flag in flags:
        result = cli("--data-dir", home, "train", "--corpus", small_corpus, *TINY, flag, "abc")
        assert_refused(result, flag.lstrip("-").split("-")[0])
    assert run_dirs(home) == []


TRAIN_BAD = [
    (["--dropout", "1.5"], "--dropout must be"),
    (["--lr", "0"], "--lr must be"),
    (["--lr", "100"], "--lr must be"),
    (["--lr", "-1"], "--lr must be"),
    (["--lr", "nan"], "finite"),
    (["--clip", "0"], "--clip must be"),
    (["--val-fraction", "0.9"], "--val-fraction must be"),
    (["--max-minutes", "-1"], "--max-minutes must be"),
    (["--seq-len", "1"], "--seq-len must be"),
    (["--epochs", "0"], "at least 1"),
    (["--batch-size", "-3"], "at least 1"),
    (["--seed", "-1"], "2**63"),
    (["--seed", str(2**63)], "2**63"),
    (["--preset", "huge"], "invalid choice"),
    (["--cell", "transformer"], "invalid choice"),
    (["--device", "tpu"], "device"),
    (["--device", "cuda:7"], "CUDA"),
    (["--name", "../escape"], "run name"),
    (["--resume", "no-such-run"], "no-such-run"),
    (["--no-such-flag"], "unrecognized"),
]


@pytest.mark.parametrize("args,word", TRAIN_BAD, ids=[" ".join(a) for a, _ in TRAIN_BAD])
def test_bad_train_controls(args, word, tmp_path, small_corpus, cli):
    home = tmp_path / "home"
    result = cli("--data-dir", home, "train", "--corpus", small_corpus, *TINY, *args)
    assert_refused(result, word)
    assert run_dirs(home) == []
