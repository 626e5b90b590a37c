"""Forks: take another character somewhere in a generated text and let the model go on from it.

A tree of branches over one generation (checkpoint, prompt, temperature, top-k, seed). The root
is the text as generated; a branch leaves its parent at a position `at`: it shares the parent's
first `at` characters, then has the character chosen there (`forced`), then what the model wrote
after it. A branch's seed comes from its parent's seed, the position and the character, so the
same seed and the same choices grow the same tree, and taking the same alternative twice gives
the same branch (the tree keeps one).

Saved as JSON (plain values, never executed): each branch stores only its own characters.
Torch-free; `grow` takes the sampler's one-character step from the caller.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import reprlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from shakespeare_tui.core.atomic import atomic_write_text
from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.file_json import TooDeep, parse_json
from shakespeare_tui.core.sampling.settings import MAX_LENGTH, MAX_SEED, SampleSettings
from shakespeare_tui.core.user_files import MIB, read_user_file

if TYPE_CHECKING:
    from shakespeare_tui.core.model.network import CharStepper
    from shakespeare_tui.core.sampling.sampler import SampledChar
    from shakespeare_tui.core.text.vocab import Vocabulary

FORMAT, VERSION = "shakespeare-tui fork tree", 1
# A branch runs as long as the text it leaves, and at least this far past the fork.
MIN_CONTINUATION = 200
MAX_BRANCHES = 1_000
MAX_FILE_BYTES = 64 * MIB


@dataclass(frozen=True)
class Branch:
    id: int
    parent: int | None  # None for the root
    at: int  # where it leaves its parent: text[:at] is shared, text[at] is `forced`
    forced: str  # the character chosen at `at` ("" for the root)
    seed: int  # what its continuation was sampled with
    text: str  # the whole generated text of this branch (the prompt not included)
    target: int  # the length it grows to
    stopped: bool = False  # stopped before reaching `target`

    @property
    def complete(self) -> bool:
        return len(self.text) >= self.target


@dataclass
class ForkTree:
    checkpoint: str  # the checkpoint's path
    title: str  # the checkpoint as people know it ("bundled", "run x · best")
    settings: SampleSettings  # seed set; `prompt` is read before the text, never forked
    branches: list[Branch] = field(default_factory=list)
    checkpoint_sha256: str = ""  # of the file the tree was grown with ("" = unknown)

    @classmethod
    def start(
        cls, checkpoint: str, title: str, settings: SampleSettings, text: str, sha256: str = ""
    ) -> ForkTree:
        """A tree whose root is `text`, generated with `settings` (their seed set)."""
        if settings.seed is None:
            raise ValueError("a fork tree needs the seed its text was generated with")
        root = Branch(0, None, 0, "", settings.seed, text, settings.length)
        return cls(checkpoint, title, settings, [root], sha256)

    def branch(self, branch_id: int) -> Branch:
        return self.branches[branch_id]

    @property
    def prompt(self) -> str:
        return self.settings.prompt

    def path_to(self, branch_id: int) -> list[Branch]:
        """The branches from the root to `branch_id`."""
        chain = [self.branch(branch_id)]
        while chain[-1].parent is not None:
            chain.append(self.branch(chain[-1].parent))
        return chain[::-1]

    def fork(self, parent_id: int, at: int, char: str) -> tuple[Branch, bool]:
        """The branch taking `char` at `at` of `parent_id`, and whether it is new.

        Refuses the character already there and positions past the text; an alternative taken
        before (here or by an identical branch) is that branch again, not a copy.
        """
        parent = self.branch(parent_id)
        if not 0 <= at < len(parent.text):
            raise UserError(
                f"position {at} is outside the generated text (0–{len(parent.text) - 1})"
            )
        if parent.text[at] == char:
            raise UserError("that is the character already there: take another one")
        prefix = parent.text[:at] + char
        for other in self.branches:
            if other.text[: at + 1] == prefix:
                return other, False
        if len(self.branches) >= MAX_BRANCHES:
            raise UserError(f"this tree has {MAX_BRANCHES:,} branches, the most it keeps")
        target = max(len(parent.text), at + 1 + MIN_CONTINUATION)
        branch = Branch(
            len(self.branches), parent_id, at, char, branch_seed(parent.seed, at, char),
            prefix, min(target, MAX_LENGTH),
        )  # fmt: skip
        self.branches.append(branch)
        return branch, True

    def extend(self, branch_id: int, chars: str, stopped: bool = False) -> Branch:
        """Add grown characters to a branch (marking it stopped if growth ended early)."""
        branch = self.branch(branch_id)
        grown = replace(branch, text=branch.text + chars, stopped=stopped)
        self.branches[branch_id] = grown
        return grown

    def forks_on(self, branch_id: int) -> dict[int, list[int]]:
        """Positions of `branch_id`'s text where other branches leave it → those branches."""
        text = self.branch(branch_id).text
        points: dict[int, list[int]] = {}
        for other in self.branches:
            if other.id == branch_id:
                continue
            p = divergence(text, other.text)
            if p < len(text) and p < len(other.text):
                points.setdefault(p, []).append(other.id)
        return points

    def alternatives(self, branch_id: int, at: int) -> list[int]:
        """The branches that share `branch_id`'s text before `at` and differ there (it among
        them), one per character, in the order they were made."""
        text = self.branch(branch_id).text
        if not 0 <= at < len(text):
            return [branch_id]
        found = {text[at]: branch_id}
        for other in self.branches:
            if (
                other.id != branch_id
                and at < len(other.text)
                and divergence(text, other.text) == at
            ):
                found.setdefault(other.text[at], other.id)
        return sorted(found.values())

    # -- files ---------------------------------------------------------------------------

    def to_json(self) -> dict[str, object]:
        s = self.settings
        return {
            "format": FORMAT,
            "version": VERSION,
            "checkpoint": {"path": self.checkpoint, "title": self.title,
                           "sha256": self.checkpoint_sha256},
            "settings": {"prompt": s.prompt, "temperature": s.temperature, "top_k": s.top_k,
                         "seed": s.seed, "length": s.length},
            "branches": [
                {"id": b.id, "parent": b.parent, "at": b.at, "forced": b.forced, "seed": b.seed,
                 "target": b.target, "stopped": b.stopped,
                 "text": b.text if b.parent is None else b.text[b.at:]}
                for b in self.branches
            ],
        }  # fmt: skip

    def save(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(self.to_json(), ensure_ascii=False, indent=1) + "\n")

    @classmethod
    def load(cls, path: Path) -> ForkTree:
        """A saved tree; any problem is one UserError naming the file and what is wrong."""
        path = Path(path)
        raw = read_user_file(path, what="a fork tree", max_bytes=MAX_FILE_BYTES)
        try:
            data = parse_json(raw.decode("utf-8"))
        except TooDeep:
            raise UserError(f"{path} is not a fork tree (nested too deeply to read)") from None
        except ValueError:  # not UTF-8, or not JSON
            raise UserError(f"{path} is not a fork tree (not JSON)") from None
        try:
            return cls.from_json(data)
        # AttributeError: a list where an object belongs; RecursionError: a deep one shown
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, RecursionError) as exc:
            raise UserError(f"{path} is not a usable fork tree: {_why(exc)}") from None

    @classmethod
    def from_json(cls, data: object) -> ForkTree:
        """A tree from its file's JSON, which may be anything: it is read by trying, and a
        part of another kind raises (KeyError, TypeError, …) what `load` words in one line."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("it was not written by shakespeare-tui")
        if data.get("version") != VERSION:
            raise ValueError(f"version {_brief(data.get('version'))}, this program reads {VERSION}")
        checkpoint, s = data["checkpoint"], data["settings"]
        settings = SampleSettings(
            length=_int(s["length"], 1, MAX_LENGTH, "length"),
            temperature=_number(s["temperature"], "temperature"),
            top_k=None if s["top_k"] is None else _int(s["top_k"], 1, 10**6, "top_k"),
            prompt=_str(s["prompt"], "prompt"),
            seed=_int(s["seed"], 0, MAX_SEED, "seed"),
        )
        problems = settings.problems()
        if problems:
            raise ValueError(f"settings: {problems[0]}")
        tree = cls(_str(checkpoint["path"], "checkpoint"), _str(checkpoint["title"], "title"),
                   settings, [], _str(checkpoint.get("sha256", ""), "sha256"))  # fmt: skip
        rows = data["branches"]
        if not isinstance(rows, list) or not rows or len(rows) > MAX_BRANCHES:
            raise ValueError(f"it needs 1–{MAX_BRANCHES:,} branches")
        for i, row in enumerate(rows):
            if row["id"] != i:
                raise ValueError(f"branch {i} is numbered {_brief(row['id'])}")
            own = _str(row["text"], f"branch {i}'s text")
            seed = _int(row["seed"], 0, MAX_SEED, f"branch {i}'s seed")
            target = _int(row["target"], 0, MAX_LENGTH, f"branch {i}'s target")
            stopped = bool(row.get("stopped", False))
            if i == 0:
                if row["parent"] is not None:
                    raise ValueError("the first branch must be the root")
                tree.branches.append(Branch(0, None, 0, "", seed, own, target, stopped))
                continue
            parent = _int(row["parent"], 0, i - 1, f"branch {i}'s parent")
            at = _int(row["at"], 0, len(tree.branches[parent].text) - 1, f"branch {i}'s fork")
            forced = _str(row["forced"], f"branch {i}'s character")
            if len(forced) != 1 or not own.startswith(forced):
                raise ValueError(f"branch {i}'s text does not start with its character")
            text = tree.branches[parent].text[:at] + own
            tree.branches.append(Branch(i, parent, at, forced, seed, text, target, stopped))
        return tree


def branch_seed(parent_seed: int, at: int, char: str) -> int:
    """The seed of the branch taking `char` at `at`: fixed by the choice, different for each."""
    digest = hashlib.blake2b(f"{parent_seed}:{at}:{ord(char)}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 2**31


def divergence(a: str, b: str) -> int:
    """The first position where `a` and `b` differ (the shorter one's length if none)."""
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    low, high = 0, n  # a[:low] == b[:low], a[:high] != b[:high]: halve, comparing in C
    while high - low > 1:
        mid = (low + high) // 2
        if a[:mid] == b[:mid]:
            low = mid
        else:
            high = mid
    return low


def grow(
    stepper: CharStepper,
    vocab: Vocabulary,
    tree: ForkTree,
    branch_id: int,
    stop: threading.Event | None = None,
) -> Iterator[SampledChar]:
    """The characters that take a branch to its target: the model reads the prompt and the
    branch's text so far (its chosen character last), then samples with the branch's seed and
    the tree's temperature and top-k. The caller adds them with `tree.extend`."""
    # torch, the sampler's: only to grow a branch; reading and writing a tree needs none
    from shakespeare_tui.core.sampling.sampler import continue_text, default_start

    branch = tree.branch(branch_id)
    unknown = vocab.unknown(branch.text)
    if unknown:
        raise UserError(f"this model never saw {unknown[0]!r}: it cannot go on from this text")
    primer = (tree.prompt or default_start(vocab)) + branch.text
    settings = replace(tree.settings, length=branch.target - len(branch.text), seed=branch.seed)
    if settings.length <= 0:
        return iter(())
    return continue_text(stepper, vocab, primer, settings, stop)


def _int(value: object, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{what} must be a whole number {low}–{high}, not {_brief(value)}")
    return value


def _number(value: object, what: str) -> float:
    """A finite number (float() of a 400-digit int raises OverflowError: refused here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} must be a number, not {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a finite number")
    return number


_SURROGATE = re.compile("[\ud800-\udfff]")


def _str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text, not {type(value).__name__}")
    lone = _SURROGATE.search(value)  # JSON's "\ud800" alone: no character, and not UTF-8
    if lone:
        raise ValueError(f"{what} holds a lone surrogate (U+{ord(lone[0]):04X}), not text")
    return value


_BRIEF = reprlib.Repr()  # keyword arguments only from Python 3.12
_BRIEF.maxlevel, _BRIEF.maxstring, _BRIEF.maxother, _BRIEF.maxlong = 2, 40, 40, 40


def _brief(value: object) -> str:
    """A value from the file as a message quotes it: its repr, cut short (however large or
    deep the value is)."""
    return _BRIEF.repr(value)


def _why(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"{_brief(exc.args[0])} is missing"
    if isinstance(exc, RecursionError):
        return "it is nested too deeply"
    if isinstance(exc, AttributeError | TypeError):
        return "a value is not of the kind a fork tree holds"
    return str(exc)
