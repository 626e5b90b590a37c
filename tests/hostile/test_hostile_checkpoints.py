"""Crafted checkpoints through `generate`, `inspect` and `export`: each is one line on stderr
(exit 2), within the time limit and the memory budget, with no escape sequence from the file on
the terminal and no file changed — or, for a file that is odd but sound, it works.

Every file is small: it only claims to be large (a config of a million layers, a compressed
tensor of 1 GiB), which is what the checks must see before anything is allocated or built.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import pytest
import torch

from tests.hostile.hostile_support import assert_no_escapes, assert_refused, snapshot

pytestmark = pytest.mark.heavy(15)

OSC52 = "x\x1b]52;c;ZXZpbA==\x1b\\y"  # a clipboard write, as a corpus name or a file name


def _config(**values) -> Callable[[dict], None]:
    return lambda data: data["model_config"].update(values)


def _weight(name: str, make) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        data["weights"][name] = make(data["weights"][name])

    return change


def _huge_zeros(data: dict) -> None:
    data["weights"]["head.bias"] = torch.zeros(2**28)  # 1 GiB of float32: compressed to ~1 MB


def _view_of_more(tensor: torch.Tensor) -> torch.Tensor:
    return torch.cat([tensor, tensor])[: tensor.shape[0]]  # saved with its whole storage


def _nested(depth: int):
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def _metadata_with_escapes(data: dict) -> None:
    data["corpus"] = {"name": OSC52, "checksum": "\x1b[2J", "chars": 9}
    data["created"], data["kind"] = "\x1b]0;title\x07", "\x9b31m"
    data["progress"] = {"epoch": float("inf"), "step": "x"}
    data["val_loss"] = float("nan")


# name → (how the good checkpoint is changed, zip it?, words of the refusal; None: it works)
CASES: dict[str, tuple[Callable[[dict], None], bool, str | None]] = {
    "compressed 1 GiB tensor": (_huge_zeros, True, "holds compressed records"),
    "hidden 8000, small weights": (_config(hidden=8000), False, "weight rnn.weight_ih_l0"),
    "layers 1,000,000": (
        _config(layers=10**6),
        False,
        "layers must be at most 16",
    ),
    "hidden 32.0": (_config(hidden=32.0), False, "hidden must be a whole number"),
    "hidden 32.5": (_config(hidden=32.5), False, "hidden must be a whole number"),
    "hidden 10**30": (_config(hidden=10**30), False, "hidden must be at most 16,384"),
    "embed 2**62": (_config(embed=2**62), False, "embed must be at most 16,384"),
    "vocab size 10**9": (_config(vocab_size=10**9), False, "vocab size must be at most 1,114,112"),
    "dropout NaN": (_config(dropout=float("nan")), False, "dropout must be a finite number"),
    "cell with escapes": (_config(cell=OSC52), False, "cell must be one of"),
    "nested model config": (_config(hidden=_nested(5000)), False, "invalid model config"),
    "sparse weight": (_weight("head.weight", lambda t: t.to_sparse()), False, "sparse"),
    "complex weight": (_weight("head.weight", lambda t: t.to(torch.complex64)), False, "complex64"),
    "integer weight": (_weight("head.weight", lambda t: t.to(torch.int64)), False, "int64"),
    "view of a larger storage": (_weight("head.weight", _view_of_more), False, "holds"),
    "nested history": (lambda data: data.update(history=_nested(5000)), False, "nested too deeply"),
    "metadata with escapes": (_metadata_with_escapes, False, None),
}
COMMANDS = {
    "generate": ["generate", "--checkpoint", "{file}", "--length", "20", "--seed", "1"],
    "inspect": ["inspect", "--checkpoint", "{file}", "--text", "{text}", "--length", "300"],
    "export": ["export", "{file}", "{out}"],
}


def _save_zipped(data: dict, path: Path) -> None:
    """`data` as torch saves it, with every record compressed (torch reads those too) and every
    tensor's bytes zero: the 1 GiB tensor deflates to ~1 MB. torch leaves the tensors' bytes out
    as it saves (`skip_data`, a hole in the file), so the 1 GiB is never written nor read back:
    only streamed, as zeros, through the compressor."""
    plain = path.with_suffix(".plain")
    skip = getattr(torch.serialization, "skip_data", contextlib.nullcontext)  # torch >= 2.5
    with skip():
        torch.save(data, plain)
    zeros = memoryview(bytes(2**20))
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info in source.infolist():
            with z.open(info.filename, "w", force_zip64=True) as record:
                if PurePosixPath(info.filename).parent.name != "data":
                    record.write(source.read(info))
                    continue
                for start in range(0, info.file_size, len(zeros)):  # a tensor's bytes
                    record.write(zeros[: info.file_size - start])
    plain.unlink()


@pytest.fixture(scope="module")
def crafted(tmp_path_factory, trained_run) -> dict[str, Path]:
    _, finished, _ = trained_run
    good = torch.load(finished.best_checkpoint, map_location="cpu", weights_only=True)
    folder = tmp_path_factory.mktemp("crafted")
    files = {}
    for name, (change, zipped, _) in CASES.items():
        data = copy.deepcopy(good)
        change(data)
        path = folder / (name.replace(" ", "-").replace(",", "") + ".pt")
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(50_000)  # the nested cases: pickling them recurses
        try:
            if zipped:
                _save_zipped(data, path)
            else:
                torch.save(data, path)
        finally:
            sys.setrecursionlimit(limit)
        assert path.stat().st_size < 2 * 2**20, f"{name}: {path.stat().st_size} bytes"
        files[name] = path
    return files


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", list(CASES))
def test_a_crafted_checkpoint(zygote, crafted, home, corpus_file, tmp_path, case, command):
    file, words = crafted[case], CASES[case][2]
    out = tmp_path / "exported.pt"
    argv = [a.format(file=file, text=corpus_file, out=out) for a in COMMANDS[command]]
    before = snapshot(home, file)
    outcome = zygote.run(*argv, "--data-dir", home)
    if words is None:  # odd but sound: it works, and shows nothing of the file's escapes
        assert outcome.code == 0, outcome
        assert_no_escapes(outcome)
    else:
        assert_refused(outcome, 2, words)
        assert not out.exists()
    assert snapshot(home, file) == before


def test_a_checkpoint_named_with_escapes_is_shown_escaped(zygote, trained_run, home, tmp_path):
    """inspect prints the checkpoint's file name; a refusal quotes it."""
    _, finished, _ = trained_run
    named = tmp_path / f"{OSC52}.pt"
    named.write_bytes(Path(finished.best_checkpoint).read_bytes())
    outcome = zygote.run("inspect", "--checkpoint", named, "--length", "200", "--data-dir", home)
    assert outcome.code == 0, outcome
    assert "x\\x1b]52;c;ZXZpbA==" in outcome.out.decode()
    assert_no_escapes(outcome)
    c1 = tmp_path / "c1\x9b31m\x7f.pt"  # C1 CSI and DEL: JSON itself leaves them as they are
    c1.write_bytes(named.read_bytes())
    outcome = zygote.run("inspect", "--checkpoint", c1, "--length", "200", "--json",
                         "--data-dir", home)  # fmt: skip
    assert outcome.code == 0, outcome
    assert_no_escapes(outcome)
    assert b"\x7f" not in outcome.out and r"c1\u009b31m\u007f.pt" in outcome.out.decode()
    assert json.loads(outcome.out)["checkpoint"].startswith("c1\x9b31m\x7f.pt")
    broken = tmp_path / f"{OSC52}-cut.pt"
    broken.write_bytes(named.read_bytes()[:1000])
    assert_refused(zygote.run("generate", "--checkpoint", broken, "--data-dir", home), 2)


