"""The Inspect view's test app and its waits, shared by the Inspect tests and snapshots: the
view on the bundled checkpoint over a short text (as if generated, for the fork tests)."""

from __future__ import annotations

from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.runs.folders import bundled_checkpoint
from shakespeare_tui.core.sampling.sampler import SampleSettings
from shakespeare_tui.views.inspect.next_char import NextCharPanel
from shakespeare_tui.views.inspect.screen import InspectScreen
from shakespeare_tui.views.inspect.text_view import InspectText
from tests.app.harness import KeyedViewApp, ViewApp

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
SETTINGS = SampleSettings(length=len(TEXT), temperature=0.8, seed=11)


def InspectApp(
    paths: Paths, text: str | None = TEXT, length: int = 400, settings: SampleSettings | None = None
) -> KeyedViewApp:
    """The Inspect view on `text` (None: a held-out passage), with the app's keys, so its footer
    is the one people see (`?` opens the help). With `settings`, as if generated with them."""

    def view() -> InspectScreen:
        screen = InspectScreen(paths, length=length)
        if text is not None:
            source = "a test text" if settings is None else "generated"
            screen.inspect(str(bundled_checkpoint()), "bundled", text, source, settings)
        return screen

    return KeyedViewApp(view, title="InspectApp")  # the title its snapshots were drawn with


def ForkApp(paths, settings=SETTINGS, text=TEXT) -> KeyedViewApp:
    """The Inspect view on `text`, handed over as if generated with `settings`."""
    return InspectApp(paths, text=text, settings=settings)


def checkpoint_app(
    paths: Paths, checkpoint, text: str, title: str, app_title: str | None = None, **options
) -> ViewApp:
    """The Inspect view on one checkpoint (shown as `title`) and text; `options` go to the
    InspectScreen."""

    def view() -> InspectScreen:
        screen = InspectScreen(paths, **options)
        screen.inspect(str(checkpoint), title, text, "a test text")
        return screen

    return ViewApp(view, title=app_title)


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
