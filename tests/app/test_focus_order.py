"""The keyboard reaches every control of every view and dialog by Tab and shift+Tab, in the order
they are seen, and whatever holds the focus looks focused."""

from __future__ import annotations

import pytest
from textual.widget import Widget
from textual.widgets import Select

from shakespeare_tui.app import make_app
from shakespeare_tui.settings import AppSettings
from shakespeare_tui.views.inspect.dialogs import UnitDialog
from shakespeare_tui.views.queue_offer import QueueOfferScreen
from shakespeare_tui.views.runs.dialogs import DeleteDialog, RenameDialog
from shakespeare_tui.views.train.extend_dialog import ExtendScreen, Extension

pytestmark = pytest.mark.heavy(50)


def look(app, widget: Widget) -> list:
    """What the person sees of `widget` (and of its form row): each cell's text and style."""
    area = widget.region
    if widget.parent is not None and widget.parent.has_class("form-row"):
        area = widget.parent.region
    strips = app.screen._compositor.render_strips()
    return [
        [(s.text, s.style) for s in strips[y].crop(area.x, area.right)]
        for y in range(area.y, area.bottom)
    ]


async def tab_through(app, pilot) -> list[Widget]:
    """Tab once round the view from what has the focus; each stop must look focused."""
    chain = list(app.screen.focus_chain)
    assert chain, "nothing to focus"
    stops = []
    for _ in chain:
        await pilot.press("tab")
        await pilot.pause()
        focused = app.screen.focused
        stops.append(focused)
        shown_focused = look(app, focused)
        app.screen.set_focus(None)  # nothing focused: the widget must look different now
        await pilot.pause()
        assert look(app, focused) != shown_focused, f"{focused!r} does not look focused"
        focused.focus()
        await pilot.press("tab", "shift+tab")
        await pilot.pause()
        assert app.screen.focused is focused, "shift+tab does not go back"
    assert set(stops) == set(chain)
    return stops


@pytest.mark.parametrize("mode", ["train", "generate", "inspect", "runs"])
async def test_every_control_of_a_view_is_reached_and_looks_focused(paths, probe, mode):
    app = make_app(paths, settings=AppSettings(mode=mode), probe=probe)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        await tab_through(app, pilot)


async def test_the_train_form_is_tabbed_top_to_bottom_from_its_run_selector(paths, probe):
    app = make_app(paths, settings=AppSettings(mode="train"), probe=probe)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen.focused.id == "samples"
        await pilot.press("tab")  # from the log (the last stop) round to the form's first
        assert isinstance(app.screen.focused, Select) and app.screen.focused.id == "run"
        form = app.screen.query_one("#train-form")
        tops = []
        while form in app.screen.focused.ancestors:
            tops.append(app.screen.focused.region.y + form.scroll_y)
            await pilot.press("tab")
        assert tops == sorted(tops) and len(tops) > 15
        await pilot.press("shift+tab", "shift+tab")
        assert form in app.screen.focused.ancestors


DIALOGS = {
    "extend": lambda: ExtendScreen(
        "r1", Extension("epochs", 20, 30, "reached 20 epochs", "epochs")
    ),
    "rename": lambda: RenameDialog("r1", ["r2"]),
    "delete": lambda: DeleteDialog("r1", "/tmp/r1", 3, 1024),
    "unit": lambda: UnitDialog(1, 128, 0),
    "queue offer": lambda: QueueOfferScreen(2, "b"),
}


@pytest.mark.parametrize("name", DIALOGS)
async def test_every_control_of_a_dialog_is_reached_and_looks_focused(paths, probe, name):
    app = make_app(paths, settings=AppSettings(mode="runs"), probe=probe)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await app.push_screen(DIALOGS[name]())
        await pilot.pause()
        await tab_through(app, pilot)
