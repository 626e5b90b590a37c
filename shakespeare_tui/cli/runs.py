"""`shakespeare-tui runs` (every run and the bundled checkpoint) and `export` (a small copy)."""

from __future__ import annotations

from pathlib import Path


def runs_command(paths) -> int:
    from rich.table import Table

    from shakespeare_tui.cli import EXIT_OK
    from shakespeare_tui.cli.console import PipeConsole
    from shakespeare_tui.core.catalog import bundled_entry
    from shakespeare_tui.core.numbers import count, local_time
    from shakespeare_tui.core.runs import list_runs

    table = Table(box=None, pad_edge=False)
    # "epochs done": finished ones; a run stopped in its first epoch has done none.
    for header in ("run", "corpus", "model", "epochs done", "best val", "device", "created"):
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
        table.add_row(name, corpus, model, count(epochs), val_text, device, local_time(created))
    console = PipeConsole()  # `runs | head`: exit 0 when the reader leaves
    if not console.is_terminal:
        console = PipeConsole(width=200)  # piped: whole rows, no wrapping at 80 columns
    console.print(table)
    return EXIT_OK


def export_command(args, paths) -> int:
    from shakespeare_tui.cli import EXIT_OK, naming
    from shakespeare_tui.core.checkpoint import export_checkpoint
    from shakespeare_tui.core.errors import UserError
    from shakespeare_tui.core.numbers import size
    from shakespeare_tui.core.runs import resolve_checkpoint

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
        with naming(source):
            export_checkpoint(source, target, bf16=not args.fp32)
    except OSError as exc:
        raise UserError(f"cannot write {target}: {exc.strerror or exc}") from None
    print(f"wrote {target} ({size(target.stat().st_size)}) from {source}")
    return EXIT_OK


def export_name(spec: str, source: Path) -> str:
    """The file an export into a folder gets: the run's name (r.pt, r-last.pt), else the
    checkpoint's own name (bundled.pt, a loose file's name)."""
    from shakespeare_tui.core.runs import BEST, BUNDLED, CHECKPOINT_FILES, CONFIG

    if spec == BUNDLED:
        return f"{BUNDLED}.pt"
    if (source.parent / CONFIG).is_file():  # a run's best.pt or last.pt
        run = source.parent.name
        return f"{run}.pt" if source.name == CHECKPOINT_FILES[BEST] else f"{run}-{source.stem}.pt"
    return source.name
