"""Choose a file: a corpus to train on, or a checkpoint to generate from.

A folder tree (Textual's DirectoryTree, which reads folders in a worker) showing only folders
and files of the wanted kinds, and a path line that takes a typed or pasted path: a file is
chosen at once, a folder becomes the tree's root. Returns the chosen path, or None.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Input, Static

from shakespeare_tui.widgets.field_input import FieldInput


class _Tree(DirectoryTree):
    """Folders and the files whose suffix is wanted; hidden entries stay hidden."""

    def __init__(self, path: Path, suffixes: tuple[str, ...], **kwargs) -> None:
        super().__init__(path, **kwargs)
        self.suffixes = suffixes

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        for path in paths:
            if path.name.startswith("."):
                continue
            try:
                if path.is_dir() or not self.suffixes or path.suffix.lower() in self.suffixes:
                    yield path
            except OSError:
                continue


class FilePickerScreen(ModalScreen[str | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel"),
        Binding("backspace", "parent", "Up a folder", id="picker.parent", show=False),
    ]

    def __init__(self, title: str, start: Path, suffixes: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.title_text = title
        self.start = start if start.is_dir() else Path.home()
        self.suffixes = tuple(s.lower() for s in suffixes)

    def compose(self) -> ComposeResult:
        kinds = ", ".join(self.suffixes) or "any file"
        with Vertical(id="file-picker"):
            yield Static(f"{self.title_text} ({kinds}) · enter opens · esc cancels", markup=False)
            yield FieldInput(str(self.start), placeholder="a path", id="picker-path", compact=True)
            yield Static("", id="picker-error", classes="field-error", markup=False)
            yield _Tree(self.start, self.suffixes, id="picker-tree")

    def on_mount(self) -> None:
        self.query_one(_Tree).focus()

    def _error(self, text: str) -> None:
        error = self.query_one("#picker-error", Static)
        error.update(text)
        error.display = bool(text)

    def _root(self, folder: Path) -> None:
        tree = self.query_one(_Tree)
        tree.path = folder
        self.query_one("#picker-path", Input).value = str(folder)
        self._error("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        path = Path(event.value.strip()).expanduser()
        if path.is_dir():
            self._root(path)
            self.query_one(_Tree).focus()
        elif path.is_file():
            self.dismiss(str(path))
        else:
            self._error("no such file or folder")

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.dismiss(str(event.path))

    def on_directory_tree_directory_selected(self, event: DirectoryTree.DirectorySelected) -> None:
        self.query_one("#picker-path", Input).value = str(event.path)

    def action_parent(self) -> None:
        root = Path(self.query_one(_Tree).path)
        if root.parent != root:
            self._root(root.parent)

    def action_cancel(self) -> None:
        self.dismiss(None)
