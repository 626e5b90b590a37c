"""Errors a person can act on: each carries one line that says what was wrong and what to do.

An error about one setting names the setting in the words of the place where it was typed: the
CLI says `--seed`, the app says "seed". `FieldError.worded(name)` builds that line; `str()` of
any of these is the core's own wording.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


class UserError(Exception):
    """Bad input or usage (the CLI exits 2). The message is one line.

    A message may name settings as "{field}" (e.g. "a smaller {seq_len}"), listed in `names`:
    `worded(name)` puts each setting's name in the words of the place showing the error
    ("--seq-len" on the command line, "seq len" in the app); `str()` uses plain prose.
    """

    def __init__(self, message: str = "", *, names: Sequence[str] = ()) -> None:
        self.template = message
        self.names = tuple(names)
        super().__init__(self._render(plain_name))

    def _render(self, name: Callable[[str], str]) -> str:
        text = self.template
        for field in self.names:
            text = text.replace("{" + field + "}", name(field))
        return text

    def worded(self, name: Callable[[str], str]) -> str:
        """The message with setting names as `name(field)` gives them."""
        return self._render(name) if self.names else str(self)


class FieldError(UserError):
    """One setting's value is unusable: `reason` follows the setting's name."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(self.worded(plain_name))

    def worded(self, name: Callable[[str], str]) -> str:
        return f"{name(self.field)} {self.reason}"


class ResumeConflict(UserError):
    """Settings given for a resume differ from the run's own, which a resume keeps."""

    def __init__(self, conflicts: Sequence[tuple[str, object, object]], resumable: Sequence[str]):
        self.conflicts = tuple(conflicts)  # (field, given, the run's value)
        self.resumable = tuple(resumable)
        super().__init__(self.worded(plain_name))

    def worded(self, name: Callable[[str], str]) -> str:
        differ = "; ".join(
            f"{name(field)} {_shown(given)} differs from this run's {plain_name(field)} "
            f"{_shown(saved)}"
            for field, given, saved in self.conflicts
        )
        allowed = ", ".join(name(field) for field in self.resumable)
        return f"{differ} (a resume keeps the run's settings; it may change {allowed})"


class CorpusError(UserError):
    """The corpus cannot be used for training."""


class EncodingStopped(CorpusError):
    """A stop was asked for while a large corpus was being encoded; nothing was cached (the CLI
    exits 130, as for any interrupted run)."""


class CheckpointError(UserError):
    """A checkpoint file cannot be loaded."""


class SamplingError(FieldError):
    """A generation setting or the prompt is unusable."""


class RunLockedError(UserError):
    """Another process is writing this run."""


class ActionFailed(Exception):
    """What was asked could not be done for a reason outside the input, such as the disk (the
    CLI exits 1). The message is one line."""


# What a full disk (or a spent quota) says when a file is written.
_NO_SPACE = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


def system_failure(
    exc: OSError,
    what: str | os.PathLike[str] | None = None,
    doing: str = "write",
    elsewhere: str = "choose another place with --data-dir",
) -> ActionFailed:
    """An OSError from writing (`doing`) `what` ("the run folder /data/runs/x"; the file the
    error names by default) as one line: a full disk said as such, as the corpus encoder says
    it, with what to do (free some space, or `elsewhere`); anything else in the system's
    words. Raise it: the CLI exits 1."""
    what = what or exc.filename or "a file"
    if exc.errno in _NO_SPACE:
        return ActionFailed(
            f"no space left on the device for {what}: free some space, or {elsewhere}"
        )
    return ActionFailed(f"cannot {doing} {what}: {exc.strerror or exc}")


_PLAIN = {
    "top_k": "top-k",
    "seq_len": "sequence length",
    "lr": "learning rate",
    "clip": "gradient clipping",
    "val_fraction": "validation fraction",
    "warmup_steps": "warm-up steps",
    "log_every": "log interval",
}


def plain_name(field: str) -> str:
    """A setting's name in prose: "max_steps" → "max steps", "top_k" → "top-k"."""
    return _PLAIN.get(field, field.replace("_", " "))


# Flags not named after their setting: the run's name is --name (torchrun takes --run for its
# own --run-path).
_FLAGS = {"run": "--name"}


def flag_name(field: str) -> str:
    """A setting's command-line flag: "max_steps" → "--max-steps"."""
    return _FLAGS.get(field) or "--" + field.replace("_", "-")


def one_line(error: BaseException) -> str:
    """What a person is shown for an error: a UserError's own line, else its type and first line."""
    text = str(error) if isinstance(error, UserError) else f"{type(error).__name__}: {error}"
    return (text.strip().splitlines() or [type(error).__name__])[0]


def _shown(value: object) -> str:
    if value is None:
        return "auto"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@contextmanager
def named_by_path(checkpoint: Path) -> Iterator[None]:
    """Errors about a checkpoint file name it by its whole path: "best.pt is corrupt" does not
    say which run's (the core says the file's name, as a picker that lists the run shows it)."""
    try:
        yield
    except CheckpointError as exc:
        message, path, name = str(exc), str(checkpoint), Path(checkpoint).name
        if path not in message:
            rest = message.removeprefix(name)
            message = f"{path}{rest}" if rest != message else f"{path}: {message}"
        raise CheckpointError(message) from None
