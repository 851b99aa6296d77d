"""Writing the queue's views back to the config file (saved, renamed, moved, deleted in the app).

The file is the user's: tomlkit edits the ``[[views]]`` tables in place, so comments, the
order of keys and everything else in the file stay as written (a comment inside a view's
table stays with that position in the list). The new text is checked by the same loader the
app starts with before anything is written, then written whole to a temporary file beside it
and renamed over it (a crash leaves the old file or the new one), keeping its permissions.
A missing file is created in its folder (by default the platform's config folder).
"""

from __future__ import annotations

import os
import stat
import tempfile
import tomllib
from collections.abc import Sequence
from pathlib import Path

from oncall_tui.settings.config import (
    ConfigError,
    ViewSpec,
    _printable,
    _read_config_text,
    config_from_dict,
)

NEW_FILE_HEADER = (
    "# oncall-tui configuration (created by the app when a view was saved).\n"
    "# Every key is described in the README; the app keeps your comments when it saves views.\n"
)


class ConfigWriteError(Exception):
    """The views cannot be written; the message is one line for the user."""


def write_views(path: Path, views: Sequence[ViewSpec]) -> bool:
    """Replace the config's ``[[views]]`` with ``views`` (in order); True if the file was
    created.

    Raises:
        ConfigWriteError: the file cannot be read, parsed or written, or the result would not
            load (nothing is written then).
    """
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    target = path.resolve() if path.is_symlink() else path
    created = False
    try:
        text = _read_config_text(target)
    except FileNotFoundError:
        text = NEW_FILE_HEADER
        created = True
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise ConfigWriteError(_printable(f"{target}: cannot read it ({reason})")) from None
    try:
        document = tomlkit.parse(text)
    except (TOMLKitError, ValueError) as exc:
        raise ConfigWriteError(_printable(f"{target}: invalid TOML, not changed ({exc})")) from None
    _set_views(document, views)
    new_text = tomlkit.dumps(document)
    try:  # what the app will read at its next start
        config_from_dict(tomllib.loads(new_text))
    except (tomllib.TOMLDecodeError, ConfigError, ValueError) as exc:
        raise ConfigWriteError(_printable(f"{target}: not changed: {exc}")) from None
    _replace(target, new_text)
    return created


def _set_views(document: object, views: Sequence[ViewSpec]) -> None:
    """Edit the views in place: the existing tables take the new names and queries in order
    (their comments and formatting stay), extra ones are removed, new ones appended."""
    import tomlkit as tk

    doc = document  # a tomlkit TOMLDocument
    current = doc.get("views")  # type: ignore[attr-defined]
    if not isinstance(current, tk.items.AoT):
        if current is not None:
            del doc["views"]  # type: ignore[attr-defined]
        current = tk.aot()
        doc.append("views", current)  # type: ignore[attr-defined]
    tables = list(current.body)
    for i, view in enumerate(views):
        if i < len(tables):
            table = tables[i]
            table["name"] = view.name
            table["query"] = view.query
        else:
            table = tk.table()
            table["name"] = view.name
            table["query"] = view.query
            table.add(tk.nl())
            current.append(table)
    while len(current.body) > len(views):
        current.body.pop()  # (tomlkit's AoT has no __delitem__ in every version)


def _replace(target: Path, text: str) -> None:
    folder = target.parent
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = 0o600
    except OSError as exc:
        raise ConfigWriteError(
            _printable(f"{target}: cannot write it ({exc.strerror or exc})")
        ) from None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ConfigWriteError(
            _printable(
                f"{target}: cannot write it ({exc.strerror or exc}); the views are "
                "changed for this session only"
            )
        ) from None
