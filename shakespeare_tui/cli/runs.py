"""`shakespeare-tui runs` (every run and the bundled checkpoint) and `export` (a small copy)."""

from __future__ import annotations

from pathlib import Path


def runs_command(paths) -> int:
    from rich.console import Console
    from rich.table import Table

    from shakespeare_tui.cli import EXIT_OK
    from shakespeare_tui.core.catalog import bundled_entry
    from shakespeare_tui.core.runs import list_runs

    table = Table(box=None, pad_edge=False)
    for header in ("run", "corpus", "model", "epochs", "best val", "device", "created"):
        table.add_column(header, no_wrap=header != "corpus", overflow="fold")
    rows = []
    bundled = bundled_entry()
    if bundled is not None and bundled.ok:
        info = bundled.info
        rows.append(
            (
                "bundled",
                info.corpus,
                info.model_summary,
                info.epoch,
                info.val_loss,
                "—",
                info.created,
            )
        )
    for run in list_runs(paths):
        name = run.name + (" (training)" if run.training else "")
        rows.append(
            (
                name,
                run.corpus,
                run.model,
                run.epochs_done,
                run.best_val_loss,
                run.device,
                run.created,
            )
        )
    for name, corpus, model, epochs, val, device, created in rows:
        val_text = f"{val:.4f}" if isinstance(val, (int, float)) else "—"
        table.add_row(name, corpus, model, str(epochs), val_text, device, _local_time(created))
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)  # piped: whole rows, no wrapping at 80 columns
    console.print(table)
    return EXIT_OK


def _local_time(iso: str) -> str:
    """An ISO timestamp (stored in UTC) as local "YYYY-MM-DD HH:MM"; as is if unparseable."""
    import datetime as dt

    try:
        return dt.datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso[:16]


def export_command(args, paths) -> int:
    from shakespeare_tui.cli import EXIT_OK
    from shakespeare_tui.core.checkpoint import export_checkpoint
    from shakespeare_tui.core.errors import UserError
    from shakespeare_tui.core.runs import resolve_checkpoint

    source = resolve_checkpoint(args.checkpoint, paths)
    target = Path(args.output).expanduser()
    if not target.parent.is_dir():
        raise UserError(f"cannot write {target}: the folder {target.parent} does not exist")
    if target.exists() and not args.force:
        raise UserError(f"{target} already exists; pass --force to overwrite it")
    try:
        export_checkpoint(source, target, bf16=not args.fp32)
    except OSError as exc:
        raise UserError(f"cannot write {target}: {exc.strerror or exc}") from None
    size = target.stat().st_size
    shown = f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.1f} kB"
    print(f"wrote {target} ({shown}) from {source}")
    return EXIT_OK
