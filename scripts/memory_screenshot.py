"""The README's picture of the Inspect view's Memory tab, on the bundled checkpoint.

    python scripts/memory_screenshot.py --data-dir /tmp/shots [--out assets]

Opens the Inspect view headless at 120×40 on the bundled checkpoint over its held-out text
(whatever runs the data folder holds),
puts the cursor on the end of the first line that ends in `--cursor` (default "you of Timon."),
shows the Memory tab and waits until the checkpoint's memory is measured (the first time, about
a minute on two cores: the plays are counted for the n-gram baseline; then read from the data
folder's cache) and the heat of the prediction at the cursor is drawn. Writes
inspect-memory.svg.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from shakespeare_tui.app import make_app
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.runs.folders import bundled_checkpoint
from shakespeare_tui.settings import AppSettings
from shakespeare_tui.torch_loader import probe_device

SIZE = (120, 40)


async def _until(pilot, predicate, what: str, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"memory_screenshot: timed out waiting for {what}")
        await pilot.pause(0.2)


async def shoot(data_dir: Path, out: Path, cursor: str) -> Path:
    paths = Paths.resolve(data_dir).ensure()
    app = make_app(paths, settings=AppSettings(mode="inspect"), probe=probe_device)
    app.call_later(app.inspect_checkpoint, str(bundled_checkpoint()), "bundled")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await _until(pilot, lambda: getattr(screen, "replay", None) is not None, "the replay")
        await _until(pilot, lambda: bool(screen.finder.found), "the finder")
        text = screen.replay.text
        at = text.find(cursor + "\n")
        if at < 0:
            raise SystemExit(f"memory_screenshot: no line ends in {cursor!r} in the text")
        screen.view.move_to(at + len(cursor))  # the newline: what comes after the line
        await pilot.press("M")
        memory = screen.memory
        await _until(pilot, lambda: memory.measured is not None, "the memory figures")
        await _until(pilot, lambda: screen.heat is not None and screen.heat[0] == screen.view.cursor,
                     "the heat")  # fmt: skip
        await pilot.pause(0.5)
        return Path(app.save_screenshot("inspect-memory.svg", str(out)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="a data folder (its cache)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "assets")
    parser.add_argument("--cursor", default="you of Timon.", help="the cursor ends this line")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    path = asyncio.run(shoot(args.data_dir, args.out, args.cursor))
    print(f"{path} ({path.stat().st_size / 1000:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
