"""Fixtures of the reliability suite (the helpers live in rel_support.py)."""

from __future__ import annotations

import signal
from dataclasses import replace
from pathlib import Path

import pytest
from rel_support import CliResult, make_text


@pytest.fixture
def small_corpus(tmp_path) -> Path:
    """12,000 characters: about 21 tiny-preset steps per epoch, so epochs end every ~0.1 s."""
    path = tmp_path / "corpus.txt"
    path.write_text(make_text(12_000), encoding="utf-8")
    return path


@pytest.fixture
def cli(capsys):
    """Run `shakespeare_tui.cli.main(argv)` in this process; return its exit code and output.

    argparse errors exit through SystemExit, as they do for a person; `train` installs SIGINT
    and SIGTERM handlers, which are put back afterwards so pytest keeps its own.
    """
    import torch

    from shakespeare_tui import cli as cli_module

    def run(*argv: str) -> CliResult:
        handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        threads = torch.get_num_threads()
        capsys.readouterr()
        try:
            code = cli_module.main([str(a) for a in argv])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
            torch.set_num_threads(threads)
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


@pytest.fixture(scope="session")
def trained_checkpoint(tmp_path_factory) -> Path:
    """A real tiny checkpoint (two epochs), trained once for the whole session."""
    import torch

    from shakespeare_tui.core.config import TrainConfig, apply_preset
    from shakespeare_tui.core.paths import Paths
    from shakespeare_tui.core.training.engine import train

    home = tmp_path_factory.mktemp("trained")
    corpus = home / "corpus.txt"
    corpus.write_text(make_text(12_000), encoding="utf-8")
    config = apply_preset(TrainConfig(corpus=str(corpus), device="cpu", threads=1), "tiny")
    threads = torch.get_num_threads()
    try:
        finished = train(
            replace(config, epochs=2),
            Paths.resolve(home / "data"),
            run_name="trained",
        )
    finally:
        torch.set_num_threads(threads)
    assert finished.reason == "completed", finished.message
    return Path(finished.best_checkpoint)
