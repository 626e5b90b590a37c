"""One list of runs and checkpoints for the whole app: every view sees a run made after launch
(here or by another process) within the refresh; an unreadable checkpoint is one row of one
line that can be forgotten; `i` in the Generate view inspects the checkpoint picked there;
files listed in settings.json that are not files never block; names from files are escaped."""

from __future__ import annotations

import asyncio
import json
import os

import pytest
from textual.widgets import DataTable, Footer, Select

from shakespeare_tui.app import make_app
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.settings import AppSettings, GenerateSettings
from shakespeare_tui.shared_listing import REFRESH_S
from shakespeare_tui.views.inspect.screen import InspectScreen
from shakespeare_tui.widgets.checkpoint_picker import CheckpointPicker
from tests.app.generate_fixtures import SIZE, add_run, generate_app, ready
from tests.app.harness import fixed_probe, settle, wait_for

pytestmark = [pytest.mark.usefixtures("no_bundled"), pytest.mark.heavy(15)]
WITHIN = REFRESH_S * 3 + 10  # the refresh, with room for a loaded machine
INCOMPLETE = "bad.pt is not a complete checkpoint (truncated or not a PyTorch file)"


def _app(home, mode: str, **generate):
    settings = AppSettings(mode=mode, generate=GenerateSettings(**generate))
    return make_app(Paths.resolve(home), settings=settings, probe=fixed_probe)


def _titles(screen) -> list[str]:
    return [e.title for e in screen.query_one(CheckpointPicker).entries]


def _footer_actions(screen) -> list[str]:
    from textual.widgets._footer import FooterKey

    return [key.action for key in screen.query_one(Footer).query(FooterKey)]


async def _footer_shows(pilot, screen, holds) -> None:
    """Wait until the footer, rebuilt after a refresh (and empty for a moment while it is),
    shows keys of which `holds` is true: an absent key is checked on a footer drawn."""
    await wait_for(
        pilot, lambda: (actions := _footer_actions(screen)) and holds(actions), what="the footer"
    )


async def test_inspect_lists_a_run_made_after_launch_within_the_refresh(home):
    app = _app(home, "inspect")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, InspectScreen)
        await wait_for(pilot, lambda: "t · best" in _titles(screen), what="the first list")
        add_run(home, "u", "2999-01-01T00:00:00+00:00", keep=("best.pt", "last.pt"))
        await wait_for(pilot, lambda: "u · best" in _titles(screen), WITHIN, "the new run")
        # The cursor stays on the checkpoint inspected, not on the newcomer.
        assert screen.query_one(CheckpointPicker).selected_entry.title == "t · best"


async def test_ctrl_r_in_inspect_lists_a_new_run_at_once(home):
    app = _app(home, "inspect")
    app.listing.refresh_s = 600  # only ctrl+r can bring it
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: "t · best" in _titles(screen), what="the first list")
        add_run(home, "u", "2999-01-01T00:00:00+00:00", keep=("best.pt",))
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "u · best" in _titles(screen), 20, "the new run")


async def test_train_selector_offers_a_run_another_process_started(home):
    app = _app(home, "train")
    async with app.run_test(size=SIZE) as pilot:
        select = app.screen.query_one("#run", Select)

        def offered() -> set:
            return {value for _, value in select._options}

        await wait_for(pilot, lambda: "t" in offered(), what="the first list")
        before = select.value
        add_run(home, "elsewhere", "2999-01-01T00:00:00+00:00", keep=("last.pt",))
        await wait_for(pilot, lambda: "elsewhere" in offered(), WITHIN, "the new run")
        assert select.value == before  # the choice is kept


async def test_an_unreadable_file_is_one_row_of_one_line_and_can_be_forgotten(
    home,
    tmp_path,
):
    bad = tmp_path / "bad.pt"
    good = home / "runs" / "t" / "best.pt"
    bad.write_bytes(good.read_bytes()[:3000])  # a download cut short
    app = _app(home, "generate", files=[str(bad)], checkpoint=str(bad))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        picker = screen.query_one(CheckpointPicker)
        entry = picker.entries[0]
        assert entry.key == str(bad) and not entry.ok
        assert entry.info.error == INCOMPLETE  # in our words, not torch's
        # Its name, then why in one line; then the run's two entries of three lines each.
        assert [e.title for e in picker.entries] == ["bad.pt", "t · best", "t · last"]
        assert picker.virtual_size.height == 2 + 3 + 3
        assert picker.highlighted == 0
        assert "forget_file" in _footer_actions(screen)  # the way out is shown
        await pilot.press("x")
        await settle(pilot)
        assert str(bad) not in [e.key for e in picker.entries]
        assert app.settings.generate.files == []
        saved = json.loads(Paths.resolve(home).settings_file.read_text())
        assert saved["generate"]["files"] == []  # not pinned at the next launch
        assert bad.exists()  # the file itself is left alone
        picker.highlighted = 0  # a run's checkpoint cannot be forgotten: no key offered
        await _footer_shows(pilot, screen, lambda actions: "forget_file" not in actions)


