"""What the CLI's tests share: run `main()` in-process and read what it printed, and the shape of
a refusal (one line, exit 2, no traceback)."""

from __future__ import annotations

import pytest

from shakespeare_tui.cli import EXIT_USAGE, main


@pytest.fixture
def wide_console(monkeypatch):
    """rich wraps at 80 columns when output is captured; long temp paths would wrap. A module
    makes it autouse with `pytestmark = pytest.mark.usefixtures("wide_console")`."""
    monkeypatch.setenv("COLUMNS", "250")


def cli(capsys, *args) -> tuple[int, str, str]:
    """`shakespeare-tui ARGS` in this process: its exit code, stdout and stderr."""
    capsys.readouterr()
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse's usage errors exit from parse_args
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *words: str) -> None:
    """A refusal: exit 2, one line on stderr naming the program and each of `words`."""
    assert code == EXIT_USAGE, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("shakespeare-tui")
    assert "Traceback" not in err
    for word in words:
        assert word in err
