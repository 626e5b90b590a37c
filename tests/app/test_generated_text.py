"""The streamed-output widget on its own: what streaming costs the UI thread, and its colours.

Speed itself is measured in benchmarks/generation.py; these check the mechanisms that keep a
streamed chunk cheap for the UI thread (which holds the GIL the sampler needs).
"""

from __future__ import annotations

from textual.app import App

from shakespeare_tui.views.generate.generated_text import GeneratedText

LINE = "That will to the daughter is not some afall;\n"


class One(App):
    def compose(self):
        yield GeneratedText(colour_by_probability=True)


async def test_appending_does_not_lay_out_the_screen():
    """A chunk that adds rows grows the scroll area without a layout of every widget."""
    async with One().run_test(size=(60, 10)) as pilot:
        widget = pilot.app.query_one(GeneratedText)
        widget.append(LINE * 20, [0.5] * len(LINE * 20))
        await pilot.pause()
        layouts = []
        real = widget.refresh

        def refresh(*regions, layout=False, **kwargs):
            if layout:
                layouts.append(regions)
            return real(*regions, layout=layout, **kwargs)

        widget.refresh = refresh
        before = widget.virtual_size.height
        for _ in range(5):
            widget.append(LINE * 3, [0.9] * len(LINE * 3))
            await pilot.pause()
        assert widget.virtual_size.height == before + 15
        assert widget.is_vertical_scroll_end  # still following the end
        assert not layouts, "each chunk laid out the whole screen"
