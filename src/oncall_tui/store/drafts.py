"""Drafts: forms in progress (bug reports, replies), saved as the user types.

Each save is one small atomic UPDATE; with WAL and ``synchronous=NORMAL`` a killed process
loses nothing that was committed, and a power cut at most the last checkpoint interval.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from oncall_tui.store.base import Part, decoded
from oncall_tui.store.db import dumps, parse_iso


@dataclass(frozen=True)
class Draft:
    """A saved form."""

    id: int
    kind: str
    ticket_id: int | None
    title: str
    fields: dict[str, str]
    meta: dict[str, Any]
    state: str
    outbox_id: int | None
    created_at: datetime
    updated_at: datetime


_COLUMNS = "id, kind, ticket_id, title, fields, meta, state, outbox_id, created_at, updated_at"


def _draft_decode(row: Any) -> Draft:
    created, updated = parse_iso(row[8]), parse_iso(row[9])
    assert created is not None and updated is not None
    return Draft(
        id=row[0],
        kind=row[1],
        ticket_id=row[2],
        title=row[3],
        fields=json.loads(row[4]),
        meta=json.loads(row[5]),
        state=row[6],
        outbox_id=row[7],
        created_at=created,
        updated_at=updated,
    )


_draft = decoded("drafts", _draft_decode)


class Drafts(Part):
    """Saving, listing and discarding drafts."""

    def create_draft(
        self,
        kind: str,
        ticket_id: int | None,
        fields: dict[str, str],
        meta: dict[str, Any] | None = None,
    ) -> int:
        """Start a draft; returns its id."""
        now = self.now()
        cur = self.db.execute(
            "INSERT INTO drafts (kind, ticket_id, title, fields, meta, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [kind, ticket_id, fields.get("title", ""), dumps(fields), dumps(meta or {}), now, now],
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def save_draft(
        self, draft_id: int, fields: dict[str, str], meta: dict[str, Any] | None = None
    ) -> None:
        """Overwrite a draft's fields (and meta, if given) atomically."""
        if meta is None:
            self.db.execute(
                "UPDATE drafts SET fields = ?, title = ?, updated_at = ? WHERE id = ?",
                [dumps(fields), fields.get("title", ""), self.now(), draft_id],
            )
        else:
            self.db.execute(
                "UPDATE drafts SET fields = ?, title = ?, meta = ?, updated_at = ? WHERE id = ?",
                [dumps(fields), fields.get("title", ""), dumps(meta), self.now(), draft_id],
            )

    def get_draft(self, draft_id: int) -> Draft | None:
        """One draft."""
        row = self._one(f"SELECT {_COLUMNS} FROM drafts WHERE id = ?", [draft_id])
        return _draft(row) if row else None

    def all(self, kind: str | None = None, *, include_filed: bool = False) -> list[Draft]:
        """Drafts, most recently edited first."""
        sql = f"SELECT {_COLUMNS} FROM drafts"
        clauses, params = [], []
        if kind:
            clauses.append("kind = ?")
            params.append(kind)
        if not include_filed:
            clauses.append("state != 'filed'")
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        rows = self.db.execute(sql + " ORDER BY updated_at DESC, id DESC", params)
        return self.decode_all(rows, _draft)

    def draft_for_ticket(self, kind: str, ticket_id: int) -> Draft | None:
        """The open draft of ``kind`` started from ``ticket_id``, if any."""
        row = self._one(
            f"SELECT {_COLUMNS} FROM drafts WHERE kind = ? AND ticket_id = ? AND state = 'draft' "
            "ORDER BY updated_at DESC LIMIT 1",
            [kind, ticket_id],
        )
        return _draft(row) if row else None

    def set_draft_state(self, draft_id: int, state: str, outbox_id: int | None = None) -> None:
        """Move a draft along: draft → submitted (queued) → filed (confirmed)."""
        self.db.execute(
            "UPDATE drafts SET state = ?, outbox_id = coalesce(?, outbox_id), updated_at = ? "
            "WHERE id = ?",
            [state, outbox_id, self.now(), draft_id],
        )

    def delete_draft(self, draft_id: int) -> None:
        """Discard a draft."""
        self.db.execute("DELETE FROM drafts WHERE id = ?", [draft_id])
