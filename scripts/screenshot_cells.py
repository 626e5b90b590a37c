"""Pictures of the cells compared, for the README: the Runs view with the three runs of
`shakespeare-tui queue --cells` selected, their training curves by characters seen, then how
far back each reads (context curves with the n-gram baseline, and connectivity).

    shakespeare-tui --data-dir /tmp/cells queue --cells --max-minutes 2
    python scripts/screenshot_cells.py --data-dir /tmp/cells [--prefix cells] [--out assets]

Runs the app headless at 120×40 and writes cells-training.svg, cells-context.svg and
cells-connectivity.svg. The first look measures each run's best checkpoint (minutes on a CPU;
the n-gram's counts of the corpus are made once); a second is instant.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from shakespeare_tui.app import make_app
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.sizing.cell_comparison import ORDER
from shakespeare_tui.settings import AppSettings
from shakespeare_tui.torch_loader import probe_device

SIZE = (120, 40)


async def _until(pilot, predicate, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshot: timed out waiting for {what}")
        await pilot.pause(0.2)


async def shoot(data_dir: Path, prefix: str, out: Path) -> tuple[list[Path], str]:
    from shakespeare_tui.views.runs.memory_pane import MemoryPane
    from shakespeare_tui.views.runs.table import RunsTable

    paths = Paths.resolve(data_dir).ensure()
    names = [f"{prefix}-{cell}" for cell in ORDER]
    missing = [n for n in names if not (paths.runs / n / "best.pt").is_file()]
    if missing:
        raise SystemExit(f"screenshot: no best.pt for {', '.join(missing)} under {paths.runs}")
    app = make_app(paths, settings=AppSettings(mode="runs"), probe=probe_device)
    app.compare_runs(names)  # as the Train view's C leaves it: the three selected
    written = []
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await _until(pilot, lambda: list(screen.selected) == names, "the selection")
        await _until(pilot, lambda: all(n in screen.curves for n in names), "the curves")
        table = screen.query_one(RunsTable)
        table.move_cursor(row=table.names.index(names[-1]))
        await pilot.pause(1.0)
        written.append(Path(app.save_screenshot("cells-training.svg", str(out))))
        await pilot.press("m")
        pane = screen.query_one(MemoryPane)

        def measured() -> bool:
            done = all(n in pane.found and pane.found[n][2].memory is not None for n in names)
            return done and pane.baseline is not None and not pane.measuring

        await _until(pilot, measured, "the memories", timeout=1800)
        await pilot.pause(1.0)
        written.append(Path(app.save_screenshot("cells-context.svg", str(out))))
        await pilot.press("m")
        await pilot.pause(1.0)
        written.append(Path(app.save_screenshot("cells-connectivity.svg", str(out))))
        said = str(pane.query_one("#memory-words").render())
    return written, said


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--prefix", default="cells")
    parser.add_argument("--out", default=Path("assets"), type=Path)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    written, said = asyncio.run(shoot(args.data_dir, args.prefix, args.out))
    for path in written:
        print(path)
    print(said)
    return 0


if __name__ == "__main__":
    sys.exit(main())
