"""Corpora larger than memory: encoded once into a memory map in the cache, trained from it.

Every test forces the map on a small file (MAP_ABOVE_BYTES = 0) and has the encoder read it in
small pieces (PIECE), so characters, CRLFs and the BOM fall across the pieces' edges.
"""

from __future__ import annotations

import errno
import os
import random
import subprocess
import sys
import threading
import time
from collections import namedtuple
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from shakespeare_tui.core.errors import CorpusError, EncodingStopped
from shakespeare_tui.core.events import CorpusEncoding
from shakespeare_tui.core.text import corpus as corpus_module
from shakespeare_tui.core.text import encode as corpus_encode
from shakespeare_tui.core.text.batches import TextData
from shakespeare_tui.core.text.corpus import load_corpus

# Multi-byte characters of every length, CRLF and a lone CR: what real files hold.
POOL = list("abcde fghij\n\r\n\r,.;:") + list("éüß’—“”") + ["\u4e00", "\u00ff", "🎭", "\U0001f600"]


def mixed_text(chars: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(POOL) for _ in range(chars))


def normalised(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


@pytest.fixture(autouse=True)
def mapped(monkeypatch):
    """Every file goes to the map, read in pieces small enough to cut characters in two."""
    monkeypatch.setattr(corpus_module, "MAP_ABOVE_BYTES", 0)
    monkeypatch.setattr(corpus_encode, "PIECE", 4099)


def in_memory(path: Path, cache: Path, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(corpus_module, "MAP_ABOVE_BYTES", 2**30)
        return load_corpus(str(path), cache)


def entries(cache: Path) -> list[str]:
    """What the corpus cache holds, but for the per-file keys and their locks."""
    folder = cache / "corpora"
    return sorted(p.name for p in folder.iterdir() if p.name != "keys") if folder.is_dir() else []


# ---------------------------------------------------------------- encoding


def test_multi_byte_characters_round_trip_through_the_map(tmp_path, monkeypatch):
    text = mixed_text(60_000)
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    events: list[CorpusEncoding] = []
    got = load_corpus(str(path), tmp_path / "cache", on_event=events.append)
    whole = in_memory(path, tmp_path / "other", monkeypatch)
    assert got.text is None and got.mapped is not None and got.mapped.width == 1
    assert got.read(0, got.length) == whole.text == normalised(text)
    assert got.checksum == whole.checksum and got.meta == whole.meta
    assert got.vocabulary() == whole.vocabulary()
    vocab = got.vocabulary()
    codes = got.codes(vocab)
    assert np.array_equal(codes.rows(np.array([0]), len(codes))[0], vocab.encode(whole.text))
    assert got.read(100, 200) == whole.text[100:200]
    assert events[-1].done_bytes == events[-1].total_bytes == path.stat().st_size
    assert entries(tmp_path / "cache") == [got.checksum.removeprefix("sha256:") + ".map"]


def test_more_than_256_characters_take_two_bytes_and_more_than_65536_four(tmp_path):
    # The 257th character comes last, after single-byte codes were written: they are widened.
    late = "ab\n" * 5_000 + "".join(chr(0x400 + i) for i in range(300)) + "xy"
    (tmp_path / "two.txt").write_text(late, encoding="utf-8")
    two = load_corpus(str(tmp_path / "two.txt"), tmp_path / "cache")
    assert two.mapped.width == 2 and len(two.mapped.chars) == 305
    assert two.read(0, two.length) == late
    codes = two.codes(two.vocabulary())
    assert np.array_equal(codes.rows(np.array([0]), len(codes))[0], two.vocabulary().encode(late))
    on_disk = two.mapped.path.stat().st_size
    assert two.length * 2 < on_disk < two.length * 2 + 10_000  # codes, then a short trailer
    astral = "".join(chr(0x10000 + i) for i in range(66_000)) + "\n"
    (tmp_path / "four.txt").write_text(astral, encoding="utf-8")
    four = load_corpus(str(tmp_path / "four.txt"), tmp_path / "cache")
    assert four.mapped.width == 4 and four.read(0, four.length) == astral


BAD = {
    "binary": b"hello\n" * 3000 + b"\x00rest",
    "latin-1": b"hello\n" * 3000 + "Ophélie\n".encode("latin-1"),
    "cut short": b"hello\r\n" * 3000 + b"\xe2\x80",
    "empty": b"\xef\xbb\xbf",
    "whitespace": b" \n\t\r\n" * 3000,
}


@pytest.mark.parametrize("name", BAD)
def test_refusals_say_what_the_whole_file_reader_says(name, tmp_path, monkeypatch):
    path = tmp_path / "bad.txt"
    path.write_bytes(BAD[name])
    with pytest.raises(CorpusError) as mapped_error:
        load_corpus(str(path), tmp_path / "cache")
    with pytest.raises(CorpusError) as whole_error:
        in_memory(path, tmp_path / "cache", monkeypatch)
    assert str(mapped_error.value) == str(whole_error.value)
    assert "\n" not in str(mapped_error.value)
    assert entries(tmp_path / "cache") == []  # nothing half-written, no entry


def test_the_utf8_refusal_names_the_line_and_byte(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"first\r\nsecond\n" * 1000 + b"ab\xffcd\n")
    with pytest.raises(CorpusError, match=r"invalid byte 0xff at line 2001, byte 14002"):
        load_corpus(str(path), tmp_path / "cache")


def test_the_utf8_check_agrees_with_pythons_decoder():
    """The map checks UTF-8 on bytes (it never decodes); it must refuse exactly what Python does:
    overlong forms, surrogates, beyond U+10FFFF, stray or missing continuation bytes."""
    rng = random.Random(0)
    edges = [0x41, 0x0A, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1]
    edges += [0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
    for _ in range(30_000):
        raw = bytes(rng.choice(edges) for _ in range(rng.randint(1, 9)))
        data = np.frombuffer(raw, np.uint8)
        continuations = int(((data >= 0x80) & (data < 0xC0)).sum())
        try:
            raw.decode("utf-8")
            valid = True
        except UnicodeDecodeError:
            valid = False
        got = corpus_encode._valid_utf8(data, np.flatnonzero(data >= 0xC0), continuations)
        assert got == valid, raw


# ---------------------------------------------------------------- the cache


def test_a_second_load_reads_the_entry_without_hashing_and_a_changed_file_is_encoded_again(
    tmp_path, monkeypatch
):
    path = tmp_path / "c.txt"
    path.write_text(mixed_text(20_000), encoding="utf-8")
    first = load_corpus(str(path), tmp_path / "cache")
    runs = []
    real_run = corpus_encode.Encoder.run
    monkeypatch.setattr(corpus_encode.Encoder, "run", lambda self: runs.append(1) or real_run(self))
    again = load_corpus(str(path), tmp_path / "cache")
    assert again == first and runs == []  # (size, mtime, ctime, inode) matched: no pass at all
    path.write_text(mixed_text(20_000, seed=1), encoding="utf-8")
    changed = load_corpus(str(path), tmp_path / "cache")
    assert runs == [1] and changed.checksum != first.checksum


def test_two_loads_at_once_encode_once(tmp_path, monkeypatch):
    path = tmp_path / "c.txt"
    path.write_text(mixed_text(40_000), encoding="utf-8")
    runs = []
    real_run = corpus_encode.Encoder.run

    def slow_run(self):
        runs.append(1)
        time.sleep(0.3)
        return real_run(self)

    monkeypatch.setattr(corpus_encode.Encoder, "run", slow_run)
    got: list = []
    threads = [
        threading.Thread(target=lambda: got.append(load_corpus(str(path), tmp_path / "cache")))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 2 and got[0] == got[1] and runs == [1]


# ---------------------------------------------------------------- interruptions


def test_an_encode_interrupted_by_its_progress_callback_leaves_no_entry(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus_encode, "PROGRESS_EVERY_S", 0.0)
    path = tmp_path / "c.txt"
    path.write_text(mixed_text(40_000), encoding="utf-8")

    def interrupt(event):
        if event.done_bytes > event.total_bytes // 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        load_corpus(str(path), tmp_path / "cache", on_event=interrupt)
    assert entries(tmp_path / "cache") == []
    assert load_corpus(str(path), tmp_path / "cache").length == len(normalised(path.read_text()))


def test_a_stop_ends_the_encode_with_a_line_and_no_entry(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text(mixed_text(40_000), encoding="utf-8")
    stop = threading.Event()
    stop.set()
    with pytest.raises(EncodingStopped, match="nothing was kept") as info:
        load_corpus(str(path), tmp_path / "cache", stop=stop)
    assert "\n" not in str(info.value)
    assert entries(tmp_path / "cache") == []


KILLED_ENCODER = """
import sys, time
from pathlib import Path
from shakespeare_tui.core.text import encode as corpus_encode
from shakespeare_tui.core.text import corpus_map, map_cache
corpus_encode.PIECE, corpus_encode.PROGRESS_EVERY_S = 4099, 0.0
def hang(event):
    print("encoding", flush=True)
    time.sleep(60)
map_cache.map_corpus(Path(sys.argv[1]), "c.txt", Path(sys.argv[2]), on_event=hang)
"""


def test_a_killed_encoder_leaves_a_temp_that_the_next_encode_removes(tmp_path):
    path, cache = tmp_path / "c.txt", tmp_path / "cache"
    path.write_text(mixed_text(40_000), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_ENCODER, str(path), str(cache)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],  # the repository
    )
    try:
        assert proc.stdout.readline().strip() == "encoding"
    finally:
        proc.kill()
        proc.wait(timeout=30)
    left = entries(cache)
    assert len(left) == 1 and left[0].endswith(".tmp")  # half-written, and no entry
    # A live writer's temp is flocked: the cleaner must leave it alone.
    live = cache / "corpora" / ".encode-live.tmp"
    live.write_bytes(b"x")
    import fcntl

    with open(live, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        got = load_corpus(str(path), cache)
        assert entries(cache) == sorted([".encode-live.tmp", got.mapped.path.name])


# ---------------------------------------------------------------- the disk


def test_a_disk_too_small_is_refused_in_one_line_before_writing(tmp_path, monkeypatch):
    path = tmp_path / "c.txt"
    path.write_text(mixed_text(40_000), encoding="utf-8")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(corpus_encode.shutil, "disk_usage", lambda p: usage(10**9, 10**9, 500))
    with pytest.raises(CorpusError) as info:
        load_corpus(str(path), tmp_path / "cache")
    message = str(info.value)
    assert "not enough disk space" in message and "500 bytes free" in message
    assert "--data-dir" in message and "\n" not in message
    assert entries(tmp_path / "cache") == []


def test_a_disk_that_fills_up_while_writing_leaves_nothing(tmp_path, monkeypatch):
    path = tmp_path / "c.txt"
    path.write_text(mixed_text(40_000), encoding="utf-8")

    def full(self, data):
        self._guard(lambda: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left")))

    monkeypatch.setattr(corpus_encode.Encoder, "_write", full)
    with pytest.raises(CorpusError, match="not enough disk space .* the disk filled up"):
        load_corpus(str(path), tmp_path / "cache")
    assert entries(tmp_path / "cache") == []


# ---------------------------------------------------------------- training from the map


def test_the_map_gives_the_same_windows_and_validation_as_the_tensor(tmp_path, monkeypatch):
    path = tmp_path / "c.txt"
    path.write_text(mixed_text(30_000), encoding="utf-8")
    mapped_corpus = load_corpus(str(path), tmp_path / "cache")
    whole = in_memory(path, tmp_path / "cache", monkeypatch)
    vocab = whole.vocabulary()

    def data(codes):
        return TextData(
            codes, seq_len=16, batch_size=8, val_fraction=0.1, device=torch.device("cpu"), seed=3
        )

    a, b = data(whole.codes(vocab)), data(mapped_corpus.codes(vocab))
    assert not a.mapped and b.mapped
    assert (a.train_chars, a.val_chars, a.steps_per_epoch) == (
        b.train_chars,
        b.val_chars,
        b.steps_per_epoch,
    )
    for _ in range(5):
        for x, y in zip(a.batch(), b.batch(), strict=True):
            assert x.dtype == y.dtype == torch.int64 and torch.equal(x, y)
    assert torch.equal(a.rng_state(), b.rng_state())
    for x, y in zip(a._val_streams, b._val_streams, strict=True):
        assert torch.equal(x, y)
    # Windows are read from the file, never mapped: a mapping would put every page-cache folio
    # a window touches into the process's RSS (the whole corpus, after a few hundred steps).
    maps = Path("/proc/self/maps")
    if maps.exists():
        assert str(mapped_corpus.mapped.path) not in maps.read_text()


def test_training_from_the_map_matches_training_from_the_tensor(
    tmp_path, monkeypatch, make_config, corpus_text
):
    from shakespeare_tui.core.events import EpochEnded, StepLogged
    from shakespeare_tui.core.model.checkpoint import load_checkpoint
    from shakespeare_tui.core.paths import Paths
    from shakespeare_tui.core.training.engine import train

    path = tmp_path / "c.txt"
    path.write_text(corpus_text.replace("'", "’"), encoding="utf-8")
    runs = {}
    for kind, limit in (("map", 0), ("tensor", 2**30)):
        monkeypatch.setattr(corpus_module, "MAP_ABOVE_BYTES", limit)
        events: list = []
        config = replace(make_config(max_steps=6, log_every=1, eval_every=3), corpus=str(path))
        finished = train(
            config, Paths.resolve(tmp_path / kind), on_event=events.append, run_name="r"
        )
        assert finished.reason == "max-steps", finished.message
        runs[kind] = (
            [e.train_loss for e in events if isinstance(e, StepLogged)],
            [e.val_loss for e in events if isinstance(e, EpochEnded)],
            load_checkpoint(Path(finished.last_checkpoint)).model.state_dict(),
            next(e for e in events if type(e).__name__ == "TrainingStarted").corpus_chars,
        )
    (map_steps, map_vals, map_weights, map_chars) = runs["map"]
    (steps, vals, weights, chars) = runs["tensor"]
    assert len(map_steps) == 6 and map_steps == steps and map_vals == vals and map_chars == chars
    assert all(torch.equal(map_weights[k], weights[k]) for k in weights)


def test_a_resume_checks_the_mapped_corpus_checksum(tmp_path, make_config, corpus_text):
    from shakespeare_tui.core.errors import UserError
    from shakespeare_tui.core.paths import Paths
    from shakespeare_tui.core.training.engine import train

    path = tmp_path / "c.txt"
    path.write_text(corpus_text, encoding="utf-8")
    paths = Paths.resolve(tmp_path / "home")
    first = train(replace(make_config(max_steps=3), corpus=str(path)), paths, run_name="r")
    encodes: list = []
    resumed = train(
        None,
        paths,
        resume=first.last_checkpoint,
        resume_overrides={"max_steps": 5},
        on_event=lambda e: encodes.append(e) if isinstance(e, CorpusEncoding) else None,
    )
    assert resumed.reason == "max-steps" and resumed.step == 5 and encodes == []
    # The same size and mtime, another text: the key's ctime tells, and so does the checksum.
    before = path.stat()
    path.write_text(corpus_text.replace("summer", "winter"), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    with pytest.raises(UserError, match="changed since this run started"):
        train(None, paths, resume=resumed.last_checkpoint, resume_overrides={"max_steps": 7})


def test_the_held_out_passage_reads_its_slice_from_the_map(tmp_path, monkeypatch):
    from shakespeare_tui.core.text.passages import held_out_passage

    path = tmp_path / "c.txt"
    path.write_text(mixed_text(30_000), encoding="utf-8")
    corpus = load_corpus(str(path), tmp_path / "cache")
    payload = {
        "train_config": {"corpus": str(path), "val_fraction": 0.1},
        "corpus": {"name": str(path), "checksum": corpus.checksum},
    }
    mapped_passage = held_out_passage(payload, tmp_path / "cache", 1000)
    with monkeypatch.context() as m:
        m.setattr(corpus_module, "MAP_ABOVE_BYTES", 2**30)
        whole_passage = held_out_passage(payload, tmp_path / "cache", 1000)
    assert mapped_passage == whole_passage and mapped_passage.note == ""
    assert normalised(path.read_text()).endswith(mapped_passage.text)


def test_the_mapped_path_is_chosen_by_size_and_never_reads_the_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "c.txt"
    path.write_text(mixed_text(5_000), encoding="utf-8")
    size = path.stat().st_size
    with monkeypatch.context() as m:
        m.setattr(corpus_module, "MAP_ABOVE_BYTES", size - 1)
        m.setattr(corpus_module, "_read_text_file", lambda *a, **k: pytest.fail("read it whole"))
        assert load_corpus(str(path), tmp_path / "cache").mapped is not None
    monkeypatch.setattr(corpus_module, "MAP_ABOVE_BYTES", size)
    small = load_corpus(str(path), tmp_path / "cache")
    assert small.mapped is None and small.text == normalised(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- a map is checked, not trusted


def _damage(map_path: Path, at: int, data: bytes) -> None:
    """Write `data` into the codes at byte `at`, keeping the file's size and its key's stamp
    (the key records the corpus file's stamp, not the map's): a map found, then damaged."""
    with open(map_path, "r+b") as f:
        f.seek(at)
        f.write(data)


def test_codes_beyond_the_characters_are_refused_as_read_never_an_index_error(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text(mixed_text(50_000))
    corpus = load_corpus(str(path), tmp_path / "cache")
    _damage(corpus.mapped.path, 30_000, b"\xff" * 8)  # 255: far beyond 30-odd characters
    codes = corpus.codes(corpus.vocabulary())
    codes.rows(np.array([0]), 1000)  # before the damage: read as ever
    with pytest.raises(CorpusError, match="holds codes beyond its .* characters .*rebuild"):
        codes.rows(np.array([29_990]), 100)


@pytest.mark.parametrize("at", [0, 25_000, -1], ids=["start", "middle", "end"])
def test_a_damaged_map_in_the_cache_is_encoded_again(tmp_path, at):
    path = tmp_path / "c.txt"
    path.write_text(mixed_text(50_000))
    first = load_corpus(str(path), tmp_path / "cache")
    map_path = first.mapped.path
    offset = at if at >= 0 else first.mapped.length * first.mapped.width - 4
    _damage(map_path, offset, b"\xfe" * 4)
    events: list[CorpusEncoding] = []
    again = load_corpus(str(path), tmp_path / "cache", on_event=events.append)
    assert events, "the damaged map was trusted"
    assert again.read(0, again.length) == normalised(path.read_text())
    assert again.mapped.looks_whole()


def test_a_folder_in_the_place_of_a_map_is_one_line(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text(mixed_text(20_000))
    first = load_corpus(str(path), tmp_path / "cache")
    map_path = first.mapped.path
    del first
    map_path.unlink()
    map_path.mkdir()
    with pytest.raises(CorpusError) as caught:
        load_corpus(str(path), tmp_path / "cache")
    message = str(caught.value)
    assert "\n" not in message and "cannot keep the encoded copy" in message
    assert "remove what is there" in message and map_path.is_dir()
