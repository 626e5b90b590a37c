"""App figures: training inside the running app against headless, key latency, launch and quit.

- In-app against headless: the app driven headless (`run_test`) trains the CPU preset for
  `--app-seconds` (`s` pressed, the real worker and UI; only the time budget is added, by wrapping
  the trainer), alternating with `core.engine.train` given the very same config. Speed is the
  steady rate between a run's first and last `metrics.jsonl` step records.
- Steps shown 4 times a second against every step: the tiny preset in the app (20 step
  events a second here), as shipped (`views.train.progress.STEP_SHOWN_EVERY_S`, 0.25 s) and with
  every step's numbers drawn (0), alternating; the same steady rate.
- Key latency while training, in a run of its own (so the presses do not slow the speed figures):
  every 200 ms a `b` key (toggle bits/nats) is posted the way `pilot.press` posts it, and the time
  until the screen's `action_toggle_bits` runs is recorded.
- First frame and quit: `shakespeare-tui` in a private tmux server (120×40), from launch until the
  pane shows the header, and from `q` during training until the process has exited (it stops the
  run after the current step and saves a resumable checkpoint first).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from benchmarks.common import (
    Table,
    Targets,
    bench_text,
    interleave,
    median,
    percentile,
    ratios,
    spread,
)

SIZE = (120, 40)


def _steady_rate(run_dir: Path) -> float:
    """chars/s between the first and the last step record (validation-free when no epoch ended)."""
    steps = []
    path = run_dir / "metrics.jsonl"
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("kind") == "step":
                steps.append(record)
    if len(steps) < 2:
        return float("nan")
    config = json.loads((run_dir / "config.json").read_text())["train"]
    chars = (steps[-1]["step"] - steps[0]["step"]) * config["batch_size"] * config["seq_len"]
    return chars / max(1e-9, steps[-1]["elapsed_s"] - steps[0]["elapsed_s"])


class AppBench:
    def __init__(self, args, corpus_file: Path, seconds: float):
        from shakespeare_tui.core.paths import Paths

        self.args = args
        self.corpus_file = corpus_file
        self.seconds = seconds
        self.tmp = tempfile.TemporaryDirectory(prefix="bench-app-")
        self.paths = Paths.resolve(self.tmp.name).ensure()
        self.config = None  # the TrainConfig the app built, replayed headless
        self.latencies: list[float] = []
        self.runs = 0

    # -- in the app ------------------------------------------------------------------------

    def in_app(self) -> float:
        return asyncio.run(self._in_app(probe_keys=False))

    def tiny_in_app(self, step_shown_every_s: float) -> float:
        """The tiny preset in the app, its steps shown at most every `step_shown_every_s`."""
        from shakespeare_tui.views.train import progress

        shipped = progress.STEP_SHOWN_EVERY_S
        progress.STEP_SHOWN_EVERY_S = step_shown_every_s
        try:
            return asyncio.run(self._in_app(probe_keys=False, preset="tiny"))
        finally:
            progress.STEP_SHOWN_EVERY_S = shipped

    def key_latency(self) -> list[float]:
        """One more in-app run, pressing `b` every 200 ms; the latencies in ms."""
        self.latencies = []
        asyncio.run(self._in_app(probe_keys=True))
        return self.latencies

    async def _in_app(self, probe_keys: bool, preset: str = "cpu") -> float:
        from textual import events

        from shakespeare_tui.app import make_app
        from shakespeare_tui.core.events import StepLogged, TrainingFinished
        from shakespeare_tui.messages import TrainingUpdate
        from shakespeare_tui.settings import AppSettings, TrainSettings
        from shakespeare_tui.torch_loader import default_trainer

        self.runs += 1
        run_name = f"app-{self.runs}"
        seconds = self.seconds

        def trainer(config, paths, **kwargs):
            config = replace(config, max_minutes=seconds / 60)
            self.config = config
            kwargs["run_name"] = run_name
            return default_trainer(config, paths, **kwargs)

        settings = AppSettings(
            train=TrainSettings(corpus=str(self.corpus_file), preset=preset, device="cpu")
        )
        state = {"training": False, "finished": False}
        handled: list[float] = []

        def hook(message) -> None:
            if isinstance(message, TrainingUpdate):
                if isinstance(message.event, StepLogged):
                    state["training"] = True
                elif isinstance(message.event, TrainingFinished):
                    state["finished"] = True

        app = make_app(self.paths, trainer=trainer, settings=settings)
        async with app.run_test(size=SIZE, message_hook=hook) as pilot:
            await pilot.pause()
            screen = app.screen
            toggle = screen.action_toggle_bits

            def timed_toggle() -> None:
                handled.append(time.perf_counter())
                toggle()

            screen.action_toggle_bits = timed_toggle  # instrument the handler, nothing else
            await pilot.press("s")
            deadline = time.monotonic() + seconds + 120
            while not state["finished"] and time.monotonic() < deadline:
                if state["training"] and probe_keys:
                    before = len(handled)
                    key = events.Key("b", "b")
                    key.set_sender(app)
                    sent = time.perf_counter()
                    app._driver.send_message(key)
                    until = time.monotonic() + 5
                    while len(handled) == before and time.monotonic() < until:
                        await asyncio.sleep(0.001)
                    if len(handled) > before:
                        self.latencies.append(1000 * (handled[-1] - sent))
                await asyncio.sleep(0.2)
            with contextlib.suppress(Exception):  # a failed run shows as no figure
                await app.workers.wait_for_complete()
        return _steady_rate(self.paths.runs / run_name)

    # -- headless ----------------------------------------------------------------------------

    def headless(self) -> float:
        from shakespeare_tui.core.training.engine import train

        if self.config is None:
            return float("nan")
        self.runs += 1
        run_name = f"headless-{self.runs}"
        train(self.config, self.paths, run_name=run_name)
        return _steady_rate(self.paths.runs / run_name)


# ------------------------------------------------------------------ tmux: launch and quit


class Tmux:
    """A private tmux server (its own socket), so nothing else's sessions are touched."""

    def __init__(self):
        self.socket = f"bench-{os.getpid()}"
        # A session that outlives the app's, so the server does not exit (and race the next
        # launch) each time the app quits.
        self("new-session", "-d", "-s", "keeper", "-x", "80", "-y", "24", "sleep 3600")

    def __call__(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=check
        )
        return done.stdout

    def screen(self, session: str) -> str:
        return self("capture-pane", "-p", "-t", session, check=False)

    def close(self) -> None:
        path = self("display-message", "-p", "#{socket_path}", check=False).strip()
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
        if path:
            Path(path).unlink(missing_ok=True)


