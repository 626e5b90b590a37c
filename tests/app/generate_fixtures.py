"""The Generate view's test app and its helpers, shared by the Generate tests and snapshots.

The `home` (a copy of the session's tiny trained run) and `no_bundled` fixtures are in
conftest.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from textual.widgets import Input

from shakespeare_tui.core.paths import Paths
from shakespeare_tui.settings import GenerateSettings
from shakespeare_tui.views.generate.generated_text import GeneratedText
from shakespeare_tui.views.generate.screen import GenerateScreen
from tests.app.harness import ViewApp, settle

SIZE = (120, 40)


def generate_app(
    paths: Paths, settings: GenerateSettings | None = None, title: str | None = None
) -> ViewApp:
    """The Generate view alone, with `settings` (default: the defaults)."""
    settings = settings or GenerateSettings()
    return ViewApp(lambda: GenerateScreen(paths, settings), title=title)


async def ready(pilot) -> GenerateScreen:
    """The view once its first workers (the checkpoint scan) are done."""
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, GenerateScreen)
    return screen


def set_field(screen: GenerateScreen, field: str, value: str) -> None:
    screen.query_one(f"#{field}", Input).value = value


def output_of(screen: GenerateScreen) -> GeneratedText:
    return screen.query_one(GeneratedText)


def add_run(home: Path, name: str, created: str, keep: tuple[str, ...], source: str = "t") -> Path:
    """A copy of run `source` named `name`, created at `created`, with only the files in `keep`."""
    run = home / "runs" / name
    shutil.copytree(home / "runs" / source, run)
    for file in ("best.pt", "last.pt"):
        if file not in keep:
            (run / file).unlink()
    config = json.loads((run / "config.json").read_text())
    config["created"] = created
    (run / "config.json").write_text(json.dumps(config))
    return run
