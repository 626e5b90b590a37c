"""`shakespeare-tui` with no command: the full-screen app."""

from __future__ import annotations

from shakespeare_tui.cli.exits import EXIT_OK
from shakespeare_tui.torch_loader import exit_process


def app_command(args, paths) -> int:
    # Not at the top: the app and Textual take ~0.9 s to import, which no headless command
    # should pay (the app itself loads torch after its first frame).
    from shakespeare_tui.app import make_app

    app = make_app(paths.ensure())
    app.run()
    return exit_process(app.return_code or EXIT_OK)  # skips the slow teardown of torch
