"""The command palette's own commands, and the confidence colours in every theme the app offers."""

from __future__ import annotations

import asyncio

from textual.app import App
from textual.color import Color

from shakespeare_tui.app import make_app
from shakespeare_tui.settings import AppSettings
from shakespeare_tui.views.generate.generated_text import BANDS, GeneratedText, band

SIZE = (120, 40)
READABLE = 4.5  # WCAG AA contrast for body text


def contrast(a: Color, b: Color) -> float:
    def luminance(color: Color) -> float:
        def linear(c: float) -> float:
            return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = (linear(c / 255) for c in color.rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    lighter, darker = sorted((luminance(a), luminance(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def commands(app) -> dict[str, object]:
    return {command.title: command for command in app.get_system_commands(app.screen)}


async def test_the_palette_screenshot_goes_to_the_data_folder(paths, probe, tmp_path, monkeypatch):
    home = tmp_path / "user"  # a home without ~/Downloads, as on a fresh server
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DOWNLOAD_DIR", raising=False)
    notes: list[str] = []
    app = make_app(paths, settings=AppSettings(mode="generate"), probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        real_notify = app.notify
        app.notify = lambda message, **kw: (notes.append(str(message)), real_notify(message, **kw))
        commands(app)["Screenshot"].callback()
        for _ in range(50):
            if notes:
                break
            await asyncio.sleep(0.05)
            await pilot.pause()
    saved = list((paths.data / "screenshots").glob("*.svg"))
    assert len(saved) == 1, notes
    assert notes == [f"Saved to {saved[0]}"]
    assert saved[0].read_text(encoding="utf-8").startswith("<svg")


async def test_quit_in_the_palette_says_it_saves_first(paths, probe, tiny_settings):
    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=SIZE):
        quit_help = commands(app)["Quit"].help
    assert "as soon as possible" not in quit_help and "saves first" in quit_help


async def test_the_palette_lists_help_once(paths, probe, tiny_settings):
    app = make_app(paths, settings=tiny_settings, probe=probe)
    async with app.run_test(size=SIZE):
        listed = [c.title for c in app.get_system_commands(app.screen)]
    assert listed.count("Help") == 1 and "Keys" not in listed
    assert listed.count("Quit") == 1 and listed.count("Screenshot") == 1


class Output(App):
    CSS = "GeneratedText { border: round $primary 50%; }"  # as the app draws it

    def compose(self):
        yield GeneratedText(colour_by_probability=True)


async def test_confidence_colours_are_readable_in_every_theme():
    """Every band's colour, as drawn, against the output's background, in every theme."""
    text = "".join(str(i) for i in range(len(BANDS)))
    probabilities = [lowest + 0.01 for lowest, _ in BANDS]  # one character in each band
    assert [band(p) for p in probabilities] == list(range(len(BANDS)))
    app = Output()
    async with app.run_test(size=(40, 6)) as pilot:
        widget = app.query_one(GeneratedText)
        widget.append(text, probabilities)
        unreadable, legends = [], []
        for name, theme in app.available_themes.items():
            app.theme = name
            await pilot.pause()
            background = widget.background_colors[1]
            if background.ansi is not None:  # the terminal's own colour: assume black or white
                background = Color(0, 0, 0) if theme.dark else Color(255, 255, 255)
            drawn = [s.style.color for s in widget.render_line(0) if s.text.strip()]
            assert len(drawn) == len(BANDS), name
            for colour in drawn:
                ratio = contrast(Color.from_rich_color(colour), background)
                if ratio < READABLE:
                    unreadable.append(f"{name}: {colour.name} on {background.hex} ({ratio:.1f})")
            hexes = [Color.from_rich_color(colour).hex for colour in drawn]
            if not all(h in str(widget.border_subtitle) for h in hexes):
                legends.append(name)  # the legend shows other colours than the text
    assert not unreadable
    assert not legends
