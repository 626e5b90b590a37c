"""`shakespeare-tui runs` (every run and the bundled checkpoint; `diff`, `rm` and `mv` of runs)
and `export` (a small copy of a checkpoint)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

from shakespeare_tui.cli.console import PipeConsole
from shakespeare_tui.cli.exits import EXIT_OK
from shakespeare_tui.core.errors import UserError, named_by_path, system_failure
from shakespeare_tui.core.figures import count, size
from shakespeare_tui.core.runs.actions import (
    deletable,
    delete_run,
    export_name,
    find_run,
    folder_size,
    rename_run,
)
from shakespeare_tui.core.runs.catalog import CACHE_FILE, RunCatalog
from shakespeare_tui.core.runs.checkpoints import bundled_entry
from shakespeare_tui.core.runs.diff import diff_runs
from shakespeare_tui.core.runs.folders import resolve_checkpoint
from shakespeare_tui.core.runs.table import COLUMNS, HALF_WRITTEN, bundled_row, read_row, sort_rows
from shakespeare_tui.core.shown_text import shown

# The table's columns (COLUMNS' keys); the first five are what the table had before states.
TABLE = ("name", "corpus", "model", "epochs_done", "state", "params", "best_val_loss",
         "best_val_bits", "best_epoch", "best_step", "chars_per_sec", "elapsed", "device",
         "created")  # fmt: skip
# Which columns a narrow terminal keeps, first ones first (shown in TABLE's order).
KEEP = ("name", "state", "best_val_loss", "model", "epochs_done", "created", "corpus",
        "chars_per_sec", "elapsed", "best_step", "params", "best_val_bits", "best_epoch",
        "device")  # fmt: skip


def list_command(args, paths) -> int:
    """`runs`: the table (or --json) of every run, the bundled checkpoint first."""
    catalog = RunCatalog(paths.runs, cache=paths.cache / CACHE_FILE)
    catalog.refresh()
    rows = list(catalog.rows)
    bundled = bundled_entry()
    if bundled is not None and bundled.ok:
        rows.insert(0, bundled_row(bundled.info))
    if args.sort:
        rows = sort_rows(rows, args.sort, descending=args.reverse)
    if args.json:
        print(json.dumps([row.to_json() for row in rows], indent=2, allow_nan=False))
        return EXIT_OK
    # Every cell may come from a file (a run's name, its corpus, its device): shown escaped.
    texts = {k: [COLUMNS[k].title] + [shown(COLUMNS[k].text(row)) for row in rows] for k in TABLE}
    fitting = _fitting(texts, _console().width)
    columns = [COLUMNS[k] for k in TABLE if k in fitting]
    table = _table(*(c.title for c in columns), right={c.title for c in columns if c.numeric})
    for i in range(len(rows)):
        table.add_row(*(Text(texts[c.key][i + 1]) for c in columns))
    _console().print(table)
    return EXIT_OK


def _fitting(texts: dict[str, list[str]], width: int) -> set[str]:
    """The columns that fit `width`, in KEEP's order of importance (rich would squeeze every
    column into unreadable slivers instead)."""
    shown: set[str] = set()
    used = 0
    for key in KEEP:
        need = max(cell_len(t) for t in texts[key]) + (2 if shown else 0)  # the padding
        if key == "corpus":
            need = min(need, 26)  # a long path folds onto more lines
        if used + need <= width or not shown:
            shown.add(key)
            used += need
    return shown


def diff_command(args, paths) -> int:
    """`runs diff A B`: the settings that differ, and the best figures side by side."""
    if args.a == args.b:
        raise UserError(f"diff compares two runs; {args.a} was given twice")
    rows = [read_row(find_run(paths.runs, name)) for name in (args.a, args.b)]
    for row in rows:
        if row.state == HALF_WRITTEN:
            raise UserError(f"run {row.name} has no readable config.json to compare")
    diff = diff_runs(*rows)
    table = _table("setting", shown(args.a), shown(args.b))
    for setting in diff.settings:  # keys and values from the runs' config.json
        _add_row(table, setting.key, *setting.texts)
    if not diff.settings:
        table.add_row("(every setting)", "the same", "the same")
    table.add_row("", "", "")
    for title, a, b in diff.figures:
        _add_row(table, title, a, b)
    _console().print(table)
    a_loss, b_loss = diff.a.best_val_loss, diff.b.best_val_loss
    if diff.better is not None and a_loss is not None and b_loss is not None:  # (better: both)
        print(f"{shown(diff.better.name)} is better by {abs(a_loss - b_loss):.4f} nats/char")
    return EXIT_OK


def _add_row(table: Table, *cells: str) -> None:
    """A row of text from files: control characters escaped, and no markup read into it (a
    corpus named "[/]" would end rich's rendering with a MarkupError)."""
    table.add_row(*(Text(shown(cell)) for cell in cells))


def rm_command(args, paths) -> int:
    """`runs rm RUN`: delete a run's folder, asked first on a terminal."""
    folder = deletable(paths.runs, args.name)
    files, total = folder_size(folder)
    what = f"run {args.name} ({count(files)} files, {size(total)})"
    if not args.yes:
        if not sys.stdin.isatty():
            raise UserError(f"not deleting {what} without asking; pass --yes to delete it")
        sys.stderr.write(f"delete {what} in {folder}? [y/N] ")
        sys.stderr.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            print(f"kept run {args.name}")
            return EXIT_OK
    delete_run(paths.runs, args.name)
    print(f"deleted {what}")
    return EXIT_OK


def mv_command(args, paths) -> int:
    """`runs mv RUN NEW_NAME`."""
    target = rename_run(paths.runs, args.old, args.new)
    print(f"renamed run {args.old} to {args.new} ({target})")
    return EXIT_OK


def _table(*headers: str, right=frozenset()):
    table = Table(box=None, pad_edge=False)
    for header in headers:
        table.add_column(
            Text(header),
            no_wrap=header != "corpus",
            overflow="fold",
            justify="right" if header in right else "left",
        )
    return table


def _console():
    console = PipeConsole()  # `runs | head`: exit 0 when the reader leaves
    if not console.is_terminal:
        console = PipeConsole(width=250)  # piped: whole rows, no wrapping at 80 columns
    return console


def export_command(args, paths) -> int:
    """`export RUN_OR_PATH OUT`: a small weights-only copy of a checkpoint."""
    from shakespeare_tui.core.model.checkpoint import export_checkpoint  # torch: export only

    source = resolve_checkpoint(args.checkpoint, paths)
    target = Path(args.output).expanduser()
    if target.is_dir():  # as cp does: into the folder, named after what is exported
        target = target / export_name(args.checkpoint, source)
    if not target.parent.is_dir():
        raise UserError(f"cannot write {target}: the folder {target.parent} does not exist")
    # Refusals that --force cannot change come first, and do not suggest it.
    if target.is_dir():
        raise UserError(f"cannot write {target}: it is a folder; give a file name")
    if target.exists() and target.resolve() == source.resolve():
        raise UserError(f"{target} is the checkpoint itself; export to another file")
    if target.exists() and not target.is_file():
        raise UserError(f"cannot write {target}: it is not a regular file")
    if target.exists() and not args.force:
        raise UserError(f"{target} already exists; pass --force to overwrite it")
    try:
        with named_by_path(source):
            export_checkpoint(source, target, bf16=not args.fp32)
    except OSError as exc:  # the disk said no (full, read-only): a runtime failure, exit 1
        raise system_failure(exc, target, elsewhere="export to another disk") from None
    print(f"wrote {target} ({size(target.stat().st_size)}) from {source}")
    return EXIT_OK
