"""Per-backend sync cursors, outcomes and the sync log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from oncall_tui.store.base import Part, decoded
from oncall_tui.store.db import parse_iso

LOG_KEEP = 2000


@dataclass(frozen=True)
class BackendState:
    """What the store remembers of one backend's sync."""

    backend: str
    cursor: str | None
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None


class SyncState(Part):
    """Cursors (written with their page, in the caller's transaction) and outcomes."""

    def cursor(self, backend: str) -> str | None:
        """The backend's saved cursor."""
        row = self._one("SELECT cursor FROM sync_state WHERE backend = ?", [backend])
        return row[0] if row else None

    def set_cursor(self, backend: str, cursor: str | None) -> None:
        """Save the cursor (call inside the transaction that writes its page)."""
        self.db.execute(
            "INSERT INTO sync_state (backend, cursor) VALUES (?, ?) "
            "ON CONFLICT (backend) DO UPDATE SET cursor = excluded.cursor",
            [backend, cursor],
        )

    def record_outcome(self, backend: str, error: str | None) -> None:
        """Record a sync attempt's result (None = success)."""
        now = self.now()
        self.db.execute(
            "INSERT INTO sync_state (backend, last_attempt_at, last_success_at, last_error) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (backend) DO UPDATE SET "
            "last_attempt_at = excluded.last_attempt_at, "
            "last_success_at = coalesce(excluded.last_success_at, last_success_at), "
            "last_error = excluded.last_error",
            [backend, now, None if error else now, error],
        )

    def backend_states(self) -> list[BackendState]:
        """Every backend's state."""
        rows = self.db.execute(
            "SELECT backend, cursor, last_attempt_at, last_success_at, last_error "
            "FROM sync_state ORDER BY backend"
        )
        return [BackendState(r[0], r[1], parse_iso(r[2]), parse_iso(r[3]), r[4]) for r in rows]

    def log(self, backend: str, level: str, message: str) -> None:
        """Append to the sync log (messages must never contain secrets)."""
        self.db.execute(
            "INSERT INTO sync_log (at, backend, level, message) VALUES (?, ?, ?, ?)",
            [self.now(), backend, level, message],
        )
        self.db.execute(
            "DELETE FROM sync_log WHERE id <= (SELECT max(id) FROM sync_log) - ?", [LOG_KEEP]
        )

    def log_entries(self, limit: int = 200) -> list[tuple[datetime, str, str, str]]:
        """The newest sync log lines, newest first."""
        rows = self.db.execute(
            "SELECT id, at, backend, level, message FROM sync_log ORDER BY id DESC LIMIT ?",
            [limit],
        )
        return self.decode_all(rows, _log_entry)


def _log_entry_decode(row: Any) -> tuple[datetime, str, str, str]:
    _, at, backend, level, message = row
    when = parse_iso(at)
    assert when is not None
    return when, str(backend), str(level), str(message)


_log_entry = decoded("sync_log", _log_entry_decode)
