"""What the app needs from torch, kept out of the App class: loading it after the first frame,
the trainer it drives, and a fast exit once the app has closed."""

from __future__ import annotations

import atexit
import gc
import os
import sys
import threading


def default_trainer(*args, **kwargs):
    """`core.engine.train`, imported when first used (it imports torch)."""
    from shakespeare_tui.core.training.engine import train

    return train(*args, **kwargs)


def probe_device() -> tuple[str, str]:
    """(label, type) of the device "auto" picks, e.g. ("CPU · 2 threads", "cpu"). Imports torch."""
    import torch

    from shakespeare_tui.core import device as devices
    from shakespeare_tui.core.training import engine  # noqa: F401 - load what training needs now, not on `s`

    # The first Adam in a process spends ~1 s in lazy imports: pay it here, before `s`.
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    device = devices.resolve_device("auto")
    label = devices.configure(device)
    # torch brings ~200k long-lived objects; keeping them out of the collector's sweeps cut
    # the UI's worst garbage-collection pause from ~100 ms to ~25 ms while generating.
    gc.freeze()
    return label, device.type


def exit_process(code: int) -> int:
    """End the process at once after `App.run` returned, skipping the interpreter's teardown.

    Freeing a process that loaded torch takes 0.3–1 s, most of the time from `q` to the shell
    prompt. Nothing is lost by skipping it: `App.run` has returned, so asyncio has joined the
    worker threads (a stopped run's last.pt is saved and fsynced) and the settings are written;
    atexit handlers run and stdio is flushed as in a normal exit. If any other non-daemon
    thread is still alive, a normal exit waits for it: then this returns `code` for the caller
    to exit with.
    """
    current = threading.current_thread()
    if any(t is not current and t.is_alive() and not t.daemon for t in threading.enumerate()):
        return code
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    os._exit(code)
