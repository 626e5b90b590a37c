"""Keys that arrive together (fast typing, a paste, tmux's send-keys) land in a field in the
order they were typed: an editing key such as ctrl+u never runs after the text that followed it."""

from __future__ import annotations

import pytest
from textual import events
from textual.widgets import Input

from shakespeare_tui.app import make_app
from shakespeare_tui.settings import AppSettings


def arrive_together(app, *keys: str) -> None:
    """Queue `keys` as one terminal read delivers them: all at once, with no pause between.
    (Pilot.press waits for the app to go idle after each key, which hides any reordering.)"""
    for key in keys:
        character = key if len(key) == 1 else {"ctrl+u": "\x15", "ctrl+w": "\x17"}.get(key)
        event = events.Key(key, character)
        event.set_sender(app)
        app._driver.send_message(event)


def paste_at_once(app, text: str) -> None:
    event = events.Paste(text)
    event.set_sender(app)
    app._driver.send_message(event)


@pytest.mark.parametrize(
    ("mode", "field", "typed", "expected"),
    [
        ("generate", "length", ["ctrl+u", "4", "2", "0"], "420"),
        ("train", "corpus", ["end", "ctrl+u", *"plays"], "plays"),
        ("train", "epochs", ["end", "ctrl+w", "7", "backspace", "9"], "9"),
    ],
)
async def test_an_editing_key_then_typed_text_keeps_every_keystroke(
    paths, probe, mode, field, typed, expected
):
    app = make_app(paths, settings=AppSettings(mode=mode), probe=probe)
    async with app.run_test(size=(120, 40)) as pilot:
        box = app.screen.query_one(f"#{field}", Input)
        box.focus()
        await pilot.pause()
        box.cursor_position = len(box.value)
        arrive_together(app, *typed)
        await pilot.pause()
        await pilot.pause()
        assert box.value == expected
        assert not app.screen.query_one(f"#{field}-error").display


async def test_ctrl_u_then_a_paste_keeps_the_paste(paths, probe):
    app = make_app(paths, settings=AppSettings(mode="generate"), probe=probe)
    async with app.run_test(size=(120, 40)) as pilot:
        box = app.screen.query_one("#length", Input)
        box.focus()
        await pilot.pause()
        box.cursor_position = len(box.value)
        arrive_together(app, "ctrl+u")
        paste_at_once(app, "1234")
        await pilot.pause()
        await pilot.pause()
        assert box.value == "1234"
