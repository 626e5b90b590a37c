"""A file several processes change: every change a locked read-modify-write, none lost."""

from __future__ import annotations

import json
import multiprocessing
import os

import pytest

from shakespeare_tui.core.errors import ActionFailed, UserError
from shakespeare_tui.core.shared_file import SharedFile, lock_path, locked


def _load(data: bytes | None) -> list:
    if data is None:
        return []
    try:
        value = json.loads(data)
    except ValueError:
        raise UserError("not JSON") from None
    if not isinstance(value, list):
        raise UserError("not a list")
    return value


def _dump(value: list) -> bytes:
    return json.dumps(value).encode()


def _append_after(barrier, path: str, item: int) -> None:
    shared = SharedFile(path, _load, _dump)
    barrier.wait(timeout=30)
    shared.update(lambda items: [*items, item])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork to line the processes up")
def test_changes_released_together_by_many_processes_are_all_kept(tmp_path):
    path = tmp_path / "shared.json"
    n = 8
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(n)
    workers = [
        context.Process(target=_append_after, args=(barrier, str(path), i)) for i in range(n)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert [w.exitcode for w in workers] == [0] * n
    assert sorted(json.loads(path.read_text())) == list(range(n))


def test_a_file_that_cannot_be_read_is_left_as_it_is(tmp_path):
    path = tmp_path / "shared.json"
    path.write_text('{"a person\'s": "notes"}')
    before = path.read_bytes()
    with pytest.raises(UserError, match="not a list"):
        SharedFile(path, _load, _dump).update(lambda items: [*items, 1])
    assert path.read_bytes() == before


def test_a_change_that_raises_writes_nothing(tmp_path):
    path = tmp_path / "shared.json"
    shared = SharedFile(path, _load, _dump)
    shared.update(lambda items: [1])

    def refuse(items):
        raise UserError("no")

    with pytest.raises(UserError):
        shared.update(refuse)
    assert shared.read() == [1]


def test_a_lock_held_too_long_is_one_line(tmp_path):
    path = tmp_path / "shared.json"
    with locked(path), pytest.raises(ActionFailed, match="stayed locked") as info:
        with locked(path, wait_s=0.05):
            pass
    assert "\n" not in str(info.value)
    assert lock_path(path).name == ".shared.json.lock"
