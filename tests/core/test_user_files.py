"""A file a person names is read by one reader: refused in one line, in the same words whatever
the file should be (a text to inspect, a queue file, a fork tree, a checkpoint), limits in MiB."""

from __future__ import annotations

import errno
import os
import threading

import pytest

from shakespeare_tui.core.errors import CheckpointError, UserError
from shakespeare_tui.core.inspection.forks import ForkTree
from shakespeare_tui.core.model.checkpoint import load_checkpoint, read_info
from shakespeare_tui.core.runs.run_queue import read_queue_file
from shakespeare_tui.core.text.passages import read_text_file
from shakespeare_tui.core.user_files import MIB, read_user_file, read_user_file_head

# Each reader of a person's file, and what it calls such a file.
READERS = {
    "text": (read_text_file, "a text file"),
    "queue": (read_queue_file, "a queue file"),
    "fork tree": (ForkTree.load, "a fork tree"),
    "checkpoint": (load_checkpoint, "a checkpoint file"),
}


def refusal(read, path) -> str:
    with pytest.raises(UserError) as caught:
        read(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    return message


@pytest.mark.parametrize("kind", list(READERS))
def test_every_reader_refuses_a_missing_file_and_a_directory_alike(kind, tmp_path):
    read, what = READERS[kind]
    assert refusal(read, tmp_path / "nope") == f"{tmp_path / 'nope'} does not exist"
    assert refusal(read, tmp_path) == f"{tmp_path} is a directory, not {what}"


@pytest.mark.parametrize("kind", list(READERS))
@pytest.mark.parametrize(
    "code, said",
    [(errno.EIO, "Input/output error"),
     (errno.EACCES, "permission denied; fix its permissions or copy it somewhere")],
    ids=["eio", "eacces"],
)  # fmt: skip
def test_every_reader_says_what_the_system_said(kind, code, said, tmp_path, monkeypatch):
    """Root reads through chmod, so the refusal is the open call's own (the one reader opens
    with os.open, without blocking; builtins.open is refused too, for any other way in)."""
    read, _ = READERS[kind]
    path = tmp_path / "locked"
    path.write_bytes(b"x")
    real_open, real_os_open = open, os.open

    def refusing_open(file, *args, **kwargs):
        if os.fspath(file) == str(path):
            raise OSError(code, os.strerror(code), str(path))
        return real_open(file, *args, **kwargs)

    def refusing_os_open(file, *args, **kwargs):
        if os.fspath(file) == str(path):
            raise OSError(code, os.strerror(code), str(path))
        return real_os_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refusing_open)
    monkeypatch.setattr(os, "open", refusing_os_open)
    assert refusal(read, path) == f"cannot read {path}: {said}"


def test_a_checkpoint_is_refused_as_a_checkpoint_error(tmp_path):
    """read_info and the pickers catch CheckpointError: the shared words come as one."""
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "nope.pt")
    assert read_info(tmp_path / "nope.pt").error == f"{tmp_path / 'nope.pt'} does not exist"


def test_a_file_over_the_limit_is_refused_in_mib_before_it_is_read(tmp_path):
    path = tmp_path / "big"
    path.write_bytes(b"x" * (MIB + 1))
    with pytest.raises(UserError) as caught:
        read_user_file(path, what="a queue file", max_bytes=MIB)
    assert str(caught.value) == f"{path} is over 1 MiB, the limit for a queue file"
    assert read_user_file(path, what="a text file", max_bytes=2 * MIB) == b"x" * (MIB + 1)
    with pytest.raises(UserError, match=r"is over 1 MiB, the limit for a queue file"):
        read_queue_file(path)


@pytest.mark.parametrize("kind", list(READERS))
def test_a_pipe_or_a_device_is_refused_before_it_is_read(kind, tmp_path):
    """A FIFO with no writer would block the open for ever, /dev/zero never ends: each is
    refused from its stat, in the reader's words, without blocking (the test has a timeout of
    its own: a reader that opened the FIFO without O_NONBLOCK would hang here)."""
    read, what = READERS[kind]
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    refused = _within(5, lambda: refusal(read, fifo))
    assert refused == f"{fifo} is a pipe (FIFO), not {what}"
    if os.path.exists("/dev/zero"):
        assert (
            _within(5, lambda: refusal(read, "/dev/zero")) == f"/dev/zero is a device, not {what}"
        )


def test_a_file_whose_size_lies_is_read_up_to_the_limit_only():
    """A /proc file says it has 0 bytes and has more: the read still stops at the limit."""
    proc = "/proc/self/maps"
    if not os.path.isfile(proc):
        pytest.skip("no /proc here")
    with pytest.raises(UserError, match="is over .* MiB, the limit for a queue file"):
        read_user_file(proc, what="a queue file", max_bytes=100)


def test_a_pipe_made_after_the_check_is_still_never_waited_on(tmp_path, monkeypatch):
    """The stat said regular file, then a FIFO took its place: the open does not block (it is
    non-blocking) and the file is refused from its fstat."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    real_stat = os.stat
    regular = real_stat(__file__)
    monkeypatch.setattr(os, "stat", lambda p, *a, **k: regular if p == fifo else real_stat(p))
    with pytest.raises(UserError, match="is a pipe"):
        _within(5, lambda: read_user_file(fifo, what="a queue file", max_bytes=MIB))


def _within(seconds: float, call):
    """call()'s result, failing the test if it takes over `seconds` (a thread: a blocked open
    cannot be interrupted)."""
    box: dict = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still blocked after {seconds} s"
    if "error" in box:
        raise box["error"]
    return box["value"]


def test_the_head_of_a_large_file_and_its_own_error_class(tmp_path):
    path = tmp_path / "c.pt"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    assert read_user_file_head(path, 4, what="a checkpoint file") == b"PK\x03\x04"
    with pytest.raises(CheckpointError, match="does not exist"):
        read_user_file_head(tmp_path / "x.pt", 4, what="a checkpoint file", error=CheckpointError)
