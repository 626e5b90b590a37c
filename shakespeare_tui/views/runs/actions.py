"""The file work behind the Runs view's actions on a run: finding its best checkpoint (to
generate from, inspect or export), renaming it, sizing its folder before a delete, deleting it,
and exporting a copy of its checkpoint.

Run in the view's worker; refusals (the bundled checkpoint, a run being trained, a bad name)
are the core's, one line each. Nothing here touches the UI.
"""

from __future__ import annotations

from pathlib import Path

from shakespeare_tui.core.errors import named_by_path
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.runs.actions import (
    deletable,
    delete_run,
    export_name,
    folder_size,
    rename_run,
)
from shakespeare_tui.core.runs.folders import BUNDLED, resolve_checkpoint

# What each action does to a run, as a refusal's title says it ("Cannot delete r1").
VERBS = {"rename": "rename", "ask-delete": "delete", "delete": "delete", "export": "export",
         "generate": "generate from", "inspect": "inspect"}  # fmt: skip


def act_on_run(paths: Paths, action: str, name: str, argument=None):
    """Do `action` (a key of VERBS) to run `name`, and return what the view tells of it:
    rename → the new folder; ask-delete → (folder, files, bytes) to ask with; delete →
    `argument` as given; export → (the copy's path, its bytes); generate and inspect → the
    checkpoint's path."""
    runs = paths.runs
    if action == "rename":
        return str(rename_run(runs, name, argument))
    if action == "ask-delete":
        folder = deletable(runs, name)
        return (str(folder), *folder_size(folder))
    if action == "delete":
        delete_run(runs, name)
        return argument
    source = resolve_checkpoint(BUNDLED if name == BUNDLED else str(runs / name), paths)
    if action == "export":
        return export_copy(paths.exports, name, source)
    return str(source)  # generate, inspect


def export_copy(folder: Path, name: str, source: Path) -> tuple[str, int]:
    """A weights-only bf16 copy of `source` (run `name`'s checkpoint) in `folder`, under a name
    no earlier export has; (its path, its bytes)."""
    from shakespeare_tui.core.model.checkpoint import export_checkpoint  # imports torch

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / export_name(name, source)
    n = 1
    while target.exists():  # an export made before is kept
        n += 1
        target = folder / f"{Path(export_name(name, source)).stem}-{n}.pt"
    with named_by_path(source):
        export_checkpoint(source, target, bf16=True)
    return str(target), target.stat().st_size