def _app_command(data_dir: Path, exited: Path) -> str:
    exe = shutil.which("shakespeare-tui")
    launch = [exe] if exe else [sys.executable, "-m", "shakespeare_tui"]
    stamp = f"{shlex.quote(sys.executable)} -c 'import time; print(time.time())' > {exited}"
    run = " ".join(shlex.quote(a) for a in [*launch, "--data-dir", str(data_dir)])
    return f"env TERM=xterm-256color {run}; {stamp}"


def _wait(predicate, timeout: float, poll: float = 0.01) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(poll)
    return False


def _exit_time(exited: Path, t_quit: float, timeout: float = 30) -> float:
    """Seconds from `t_quit` (time.time()) until the app's command line wrote its exit stamp."""
    if not _wait(lambda: exited.exists() and exited.read_text().strip() != "", timeout):
        return float("nan")
    return float(exited.read_text()) - t_quit


def _fresh_settings(data_dir: Path, corpus_file: Path) -> None:
    """The CPU preset on our corpus, a new run (the app remembers the last run selected)."""
    from shakespeare_tui.core.paths import Paths
    from shakespeare_tui.settings import AppSettings, TrainSettings

    paths = Paths.resolve(data_dir).ensure()
    settings = TrainSettings(corpus=str(corpus_file), preset="cpu", device="cpu")
    AppSettings(train=settings).save(paths.settings_file)


