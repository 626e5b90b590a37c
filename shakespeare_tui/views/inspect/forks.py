"""The Inspect view's Forks tab: the fork tree of a generated text, and the branch that grows.

A text handed over by the Generate view comes with the settings it was generated with, which
start a fork tree (core/inspection/forks.py). `ForksTab` holds the tree, which branch is shown,
and the worker growing a new branch: `fork` takes another character at a position and the model
goes on from it in a worker (the old continuation stays as a sibling); `sibling` finds the
branch `,` and `.` switch to; ctrl+s saves the tree as JSON and `o` opens a saved one. The tab
lists the branches; the screen shows the text. It keeps each branch's replay, so switching back
is at once.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import OptionList, TabPane
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker

from shakespeare_tui.core.atomic import file_sha256
from shakespeare_tui.core.errors import UserError, one_line
from shakespeare_tui.core.inspection.forks import ForkTree, grow
from shakespeare_tui.core.sampling.streaming import ModelCache, chunked
from shakespeare_tui.messages import ForkGrew, ForkGrown, ForkTreeOpened
from shakespeare_tui.views.file_picker import FilePickerScreen
from shakespeare_tui.views.inspect.next_char import shown
from shakespeare_tui.views.inspect.status_line import StatusLine

if TYPE_CHECKING:
    from shakespeare_tui.core.inspection.replay import Replay
    from shakespeare_tui.core.sampling.settings import SampleSettings

NOT_GENERATED = "forks grow from generated text: generate in the Generate view, then press I there"
GROWING = "a branch is growing: esc stops it"
KEPT_REPLAYS = 4  # replays of the tree's branches kept for switching back


class ForksTab(TabPane):
    """The fork tree (None until a generated text or a saved tree comes), the branch shown."""

    class BranchChosen(Message):
        """The person chose a branch in the list: show it, the cursor at `cursor`."""

        def __init__(self, branch_id: int, cursor: int) -> None:
            super().__init__()
            self.branch_id = branch_id
            self.cursor = cursor

    class Opened(Message):
        """A saved tree replaced the one before: show its root."""

    class Grew(Message):
        """The branch shown grew by `chars`."""

        def __init__(self, chars: str) -> None:
            super().__init__()
            self.chars = chars

    class GrowthEnded(Message):
        """No branch grows any more (it reached its length, was stopped, or failed): the
        branch shown can be replayed."""

    def __init__(self, title: str, forks_folder: Path, *, id: str | None = None) -> None:
        super().__init__(title, id=id)
        self.forks_folder = forks_folder  # where ctrl+s saves and `o` starts looking
        self.fork_tree: ForkTree | None = None
        self.branch_id = 0  # the branch shown
        # The worker growing a branch, and what it grows.
        self._growing: tuple[Worker[None], ForkTree, int] | None = None
        # (checkpoint, text) → the Replay of one of this tree's branches.
        self._replays: dict[tuple[str, str], Replay] = {}
        self._models = ModelCache(size=1)  # the model that grows branches, loaded in a worker

    def compose(self) -> ComposeResult:
        yield OptionList(id="branches")

    # -- the tree ---------------------------------------------------------------------------

    def start(self, path: str, title: str, settings: SampleSettings, text: str) -> bool:
        """A tree over `text` (prompt included) generated with `settings`; False (and no
        tree) if they lack a seed or the text does not start with their prompt."""
        if settings.seed is None or not text.startswith(settings.prompt):
            return False
        self._replace(ForkTree.start(path, title, settings, text[len(settings.prompt) :]))
        self._hash_checkpoint(self.fork_tree)
        return True

    def drop(self) -> None:
        """No tree: the text shown is not a generated one."""
        self._replace(None)
        self.list_branches()

    def _replace(self, tree: ForkTree | None) -> None:
        self.fork_tree, self.branch_id, self._replays = tree, 0, {}

    @property
    def prompt_length(self) -> int:
        return len(self.fork_tree.prompt) if self.fork_tree is not None else 0

    @property
    def text(self) -> str:
        """The branch shown, its prompt first."""
        tree = self._tree()
        return tree.prompt + tree.branch(self.branch_id).text

    def _tree(self) -> ForkTree:
        """The tree, for what only makes sense with one (the screen asks only then)."""
        if self.fork_tree is None:
            raise RuntimeError("no fork tree")
        return self.fork_tree

    @property
    def growing(self) -> bool:
        return self._growing is not None

    def kept_replay(self, checkpoint: str, text: str) -> Replay | None:
        """The replay of a branch's `text` with `checkpoint`, if it is kept."""
        return self._replays.get((checkpoint, text))

    def keep_replay(self, checkpoint: str, replay: Replay) -> None:
        self._replays[(checkpoint, replay.text)] = replay
        while len(self._replays) > KEPT_REPLAYS:
            self._replays.pop(next(iter(self._replays)))

    @work(thread=True, group="inspect-hash", exit_on_error=False)
    def _hash_checkpoint(self, tree: ForkTree) -> None:
        # A plain attribute, read only when the tree is saved: no widget changes here. (A
        # checkpoint that cannot be hashed is saved with no checksum.)
        tree.checkpoint_sha256 = file_sha256(Path(tree.checkpoint))

    def save(self) -> None:
        """The tree as JSON in the forks folder, named by the time."""
        if self.fork_tree is None:
            self.post_message(StatusLine.Say(NOT_GENERATED))
            return
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = self.forks_folder / f"forks-{stamp}.json"
        try:
            self.fork_tree.save(path)
        except OSError as exc:
            self.notify(f"cannot save to {path.parent}: {exc.strerror or exc}", severity="error",
                        markup=False)  # fmt: skip
            return
        self.notify(f"saved the fork tree to {path} (o opens it)", markup=False)

    def open(self) -> None:
        """Ask for a saved tree, then read it in a worker."""
        if self.refuse_while_growing():
            return
        folder = self.forks_folder if self.forks_folder.is_dir() else Path.cwd()
        self.app.push_screen(FilePickerScreen("A fork tree", folder, (".json",)), self._picked)

    def _picked(self, path: str | None) -> None:
        if path:
            self._open_tree(path)

    @work(thread=True, exclusive=True, group="inspect-open", exit_on_error=False)
    def _open_tree(self, path: str) -> None:
        tree = ForkTree.load(Path(path))
        checkpoint = Path(tree.checkpoint)
        if not checkpoint.is_file():
            raise UserError(f"this tree was grown with {tree.checkpoint}, which no longer exists")
        warning = ""
        if tree.checkpoint_sha256 and file_sha256(checkpoint) != tree.checkpoint_sha256:
            warning = (
                f"{tree.title} has changed since this tree was saved: "
                "new branches will not match the old ones"
            )
        self.post_message(ForkTreeOpened(tree, path, warning))

    def on_fork_tree_opened(self, message: ForkTreeOpened) -> None:
        self._replace(message.tree)
        self.post_message(self.Opened())
        self.notify(
            message.warning or f"opened {message.path}",
            severity="warning" if message.warning else "information",
            markup=False,
        )

    # -- forking and growing ----------------------------------------------------------------

    def forkable(self, t: int, checkpoint: str | None) -> str:
        """Why no fork can be taken at position `t` of the text shown, inspected with the
        checkpoint at `checkpoint` ("" if one can)."""
        if self.fork_tree is None:
            return NOT_GENERATED
        if checkpoint != self.fork_tree.checkpoint:
            return (
                f"forks grow with {self.fork_tree.title}, which wrote this text: choose it to fork"
            )
        if t < self.prompt_length:
            return "that is the prompt, not generated text: fork after it"
        if self._growing is not None:
            return GROWING
        return ""

    def fork(self, t: int, char: str) -> tuple[int, bool]:
        """The branch taking `char` at position `t` of the text shown, and whether it is new
        (then it starts growing); UserError if the tree refuses."""
        tree = self._tree()
        branch, new = tree.fork(self.branch_id, t - self.prompt_length, char)
        if new:  # (its characters arrive as messages, after the screen showed the branch)
            self._growing = (self._grow(tree, branch.id), tree, branch.id)
        return branch.id, new

    @work(thread=True, exclusive=True, group="inspect-fork", exit_on_error=False)
    def _grow(self, tree: ForkTree, branch_id: int) -> None:
        stop = get_current_worker().cancelled_event
        vocab, stepper = self._models.load(tree.checkpoint, tree.title)
        for chars, _ in chunked(grow(stepper, vocab, tree, branch_id, stop)):
            self.post_message(ForkGrew(tree, branch_id, chars))
        self.post_message(ForkGrown(tree, branch_id, stop.is_set()))

    def on_fork_grew(self, message: ForkGrew) -> None:
        if message.tree is not self.fork_tree:
            return
        branch = self.fork_tree.extend(message.branch_id, message.chars)
        if message.branch_id == self.branch_id:
            self.post_message(self.Grew(message.chars))
            line = f"branch {branch.id}: {len(branch.text):,}/{branch.target:,} characters…"
            self.post_message(StatusLine.Say(line))

    def on_fork_grown(self, message: ForkGrown) -> None:
        # Whatever tree it grew in, nothing grows now (a tree handed over meanwhile waited).
        self._growing = None
        if message.tree is self.fork_tree:
            self.fork_tree.extend(message.branch_id, "", stopped=message.stopped)
            self.list_branches()
        self.post_message(self.GrowthEnded())

    def stop_growing(self) -> bool:
        """Stop a growing branch (it keeps what grew); whether one was growing."""
        if self._growing is None:
            return False
        self._growing[0].cancel()
        return True

    def refuse_while_growing(self) -> bool:
        """Whether a branch is growing (the status line says so)."""
        if self._growing is not None:
            self.post_message(StatusLine.Say(GROWING))
        return self._growing is not None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker, error = event.worker, event.worker.error
        if event.state != WorkerState.ERROR or error is None:
            return
        if self._growing is not None and worker is self._growing[0]:
            _, tree, branch_id = self._growing
            self._growing = None
            tree.extend(branch_id, "", stopped=True)  # it keeps what grew, shown next
            self.post_message(self.GrowthEnded())
            line = f"cannot grow the branch: {one_line(error)}"
        elif worker.group == "inspect-open":
            line = f"cannot open the fork tree: {one_line(error)}"
            self.notify(line, severity="error", markup=False)
        else:
            return
        self.post_message(StatusLine.Say(line))

    # -- moving between branches ------------------------------------------------------------

    def show(self, branch_id: int) -> None:
        """Branch `branch_id` is the one shown."""
        self.branch_id = branch_id
        self.list_branches()

    def sibling(self, cursor: int, step: int) -> tuple[int, int] | None:
        """At the fork at or last before position `cursor`: the `step`th branch from the one
        shown, and the fork's position (None if there is no fork there)."""
        tree, at = self._tree(), cursor - self.prompt_length
        points = [p for p in tree.forks_on(self.branch_id) if p <= at]
        if not points:
            return None
        at = max(points)
        siblings = tree.alternatives(self.branch_id, at)
        chosen = siblings[(siblings.index(self.branch_id) + step) % len(siblings)]
        return chosen, at + self.prompt_length

    @on(OptionList.OptionSelected)
    def _branch_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        index = event.option_index
        if self.fork_tree is None or not 0 <= index < len(self.fork_tree.branches):
            return
        if self.refuse_while_growing():
            return
        branch = self.fork_tree.branch(index)
        cursor = branch.at + self.prompt_length if branch.parent is not None else 0
        self.post_message(self.BranchChosen(index, cursor))

    # -- what is shown ------------------------------------------------------------------------

    def fork_positions(self) -> tuple[int, ...]:
        """Where other branches leave the one shown, as positions of the text shown."""
        if self.fork_tree is None:
            return ()
        return tuple(p + self.prompt_length for p in self.fork_tree.forks_on(self.branch_id))

    def fork_line(self, t: int) -> str:
        """For the status line: the branch shown, and the fork at position `t` if there is one."""
        if self.fork_tree is None:
            return ""
        count = len(self.fork_tree.branches)
        line = f"branch {self.branch_id} of {count}" if count > 1 else "1–9 fork"
        at = t - self.prompt_length
        if at in self.fork_tree.forks_on(self.branch_id):
            siblings = self.fork_tree.alternatives(self.branch_id, at)
            line += f" · fork: {siblings.index(self.branch_id) + 1}/{len(siblings)} (, .)"
        return line

    def list_branches(self) -> None:
        """The tree as an indented list, the branch shown marked."""
        options = self.query_one(OptionList)
        options.clear_options()
        if self.fork_tree is None:
            return
        depth: dict[int, int] = {}
        for branch in self.fork_tree.branches:
            depth[branch.id] = 0 if branch.parent is None else depth[branch.parent] + 1
            line = Text("▶ " if branch.id == self.branch_id else "  ", style="bold")
            line.append("  " * depth[branch.id])
            if branch.parent is None:
                line.append("as generated", style="bold")
            else:
                line.append(f"{branch.id}: ", style="bold")
                line.append(f"at {branch.at + self.prompt_length + 1:,} ", style="dim")
                line.append(_around(branch.text, branch.at))
            ending = " stopped" if branch.stopped else ""
            line.append(f" · {len(branch.text):,} chars{ending}", style="dim")
            options.add_option(Option(line))
        options.highlighted = self.branch_id


def _around(text: str, at: int, before: int = 6, after: int = 8) -> Text:
    """The chosen character in reverse, with a little of the text either side, on one line."""
    flat = str.maketrans({"\n": "↵", "\t": " ", "\r": " "})
    line = Text("«" + text[max(0, at - before) : at].translate(flat), style="dim")
    line.append(shown(text[at]), style="bold reverse")
    line.append(text[at + 1 : at + 1 + after].translate(flat) + "»", style="dim")
    return line
