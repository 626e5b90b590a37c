"""The vocabulary: sorted distinct characters; encoding is exact or refuses, never guesses."""

from __future__ import annotations

import numpy as np
import pytest

from shakespeare_tui.core.text.vocab import Vocabulary

TEXTS = {
    "ascii": "Shall I compare thee to a summer's day?\n",
    "unicode": "Æthelred’s café — naïve “quotes” 🎭 and Ω\n",
}


@pytest.mark.parametrize("text", TEXTS.values(), ids=TEXTS.keys())
def test_encode_decode_round_trip(text):
    vocab = Vocabulary.from_text(text)
    assert vocab.chars == "".join(sorted(set(text)))
    codes = vocab.encode(text)
    assert codes.dtype == np.uint8 and len(codes) == len(text)
    assert vocab.decode(codes) == text
    assert [vocab.chars[c] for c in codes] == list(text)


def test_ascii_text_with_a_unicode_vocabulary():
    vocab = Vocabulary.from_text(TEXTS["unicode"] + TEXTS["ascii"])
    assert vocab.decode(vocab.encode(TEXTS["ascii"])) == TEXTS["ascii"]


@pytest.mark.parametrize("vocab_text", TEXTS.values(), ids=TEXTS.keys())
def test_unknown_characters_are_refused_not_mapped_to_code_zero(vocab_text):
    vocab = Vocabulary.from_text(vocab_text)
    assert vocab.unknown("Shall I zebra") == [
        c for c in dict.fromkeys("Shall I zebra") if c not in vocab
    ]
    with pytest.raises(ValueError, match="outside the vocabulary"):
        vocab.encode("zzz ~~~ ###")


def test_large_vocabularies_use_wider_codes():
    text = "".join(chr(0x4E00 + i) for i in range(300))
    vocab = Vocabulary.from_text(text)
    codes = vocab.encode(text)
    assert codes.dtype == np.int32 and vocab.decode(codes) == text


def test_empty_text_encodes_to_nothing():
    assert len(Vocabulary.from_text("abc").encode("")) == 0
