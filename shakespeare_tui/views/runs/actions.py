"""What the Runs view does with the highlighted run: continue it in the Train view, open its
best checkpoint in Generate or Inspect, rename, delete (asking first), export; and the queue.

The file work (finding the checkpoint, renaming, sizing and deleting a folder, exporting) runs
in a worker, whose answer comes back as a RunActionDone; refusals (the bundled checkpoint, a
run being trained, a bad name) are one line from the core.
"""

from __future__ import annotations

from pathlib import Path

from textual import work

from shakespeare_tui.core.errors import ActionFailed, UserError, one_line
from shakespeare_tui.core.figures import count, size
from shakespeare_tui.core.runs.folders import BUNDLED
from shakespeare_tui.core.runs.table import HALF_WRITTEN, RunRow
from shakespeare_tui.messages import RunActionDone

VERBS = {"rename": "rename", "ask-delete": "delete", "delete": "delete", "export": "export",
         "generate": "generate from", "inspect": "inspect"}  # fmt: skip


def _who(row: RunRow) -> str:
    return "this program" if row.training_here else "another process"


class RunActions:
    """The Runs view's actions (a mixin of RunsScreen, which has `highlighted` and `_tell`)."""

    def _acting_on(self) -> RunRow | None:
        row = self.highlighted
        if row is None:
            self._tell("no run to act on yet", "warning")
        return row

    def action_continue_run(self) -> None:
        row = self._acting_on()
        if row is None:
            return
        if row.path is None:
            self._tell("the bundled checkpoint is no run to continue; start a new run in the "
                       "Train view (t)", "warning")  # fmt: skip
        elif row.state == HALF_WRITTEN:
            self._tell(
                f"run {row.name} has no readable config.json: nothing to continue", "warning"
            )
        elif row.training and not row.training_here:
            self._tell(f"run {row.name} is being trained by another process; continue it once "
                       "that has stopped", "warning")  # fmt: skip
        else:
            refusal = self.app.continue_run(row.name, row.training_here)
            if refusal:
                self._tell(refusal, "warning")

    def action_generate(self) -> None:
        row = self._acting_on()
        if row is not None:
            if row.path is None:
                self.app.generate_from(BUNDLED)
            else:
                self._act("generate", row.name)

    def action_inspect(self) -> None:
        row = self._acting_on()
        if row is not None:
            self._act("inspect", row.name)

    def action_rename(self) -> None:
        from shakespeare_tui.views.runs.dialogs import RenameDialog

        row = self._acting_on()
        if row is None:
            return
        if row.path is None:
            self._tell("the bundled checkpoint ships with the program and cannot be renamed; "
                       "export it (e) to make a copy of your own", "warning")  # fmt: skip
            return
        if row.training:
            self._tell(f"run {row.name} is being trained by {_who(row)}; stop it before you "
                       "rename it", "warning")  # fmt: skip
            return

        def renamed(new: str | None) -> None:
            if new:
                self._renames[row.name] = new  # a refresh may list the new name first
                self._act("rename", row.name, new)

        self.app.push_screen(RenameDialog(row.name, [r.name for r in self.rows]), renamed)

    def action_delete(self) -> None:
        row = self._acting_on()
        if row is not None:
            self._act("ask-delete", row.name)  # the core's refusals, else the folder's size

    def action_export(self) -> None:
        row = self._acting_on()
        if row is not None:
            self._act("export", row.name)

    def action_queue(self) -> None:
        self.app.show_queue()

    def renamed(self, old: str, new: str) -> None:
        """Run `old` is called `new` now: its colour and curves, and the highlight, go with it
        (once: the rename's answer and a refresh listing the new name may come either way)."""
        if self._renames.pop(old, None) is None:
            return
        self._expected_gone.add(old)
        if old in self.selected:
            self.selected[new] = self.selected.pop(old)
            if old in self.curves:
                self.curves[new] = self.curves.pop(old)
        self._highlight_next = new

    # -- the worker and its answers -----------------------------------------------------

    @work(thread=True, group="runs-action", exit_on_error=False)
    def _act(self, action: str, name: str, argument=None) -> None:
        try:
            result = self._do(action, name, argument)
        except (UserError, ActionFailed, OSError) as exc:
            self.post_message(RunActionDone(action, name, error=one_line(exc)))
            return
        self.post_message(RunActionDone(action, name, result))

    def _do(self, action: str, name: str, argument):
        from shakespeare_tui.core.runs import actions as run_actions
        from shakespeare_tui.core.runs.folders import resolve_checkpoint

        runs = self.paths.runs
        if action == "rename":
            return str(run_actions.rename_run(runs, name, argument))
        if action == "ask-delete":
            folder = run_actions.deletable(runs, name)
            return (str(folder), *run_actions.folder_size(folder))
        if action == "delete":
            run_actions.delete_run(runs, name)
            return argument
        source = resolve_checkpoint(BUNDLED if name == BUNDLED else str(runs / name), self.paths)
        if action == "export":
            return self._export(name, source)
        return str(source)  # generate, inspect

    def _export(self, name: str, source: Path) -> tuple[str, int]:
        from shakespeare_tui.core.errors import named_by_path
        from shakespeare_tui.core.model.checkpoint import export_checkpoint
        from shakespeare_tui.core.runs.actions import export_name

        folder = self.paths.exports
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / export_name(name, source)
        n = 1
        while target.exists():  # an export made before is kept
            n += 1
            target = folder / f"{Path(export_name(name, source)).stem}-{n}.pt"
        with named_by_path(source):
            export_checkpoint(source, target, bf16=True)
        return str(target), target.stat().st_size

    def on_run_action_done(self, message: RunActionDone) -> None:
        action, name, result = message.action, message.name, message.result
        if message.error:
            self._renames.pop(name, None)
            if action == "delete":
                self._expected_gone.discard(name)
            self._tell(message.error, "error", title=f"Cannot {VERBS[action]} {name}")
        elif action == "generate":
            self.app.generate_from(result)
        elif action == "inspect":
            title = "bundled (pretrained)" if name == BUNDLED else f"{name} · {Path(result).stem}"
            self.app.inspect_checkpoint(result, title)  # (the titles the pickers give)
        elif action == "rename":
            new = Path(result).name
            self.renamed(name, new)
            self._tell(f"renamed run {name} to {new}")
            self._request_refresh()
        elif action == "ask-delete":
            from shakespeare_tui.views.runs.dialogs import DeleteDialog

            folder, files, total = result

            def answered(yes: bool | None) -> None:
                if yes:
                    self._expected_gone.add(name)  # a refresh may miss it before the answer
                    self._act("delete", name, (files, total))

            self.app.push_screen(DeleteDialog(name, folder, files, total), answered)
        elif action == "delete":
            files, total = result
            self._select([name], False)
            self._tell(f"deleted run {name} ({count(files)} files, {size(total)})")
        elif action == "export":
            path, n_bytes = result
            self._tell(f"exported {name} to {path} ({size(n_bytes)})", title="Exported")
