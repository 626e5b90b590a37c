"""Forks in the Inspect view: take an alternative at the cursor, watch the branch grow, switch
between branches at a fork, stop one with esc, save the tree and open it again."""

from __future__ import annotations

import json

import pytest
from textual.widgets import Input, OptionList

from shakespeare_tui.app import make_app
from shakespeare_tui.core.inspection.forks import MIN_CONTINUATION, ForkTree
from shakespeare_tui.core.sampling.sampler import SampleSettings
from shakespeare_tui.settings import AppSettings
from shakespeare_tui.views.file_picker import FilePickerScreen
from shakespeare_tui.views.inspect.forks import NOT_GENERATED
from shakespeare_tui.views.inspect.text_view import InspectText
from tests.app.inspect_fixtures import (
    SETTINGS,
    SIZE,
    TEXT,
    ForkApp,
    InspectApp,
    grown,
    panel_text,
    ready,
    status,
)

pytestmark = pytest.mark.heavy(30)


async def test_a_digit_forks_at_the_cursor_and_the_branch_grows(paths, until):
    async with ForkApp(paths).run_test(size=SIZE) as pilot:
        screen = await ready(pilot, until, found=False)
        view = screen.query_one(InspectText)
        at = TEXT.index("sword")
        view.move_to(at)
        await pilot.pause()
        panel = panel_text(screen)
        assert "\n1  " in panel and "\n2  " in panel, "the alternatives are numbered"
        top = [c for c, _ in screen.replay.prediction.top(at, screen.top_k)]
        alternatives = [c for c in top if c != TEXT[at]]  # the digits number the others
        await pilot.press("2")
        await grown(pilot, until, screen, 2)

        branch = screen.forks.fork_tree.branch(1)
        shown = view.text
        assert shown[:at] == TEXT[:at] and shown[at] == alternatives[1]
        assert len(shown) == max(len(TEXT), at + 1 + MIN_CONTINUATION)
        assert shown == branch.text and screen.forks.branch_id == 1
        assert view.cursor == at and at in view.forks, "the fork is marked, the cursor on it"
        assert "branch 1 of 2" in status(screen) and "fork: 2/2" in status(screen)
        # The old continuation is a sibling: `.` at the fork shows it again, then the branch.
        await pilot.press("full_stop")
        await pilot.pause()
        assert view.text == TEXT and screen.forks.branch_id == 0 and view.cursor == at
        await pilot.press("full_stop")
        await pilot.pause()
        assert view.text == shown, "switching back is at once: its replay was kept"
        assert screen.replay.text == shown and screen.fresh_from is None
        # Taking the same alternative again is the same branch.
        await pilot.press("full_stop", "2")
        await pilot.pause()
        assert len(screen.forks.fork_tree.branches) == 2 and screen.forks.branch_id == 1


async def test_the_forks_tab_lists_the_tree_and_enter_shows_a_branch(paths, until):
    async with ForkApp(paths).run_test(size=SIZE) as pilot:
        screen = await ready(pilot, until, found=False)
        view = screen.query_one(InspectText)
        for at, count in ((40, 2), (120, 3)):
            view.move_to(at)
            await pilot.pause()
            await pilot.press("9")
            await grown(pilot, until, screen, count)
        await pilot.press("b")
        await pilot.pause()
        options = screen.query_one("#branches", OptionList)
        assert options.option_count == 3 and options.has_focus
        rows = [str(options.get_option_at_index(i).prompt) for i in range(3)]
        assert rows[0].startswith("  as generated")
        assert rows[2].startswith("▶") and "    2: at 121 «" in rows[2], "it grew from branch 1"
        options.highlighted = 0
        await pilot.press("enter")
        await grown(pilot, until, screen, 3)
        assert view.text == TEXT and screen.forks.branch_id == 0 and view.has_focus


async def test_esc_stops_a_growing_branch_and_keeps_what_grew(paths, until):
    long = TEXT * 40  # a branch as long: seconds to grow
    settings = SampleSettings(length=len(long), seed=3)
    async with ForkApp(paths, settings, long).run_test(size=SIZE) as pilot:
        screen = await ready(pilot, until, found=False)
        screen.query_one(InspectText).move_to(10)
        await pilot.pause()
        await pilot.press("9")
        await until(
            pilot, lambda: len(screen.forks.fork_tree.branch(1).text) > 30, 30, "some growth"
        )
        assert "growing" in panel_text(screen) or "reading" in panel_text(screen)
        await pilot.press("escape")
        await grown(pilot, until, screen, 2)
        branch = screen.forks.fork_tree.branch(1)
        assert branch.stopped and 30 < len(branch.text) < len(long)
        assert screen.query_one(InspectText).text == branch.text


async def test_a_text_handed_over_while_a_branch_grows_is_inspected_when_it_stops(paths, until):
    from shakespeare_tui.core.runs.folders import bundled_checkpoint

    long = TEXT * 40
    async with ForkApp(paths, SampleSettings(length=len(long), seed=3), long).run_test(
        size=SIZE
    ) as pilot:
        screen = await ready(pilot, until, found=False)
        screen.query_one(InspectText).move_to(10)
        await pilot.pause()
        await pilot.press("9")
        await until(
            pilot, lambda: len(screen.forks.fork_tree.branch(1).text) > 30, 30, "some growth"
        )
        # The Generate view hands over another text: the growing branch stops, the new tree
        # replaces the old one, and its text is replayed once nothing grows.
        screen.inspect(str(bundled_checkpoint()), "bundled", TEXT, "generated", SETTINGS)
        await grown(pilot, until, screen, 1)
        assert screen.forks.fork_tree.settings.seed == 11 and screen.replay.text == TEXT
        assert "the text just generated" in screen.query_one(InspectText).border_title
        screen.query_one(InspectText).move_to(TEXT.index("sword"))
        await pilot.pause()
        await pilot.press("2")  # and it forks
        await grown(pilot, until, screen, 2)


