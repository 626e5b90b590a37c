"""`shakespeare-tui inspect`: bits per character and the finder's table or JSON, the text coloured
by a unit, and one-line refusals (exit 2) for bad checkpoints, texts and unit numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from shakespeare_tui.cli import EXIT_OK
from shakespeare_tui.cli.inspect_command import MAX_CHARS
from tests.cli_support import assert_one_line_error, cli

LENGTH = "3000"  # characters per inspection: enough for the bundled model's cells to show


@pytest.fixture(autouse=True)
def quiet_machine(monkeypatch):
    """Whole rows (rich wraps captured output at 80 columns) and one torch thread (a test
    process's OpenMP threads spin, which a busy machine punishes)."""
    monkeypatch.setenv("COLUMNS", "250")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """One data dir for the module, so the plays are rebuilt into its cache only once."""
    return tmp_path_factory.mktemp("inspect") / "home"


def inspect(capsys, home, *args):
    return cli(capsys, "inspect", *args, "--data-dir", home)


def test_json_names_the_bundled_models_line_and_speaker_cells(capsys, home):
    code, out, err = inspect(capsys, home, "--validation", "--length", LENGTH, "--json")
    assert code == EXIT_OK, err
    document = json.loads(out)
    assert isinstance(document["bits_per_char"], float) and 1.0 < document["bits_per_char"] < 3
    assert document["chars"] <= int(LENGTH) and document["quantity"] == "tanh_c"
    features = document["features"]
    for name in ("line_position", "speaker_line"):
        scores = features[name]
        assert [set(s) for s in scores] == [{"layer", "unit", "r"}] * 3
        assert [abs(s["r"]) for s in scores] == sorted((abs(s["r"]) for s in scores), reverse=True)
        assert abs(scores[0]["r"]) >= 0.7
    assert "unit" not in document


def test_the_table_shows_bits_and_three_units_per_feature(capsys, home, corpus_file):
    code, out, err = inspect(capsys, home, "--text", corpus_file, "--length", LENGTH)
    assert code == EXIT_OK, err
    assert "bits per character" in out and "sonnets.txt (3,000 characters)" in out
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("line_position"))
    rows = lines[start : start + 3]
    assert all(row.split()[-1][0] in "+-" for row in rows)
    assert "constant in this text" in out  # the sonnets have no brackets


def test_a_unit_colours_the_text(capsys, home, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    code, out, err = inspect(capsys, home, "--length", "1500", "--unit", "0:203")
    assert code == EXIT_OK, err
    assert "layer 0 unit 203, cell state tanh(c)" in out and "line_position" in out
    assert "\x1b[" in out.split("layer 0 unit 203")[1]  # coloured spans


def test_json_with_a_unit_carries_its_values(capsys, home, corpus_file):
    args = ("--text", corpus_file, "--length", "800", "--unit", "5", "--quantity", "f", "--json")
    code, out, err = inspect(capsys, home, *args)
    assert code == EXIT_OK, err
    document = json.loads(out)
    unit = document["unit"]
    assert (unit["layer"], unit["unit"], unit["quantity"]) == (0, 5, "f")
    assert len(unit["values"]) == document["chars"] == 800
    assert all(0.0 <= v <= 1.0 for v in unit["values"])  # a gate
    assert set(unit["r"]) >= {"line_position", "speaker_line"}


def test_a_run_trained_on_a_file_is_inspected_on_that_files_held_out_end(
    capsys, trained_run, corpus_text
):
    paths, finished, _ = trained_run
    code, out, err = cli(capsys, "inspect", "--checkpoint", finished.best_checkpoint, "--json")
    assert code == EXIT_OK, err
    document = json.loads(out)
    assert document["chars"] <= len(corpus_text) // 10  # the held-out 10%
    assert "sonnets.txt (held out from training)" in document["checkpoint"]


def test_a_basic_rnn_is_ranked_by_h_and_refuses_a_gate_in_one_line(capsys, rnn_run):
    args = ("inspect", "--checkpoint", rnn_run.best_checkpoint, "--unit", "3")
    code, out, err = cli(capsys, *args, "--json")
    assert code == EXIT_OK, err
    document = json.loads(out)
    assert document["quantity"] == "h" and "RNN E16/H32" in document["checkpoint"]
    assert len(document["unit"]["values"]) == document["chars"]
    code, out, err = cli(capsys, *args, "--quantity", "f")
    assert out == ""
    assert_one_line_error(code, err, "--quantity f is not a quantity of an RNN: use one of h")


def test_a_checkpoint_whose_corpus_is_gone_is_refused_in_one_line(capsys, trained_run, tmp_path):
    from shakespeare_tui.core.model.checkpoint import load_checkpoint, save_checkpoint

    _, finished, _ = trained_run
    payload = dict(load_checkpoint(finished.best_checkpoint).payload)
    gone = str(tmp_path / "moved-away.txt")
    payload["train_config"] = {**payload["train_config"], "corpus": gone}
    moved = tmp_path / "moved.pt"
    save_checkpoint(moved, payload)
    code, _, err = cli(capsys, "inspect", "--checkpoint", moved, "--data-dir", tmp_path)
    assert_one_line_error(code, err, gone, "no longer exists")


@pytest.fixture
def bad_inputs(tmp_path) -> dict[str, Path]:
    files = {
        "foreign": ("Caf\u00e9 au lait \u20ac2\n", "utf-8"),
        "empty": ("", "utf-8"),
        "latin1": ("caf\u00e9\n", "latin-1"),
        "long": ("a" * (MAX_CHARS + 1), "utf-8"),
    }
    paths = {}
    for name, (text, encoding) in files.items():
        paths[name] = tmp_path / f"{name}.txt"
        paths[name].write_bytes(text.encode(encoding))
    paths["truncated"] = tmp_path / "truncated.pt"
    bundled = Path(__file__).parents[1] / "shakespeare_tui" / "assets" / "bundled.pt"
    paths["truncated"].write_bytes(bundled.read_bytes()[:5000])
    paths["folder"] = tmp_path
    paths["missing"] = tmp_path / "nowhere.txt"
    return paths


@pytest.mark.parametrize(
    "args, words",
    [
        (["--text", "{foreign}"], ["never saw", "'é'", "'€'"]),
        (["--text", "{empty}"], ["empty"]),
        (["--text", "{latin1}"], ["not UTF-8"]),
        (["--text", "{missing}"], ["does not exist"]),
        (["--text", "{folder}"], ["directory"]),
        (["--text", "{long}"], ["200,000", "--length"]),
        (["--length", "200001"], ["--length", "200,000"]),
        (["--checkpoint", "{truncated}"], ["truncated.pt"]),
        (["--checkpoint", "ghost"], ["ghost"]),
        (["--unit", "0:640"], ["--unit 0:640", "0–639"]),
        (["--unit", "1:3"], ["--unit 1:3", "only layer is 0"]),
        (["--unit", "x"], ["--unit", "LAYER:UNIT"]),
        (["--quantity", "z"], ["--quantity z", "LSTM"]),
        (["--text", "{empty}", "--validation"], ["not allowed"]),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_input_is_refused_in_one_line(capsys, home, bad_inputs, args, words):
    filled = [a.format(**bad_inputs) for a in args]
    code, out, err = inspect(capsys, home, *filled)
    assert out == ""
    assert_one_line_error(code, err, *words)
