"""Choosing the device: an explicit choice must exist, and refusals say what to use instead."""

from __future__ import annotations

import pytest
import torch

from shakespeare_tui.core.device import (
    BF16_ENV,
    bf16_is_fast,
    configure,
    cpu_threads,
    gpu_memory_mb,
    resolve_device,
)
from shakespeare_tui.core.errors import UserError


def test_cpu_and_auto():
    assert resolve_device("cpu").type == "cpu"
    expected = "cuda" if torch.cuda.is_available() else None
    if expected:
        assert resolve_device("auto").type == "cuda"
    elif not torch.backends.mps.is_available():
        assert resolve_device("auto").type == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
@pytest.mark.parametrize("spec", ["cuda", "cuda:0", "cuda:3"])
def test_cuda_without_a_gpu_is_refused(spec):
    with pytest.raises(UserError, match="set device to cpu"):
        resolve_device(spec)


@pytest.mark.parametrize("spec", ["tpu", "gpu", "", "cpu:x", "meta"])
def test_unknown_devices_are_refused(spec):
    with pytest.raises(UserError) as info:
        resolve_device(spec)
    assert "\n" not in str(info.value)


def test_cpu_configuration():
    before = torch.get_num_threads()
    try:
        assert configure(torch.device("cpu"), 1) == "CPU · 1 thread"
        assert torch.get_num_threads() == 1
        assert cpu_threads(3) == 3 and cpu_threads(None) >= 1
    finally:
        torch.set_num_threads(before)
    assert isinstance(bf16_is_fast(torch.device("cpu")), bool)
    assert gpu_memory_mb(torch.device("cpu")) is None


@pytest.mark.parametrize(("forced", "expected"), [("on", True), ("off", False), ("OFF", False)])
def test_the_environment_forces_what_bf16_auto_means(monkeypatch, forced, expected):
    """So the suite can run as on a CPU with bf16 and on one without, whichever CPU it is on."""
    monkeypatch.setenv(BF16_ENV, forced)
    assert bf16_is_fast(torch.device("cpu")) is expected
    assert bf16_is_fast(torch.device("mps")) is False  # no bf16 autocast there


def test_an_explicit_bf16_flag_wins_over_the_environment(monkeypatch, tmp_path, corpus_file):
    from shakespeare_tui.cli import main

    monkeypatch.setenv(BF16_ENV, "on")
    argv = ["--data-dir", str(tmp_path), "train", "--preset", "tiny", "--threads", "1"]
    argv += ["--corpus", str(corpus_file), "--max-steps", "2", "--quiet", "--no-bf16"]
    argv += ["--sample-length", "0", "--name", "n"]
    assert main(argv) == 0
    import json

    config = json.loads((tmp_path / "runs" / "n" / "config.json").read_text())
    assert config["device"] == "CPU · 1 thread", config["device"]
