"""Screenshots for the README: the Train view on a real run, the Generate view on the bundled model.

    shakespeare-tui --data-dir /tmp/shots train --preset cpu --max-minutes 20 --name cpu-plays
    python scripts/screenshot.py --data-dir /tmp/shots --run cpu-plays [--out assets]

The Train view shows the run as training left it, then resumes it (its budget extended the way
the app offers) and is captured live once a few steps have been logged: figures, chart and
samples are that run's own. The Generate view samples the bundled checkpoint with a fixed seed.
Runs the app headless at 120×40 and writes train-view.svg and generate-view.svg.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from shakespeare_tui.app import make_app
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.settings import AppSettings, GenerateSettings, TrainSettings
from shakespeare_tui.torch_loader import probe_device
from shakespeare_tui.views.train.extend_dialog import ExtendScreen

SIZE = (120, 40)
LIVE_STEPS = 30  # steps logged after the resume before the picture is taken


async def _until(pilot, predicate, what: str, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshot: timed out waiting for {what}")
        await pilot.pause(0.1)


async def shoot(data_dir: Path, run: str, out: Path) -> list[Path]:
    paths = Paths.resolve(data_dir).ensure()
    if not (paths.runs / run / "last.pt").is_file():
        raise SystemExit(f"screenshot: no run {run} with a last.pt under {paths.runs}")
    settings = AppSettings(
        train=TrainSettings(run=run),
        generate=GenerateSettings(
            checkpoint="bundled", seed="1606", length=700, colour_by_probability=True
        ),
    )
    app = make_app(paths, settings=settings, probe=probe_device)
    written = []
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        status = screen.query_one("#train-status")
        await _until(pilot, lambda: "ready" not in str(status.render()), "the run's history")
        await pilot.press("s")
        await pilot.pause(0.5)
        if isinstance(app.screen, ExtendScreen):
            await pilot.press("enter")  # the proposed, larger budget
        await _until(pilot, lambda: screen.training, "the resume")
        numbers = screen.query_one("#train-numbers")
        first: list[int] = []

        def live() -> bool:
            text = str(numbers.render())
            if "chars/s" not in text:
                return False
            step = int(text.split("step ")[1].split()[0].replace(",", ""))
            first.append(step)
            return step >= first[0] + LIVE_STEPS

        await _until(pilot, live, "live steps", timeout=600)
        await pilot.pause(0.5)  # past the chart's redraw throttle
        written.append(Path(app.save_screenshot("train-view.svg", str(out))))
        await pilot.press("s")
        await _until(pilot, lambda: not screen.training, "the stop", timeout=120)

        await pilot.press("g")
        await _until(pilot, lambda: app.screen.query_one("#picker").option_count > 0, "the scan")
        await pilot.press("g")
        await _until(
            pilot,
            lambda: "done:" in str(app.screen.query_one("#generate-status").render()),
            "the text",
        )
        await pilot.pause(0.3)
        written.append(Path(app.save_screenshot("generate-view.svg", str(out))))
        await pilot.press("q")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="where the run lives")
    parser.add_argument("--run", required=True, help="the run to show")
    parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "assets")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for path in asyncio.run(shoot(args.data_dir, args.run, args.out)):
        print(f"{path} ({path.stat().st_size / 1000:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
