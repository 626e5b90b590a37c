"""JSON read from a file, which may be anything: one parse that fails only with ValueError.

`json.loads` of ten thousand "[" in a row raises RecursionError, which no reader of a
config.json, a metrics line, a queue.json or a fork tree expects: each of them treats a
ValueError as "not JSON" and goes on (one bad row, one line). `parse_json` makes nesting too
deep for Python one more ValueError, so every reader's existing `except ValueError` holds.
"""

from __future__ import annotations

import json


class TooDeep(ValueError):
    """JSON nested deeper than Python's recursion limit lets it be read."""


def parse_json(text: str | bytes) -> object:
    """`json.loads(text)`, raising ValueError (json.JSONDecodeError, UnicodeDecodeError or
    TooDeep) for anything that is not a JSON document Python can hold."""
    try:
        return json.loads(text)
    except RecursionError:
        raise TooDeep("nested too deeply to read") from None
