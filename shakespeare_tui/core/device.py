"""Choosing the device and the CPU threads, and describing them to a person."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager

import torch

from shakespeare_tui.core.errors import UserError

# What a forward pass runs in (training/engine.py's autocast_for): bf16 autocast where it is
# chosen, else a context that does nothing.
Autocast = Callable[[], AbstractContextManager[object]]


def resolve_device(spec: str = "auto") -> torch.device:
    """ "auto" prefers CUDA, then Apple MPS, then the CPU; an explicit choice must exist."""
    if spec == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(spec)
    except RuntimeError:
        raise UserError(f"unknown device {spec!r}; use auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UserError(
                "no CUDA GPU is available here; set {device} to cpu or auto", names=["device"]
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UserError(f"there is no {spec} (this machine has {torch.cuda.device_count()})")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise UserError(
            "Apple MPS is not available here; set {device} to cpu or auto", names=["device"]
        )
    elif device.type not in ("cpu", "cuda", "mps"):
        raise UserError(f"unsupported device {spec!r}; use auto, cpu, cuda, cuda:N or mps")
    return device


def cpu_threads(requested: int | None = None) -> int:
    """Threads for CPU training: all cores by default.

    With OMP_WAIT_POLICY=PASSIVE (set by the CLI before torch loads) idle OpenMP threads sleep
    instead of spinning, so two busy torch threads beside Textual's UI thread run at headless
    speed on 2 cores (spinning threads made in-app training ~4× slower, benchmarks/RESULTS.md).
    """
    if requested:
        return requested
    return max(
        1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )


# glibc's malloc gives a freed block of more than 32 MiB at most (its dynamic mmap threshold)
# back to the system at once, and a step of the ladder's recipes frees and asks again for
# blocks of 1–16 MiB a few hundred times: each time the pages fault in anew, zeroed by the
# kernel. Measured (benchmarks/RESULTS.md, "Using both cores"): ~12,000 page faults a step
# and sys time ~15% of a one-thread step of E128/H640 on 16 windows; with these two
# thresholds raised, ~50 faults and under 1%. The memory stays with the process, at most what
# its largest step needed.
_MMAP_THRESHOLD = 256 << 20  # blocks below this come from the heap, and are reused
_TRIM_THRESHOLD = 512 << 20  # free memory at the heap's top kept for the next step
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)
_kept = False


def keep_freed_memory() -> bool:
    """Have glibc keep the memory training frees for its next step (see above); True if it
    does. Nothing elsewhere (macOS, Windows, musl): their allocators differ. A thread that
    already has its own malloc arena keeps part of the cost (the app's trainer thread)."""
    global _kept
    if _kept:
        return True
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _kept = bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    )
    return _kept


def configure(device: torch.device, threads: int | None = None) -> str:
    """Apply per-device settings; return the person-readable description."""
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        return f"CUDA · {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "MPS"
    keep_freed_memory()
    n = cpu_threads(threads)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return f"CPU · {n} thread{'s' if n != 1 else ''}"


BF16_ENV = "SHAKESPEARE_TUI_BF16"


def bf16_is_fast(device: torch.device) -> bool:
    """Whether bf16 autocast speeds training up here (native bf16 math on this GPU or CPU).

    This is what `--bf16` left unset means. `$SHAKESPEARE_TUI_BF16` (`on`/`off`) overrides the
    detection, so the test suite can run as it would on a CPU with bf16 and on one without,
    whichever CPU it is on; an explicit `--bf16`/`--no-bf16` still wins over it.
    """
    forced = os.environ.get(BF16_ENV, "").strip().lower()
    if forced in ("on", "1", "true", "yes"):
        return device.type in ("cuda", "cpu")
    if forced in ("off", "0", "false", "no"):
        return False
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type == "cpu":
        try:
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):
            return False
    return False


def gpu_memory_mb(device: torch.device) -> float | None:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return None


def free_memory_bytes(device: torch.device) -> int | None:
    """Memory a run may take on the device: free GPU memory, or available RAM; None if unknown."""
    import os

    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not on every platform (macOS, Windows)
        return None