def first_frame(tmux: Tmux, data_dir: Path, corpus_file: Path, n: int) -> tuple[float, float]:
    """Seconds from launch to the first frame; from `q` (idle, torch loaded) to the exit."""
    _fresh_settings(data_dir, corpus_file)
    exited = data_dir / "exited"
    exited.unlink(missing_ok=True)
    session = f"ff{n}"
    t0 = time.perf_counter()
    tmux("new-session", "-d", "-s", session, "-x", str(SIZE[0]), "-y", str(SIZE[1]),
         _app_command(data_dir, exited))  # fmt: skip
    shown = _wait(lambda: "shakespeare-tui" in tmux.screen(session), 30)
    elapsed = time.perf_counter() - t0
    _wait(lambda: "CPU ·" in tmux.screen(session) or "CUDA ·" in tmux.screen(session), 30, 0.05)
    time.sleep(0.5)
    t_quit = time.time()
    tmux("send-keys", "-t", session, "q", check=False)
    quit_s = _exit_time(exited, t_quit)
    if quit_s != quit_s:
        tmux("kill-session", "-t", session, check=False)
    return (elapsed if shown else float("nan")), quit_s


def quit_while_training(
    tmux: Tmux, data_dir: Path, corpus_file: Path, n: int
) -> tuple[float, bool]:
    """Seconds from `q` (during training) to the process's exit; whether last.pt was saved."""
    _fresh_settings(data_dir, corpus_file)
    exited = data_dir / "exited"
    exited.unlink(missing_ok=True)
    session = f"quit{n}"
    before = set(p.name for p in (data_dir / "runs").glob("*"))
    tmux("new-session", "-d", "-s", session, "-x", str(SIZE[0]), "-y", str(SIZE[1]),
         _app_command(data_dir, exited))  # fmt: skip
    if not _wait(lambda: "shakespeare-tui" in tmux.screen(session), 30):
        tmux("kill-session", "-t", session, check=False)
        return float("nan"), False
    tmux("send-keys", "-t", session, "s", check=False)

    def new_run() -> Path | None:
        for p in (data_dir / "runs").glob("*"):
            if p.name not in before:
                return p
        return None

    def stepping() -> bool:
        run = new_run()
        metrics = run / "metrics.jsonl" if run else None
        return bool(metrics and metrics.is_file() and '"kind": "step"' in metrics.read_text())

    if not _wait(stepping, 90, poll=0.1):
        tmux("kill-session", "-t", session, check=False)
        return float("nan"), False
    time.sleep(1.0)  # mid-run, not at a log boundary
    t_quit = time.time()
    tmux("send-keys", "-t", session, "q", check=False)
    quit_s = _exit_time(exited, t_quit)
    if quit_s != quit_s:
        tmux("kill-session", "-t", session, check=False)
    run = new_run()
    return quit_s, bool(run and (run / "last.pt").is_file())


# ------------------------------------------------------------------ the section


