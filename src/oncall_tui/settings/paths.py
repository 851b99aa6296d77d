"""Where files live: platformdirs locations, overridable by flags and environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "oncall-tui"
CONFIG_ENV = "ONCALL_TUI_CONFIG"
DB_ENV = "ONCALL_TUI_DB"


@dataclass(frozen=True)
class Paths:
    """The files one run of the app uses."""

    config: Path
    """The TOML config file (may not exist: defaults apply)."""
    db: Path
    """The SQLite database."""
    data_dir: Path
    """The user data dir (database, team runbooks by default, logs)."""
    config_given: bool = False
    """The user named the config (``--config`` or ``ONCALL_TUI_CONFIG``): it must exist."""
    state_dir: Path | None = None
    """Where the app remembers what is no setting (the theme picked); None: nothing is kept."""

    @property
    def log_file(self) -> Path:
        """The sync log (never contains secrets)."""
        return self.data_dir / "oncall-tui.log"


def user_config_dir() -> Path:
    """The platform's config dir for the app."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def user_data_dir() -> Path:
    """The platform's data dir for the app."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_state_dir() -> Path:
    """The platform's state dir for the app (Linux: ``~/.local/state/oncall-tui``)."""
    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))


def resolve_paths(config: str | Path | None = None, db: str | Path | None = None) -> Paths:
    """Resolve file locations: explicit flag, then environment variable, then platform default."""
    env = os.environ
    given = config or env.get(CONFIG_ENV)
    config_path = Path(given or user_config_dir() / "config.toml")
    db_path = Path(db or env.get(DB_ENV) or user_data_dir() / "oncall-tui.db")
    return Paths(
        config=_expand(config_path),
        db=_expand(db_path),
        data_dir=user_data_dir(),
        config_given=bool(given),
        state_dir=user_state_dir(),
    )


class PathError(ValueError):
    """A path given on the command line or in the environment cannot be used as typed."""


def _expand(path: Path) -> Path:
    """``~`` expanded.

    Raises:
        PathError: ``~name`` for a user this machine does not know (kept as typed, it would
            be a folder named ``~name`` in the current directory).
    """
    try:
        return path.expanduser()
    except RuntimeError:
        user = str(path).split("/", 1)[0]
        raise PathError(f"{path}: there is no user {user[1:]!r} on this machine") from None


def styles_dir() -> Path:
    """The Textual CSS folder: inside the installed wheel, else the source checkout's."""
    package = Path(__file__).resolve().parents[1]  # oncall_tui/ (this is settings/paths.py)
    packaged = package / "styles"  # installed wheel (force-included by hatchling)
    return packaged if packaged.is_dir() else package.parents[1] / "styles"  # checkout


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` and any missing parents readable by the user only (0700).

    Folders that already exist are left as they are: ``--db /tmp/x.db`` must not chmod ``/tmp``.
    """
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)  # mkdir's mode is filtered by the umask
