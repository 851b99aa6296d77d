"""What the app remembers between runs that is no setting: the theme picked in the app.

A small JSON file in the platform's state folder (Linux: ``~/.local/state/oncall-tui/``),
never the config file (the user's, with their comments) nor the database (``--demo`` and
``--db`` give other ones). Written whole to a temporary file and renamed, so a crash leaves
the old file or the new one; readable by the user only.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

STATE_FILE = "state.json"
#: A state file is a few bytes; anything larger is not ours.
MAX_STATE_BYTES = 64 * 1024


class StateError(Exception):
    """The state file cannot be read or written; the message is one line for the user."""


def load_state(folder: Path | None) -> dict[str, str]:
    """The remembered values (empty when there is no folder or file yet).

    Raises:
        StateError: the file exists but is not a small JSON object of strings.
    """
    if folder is None:
        return {}
    path = folder / STATE_FILE
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_STATE_BYTES + 1)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise StateError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    try:
        if len(raw) > MAX_STATE_BYTES:
            raise ValueError("too large")
        data = json.loads(raw.decode("utf-8"))
    except ValueError as exc:  # also UnicodeDecodeError and json.JSONDecodeError
        raise StateError(f"{path}: not oncall-tui's state ({exc}); it is ignored") from None
    if not isinstance(data, dict):
        raise StateError(f"{path}: not oncall-tui's state; it is ignored")
    return {str(k): v for k, v in data.items() if isinstance(v, str)}


def save_state(folder: Path | None, values: dict[str, str]) -> None:
    """Remember ``values`` (merged over what is there; no folder: nothing is kept).

    Raises:
        StateError: the folder or file cannot be written.
    """
    if folder is None:
        return
    from oncall_tui.settings.paths import ensure_private_dir

    try:
        current = load_state(folder)
    except StateError:
        current = {}  # a damaged file is replaced by a good one
    current.update(values)
    try:
        ensure_private_dir(folder)
        fd, tmp = tempfile.mkstemp(prefix=".state-", suffix=".json", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(current, f, indent=1, sort_keys=True)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, folder / STATE_FILE)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise StateError(
            f"{folder / STATE_FILE}: cannot write it ({exc.strerror or exc})"
        ) from None
