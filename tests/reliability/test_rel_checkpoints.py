"""Hostile and broken checkpoint files: each is refused with one line, and no payload ever runs.

Every file goes through `load_checkpoint`, `read_info` and `generate --checkpoint FILE`, with and
without TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 (which turns torch's safe loader off for any call
that does not ask for it explicitly).
"""

from __future__ import annotations

import io
import pickle
import random
import zipfile
from pathlib import Path

import pytest
import torch
from rel_support import child_env, run_cli_process

from shakespeare_tui.core.errors import CheckpointError
from shakespeare_tui.core.model.checkpoint import FORMAT, FORMAT_VERSION, load_checkpoint, read_info


class Payload:
    """Unpickling this runs code: it writes the marker file."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


def _good_payload(trained_checkpoint: Path) -> dict:
    return torch.load(trained_checkpoint, map_location="cpu", weights_only=True)


def _save(path: Path, obj) -> Path:
    torch.save(obj, path)
    return path


# A damaged archive, in our words (not torch's internal text, cut mid-sentence).
INCOMPLETE = "not a complete checkpoint (truncated or not a PyTorch file)"


def build_files(folder: Path, trained: Path, marker: Path) -> dict[str, tuple[Path, str]]:
    """name → (file, a word its refusal must contain)."""
    good = trained.read_bytes()
    rng = random.Random(7)
    files: dict[str, tuple[Path, str]] = {}

    def add(name: str, word: str, data: bytes | None = None, obj=None) -> None:
        path = folder / f"{name}.pt"
        if obj is not None:
            _save(path, obj)
        else:
            path.write_bytes(data)
        files[name] = (path, word)

    looks_ours = {"format": FORMAT, "format_version": FORMAT_VERSION, "x": Payload(marker)}
    add("code-in-zip", "refused", obj=looks_ours)
    add("code-bare", "refused", obj=Payload(marker))
    add("code-legacy-pickle", "not a torch zip", data=pickle.dumps(Payload(marker)))
    buffer = io.BytesIO()
    torch.save(looks_ours, buffer, _use_new_zipfile_serialization=False)
    add("code-legacy-torch", "not a torch zip", data=buffer.getvalue())
    add("truncated", INCOMPLETE, data=good[: len(good) // 2])
    add("truncated-tail", INCOMPLETE, data=good[:-100])
    add("random-bytes", "not a torch zip", data=rng.randbytes(4096))
    add("random-zip-magic", INCOMPLETE, data=b"PK\x03\x04" + rng.randbytes(4096))
    add("empty", "empty", data=b"")
    add("foreign-torch", "not a shakespeare-tui checkpoint", obj={"a": torch.zeros(2)})
    add("foreign-tensor", "not a shakespeare-tui checkpoint", obj=torch.zeros(3))
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("hello.txt", "not a checkpoint")
    add("plain-zip", INCOMPLETE, data=zipped.getvalue())

    newer = _good_payload(trained)
    newer["format_version"] = FORMAT_VERSION + 1
    add("newer-format", "newer", obj=newer)
    wrong_vocab = _good_payload(trained)
    wrong_vocab["vocab"] += "\u00e6\u00f8\u00e5"  # 3 more characters than the weights were made for
    wrong_vocab["model_config"]["vocab_size"] += 3
    add("vocab-vs-weights", "weight", obj=wrong_vocab)
    short_vocab = _good_payload(trained)
    short_vocab["vocab"] = short_vocab["vocab"][:-1]
    add("vocab-vs-config", "vocabulary", obj=short_vocab)
    nan = _good_payload(trained)
    nan["weights"]["head.bias"][0] = float("nan")
    add("nan-weights", "non-finite", obj=nan)
    no_weights = _good_payload(trained)
    del no_weights["weights"]
    add("no-weights", "no weights", obj=no_weights)
    bad_config = _good_payload(trained)
    bad_config["model_config"]["hidden"] = -5
    add("bad-config", "model config", obj=bad_config)
    return files


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, trained_checkpoint):
    folder = tmp_path_factory.mktemp("hostile")
    marker = folder / "PWNED"
    files = build_files(folder, trained_checkpoint, marker)
    # The payload is live: an unsafe load really runs it (in a copy with its own marker).
    control = folder / "control-marker"
    control_file = _save(folder / "control.pt", Payload(control))
    torch.load(control_file, weights_only=False)
    assert control.read_text() == "pwned"
    return files, marker


@pytest.fixture(params=["default", "unsafe-env"])
def unsafe_env(request, monkeypatch):
    if request.param == "unsafe-env":
        monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    return request.param


def test_every_broken_file_is_refused_by_the_loader(hostile, unsafe_env):
    files, marker = hostile
    for name, (path, word) in files.items():
        with pytest.raises(CheckpointError) as info:
            load_checkpoint(path)
        message = str(info.value)
        assert "\n" not in message and "\x1b" not in message, (name, message)
        assert word in message and path.name in message, (name, message)
        info = read_info(path)
        if name != "nan-weights":  # read_info does not scan weight values
            assert not info.ok and word in info.error, (name, info)
    assert not marker.exists(), "a checkpoint ran code"


def test_every_broken_file_is_refused_by_generate(hostile, unsafe_env, cli, tmp_path):
    files, marker = hostile
    for name, (path, word) in files.items():
        result = cli("--data-dir", tmp_path / "home", "generate", "--checkpoint", path)
        assert result.code == 2, (name, result)
        assert len(result.err_lines) == 1 and word in result.err, (name, result.err)
        assert "Traceback" not in result.err and result.out == "", (name, result)
    assert not marker.exists(), "a checkpoint ran code"


def test_a_directory_and_a_missing_file_are_refused(tmp_path, cli):
    (tmp_path / "folder.pt").mkdir()
    for spec, word in ((tmp_path / "folder.pt", "directory"), (tmp_path / "nope.pt", "nope.pt")):
        with pytest.raises(CheckpointError, match=word):
            load_checkpoint(spec)
        assert not read_info(spec).ok
    result = cli("--data-dir", tmp_path / "home", "generate", "--checkpoint", tmp_path / "nope.pt")
    assert result.code == 2 and len(result.err_lines) == 1 and "nope.pt" in result.err


def test_code_never_runs_in_a_real_process_with_the_unsafe_env(hostile, tmp_path):
    """The CLI as people run it, with torch's safe loading turned off in the environment."""
    files, marker = hostile
    env = child_env(TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD="1")
    for name in ("code-in-zip", "code-legacy-torch"):
        path, word = files[name]
        code, out, err = run_cli_process(
            ["--data-dir", tmp_path / "home", "generate", "--checkpoint", path], env=env
        )
        lines = [line for line in err.splitlines() if line.strip()]
        assert code == 2 and len(lines) == 1 and word in err, (name, code, err)
    assert not marker.exists(), "a checkpoint ran code"


