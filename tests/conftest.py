"""Shared fixtures: a small corpus made here (no network, no /work/shared), temporary data
folders, and one tiny trained run that several test modules read but never modify."""

from __future__ import annotations

import gc
import random
from dataclasses import replace
from pathlib import Path

import pytest

from shakespeare_tui.settings import AppSettings, TrainSettings


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (pyproject's addopts): a worker more than the machine has cores. The app's tests
    wait on redraws and child processes for about a fifth of their time; a spare worker fills
    those waits (2 cores: 415 s with two workers, 371 s with three, one run each of the same
    tree on an idle EPYC — benchmarks/RESULTS.md)."""
    import os

    return (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    ) + 1


def pytest_configure(config: pytest.Config) -> None:
    """A full garbage collection a tenth as often as Python's default (after 100 collections
    of the middle generation, not 10). A test process holds torch, Textual and every test
    module, and each full collection walked all of it: 35 of them took 10 of the 47 CPU-s of
    tests/app/test_train_view.py and test_inspect_view.py run together (`-n 0`, measured with
    `gc.callbacks`). Cyclic garbage lives a little longer; tests that count what is left
    (threads, files) collect first."""
    gc.set_threshold(700, 10, 100)


def pytest_collection_finish(session: pytest.Session) -> None:
    """What every test process holds for good (torch, its optimizers' torch._dynamo, the app),
    imported, then left out of the garbage collector's walks (`gc.freeze`): with the threshold
    above, the two modules' 47 CPU-s became 39."""
    import torch
    import torch._dynamo  # noqa: F401 - imported by the first optimizer a test builds

    import shakespeare_tui.app  # noqa: F401

    del torch
    gc.collect()
    gc.freeze()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The modules marked `heavy(seconds)` first, longest first, then the rest as collected,
    each module's tests in their order: with --no-loadscope-reorder (pyproject.toml) xdist hands
    modules out in this order, so the long ones start early and the short ones fill the
    workers' ends."""

    def seconds(item: pytest.Item) -> float:
        mark = item.get_closest_marker("heavy")
        return mark.args[0] if mark else 0.0

    items.sort(key=seconds, reverse=True)  # stable: ties keep their order


# Public-domain lines (Shakespeare's sonnets 18, 29, 116 and 130), shuffled into a longer text.
SONNET_LINES = """\
Shall I compare thee to a summer's day?
Thou art more lovely and more temperate:
Rough winds do shake the darling buds of May,
And summer's lease hath all too short a date;
Sometime too hot the eye of heaven shines,
And often is his gold complexion dimm'd;
And every fair from fair sometime declines,
By chance or nature's changing course untrimm'd;
But thy eternal summer shall not fade,
Nor lose possession of that fair thou ow'st;
Nor shall death brag thou wander'st in his shade,
When in eternal lines to time thou grow'st:
So long as men can breathe or eyes can see,
So long lives this, and this gives life to thee.
When, in disgrace with fortune and men's eyes,
I all alone beweep my outcast state,
And trouble deaf heaven with my bootless cries,
And look upon myself and curse my fate,
Wishing me like to one more rich in hope,
Featured like him, like him with friends possess'd,
Desiring this man's art and that man's scope,
With what I most enjoy contented least;
Yet in these thoughts myself almost despising,
Haply I think on thee, and then my state,
Like to the lark at break of day arising
From sullen earth, sings hymns at heaven's gate;
For thy sweet love remember'd such wealth brings
That then I scorn to change my state with kings.
Let me not to the marriage of true minds
Admit impediments. Love is not love
Which alters when it alteration finds,
Or bends with the remover to remove:
O no! it is an ever-fixed mark
That looks on tempests and is never shaken;
It is the star to every wandering bark,
Whose worth's unknown, although his height be taken.
Love's not Time's fool, though rosy lips and cheeks
Within his bending sickle's compass come:
Love alters not with his brief hours and weeks,
But bears it out even to the edge of doom.
If this be error and upon me proved,
I never writ, nor no man ever loved.
My mistress' eyes are nothing like the sun;
Coral is far more red than her lips' red;
If snow be white, why then her breasts are dun;
If hairs be wires, black wires grow on her head.
I have seen roses damask'd, red and white,
But no such roses see I in her cheeks;
And in some perfumes is there more delight
Than in the breath that from my mistress reeks.
I love to hear her speak, yet well I know
That music hath a far more pleasing sound;
I grant I never saw a goddess go;
My mistress, when she walks, treads on the ground:
And yet, by heaven, I think my love as rare
As any she belied with false compare.
""".splitlines()

CORPUS_CHARS = 20_000  # tiny preset (16 × 32 windows): 35 steps per epoch, 2,000 held out


def make_text(chars: int = CORPUS_CHARS, seed: int = 0) -> str:
    """Sonnet lines in a seeded random order, with a speaker line now and then."""
    rng = random.Random(seed)
    parts: list[str] = []
    size = 0
    while size < chars:
        line = rng.choice(SONNET_LINES) + "\n"
        if rng.random() < 0.1:
            line = rng.choice(("POET:\n", "MISTRESS:\n", "TIME:\n")) + line
        parts.append(line)
        size += len(line)
    return "".join(parts)[:chars]


@pytest.fixture(scope="session")
def corpus_text() -> str:
    return make_text()


@pytest.fixture(scope="session")
def corpus_file(tmp_path_factory, corpus_text) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "sonnets.txt"
    path.write_text(corpus_text, encoding="utf-8")
    return path


@pytest.fixture
def paths(tmp_path):
    """A fresh, empty data folder for one test."""
    from shakespeare_tui.core.paths import Paths

    return Paths.resolve(tmp_path / "home").ensure()


def tiny_config(corpus: Path | str, **overrides):
    """The tiny preset on `corpus`, one CPU thread (the machine is shared), fp32 unless told."""
    from shakespeare_tui.core.config import TrainConfig, apply_preset

    config = apply_preset(TrainConfig(corpus=str(corpus)), "tiny")
    settings = {"threads": 1, "bf16": False, "epochs": 3, "log_every": 10, "sample_length": 40}
    settings.update(overrides)
    return replace(config, **settings)


@pytest.fixture(scope="session")
def make_config(corpus_file):
    """`make_config(**overrides)`: tiny_config on the shared corpus file."""

    def make(**overrides):
        return tiny_config(corpus_file, **overrides)

    return make


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, corpus_file):
    """One tiny run of 3 epochs, trained once per session: (paths, TrainingFinished, events).

    Read it, copy it, never write into it.
    """
    from shakespeare_tui.core.paths import Paths
    from shakespeare_tui.core.training.engine import train

    paths = Paths.resolve(tmp_path_factory.mktemp("trained") / "home").ensure()
    events: list = []
    finished = train(tiny_config(corpus_file), paths, on_event=events.append, run_name="trained")
    assert finished.reason == "completed", finished.message
    return paths, finished, events


@pytest.fixture(scope="session")
def rnn_run(tmp_path_factory, corpus_file):
    """A tiny basic-RNN run of 40 steps, trained once per session: its TrainingFinished."""
    from shakespeare_tui.core.paths import Paths
    from shakespeare_tui.core.training.engine import train

    paths = Paths.resolve(tmp_path_factory.mktemp("rnn") / "home").ensure()
    config = tiny_config(corpus_file, max_steps=40, eval_every=20)
    config = replace(config, model=replace(config.model, cell="rnn"))
    finished = train(config, paths, run_name="rnn")
    assert finished.reason == "max-steps", finished.message
    return finished


@pytest.fixture
def tiny_settings(corpus_file: Path) -> AppSettings:
    """The tiny preset on the small corpus; enough epochs that a run is still going when stopped."""
    return AppSettings(
        train=TrainSettings(
            corpus=str(corpus_file),
            preset="tiny",
            embed=16,
            hidden=32,
            dropout=0.0,
            batch_size=16,
            seq_len=32,
            lr=0.01,
            epochs=500,
            patience=500,
        )
    )
