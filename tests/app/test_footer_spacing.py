"""Every view's footer, packed at 80 columns or spread at 120, keeps a space between what one
key does and the next key ("[] Temp c Colour", never "Tempc")."""

from __future__ import annotations

import pytest
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from shakespeare_tui.app import make_app
from shakespeare_tui.settings import AppSettings

pytestmark = pytest.mark.heavy(15)


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("mode", ["train", "generate", "inspect", "runs"])
async def test_no_footer_words_run_together(paths, probe, until, mode, width):
    app = make_app(paths, settings=AppSettings(mode=mode), probe=probe)
    async with app.run_test(size=(width, 24 if width == 80 else 40)) as pilot:
        footer = app.screen.query_one(Footer)

        def shown():
            keys = footer.query("FooterKey, FooterLabel")
            return sorted((w for w in keys if w.region.width), key=lambda w: w.region.x)

        await until(pilot, lambda: len(shown()) > 3, 20, "the footer's keys")
        for _ in range(100):  # the footer is rebuilt as bindings change: read a drawn one
            await pilot.pause(0.1)
            items = shown()
            line = app.screen._compositor.render_strips()[-1].text
            if items and line.strip():
                break
        assert items and line.strip(), "no footer drawn"
        for before, after in zip(items, items[1:], strict=False):
            if isinstance(before, FooterKey) and before.has_class("-grouped"):
                continue  # the keys of one group ("[]") share one label after them
            if after.region.x + 1 >= width:
                continue  # cut at the edge (the Runs view at 80 columns: see its footer)
            # The last cell of one, whatever lies between, and the first cell of the next.
            boundary = line[before.region.right - 1 : after.region.x + 1]
            assert " " in boundary or "▏" in boundary, (
                f"{line!r}: {line[before.region.x : after.region.right]!r} runs together"
            )


@pytest.mark.parametrize("mode", ["train", "generate"])
async def test_typing_in_a_field_keeps_the_footer_and_80_columns_keep_quit(
    paths, probe, until, mode
):
    """A form edit refreshes the view's bindings; the footer is rebuilt only when the keys it
    shows change (rebuilding restyles every key: the UI's main cost while a person typed). At
    80 columns the keys that do not fit give way to `? keys`, and `q Quit` stays."""
    app = make_app(paths, settings=AppSettings(mode=mode), probe=probe)
    async with app.run_test(size=(80, 24)) as pilot:
        footer = app.screen.query_one(Footer)
        await until(pilot, lambda: len(footer.query(FooterKey)) > 3, 20, "the footer's keys")
        await pilot.pause(0.5)
        field = app.screen.query_one("#batch_size" if mode == "train" else "#length")
        field.focus()
        await pilot.pause()
        keys = list(footer.query(FooterKey))
        for digit in "1234":
            await pilot.press("end", digit)
            await pilot.pause()
        assert list(footer.query(FooterKey)) == keys, "the footer was rebuilt on each key"
        app.screen.set_focus(None)
        await pilot.pause(0.3)
        assert "q Quit" in app.screen._compositor.render_strips()[-1].text
