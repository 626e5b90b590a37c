"""The core is UI-free: importing every module of it pulls in neither textual nor rich."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import shakespeare_tui.core

CHECK = """
import importlib, json, sys
for name in {modules!r}:
    importlib.import_module(name)
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "rich"))))
"""


def core_modules() -> list[str]:
    return [
        m.name
        for m in pkgutil.walk_packages(shakespeare_tui.core.__path__, "shakespeare_tui.core.")
    ]


def test_core_imports_no_ui_library():
    modules = core_modules()
    assert {"shakespeare_tui.core.training.engine", "shakespeare_tui.core.text.corpus"} <= set(
        modules
    )
    result = subprocess.run(
        [sys.executable, "-c", CHECK.format(modules=modules)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
