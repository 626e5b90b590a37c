"""view_host.py: ShakespeareApp is the ViewHost the views take it for (nothing checks that
statically: the views never see app.py), and a view hosted by another app is told so by name."""

from __future__ import annotations

import pytest
from textual.app import App

from shakespeare_tui.app import make_app
from shakespeare_tui.view_host import ViewHost, view_host


def test_the_app_is_a_view_host(paths, tiny_settings):
    app = make_app(paths, settings=tiny_settings)
    assert isinstance(app, ViewHost)


async def test_an_app_that_hosts_no_views_is_named():
    class Bare(App):
        pass

    app = Bare()
    async with app.run_test():
        with pytest.raises(TypeError, match="Bare does not host the Shakespeare views"):
            view_host(app.screen)
