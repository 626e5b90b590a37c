"""JSON read from a file, which may be anything: one parse that fails only with ValueError.

`json.loads` of ten thousand "[" in a row raises RecursionError, which no reader of a
config.json, a metrics line, a queue.json or a fork tree expects: each of them treats a
ValueError as "not JSON" and goes on (one bad row, one line). `parse_json` makes nesting too
deep for Python one more ValueError, so every reader's existing `except ValueError` holds.
"""

from __future__ import annotations

import json

# A JSON object as read from a file (a config.json, a metrics record, a checkpoint's plain
# parts): its values may be anything, so a reader checks each one's kind before using it.
JSONObject = dict[str, object]


class TooDeep(ValueError):
    """JSON nested deeper than Python's recursion limit lets it be read."""


def parse_json(text: str | bytes) -> object:
    """`json.loads(text)`, raising ValueError (json.JSONDecodeError, UnicodeDecodeError or
    TooDeep) for anything that is not a JSON document Python can hold."""
    try:
        return json.loads(text)
    except RecursionError:
        raise TooDeep("nested too deeply to read") from None


def json_object(value: object) -> JSONObject:
    """`value` if it is a JSON object, else an empty one: a part of a file that is not an
    object reads as empty, as a missing one does."""
    return value if isinstance(value, dict) else {}
