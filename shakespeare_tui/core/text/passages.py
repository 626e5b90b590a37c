"""Texts to inspect a model on: a passage of its corpus's held-out end, or a text file.

The held-out end is the last `val_fraction` of the corpus the checkpoint was trained on (as
core/text/batches.py splits it), so the model never trained on the passage. A passage starts at a line
start, and the characters before it are read first as context, so its first characters are
predicted with the state the model would have there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shakespeare_tui.core.errors import CorpusError, UserError
from shakespeare_tui.core.file_json import json_object
from shakespeare_tui.core.text.corpus import NAMED_CORPORA, load_corpus
from shakespeare_tui.core.user_files import MIB, read_user_file, user_path

CONTEXT_CHARS = 1_000  # read before a held-out passage, for its state (and its first prediction)
MAX_FILE_BYTES = 64 * MIB  # a text file to inspect is read whole
HELD_OUT = 0.1  # the held-out fraction of a checkpoint that does not record its own


@dataclass(frozen=True)
class Passage:
    text: str
    context: str  # read before `text`, not inspected
    source: str  # one line for people, e.g. "the last 10,000 characters of plays (held out)"
    note: str = ""  # something a person should know (the corpus changed since training)


def trained_on(payload: Mapping[str, object]) -> tuple[str, float]:
    """The corpus a checkpoint was trained on ("" where it does not say) and the fraction of
    it held out, as its payload records them. A part of another kind than this program
    writes reads as missing: a file may hold anything."""
    train, meta = json_object(payload.get("train_config")), json_object(payload.get("corpus"))
    spec = str(train.get("corpus") or meta.get("name") or "")
    fraction = train.get("val_fraction")
    if isinstance(fraction, bool) or not isinstance(fraction, int | float):
        return spec, HELD_OUT
    return spec, fraction if math.isfinite(fraction) and 0 < fraction < 1 else HELD_OUT


def held_out_passage(payload: Mapping[str, object], cache_dir: Path, length: int) -> Passage:
    """Up to `length` characters from the end of the held-out part of a checkpoint's corpus.

    `payload` is the checkpoint's (it records the corpus and the validation fraction). The
    bundled plays are rebuilt offline; a file must still exist. Raises UserError otherwise.
    """
    spec, fraction = trained_on(payload)
    if not spec:
        raise UserError("the checkpoint does not record its corpus; give a text to inspect")
    if spec not in NAMED_CORPORA and not Path(spec).is_file():
        raise UserError(f"the checkpoint's corpus {spec} no longer exists; give a text to inspect")
    try:
        corpus = load_corpus(spec, cache_dir)
    except CorpusError as exc:
        raise UserError(f"cannot read the checkpoint's corpus: {exc}") from None
    total = corpus.length
    held_start = total - int(total * fraction)
    start = max(held_start, total - length)
    # Only the passage and its context are read: a mapped corpus reads them from its map.
    first = max(held_start, start - CONTEXT_CHARS)
    tail = corpus.read(first, total)
    at = start - first  # the passage's start within `tail`
    if start > 0 and (tail[at - 1] if at else corpus.read(start - 1, start)) != "\n":
        newline = tail.find("\n", at, len(tail) - 1)  # begin at a line start, if one is near
        if newline >= 0:
            at = newline + 1
    context = tail[max(0, at - CONTEXT_CHARS) : at] or "\n"
    text = tail[at:]
    note = ""
    recorded = json_object(payload.get("corpus")).get("checksum")
    if recorded and recorded != corpus.checksum:
        note = f"{spec} changed since the checkpoint was trained; its held-out part may differ"
    source = f"the last {len(text):,} characters of {Path(spec).name} (held out from training)"
    return Passage(text=text, context=context, source=source, note=note)


def read_text_file(path: str | Path, shown: str | None = None) -> str:
    """A UTF-8 text file, newlines normalised; UserError in one line if it cannot be used."""
    shown = shown or str(path)
    path = user_path(path)
    data = read_user_file(path, what="a text file", max_bytes=MAX_FILE_BYTES, shown=shown)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{shown} is not UTF-8 text (invalid byte 0x{data[exc.start]:02x} at byte "
            f"{exc.start}); convert it with iconv -t UTF-8"
        ) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text:
        raise UserError(f"{shown} is empty; give a file with some text in it")
    return text
