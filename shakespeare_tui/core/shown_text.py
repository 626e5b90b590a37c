"""Text from a file, made safe to show in a terminal: one sanitiser for the CLI and the app.

A run name, a corpus name, a checkpoint's metadata, a fork tree's text, a queue entry or a
sample comes from a file that anyone may have written. Shown as it is, an escape sequence in it
is obeyed by the terminal: ESC ] 52 writes the clipboard, ESC [ 2 J clears the screen, ESC ] 0
sets the window's title. So every control character (C0, DEL and C1, which some terminals read
as an 8-bit ESC [) is shown as Python writes it in a string, "\\x1b", and so is a lone
surrogate, which no terminal can be sent (it is not UTF-8). Everything else is left as it is,
backslashes too: a Windows path reads as it is.

`shown(name)` for a one-line field (a newline in it is shown as the two characters \\n, so a
row stays one row); `shown(sample, keep="\\n")` for a text of several lines.
"""

from __future__ import annotations

import re
from functools import lru_cache

# C0 controls, DEL, C1 controls, and the surrogates (only ever lone ones in a str).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


@lru_cache(maxsize=8)
def _pattern(keep: str) -> re.Pattern[str]:
    if not keep:
        return _UNSAFE
    kept = "".join(re.escape(c) for c in keep)
    return re.compile(f"(?![{kept}]){_UNSAFE.pattern}")


def shown(text: object, keep: str = "") -> str:
    """`text` (anything: it is made a str) with its control characters written out as escapes,
    except those in `keep` ("\\n" for a text of several lines, "\\n\\t" to keep tabs too)."""
    text = text if isinstance(text, str) else str(text)
    pattern = _pattern(keep)
    if pattern.search(text) is None:  # the usual case: nothing to do, no copy
        return text
    return pattern.sub(lambda m: _escape(m.group()), text)
