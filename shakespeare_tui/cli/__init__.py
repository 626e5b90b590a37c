"""The command line: `shakespeare-tui` opens the app; `train`, `generate`, `inspect`, `runs`,
`queue` and `export` work headless.

`entry.main` parses (`parser.py`, each command's flags in its *_flags module) and runs the
command's function (its *_command module); how a command ends, its exit code and its one line
on stderr, is `exits.py`'s: 0 done, 1 runtime failure, 2 bad usage or input, 130 interrupted.
"""

from __future__ import annotations

from shakespeare_tui.cli.entry import main
from shakespeare_tui.cli.exits import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from shakespeare_tui.cli.parser import build_parser

__all__ = ["EXIT_FAILURE", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]
