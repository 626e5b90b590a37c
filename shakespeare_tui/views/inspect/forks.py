"""The Inspect view's forks: take another character in a generated text and watch a branch grow.

A mixin of InspectScreen. A text handed over by the Generate view comes with the settings it was
generated with, which start a fork tree (core/inspection/forks.py). At the cursor, a digit takes that
alternative of the next-character panel: the text is cut there, the character forced, and the
model goes on in a worker, streamed into the view; the old continuation stays as a sibling.
`,` and `.` switch between the branches at a fork, the Forks tab lists the tree, ctrl+s saves
it as JSON and `o` opens a saved one. Each branch's replay is kept, so switching back is at once.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.widgets import OptionList, TabbedContent
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from shakespeare_tui.core.errors import UserError
from shakespeare_tui.messages import ForkGrew, ForkGrown, ForkTreeOpened
from shakespeare_tui.views.inspect.next_char import shown
from shakespeare_tui.views.inspect.text_view import InspectText

if TYPE_CHECKING:
    from shakespeare_tui.core.inspection.forks import ForkTree
    from shakespeare_tui.core.sampling.settings import SampleSettings

NOT_GENERATED = "forks grow from generated text: generate in the Generate view, then press I there"


class Forks:
    """Fork trees for InspectScreen (which holds the text view, `replay` and `_start`)."""

    tree: ForkTree | None = None
    branch_id = 0
    _growing = None  # the worker growing a branch
    _fresh_from: int | None = None  # where the text shown no longer matches `replay`

    # -- starting and opening a tree ------------------------------------------------------

    def start_tree(self, path: str, title: str, settings: SampleSettings, text: str) -> bool:
        """A tree over `text` (prompt included) generated with `settings`, seed set."""
        from shakespeare_tui.core.inspection.forks import ForkTree

        if settings.seed is None or not text.startswith(settings.prompt):
            return False
        self.tree = ForkTree.start(path, title, settings, text[len(settings.prompt) :])
        self.branch_id = 0
        self._hash_checkpoint(self.tree)
        return True

    @work(thread=True, group="inspect-hash", exit_on_error=False)
    def _hash_checkpoint(self, tree: ForkTree) -> None:
        from shakespeare_tui.core.atomic import file_sha256

        # A plain attribute, read only when the tree is saved: no widget changes here.
        tree.checkpoint_sha256 = file_sha256(Path(tree.checkpoint))

    def action_open_forks(self) -> None:
        from shakespeare_tui.views.file_picker import FilePickerScreen

        if self._refuse_while_growing():
            return
        folder = self.paths.forks if self.paths.forks.is_dir() else Path.cwd()
        self.app.push_screen(
            FilePickerScreen("A fork tree", folder, (".json",)),
            lambda path: path and self._open_tree(path),
        )

    @work(thread=True, exclusive=True, group="inspect-open", exit_on_error=False)
    def _open_tree(self, path: str) -> None:
        from shakespeare_tui.core.atomic import file_sha256
        from shakespeare_tui.core.inspection.forks import ForkTree

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
        self.tree, self.branch_id = message.tree, 0
        self._show_branch(0, 0)
        self.notify(
            message.warning or f"opened {message.path}",
            severity="warning" if message.warning else "information",
            markup=False,
        )

    def action_save_forks(self) -> None:
        if self.tree is None:
            self._status(NOT_GENERATED)
            return
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = self.paths.forks / f"forks-{stamp}.json"
        try:
            self.tree.save(path)
        except OSError as exc:
            self.notify(f"cannot save to {path.parent}: {exc.strerror or exc}", severity="error",
                        markup=False)  # fmt: skip
            return
        self.notify(f"saved the fork tree to {path} (o opens it)", markup=False)

    # -- forking ------------------------------------------------------------------------------

    @property
    def prompt_length(self) -> int:
        return len(self.tree.prompt) if self.tree is not None else 0

    def forkable(self, t: int) -> str:
        """Why no fork can be taken at position `t` ("" if one can)."""
        if self.tree is None:
            return NOT_GENERATED
        if self._entry is None or self._entry[0] != self.tree.checkpoint:
            return f"forks grow with {self.tree.title}, which wrote this text: choose it to fork"
        if t < self.prompt_length:
            return "that is the prompt, not generated text: fork after it"
        if self._growing is not None:
            return "a branch is growing: esc stops it"
        return ""

    def action_fork(self, nth: int) -> None:
        view = self.query_one(InspectText)
        t = view.cursor
        why = self.forkable(t) or (
            "no prediction there" if self.replay is None or self._fresh_from is not None else ""
        )
        if why:
            self._status(why)
            return
        here = self.query_one(InspectText).text[t]
        others = [c for c, _ in self.replay.prediction.top(t, self.top_k) if c != here]
        if not others:
            self._status("no prediction for the first character: fork further on")
            return
        if not 1 <= nth <= len(others):
            self._status(f"the panel numbers {len(others)} alternatives here: 1–{len(others)}")
            return
        char = others[nth - 1]
        try:
            branch, new = self.tree.fork(self.branch_id, t - self.prompt_length, char)
        except UserError as exc:
            self._status(str(exc))
            return
        if new:  # (its characters arrive as messages, after the branch is shown below)
            self._growing = self._grow(self.tree, branch.id)
        self._show_branch(branch.id, t)
        if new:
            self._status(f"branch {branch.id}: {shown(char)} at {t + 1:,}, growing…")

    @work(thread=True, exclusive=True, group="inspect-fork", exit_on_error=False)
    def _grow(self, tree: ForkTree, branch_id: int) -> None:
        from shakespeare_tui.core.inspection.forks import grow
        from shakespeare_tui.core.sampling.streaming import chunked

        stop = get_current_worker().cancelled_event
        vocab, stepper = self._model_cache().load(tree.checkpoint, tree.title)
        for chars, _ in chunked(grow(stepper, vocab, tree, branch_id, stop)):
            self.post_message(ForkGrew(tree, branch_id, chars))
        self.post_message(ForkGrown(tree, branch_id, stop.is_set()))

    def on_fork_grew(self, message: ForkGrew) -> None:
        if message.tree is not self.tree:
            return
        branch = self.tree.extend(message.branch_id, message.chars)
        if message.branch_id == self.branch_id:
            self.query_one(InspectText).append(message.chars)
            self._status(f"branch {branch.id}: {len(branch.text):,}/{branch.target:,} characters…")

    def on_fork_grown(self, message: ForkGrown) -> None:
        if message.tree is not self.tree:
            return
        self._growing = None
        self.tree.extend(message.branch_id, "", stopped=message.stopped)
        self._fill_branches()
        if message.branch_id == self.branch_id:
            self._show_branch(self.branch_id, self.query_one(InspectText).cursor)

    def growth_failed(self) -> None:
        """The growing worker failed: keep what grew, and show it."""
        self._growing = None
        self.tree.extend(self.branch_id, "", stopped=True)
        self._show_branch(self.branch_id, self.query_one(InspectText).cursor)

    def stop_growing(self) -> bool:
        """Stop a growing branch (it keeps what grew); whether one was growing."""
        if self._growing is None:
            return False
        self._growing.cancel()
        return True

    def _refuse_while_growing(self) -> bool:
        if self._growing is not None:
            self._status("a branch is growing: esc stops it")
            return True
        return False

    # -- moving between branches -----------------------------------------------------------

    def action_switch_branch(self, step: int) -> None:
        view = self.query_one(InspectText)
        if self.tree is None or len(self.tree.branches) == 1:
            self._status("no forks here yet: a digit takes that alternative at the cursor")
            return
        if self._refuse_while_growing():
            return
        at = self._fork_at_or_before(view.cursor - self.prompt_length)
        if at is None:
            self._status("no fork at or before the cursor")
            return
        siblings = self.tree.alternatives(self.branch_id, at)
        chosen = siblings[(siblings.index(self.branch_id) + step) % len(siblings)]
        self._show_branch(chosen, at + self.prompt_length)

    def _fork_at_or_before(self, at: int) -> int | None:
        points = [p for p in self.tree.forks_on(self.branch_id) if p <= at]
        return max(points) if points else None

    def show_branch_option(self, index: int) -> None:
        """The Forks tab's `index`th branch, with the cursor where it leaves its parent."""
        if self.tree is None or not 0 <= index < len(self.tree.branches):
            return
        if self._refuse_while_growing():
            return
        branch = self.tree.branch(index)
        self._show_branch(index, branch.at + self.prompt_length if branch.parent is not None else 0)
        self.query_one(InspectText).focus()

    def _show_branch(self, branch_id: int, cursor: int) -> None:
        """Show a branch of the tree at once (colours where it matches the text shown), and
        replay the model over it (or take its kept replay)."""
        from shakespeare_tui.core.inspection.forks import divergence

        tree = self.tree
        self.branch_id = branch_id
        text = tree.prompt + tree.branch(branch_id).text
        view = self.query_one(InspectText)
        if view.text != text:
            same = divergence(view.text, text) if self.replay is not None else 0
            view.set_text(text)
            self._fresh_from = min(same, len(self.replay.text)) if self.replay else 0
            self._recolour()
        view.move_to(min(cursor, max(0, len(text) - 1)))
        self._show_forks()
        self._fill_branches()
        name = "the text just generated" if branch_id == 0 else f"branch {branch_id}"
        self._source, self._source_name = ("text", text), name
        self._cursor_after = view.cursor
        if self._growing is None:
            self._start(tree.checkpoint, tree.title, tree=tree)

    # -- what is shown -------------------------------------------------------------------------

    def _show_forks(self) -> None:
        """Mark where other branches leave the one shown."""
        view = self.query_one(InspectText)
        if self.tree is None:
            view.set_forks(())
            return
        offset = self.prompt_length
        view.set_forks(tuple(p + offset for p in self.tree.forks_on(self.branch_id)))

    def fork_line(self, t: int) -> str:
        """For the status line: the branch shown, and the fork at the cursor if there is one."""
        if self.tree is None:
            return ""
        count = len(self.tree.branches)
        line = f"branch {self.branch_id} of {count}" if count > 1 else "1–9 fork"
        at = t - self.prompt_length
        if at in self.tree.forks_on(self.branch_id):
            siblings = self.tree.alternatives(self.branch_id, at)
            line += f" · fork: {siblings.index(self.branch_id) + 1}/{len(siblings)} (, .)"
        return line

    def _fill_branches(self) -> None:
        options = self.query_one("#branches", OptionList)
        options.clear_options()
        if self.tree is None:
            return
        depth: dict[int, int] = {}
        for branch in self.tree.branches:
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

    def action_show_forks_tab(self) -> None:
        if self.tree is None:
            self._status(NOT_GENERATED)
        self.query_one(TabbedContent).active = "tab-forks"
        self.query_one("#branches", OptionList).focus()


def _around(text: str, at: int, before: int = 6, after: int = 8) -> Text:
    """The chosen character in reverse, with a little of the text either side, on one line."""
    flat = str.maketrans({"\n": "↵", "\t": " ", "\r": " "})
    line = Text("«" + text[max(0, at - before) : at].translate(flat), style="dim")
    line.append(shown(text[at]), style="bold reverse")
    line.append(text[at + 1 : at + 1 + after].translate(flat) + "»", style="dim")
    return line
