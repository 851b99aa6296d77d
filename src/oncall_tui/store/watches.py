"""Watched tickets (``w``): what was last seen of each, so that a change is told once.

A watch keeps a small picture of the ticket (status, priority, assignee, labels, subject,
comment count). After a sync, :meth:`Watches.watch_changes` compares each watched
ticket that changed with its picture, says what differs and keeps the new picture in the
same statement, so the same change is never told twice (also across restarts).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from oncall_tui.store.base import Part


class Watches(Part):
    """Watched tickets and what changed on them."""

    def _picture(self, ticket_id: int) -> dict[str, Any] | None:
        row = self._one(
            "SELECT status, priority, assignee, labels, subject, "
            "(SELECT count(*) FROM comments c WHERE c.ticket_id = t.id) "
            "FROM tickets t WHERE t.id = ?",
            [ticket_id],
        )
        if row is None:
            return None
        try:
            labels = sorted(str(x) for x in json.loads(row[3] or "[]"))
        except (ValueError, TypeError):
            labels = []
        return {
            "status": row[0],
            "priority": row[1],
            "assignee": row[2],
            "labels": labels,
            "subject": row[4],
            "comments": int(row[5]),
        }

    def is_watched(self, ticket_id: int) -> bool:
        return self._one("SELECT 1 FROM watches WHERE ticket_id = ?", [ticket_id]) is not None

    def set_watched(self, ticket_id: int, watched: bool) -> None:
        """Watch ``ticket_id`` from now on (its current state is what changes are told
        against), or stop watching it."""
        if not watched:
            self.db.execute("DELETE FROM watches WHERE ticket_id = ?", [ticket_id])
            return
        picture = self._picture(ticket_id)
        if picture is None:
            raise LookupError(f"no ticket {ticket_id}")
        self.db.execute(
            "INSERT OR REPLACE INTO watches (ticket_id, seen, since) VALUES (?, ?, ?)",
            [ticket_id, json.dumps(picture, sort_keys=True), self.now()],
        )

    def watch_changes(self, ticket_ids: Iterable[int]) -> list[tuple[int, list[str]]]:
        """For each watched ticket among ``ticket_ids``: what changed since it was last seen
        (nothing: left out). The new state becomes the one seen."""
        ids = sorted(set(ticket_ids))
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"SELECT ticket_id, seen FROM watches WHERE ticket_id IN ({marks})", ids
        ).fetchall()
        changes = []
        for ticket_id, seen in rows:
            picture = self._picture(int(ticket_id))
            if picture is None:
                continue
            try:
                before = json.loads(seen)
            except ValueError:
                before = {}
            what = describe_change(before, picture)
            if not what:
                continue
            # Only if still as seen: another process telling the same change first wins.
            cur = self.db.execute(
                "UPDATE watches SET seen = ? WHERE ticket_id = ? AND seen = ?",
                [json.dumps(picture, sort_keys=True), ticket_id, seen],
            )
            if cur.rowcount:
                changes.append((int(ticket_id), what))
        return changes


def describe_change(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What differs between two pictures, in words ("status open → pending")."""
    out = []
    for key in ("status", "priority", "assignee", "subject"):
        if before.get(key) != after.get(key):
            old, new = before.get(key) or "—", after.get(key) or "—"
            out.append(f"{key} {old} → {new}" if key != "subject" else "subject changed")
    old_labels, new_labels = set(before.get("labels") or ()), set(after.get("labels") or ())
    if old_labels != new_labels:
        added = [f"+{x}" for x in sorted(new_labels - old_labels)]
        removed = [f"-{x}" for x in sorted(old_labels - new_labels)]
        out.append("labels " + " ".join(added + removed))
    grown = int(after.get("comments") or 0) - int(before.get("comments") or 0)
    if grown > 0:
        out.append(f"{grown} new comment{'s' if grown > 1 else ''}")
    return out
