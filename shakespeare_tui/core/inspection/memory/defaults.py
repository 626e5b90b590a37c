"""The Memory measurements' defaults, torch-free, for the command line's flags and help."""

from __future__ import annotations

SPAN = 300  # characters back the connectivity is measured over
CURVE_TARGETS = 200  # predictions the mean connectivity curve averages
DEFAULT_LENGTH = 100_000  # characters of the held-out end read: the "all" pass reads them all
