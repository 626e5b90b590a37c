"""Numbers as a person reads them, in one vocabulary for the CLI and the app.

count(8406)        "8,406"
params(10_124)     "10,124 parameters"
params(5_330_000)  "5.3M parameters"
compact(5_330_000) "5.3M"       (a narrow column's count: "10,124" below a million)
duration(62)       "1:02"       (and "1:02:03"; "—" while unknown)
size(4_100_000)    "4.1 MB"     (and "12.3 kB", "512 bytes")
local_time("2026-11-28T12:00:00+00:00")  "2026-11-28 13:00" in Paris

None of them raises, whatever it is given: a number read from a file may be NaN, infinite, a
string or a list, and is then shown as "—" (UNKNOWN), the same dash as a value not known yet.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TypeGuard

UNKNOWN = "—"


def _number(value: object) -> TypeGuard[float]:
    """Whether `value` is an int or float that is finite as a float (a bool is no number here)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int with hundreds of digits
        return False


def count(n: float) -> str:
    """A whole number with thousand separators: 8,406 (a float is rounded); "—" for no number."""
    return f"{round(n):,}" if _number(n) else UNKNOWN


def compact(n: float) -> str:
    """A count for a narrow column: written out below a million (10,124), else 1.2M."""
    if not _number(n):
        return UNKNOWN
    return count(n) if n < 1_000_000 else f"{n / 1e6:.1f}M"


def params(n: int) -> str:
    """A model's size: written out below a million (10,124 parameters), else 1.2M parameters."""
    if not _number(n):
        return f"{UNKNOWN} parameters"
    return f"{compact(n)} parameter{'' if n == 1 else 's'}"


def duration(seconds: float | None) -> str:
    """0:42, 12:05, 1:02:03; "—" when unknown (None, NaN, infinite or negative)."""
    if not _number(seconds) or seconds < 0:
        return UNKNOWN
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def size(n_bytes: int) -> str:
    """A file size in decimal units: 512 bytes, 12.3 kB, 4.1 MB, 1.2 GB."""
    if not _number(n_bytes) or n_bytes < 0:
        return UNKNOWN
    if n_bytes < 1000:
        return f"{n_bytes} byte{'' if n_bytes == 1 else 's'}"
    if n_bytes < 999_950:
        return f"{n_bytes / 1e3:.1f} kB"
    if n_bytes < 999_950_000:
        return f"{n_bytes / 1e6:.1f} MB"
    return f"{n_bytes / 1e9:.1f} GB"


def local_time(iso: str) -> str:
    """An ISO timestamp (stored in UTC) as local "YYYY-MM-DD HH:MM"; as it is if unparseable."""
    if not isinstance(iso, str):
        return UNKNOWN
    try:
        return dt.datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except (ValueError, OverflowError, OSError):  # OverflowError, OSError: a year out of range
        return iso[:16]