def test_resume_refuses_what_it_cannot_continue(tmp_path, small_corpus, cli):
    """A changed corpus, a weights-only export, a run whose last.pt broke: one line, exit 2."""
    from rel_support import TINY

    home = tmp_path / "home"
    argv = ["--data-dir", home, "train", "--corpus", small_corpus, *TINY, "--name", "r"]
    assert cli(*argv, "--max-steps", "3", "--quiet").code == 0
    run = home / "runs" / "r"
    before = (run / "last.pt").read_bytes()

    small_corpus.write_text(small_corpus.read_text() + "a new line\n")
    result = cli("--data-dir", home, "train", "--resume", "r", "--max-steps", "5", "--quiet")
    assert result.code == 2 and len(result.err_lines) == 1 and "changed" in result.err, result

    exported = tmp_path / "small.pt"
    assert cli("--data-dir", home, "export", "r", exported).code == 0
    result = cli("--data-dir", home, "train", "--resume", exported, "--quiet")
    assert result.code == 2 and len(result.err_lines) == 1 and "resume" in result.err, result

    (run / "last.pt").write_bytes(before[:1000])
    result = cli("--data-dir", home, "train", "--resume", "r", "--quiet")
    assert result.code == 2 and len(result.err_lines) == 1, result
    assert "last.pt" in result.err and "not a complete checkpoint" in result.err
    (run / "best.pt").unlink(missing_ok=True)
    result = cli("--data-dir", home, "generate", "--checkpoint", "r", "--length", "5")
    assert result.code == 2 and len(result.err_lines) == 1 and "last.pt" in result.err, result
    assert "Traceback" not in result.err
