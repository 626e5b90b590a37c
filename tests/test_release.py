"""The version a person sees is the release the CHANGELOG names last."""

from __future__ import annotations

import re
from pathlib import Path

from tests.cli_support import cli

CHANGELOG = Path(__file__).resolve().parents[1] / "CHANGELOG.md"


def test_version_is_the_changelogs_newest_release(capsys):
    releases = re.findall(
        r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", CHANGELOG.read_text(), re.M
    )
    assert releases, "no dated release in CHANGELOG.md"
    newest, _date = releases[0]
    code, out, _ = cli(capsys, "--version")
    assert code == 0
    assert out.strip() == f"shakespeare-tui {newest}"