async def test_the_tree_saves_and_opens_again(paths, until):
    async with ForkApp(paths).run_test(size=SIZE) as pilot:
        screen = await ready(pilot, until, found=False)
        screen.query_one(InspectText).move_to(60)
        await pilot.pause()
        await pilot.press("9")
        await grown(pilot, until, screen, 2)
        await pilot.press("ctrl+s")
        await pilot.pause()
        saved = list(paths.forks.glob("forks-*.json"))
        assert len(saved) == 1
        data = json.loads(saved[0].read_text())
        assert data["settings"]["seed"] == 11 and len(data["branches"]) == 2
        assert data["checkpoint"]["sha256"], "the checkpoint's checksum is kept"
        assert ForkTree.load(saved[0]).branches == screen.forks.fork_tree.branches

    async with InspectApp(paths).run_test(size=SIZE) as pilot:
        screen = await ready(pilot, until, found=False)
        assert screen.forks.fork_tree is None
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(pilot.app.screen, FilePickerScreen)
        pilot.app.screen.query_one("#picker-path", Input).value = str(saved[0])
        pilot.app.screen.query_one("#picker-path", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: screen.forks.fork_tree is not None, 30, "the opened tree")
        await grown(pilot, until, screen, 2)
        assert screen.query_one(InspectText).text == TEXT
        assert [b.text for b in screen.forks.fork_tree.branches] == [
            b["text"] if b["parent"] is None else TEXT[: b["at"]] + b["text"]
            for b in data["branches"]
        ]


async def test_a_bad_tree_file_is_one_line_and_changes_nothing(paths, until, tmp_path):
    bad = tmp_path / "tree.json"
    bad.write_text('{"format": "shakespeare-tui fork tree", "version": 9}')
    async with InspectApp(paths).run_test(size=SIZE) as pilot:
        screen = await ready(pilot, until, found=False)
        await pilot.press("o")
        await pilot.pause()
        pilot.app.screen.query_one("#picker-path", Input).value = str(bad)
        pilot.app.screen.query_one("#picker-path", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: "cannot open the fork tree" in status(screen), 30, "refusal")
        assert "version 9" in status(screen) and screen.forks.fork_tree is None
        assert screen.replay.text == TEXT


async def test_forks_are_for_generated_text(paths, until):
    async with InspectApp(paths).run_test(size=SIZE) as pilot:
        screen = await ready(pilot, until, found=False)
        assert " 1 " not in panel_text(screen).splitlines()[0], "no numbers: nothing to fork"
        await pilot.press("1")
        await pilot.pause()
        assert status(screen) == NOT_GENERATED
        assert screen.forks.fork_tree is None


async def test_generate_hands_its_text_and_settings_to_inspect(paths, until, scripted, probe):
    import shutil

    from shakespeare_tui.core.runs.folders import bundled_checkpoint
    from shakespeare_tui.views.generate.generated_text import GeneratedText
    from shakespeare_tui.views.generate.screen import GenerateScreen
    from shakespeare_tui.widgets.checkpoint_picker import CheckpointPicker

    other = paths.runs / "other"  # a second checkpoint, highlighted after generating
    other.mkdir()
    (other / "config.json").write_text('{"train": {}, "created": "2026-01-01T00:00:00+00:00"}')
    shutil.copy(bundled_checkpoint(), other / "best.pt")
    app = make_app(paths, trainer=scripted, settings=AppSettings(mode="generate"), probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        generate = app.screen
        assert isinstance(generate, GenerateScreen)
        picker = generate.query_one(CheckpointPicker)
        await until(pilot, lambda: picker.selected_entry is not None, 30, "the checkpoints")
        await pilot.press("I")
        await pilot.pause()
        assert app.current_mode == "generate", "nothing generated yet: nothing to inspect"
        generate.query_one("#seed", Input).value = "99"
        generate.query_one("#length", Input).value = "300"
        generate.query_one("#prompt", Input).value = "KING:"
        generate.query_one(CheckpointPicker).focus()
        await pilot.press("g")
        output = generate.query_one(GeneratedText)
        await until(pilot, lambda: len(output.text) == 305, 30, "the generated text")
        wrote = picker.selected_entry.path
        await until(pilot, lambda: picker.option_count == 2, 30, "both checkpoints")
        picker.highlighted = 1 - picker.highlighted
        await pilot.pause()
        assert picker.selected_entry.path != wrote
        await pilot.press("I")
        await until(pilot, lambda: app.current_mode == "inspect", 10, "the Inspect view")
        screen = await ready(pilot, until, found=False)
        assert screen.replay.text == output.text
        assert "the text just generated" in screen.query_one(InspectText).border_title
        tree = screen.forks.fork_tree
        assert tree.checkpoint == wrote and screen.checkpoint_path == wrote, "the one that wrote it"
        assert tree.settings.seed == 99 and tree.prompt == "KING:"
        assert tree.branch(0).text == output.text[5:]
        screen.query_one(InspectText).move_to(2)
        await pilot.pause()
        assert status(screen).startswith("3/305") or "prompt" in screen.forkable(2)
        await pilot.press("1")
        await pilot.pause()
        assert "prompt" in status(screen) and len(tree.branches) == 1