def test_a_pipe_named_as_a_checkpoint_is_refused_without_waiting(zygote, home, tmp_path):
    """The resolver finds no checkpoint file there (a pipe is not a file); the reader itself
    refuses pipes too (tests/core/test_user_files.py)."""
    fifo = tmp_path / "model.pt"
    os.mkfifo(fifo)
    for argv in (["generate", "--checkpoint", fifo], ["export", fifo, tmp_path / "out.pt"]):
        assert_refused(zygote.run(*argv, "--data-dir", home), 2, str(fifo))


def _vocabulary_of_controls(path: Path, trained: Path) -> Path:
    """The trained checkpoint with every character of its vocabulary but the newline replaced
    by a control character (ESC, BEL, C1 CSI…): all the model can write is escapes."""
    data = torch.load(trained, map_location="cpu", weights_only=True)
    controls = [chr(c) for c in [*range(0x01, 0x20), *range(0x7F, 0xA0)] if chr(c) != "\n"]
    data["vocab"] = "".join(c if c == "\n" else controls.pop() for c in data["vocab"])
    torch.save(data, path)
    return path


def test_generate_on_a_terminal_shows_the_models_escapes_escaped(
    trained_run, tmp_path, capsys, monkeypatch
):
    """A checkpoint's vocabulary is the file's: on a terminal, what the model writes is shown
    escaped (newlines kept); into a pipe it goes as it is (it is the text asked for)."""
    from shakespeare_tui.cli import main

    _, finished, _ = trained_run
    path = _vocabulary_of_controls(tmp_path / "controls.pt", Path(finished.best_checkpoint))
    argv = ["generate", "--checkpoint", str(path), "--length", "300", "--seed", "1",
            "--data-dir", str(tmp_path / "home")]  # fmt: skip
    capsys.readouterr()
    assert main(argv) == 0
    piped = capsys.readouterr().out
    assert "\x1b" in piped or "\x07" in piped or "\x9b" in piped  # the text as it is
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(argv) == 0
    shown = capsys.readouterr().out
    assert not [c for c in shown if c != "\n" and (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F)]
    assert "\\x" in shown and shown.count("\n") == piped.count("\n")


