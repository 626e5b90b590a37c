"""The Inspect view's test app and its waits, shared by the Inspect tests and snapshots: the
view on the bundled checkpoint over a short text (as if generated, for the fork tests)."""

from __future__ import annotations

import sys
from pathlib import Path

from textual.app import App

from shakespeare_tui.app import ShakespeareApp
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.runs.folders import bundled_checkpoint
from shakespeare_tui.core.sampling.sampler import SampleSettings
from shakespeare_tui.views.help import HelpScreen
from shakespeare_tui.views.inspect.next_char import NextCharPanel
from shakespeare_tui.views.inspect.screen import InspectScreen
from shakespeare_tui.views.inspect.text_view import InspectText

SIZE = (120, 40)
TEXT = """Second Senator:
What thou wilt,
Thou rather shalt enforce it with thy smile
Than hew to't with thy sword.

First Senator:
Set but thy foot
Against our rampired gates, and they shall ope;

Second Senator:
Throw thy glove,
Or any token of thine honour else,

ALCIBIADES:
Then there's my glove;
Descend, and open your uncharged ports:

First Senator:
Both, and more.
"""
APP_CSS = str(Path(sys.modules[ShakespeareApp.__module__].__file__).with_name("app.tcss"))
SETTINGS = SampleSettings(length=len(TEXT), temperature=0.8, seed=11)


class InspectApp(App):
    """The smallest app that shows the Inspect view, on `text` (None: a held-out passage).
    It has the app's keys, so its footer is the one people see (`?` opens the help)."""

    CSS_PATH = APP_CSS
    BINDINGS = ShakespeareApp.BINDINGS

    def __init__(
        self, paths: Paths, text: str | None = TEXT, length: int = 400, settings=None
    ) -> None:
        super().__init__()
        self.paths, self.text, self.length, self.settings = paths, text, length, settings

    def on_mount(self) -> None:
        screen = InspectScreen(self.paths, length=self.length)
        if self.text is not None:  # with `settings`, as if generated with them
            source = "a test text" if self.settings is None else "generated"
            screen.inspect(str(bundled_checkpoint()), "bundled", self.text, source, self.settings)
        self.push_screen(screen)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.screen))


def ForkApp(paths, settings=SETTINGS, text=TEXT) -> InspectApp:
    """The Inspect view on `text`, handed over as if generated with `settings`."""
    return InspectApp(paths, text=text, settings=settings)


async def ready(pilot, until, found: bool = True) -> InspectScreen:
    """The screen once its text is replayed (and, with `found`, the finder has answered)."""
    screen = pilot.app.screen
    await until(pilot, lambda: getattr(screen, "replay", None) is not None, 60, "the replay")
    if found:
        await until(pilot, lambda: bool(screen.finder.found), 30, "the finder")
    await pilot.pause()
    return screen


async def grown(pilot, until, screen, branches: int) -> None:
    """Wait until the tree has `branches` branches, none growing, the shown one replayed."""
    forks = screen.forks
    await until(
        pilot,
        lambda: (
            forks.fork_tree is not None
            and len(forks.fork_tree.branches) == branches
            and not forks.growing
            and screen.replay.text == screen.query_one(InspectText).text
            and screen.fresh_from is None
        ),
        60,
        f"{branches} branches",
    )
    await pilot.pause()


def panel_text(screen) -> str:
    return str(screen.query_one(NextCharPanel).render())


def status(screen) -> str:
    return str(screen.query_one("#inspect-status").render())
