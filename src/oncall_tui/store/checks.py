"""Read-only looks at a database file, off the opening path: ``doctor``'s inspection
(:func:`inspect_database`), the whole-file integrity check the app runs after its first paint
(:func:`check_integrity`) and the one line that tells the user about damage.

They check what :func:`oncall_tui.store.db.open_database` would refuse, with its checks and
messages, and write nothing.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from oncall_tui.store.db import (
    BUSY_TIMEOUT_MS,
    DAMAGE_ADVICE,
    HELD,
    SCHEMA_VERSION,
    Database,
    StoreError,
    _check_file,
    _check_schema,
    _keep_advice,
    _ownership,
    _read_only_fs,
    _sqlite_failure,
    connect_read_only,
)


def _cannot_create_in(folder: Path) -> str | None:
    """Why no file can be created in ``folder`` (tried for real with a temporary file, since
    permission bits say nothing for root, /proc or a read-only mount), or None."""
    import tempfile

    try:
        fd, name = tempfile.mkstemp(prefix=".oncall-tui-check-", dir=folder)
    except OSError as exc:
        return exc.strerror or str(exc)
    os.close(fd)
    os.unlink(name)
    return None


def inspect_database(path: str | Path) -> tuple[bool, str]:
    """``doctor``'s look at the database path: (ok, one line), writing nothing.

    Checks what :func:`open_store` would (a regular file, ours, not newer, tables and columns
    there, readable) on a read-only connection, and that the file, or the folder it would be
    created in, can be written.
    """
    target = Path(path)
    if not target.exists():
        folder = target.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not folder.is_dir():
            return False, f"{target}: {folder} is not a folder; pass --db with another path"
        problem = _cannot_create_in(folder)
        if problem:
            return False, f"{target}: cannot be created in {folder} ({problem})"
        return True, f"{target} does not exist yet; it will be created (readable by you only)"
    try:
        with HELD.lock:
            if not HELD.held(target):
                _check_file(target)
            conn, held = connect_read_only(target, timeout=BUSY_TIMEOUT_MS / 1000)
        db = Database(conn, held)
        try:
            user_version = int(db.execute("PRAGMA user_version").fetchone()[0])
            _ownership(db, target, user_version)
            if user_version > SCHEMA_VERSION:
                return False, (
                    f"{target}: written by a newer oncall-tui (schema {user_version}, this "
                    f"version knows up to {SCHEMA_VERSION}); upgrade oncall-tui"
                )
            if user_version == 0:
                return True, f"{target}: an empty database; oncall-tui will set it up"
            if user_version == SCHEMA_VERSION:
                _check_schema(db, target)
            tickets = int(db.execute("SELECT count(*) FROM tickets").fetchone()[0])
            unsent = int(
                db.execute("SELECT count(*) FROM outbox WHERE state != 'done'").fetchone()[0]
            )
        finally:
            db.close()
    except StoreError as exc:
        return False, str(exc)
    except sqlite3.Error as exc:
        return False, str(_sqlite_failure(target, exc))
    if _read_only_fs(target.parent) or not (
        os.access(target, os.W_OK) and os.access(target.parent, os.W_OK | os.X_OK)
    ):
        return False, f"{target}: readable but cannot be written. {_keep_advice(target)}"
    upgrade = (
        f" (upgraded to schema {SCHEMA_VERSION} on the next start)"
        if user_version < SCHEMA_VERSION
        else ""
    )
    return True, (
        f"{target}: schema {user_version}{upgrade}, {tickets:,} tickets, {unsent} change"
        f"{'s' if unsent != 1 else ''} not yet sent"
    )


def check_integrity(path: str | Path) -> str | None:
    """Look at every page once, read-only: None if sound, else a one-line description.

    Damage past the first pages only shows when a query happens to read it, so the app runs
    this in the background after its first paint (about 0.15 s for 100k tickets, warm cache)
    rather than on the start-up path.
    """
    try:
        conn, held = connect_read_only(path, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        found = [str(row[0]) for row in conn.execute("PRAGMA quick_check(3)")]
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        conn.close()
        HELD.release(held)
    return None if found == ["ok"] else " ".join(" ".join(found).split())[:200]


def damage_message(path: str | Path, detail: str) -> str:
    """What to tell the user about a damaged database (one line)."""
    return f"{path}: the database is damaged ({detail}). {DAMAGE_ADVICE}"