def _resume_part(**values) -> Callable[[dict], None]:
    return lambda data: data["resume"].update(values)


# A checkpoint's plain parts, of another kind than this program writes them. `inspect` reads
# the corpus a checkpoint was trained on from them: a part that is not an object reads as
# missing, as it does in a listing. name → (change, the refusal's words; None: it works)
INSPECTED_PARTS: dict[str, tuple[Callable[[dict], None], str | None]] = {
    "train_config a list": (lambda data: data.update(train_config=[1]), None),
    "corpus a list": (lambda data: data.update(corpus=[1]), None),
    "neither names the corpus": (
        lambda data: data.update(train_config=[1], corpus="plays"),
        "does not record its corpus",
    ),
    "val_fraction NaN": (lambda data: data["train_config"].update(val_fraction=float("nan")), None),
    "val_fraction text": (lambda data: data["train_config"].update(val_fraction="x"), None),
    "val_fraction negative": (lambda data: data["train_config"].update(val_fraction=-0.5), None),
}
# A resume needs the checkpoint's training state: a damaged one is refused in one line before
# anything is written. name → (change, the refusal's words; None: it resumes)
RESUMED_PARTS: dict[str, tuple[Callable[[dict], None], str | None]] = {
    "corpus a list": (lambda data: data.update(corpus=[1]), None),  # no checksum to compare
    "progress a list": (lambda data: data.update(progress=[1]), "training state is damaged"),
    "resume a list": (lambda data: data.update(resume=[1]), "training state is damaged"),
    "optimizer a number": (_resume_part(optimizer=5), "training state is damaged"),
    "optimizer's groups text": (
        _resume_part(optimizer={"state": {}, "param_groups": "x"}),
        "training state is damaged",
    ),
    "torch_rng text": (_resume_part(torch_rng="x"), "training state is damaged"),
    "processes text": (_resume_part(processes="x"), "training state is damaged"),
    "history of numbers": (lambda data: data.update(history=[1, 2]), None),
    "history a text": (lambda data: data.update(history="xy"), None),
    "history's last record without a loss": (lambda data: data.update(history=[{}]), None),
    "progress's step text": (
        lambda data: data["progress"].update(step="x"),
        "training state is damaged",
    ),
    "progress's best loss a list": (
        lambda data: data["progress"].update(best_val_loss=[1]),
        "training state is damaged",
    ),
}


def _damaged_copy(source: Path, target: Path, change: Callable[[dict], None]) -> Path:
    data = torch.load(source, map_location="cpu", weights_only=True)
    change(data)
    torch.save(data, target)
    return target


@pytest.mark.parametrize("case", list(INSPECTED_PARTS))
def test_inspect_reads_a_checkpoints_parts_by_their_kind(zygote, trained_run, home, tmp_path, case):
    _, finished, _ = trained_run
    change, words = INSPECTED_PARTS[case]
    file = _damaged_copy(Path(finished.best_checkpoint), tmp_path / "damaged.pt", change)
    before = snapshot(home, file)
    outcome = zygote.run("inspect", "--checkpoint", file, "--length", "300", "--data-dir", home)
    if words is None:
        assert outcome.code == 0, outcome
        assert_no_escapes(outcome)
    else:
        assert_refused(outcome, 2, words)
    assert snapshot(home, file) == before


@pytest.mark.parametrize("case", list(RESUMED_PARTS))
def test_a_resume_refuses_a_damaged_training_state(zygote, home, case):
    change, words = RESUMED_PARTS[case]
    last = home / "runs" / "trained" / "last.pt"
    _damaged_copy(last, last, change)
    before = snapshot(home / "runs")
    argv = ["train", "--resume", "trained", "--epochs", "4", "--max-steps", "107", "--quiet"]
    outcome = zygote.run(*argv, "--threads", "1", "--data-dir", home)
    if words is None:
        assert outcome.code == 0, outcome
        return
    assert_refused(outcome, 2, words, "last.pt")
    assert snapshot(home / "runs") == before