async def test_i_in_generate_inspects_the_checkpoint_picked_there(home):
    app = _app(home, "generate")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        picker = screen.query_one(CheckpointPicker)
        assert [e.title for e in picker.entries] == ["t · best", "t · last"]
        picker.highlighted = 1
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, InspectScreen), what="Inspect")
        inspect = app.screen
        last = str(home / "runs" / "t" / "last.pt")
        await wait_for(pilot, lambda: inspect.checkpoint_path == last, what="last.pt inspected")
        await wait_for(pilot, lambda: inspect.replay is not None, what="the replay")
        assert inspect.checkpoint_path == last  # not Inspect's own default (best)
        assert inspect.query_one(CheckpointPicker).selected_entry.title == "t · last"
        # Once more, with the Inspect view built: it follows the pick again.
        await pilot.press("g")
        await wait_for(pilot, lambda: app.screen is screen, what="Generate")
        picker.highlighted = 0
        await pilot.press("i")
        best = str(home / "runs" / "t" / "best.pt")
        await wait_for(pilot, lambda: inspect.checkpoint_path == best, what="best.pt inspected")
        assert app.screen is inspect
        assert inspect.query_one(CheckpointPicker).selected_entry.title == "t · best"


async def test_esc_stop_is_offered_only_while_generating(home):
    app = generate_app(Paths.resolve(home), GenerateSettings(length=30, seed="1"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await _footer_shows(pilot, screen, lambda actions: "stop" not in actions)
        await pilot.press("g")
        await settle(pilot)
        assert len(screen.query_one("#output").text) >= 30
        # It ended: nothing to stop.
        await _footer_shows(pilot, screen, lambda actions: "stop" not in actions)


async def test_a_fifo_or_a_folder_in_settings_never_blocks(home, tmp_path):
    fifo = tmp_path / "pipe.pt"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.pt"
    folder.mkdir()
    app = _app(home, "generate", files=[str(fifo), str(folder)])

    async def run() -> list:
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            entries = list(screen.query_one(CheckpointPicker).entries)
            await pilot.press("ctrl+q")  # quitting works too
            return entries

    entries = await asyncio.wait_for(run(), timeout=60)
    by_key = {e.key: e for e in entries}
    assert "is a pipe (FIFO), not a checkpoint file" in by_key[str(fifo)].info.error
    assert "is a directory, not a checkpoint file" in by_key[str(folder)].info.error
    assert by_key[str(home / "runs" / "t" / "best.pt")].ok  # the rest is listed as ever


async def test_non_finite_metrics_show_in_the_runs_view_without_a_crash(home):
    metrics = home / "runs" / "t" / "metrics.jsonl"
    with metrics.open("a") as f:
        f.write('{"kind": "step", "step": 41, "chars_per_sec": Infinity, "loss": NaN}\n')
    app = _app(home, "runs")
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count >= 1, what="the table")
        await pilot.pause()
        cells = [str(c) for c in table.get_row("t")]
        assert any(c in ("—", "inf") for c in cells), cells
        panel = str(app.screen.query_one("#runs-panel").render())
        assert "Traceback" not in panel
    assert app.return_code in (None, 0)


async def test_names_from_files_are_shown_escaped(home):
    evil = "x\x1b]52;c;ZXZpbA==\x07y"
    run = add_run(home, evil, "2999-01-01T00:00:00+00:00", keep=("best.pt",))
    config = json.loads((run / "config.json").read_text())
    config["corpus"] = {"name": "c\x1b[2Jd"}
    (run / "config.json").write_text(json.dumps(config))
    app = _app(home, "generate")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        prompts = [
            str(screen.query_one(CheckpointPicker).get_option_at_index(i).prompt)
            for i in range(screen.query_one(CheckpointPicker).option_count)
        ]
        assert any("x\\x1b]52;c;ZXZpbA==\\x07y" in p for p in prompts), prompts
        assert not any("\x1b" in p or "\x07" in p for p in prompts)
        app.action_show_view("runs")
        await wait_for(pilot, lambda: app.screen.query(DataTable), what="the Runs view")
        table = app.screen.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count >= 2, what="the table")
        await pilot.pause()
        cells = [str(c) for c in table.get_row(evil)]
        assert not any("\x1b" in c or "\x07" in c for c in cells), cells
        assert any("c\\x1b[2Jd" in c for c in cells), cells
        app.screen.query_one(DataTable).move_cursor(row=table.get_row_index(evil))
        await pilot.pause()
        panel = app.screen.query_one("#runs-panel")
        assert "\x1b" not in panel.plain and "\\x1b]52" in panel.plain
        await pilot.press("space")  # its curves: the chart's key names it
        await wait_for(pilot, lambda: "x\\x1b]52" in app.export_screenshot(), 20, "the key")
        assert "\x1b" not in app.export_screenshot() and "\x07" not in app.export_screenshot()


async def test_a_name_in_a_notification_is_shown_escaped(home):
    """Toasts name runs and files ("deleted x", "x is not a complete checkpoint"): the app's one
    notify sends them through the sanitiser, whichever view notifies."""
    app = _app(home, "generate")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.screen.notify("deleted x\x1b]0;owned\x07y\nsecond line", title="run \x1b[2J")
        await pilot.pause()
        (toast,) = list(app._notifications)
        assert toast.message == "deleted x\\x1b]0;owned\\x07y\nsecond line"
        assert toast.title == "run \\x1b[2J"
