"""The README's architecture map names every module of the package, in the folder it is in."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "shakespeare_tui"


def architecture_rows() -> dict[str, str]:
    """The map's rows: the folder cell (e.g. "core/text/") → the rest of the row."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`"):
            rows[cells[0]] = cells[1]
    return rows


def test_every_module_is_in_the_readme_map():
    rows = architecture_rows()
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name in ("__init__.py", "__main__.py"):
            continue
        folder = path.parent.relative_to(PACKAGE).as_posix()
        name = path.stem
        if folder == ".":
            where = [k for k in rows if f"`{name}.py`" in k]
            found = bool(where)
        else:
            key = f"`{folder}/`" + (" (the base)" if folder == "core" else "")
            found = key in rows and re.search(rf"`{re.escape(name)}`", rows[key]) is not None
        if not found:
            missing.append(path.relative_to(PACKAGE).as_posix())
    assert not missing, f"README's Architecture section does not name: {missing}"
