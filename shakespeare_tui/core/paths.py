"""Where the program writes: one place, overridable for tests and for people with opinions."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from shakespeare_tui.core.errors import UserError
from shakespeare_tui.core.user_files import user_path

APP_NAME = "shakespeare-tui"
HOME_ENV = "SHAKESPEARE_TUI_HOME"


@dataclass(frozen=True)
class Paths:
    data: Path  # runs live here, one folder each
    cache: Path  # built or downloaded corpora
    config: Path  # the app's remembered settings

    @property
    def runs(self) -> Path:
        return self.data / "runs"

    @property
    def samples(self) -> Path:
        """Text saved from the Generate view (ctrl+s)."""
        return self.data / "samples"

    @property
    def forks(self) -> Path:
        """Fork trees saved from the Inspect view (ctrl+s)."""
        return self.data / "forks"

    @property
    def exports(self) -> Path:
        """Checkpoints exported from the Runs view (e): weights only, for sharing."""
        return self.data / "exports"

    @property
    def screenshots(self) -> Path:
        """The app's screenshots (the command palette's Screenshot)."""
        return self.data / "screenshots"

    @property
    def settings_file(self) -> Path:
        return self.config / "settings.json"

    @classmethod
    def resolve(cls, data_dir: str | os.PathLike[str] | None = None) -> Paths:
        """`--data-dir`, then $SHAKESPEARE_TUI_HOME, then the platform's user directories."""
        override = data_dir or os.environ.get(HOME_ENV)
        if override:
            home = user_path(override)
            return cls(data=home, cache=home / "cache", config=home / "config")
        import platformdirs

        return cls(
            data=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
            cache=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
            config=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        )

    def ensure(self) -> Paths:
        """Create the folders, or fail with one line naming the one that cannot be made."""
        for folder in (self.data, self.runs, self.cache, self.config):
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UserError(
                    f"cannot create {folder}: {exc.strerror or exc}; "
                    f"choose another place with --data-dir or ${HOME_ENV}"
                ) from None
            if not os.access(folder, os.W_OK):
                raise UserError(
                    f"{folder} is not writable; choose another place with --data-dir or ${HOME_ENV}"
                )
        return self
