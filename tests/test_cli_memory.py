"""`shakespeare-tui memory`: the context table with the n-gram beside it, the effective
contexts, the connectivity (mean, or one prediction's with --at), the JSON shape, checkpoints
side by side, and one-line refusals (exit 2) for bad checkpoints, texts and numbers.

The command runs through `main`, as a person's does."""

from __future__ import annotations

import json

import pytest
import torch

from shakespeare_tui.cli import EXIT_OK, main
from shakespeare_tui.core.model.checkpoint import read_info
from tests.cli_support import assert_one_line_error

# The tiny run's 2,000 held-out characters; fp32, so the figures are the same on every CPU.
FAST = ("--targets", "100", "--span", "40", "--no-bf16")


@pytest.fixture(autouse=True)
def quiet_machine(monkeypatch):
    """Whole rows (rich wraps captured output at 80 columns) and one torch thread."""
    monkeypatch.setenv("COLUMNS", "250")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def memory(capsys, paths, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(["--data-dir", str(paths.data), "memory", *[str(a) for a in argv]])
    except SystemExit as exc:  # argparse's usage errors exit from parse_args
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def trained(trained_run) -> str:
    return trained_run[1].best_checkpoint


def test_the_table_puts_the_ngram_beside_the_model_and_says_each_effective_context(
    capsys, paths, trained
):
    code, out, err = memory(capsys, paths, "--checkpoint", trained, *FAST)
    assert code == EXIT_OK, err
    lines = out.splitlines()
    assert lines[0].startswith(f"{trained} (LSTM E16/H32) · 100 targets in the last ")
    assert "held out from training" in lines[0]
    header = lines[2].split()
    assert header == ["k", trained, "n-gram"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[3:19]}
    assert list(rows) == [*map(str, range(9)), "16", "32", "64", "128", "256", "512", "all"]
    assert len(rows["0"]) == 1 and len(rows["3"]) == 1  # the n-gram alone
    assert len(rows["1"]) == 2 and len(rows["8"]) == 2  # both
    assert len(rows["16"]) == 1 and len(rows["all"]) == 1  # the model alone
    effective = next(line for line in lines if line.startswith("effective context"))
    assert f"{trained} " in effective and "; the n-gram " in effective
    connectivity = lines[lines.index(next(x for x in lines if x.startswith("connectivity"))) + 2 :]
    assert [row.split()[0] for row in connectivity] == ["1", "2", "4", "8", "16", "32", "40"]


def test_json_has_exactly_the_issues_shape(capsys, paths, trained):
    code, out, err = memory(capsys, paths, "--checkpoint", trained, *FAST, "--json")
    assert code == EXIT_OK, err
    document = json.loads(out)
    assert set(document) == {"targets", "checkpoints", "ngram"} and document["targets"] == 100
    (one,) = document["checkpoints"]
    assert set(one) == {"name", "cell", "params", "context", "effective_context", "connectivity"}
    assert (one["name"], one["cell"]) == (trained, "lstm")
    assert one["params"] == read_info(trained).parameters
    assert [p["k"] for p in one["context"]] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, "all"]
    assert all(set(p) == {"k", "loss"} and p["loss"] > 0 for p in one["context"])
    assert one["effective_context"] in [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    assert [p["k"] for p in one["connectivity"]] == list(range(1, 41))
    assert all(set(p) == {"k", "grad"} and p["grad"] >= 0 for p in one["connectivity"])
    assert [p["context"] for p in document["ngram"]] == list(range(9))
    assert all(set(p) == {"context", "loss"} for p in document["ngram"])


def test_at_a_position_prints_each_earlier_characters_connectivity(
    capsys, paths, trained, corpus_text
):
    code, out, err = memory(
        capsys, paths, "--checkpoint", trained, *FAST, "--at", 700, "--span", 20
    )
    assert code == EXIT_OK, err
    lines = out.splitlines()
    start = next(
        i
        for i, line in enumerate(lines)
        if line.startswith("connectivity of the prediction of character 700")
    )
    assert lines[start + 1].split() == ["k", "character", trained]
    rows = lines[start + 2 :]
    assert [row.split()[0] for row in rows] == [str(k) for k in range(1, 21)]
    assert all(row.split()[-1][-4] == "e" for row in rows)  # 1.23e-02

    code, out, err = memory(
        capsys, paths, "--checkpoint", trained, *FAST, "--at", 700, "--span", 20, "--json"
    )
    grads = json.loads(out)["checkpoints"][0]["connectivity"]
    assert [p["k"] for p in grads] == list(range(1, 21))


def test_two_checkpoints_are_measured_on_the_same_targets_side_by_side(
    capsys, paths, trained, rnn_run
):
    rnn = rnn_run.best_checkpoint
    code, out, err = memory(
        capsys, paths, "--checkpoint", trained, "--checkpoint", rnn, *FAST, "--json"
    )
    assert code == EXIT_OK, err
    document = json.loads(out)
    assert [c["cell"] for c in document["checkpoints"]] == ["lstm", "rnn"]
    code, out, err = memory(capsys, paths, "--checkpoint", trained, "--checkpoint", rnn, *FAST)
    assert out.splitlines()[2].split() == ["k", trained, rnn, "n-gram"]


def test_a_text_file_is_measured_whole_or_its_first_length(capsys, paths, trained, corpus_file):
    code, out, err = memory(
        capsys,
        paths,
        "--checkpoint",
        trained,
        "--text",
        corpus_file,
        "--length",
        1500,
        *FAST,
        "--json",
    )
    assert code == EXIT_OK, err
    code, out, err = memory(capsys, paths, "--checkpoint", trained, "--text", corpus_file, *FAST)
    assert code == EXIT_OK, err
    assert f"100 targets in {corpus_file} (20,000 characters)" in out.splitlines()[0]


def test_bad_input_gets_one_line_and_exit_2(capsys, paths, trained, tmp_path):
    odd = tmp_path / "odd.txt"
    odd.write_text("Shall I compare thee → to a summer's day?\n" * 40, encoding="utf-8")
    short = tmp_path / "short.txt"
    short.write_text("Shall I compare thee to a summer's day?\n" * 15, encoding="utf-8")
    cases = [
        (("--checkpoint", "nope"), "no checkpoint or run named 'nope'"),
        (("--checkpoint", trained, "--text", odd), "characters", "never saw: '→'"),
        (("--checkpoint", trained, "--text", short), "too few for --targets 100"),
        (("--checkpoint", trained, "--targets", 0), "--targets must be at least 1"),
        (("--checkpoint", trained, "--targets", -5), "--targets must be at least 1"),
        (("--checkpoint", trained, "--at", 0), "--at must be at least 1"),
        (("--checkpoint", trained, "--text", short, "--at", 5_000), "--at 5000 is past the end"),
        (("--checkpoint", trained, "--span", 0), "--span must be from 1 to 512"),
        (("--checkpoint", trained, "--span", 600), "--span must be from 1 to 512"),
        (("--checkpoint", trained, "--length", 0), "--length must be at least 1"),
    ]
    for argv, *words in cases:
        code, out, err = (
            memory(capsys, paths, *argv, "--targets", "100")
            if "--targets" not in argv
            else memory(capsys, paths, *argv)
        )
        assert_one_line_error(code, err, *words)
        assert out == ""