def run_app(args, targets: Targets) -> None:
    try:
        from shakespeare_tui.app import make_app  # noqa: F401
    except ImportError as exc:
        print(f"app: skipped — the app is not importable ({exc})\n", flush=True)
        return

    seconds = args.app_seconds if not args.quick else min(args.app_seconds, 10.0)
    rounds = 1 if args.quick else 2
    text, source = bench_text(1_100_000, args.corpus)
    with tempfile.TemporaryDirectory(prefix="bench-corpus-") as tmp:
        corpus_file = Path(tmp) / "corpus.txt"
        corpus_file.write_text(text, encoding="utf-8")
        bench = AppBench(args, corpus_file, seconds)
        try:
            res = interleave({"in the app": bench.in_app, "headless": bench.headless}, rounds)
        except Exception as exc:  # noqa: BLE001 - benchmarks report, they do not fail
            print(f"app: in-app training failed: {type(exc).__name__}: {exc}\n", flush=True)
            res = None
        if res is not None:
            table = Table(
                f"Training inside the app (run_test, headless) against core.engine.train, "
                f"cpu preset, {seconds:g} s per run",
                "where",
                "chars/s (median)",
                "min–max",
                "app ÷ headless",
            )
            r = ratios(res["in the app"], res["headless"])
            table.add(
                "in the app",
                f"{median(res['in the app']):,.0f}",
                spread(res["in the app"]),
                f"{r:.2f}×",
            )
            table.add("headless", f"{median(res['headless']):,.0f}", spread(res["headless"]), "1")
            table.note(f"{rounds} round(s), interleaved; text: {source}")
            table.print()
            targets.add(
                "in-app training ≥ 0.9× headless", f"{r:.2f}×", r >= 0.9 if r == r else None
            )
            try:
                shown = interleave(
                    {
                        "4 a second": lambda: bench.tiny_in_app(0.25),
                        "every step": lambda: bench.tiny_in_app(0.0),
                    },
                    rounds,
                )
            except Exception as exc:  # noqa: BLE001 - benchmarks report, they do not fail
                print(f"app: tiny in-app training failed: {type(exc).__name__}: {exc}\n")
                shown = None
            if shown is not None:
                table = Table(
                    f"The tiny preset in the app: its steps' numbers shown 4 times a second (as "
                    f"shipped) against every step, {seconds:g} s per run",
                    "steps shown",
                    "chars/s (median)",
                    "min–max",
                    "÷ every step",
                )
                r = ratios(shown["4 a second"], shown["every step"])
                for name in ("4 a second", "every step"):
                    ratio = f"{r:.2f}×" if name == "4 a second" else "1"
                    table.add(name, f"{median(shown[name]):,.0f}", spread(shown[name]), ratio)
                table.note(f"{rounds} round(s), interleaved; text: {source}")
                table.print()
            try:
                lat = bench.key_latency()
            except Exception as exc:  # noqa: BLE001 - benchmarks report, they do not fail
                print(f"app: key latency run failed: {type(exc).__name__}: {exc}\n", flush=True)
                lat = []
            table = Table(
                "Key → handler while training (`b` posted as pilot.press does, until "
                "`action_toggle_bits` runs)",
                "keys",
                "median ms",
                "p95 ms",
                "max ms",
            )
            p95 = percentile(lat, 95)
            table.add(
                len(lat),
                f"{median(lat):.1f}",
                f"{p95:.1f}",
                f"{max(lat, default=float('nan')):.1f}",
            )
            table.print()
            targets.add(
                "key latency p95 < 50 ms while training", f"{p95:.1f} ms", p95 < 50 if lat else None
            )

        if shutil.which("tmux") is None:
            print("app: launch and quit figures skipped — tmux not found\n", flush=True)
            return
        data_dir = Path(tmp) / "home"
        tmux = Tmux()
        try:
            launches = [
                first_frame(tmux, data_dir, corpus_file, i) for i in range(3 if args.quick else 5)
            ]
            quits = [
                quit_while_training(tmux, data_dir, corpus_file, i)
                for i in range(1 if args.quick else 2)
            ]
        finally:
            tmux.close()
        frames = [f for f, _ in launches]
        idle_quits = [q for _, q in launches]
        busy_quits = [q for q, _ in quits]
        saved = all(s for _, s in quits)
        table = Table(
            f"Launch and quit (`shakespeare-tui` in tmux {SIZE[0]}×{SIZE[1]})",
            "what",
            "median s",
            "min–max s",
            "note",
        )
        table.add("launch → first frame", _s(frames), spread(frames), "until the header shows")
        table.add("q when idle → exit", _s(idle_quits), spread(idle_quits), "torch loaded")
        table.add(
            "q during training → exit",
            _s(busy_quits),
            spread(busy_quits),
            "last.pt saved" if saved else "**last.pt missing**",
        )
        table.print()
        targets.add("first frame < 1 s", _s(frames) + " s", _below(frames, 1.0))
        targets.add("quit during training < 1 s", _s(busy_quits) + " s", _below(busy_quits, 1.0))


def _s(values) -> str:
    return f"{median(values):.2f}"


def _below(values, limit: float) -> bool | None:
    m = median(values)
    return None if m != m else m < limit
