"""The vocabulary: the sorted distinct characters of the corpus, stored in every checkpoint."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, SupportsInt

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Vocabulary:
    chars: str  # sorted, distinct
    _index: dict[str, int] = field(init=False, repr=False, compare=False)  # char -> code

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {c: i for i, c in enumerate(self.chars)})

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        return cls("".join(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, char: str) -> bool:
        return char in self._index

    def code(self, char: str) -> int:
        """The code of one known character (KeyError for an unknown one)."""
        return self._index[char]

    def unknown(self, text: str) -> list[str]:
        """Characters of `text` that the model has never seen, in order of first appearance."""
        return list(dict.fromkeys(c for c in text if c not in self._index))

    def encode(self, text: str) -> NDArray[np.integer[Any]]:
        """Codes as the smallest integer type that holds them (a 200 MB corpus stays 200 MB)."""
        dtype = np.uint8 if len(self.chars) <= 256 else np.int32
        if len(self.chars) <= 256 and text.isascii() and self.chars.isascii():
            # Fast path: a byte lookup table instead of a Python loop over millions of characters.
            table = np.zeros(128, dtype=np.uint8)
            known = np.zeros(128, dtype=bool)
            for i, c in enumerate(self.chars):
                table[ord(c)], known[ord(c)] = i, True
            points = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
            if not known[points].all():
                raise ValueError(
                    f"text has characters outside the vocabulary: {self.unknown(text)[:8]}"
                )
            return table[points]
        # General path: code points as uint32, then a binary search in the sorted vocabulary
        # (Python sorts strings by code point), vectorised rather than a loop per character.
        points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        vocab_points = np.array([ord(c) for c in self.chars], dtype=np.uint32)
        codes = np.searchsorted(vocab_points, points)
        if len(points) and (
            codes.max() >= len(vocab_points) or (vocab_points[codes] != points).any()
        ):
            raise ValueError(
                f"text has characters outside the vocabulary: {self.unknown(text)[:8]}"
            )
        return codes.astype(dtype)

    def decode(self, codes: Iterable[SupportsInt]) -> str:
        chars = self.chars
        return "".join(chars[int(i)] for i in codes)
