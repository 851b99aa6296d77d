"""Writing what the backends sent: one page and its cursor in one transaction.

The records are the domain's ``RemoteTicket``, ``RemoteComment`` and ``RemoteCustomer`` (the
sync adapters make them), so the store does not import the layer above it.

Two rules keep local intent safe:

* a copy older than the newest one we know (``remote_updated_at``) is ignored, so a
  just-pushed edit is not taken for a revert when the export's lagging copy arrives;
* fields with an unsent local edit keep the local value until the outbox entry settles.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from oncall_tui.domain.ops import OpKind
from oncall_tui.domain.text import clean_line
from oncall_tui.domain.tickets import Source
from oncall_tui.store.base import Part, Shared
from oncall_tui.store.db import parse_iso
from oncall_tui.store.records import Records
from oncall_tui.store.remote_rows import OP_FIELDS, number
from oncall_tui.store.sync_state import LOG_KEEP

if TYPE_CHECKING:
    from oncall_tui.store.outbox import Outbox
    from oncall_tui.store.team import Team
    from oncall_tui.store.tickets import Tickets

if TYPE_CHECKING:  # the sync records load with the first page applied, not at start
    from oncall_tui.domain.remote import (
        Page,
        Quarantined,
        RemoteTicket,
    )


class Remote(Part):
    """Applying pulled pages and push confirmations: its records sub-part (built here, over
    the tickets, outbox and team parts) writes the records, the outbox part settles a
    confirmed entry, the team part (a member's removals, a relay's publication queue) sees
    every page."""

    def __init__(self, shared: Shared, *, tickets: Tickets, outbox: Outbox, team: Team) -> None:
        super().__init__(shared)
        self.tickets = tickets
        self.outbox = outbox
        self.team = team
        self.records = Records(shared, tickets=tickets, outbox=outbox, team=team)

    def apply_page(self, backend: str, page: Page, *, save_cursor: bool = True) -> set[int]:
        """Write a page of remote records and the backend's new cursor atomically, first
        dropping the page's removed tickets and then keeping the chat messages a relay's page
        carries (the team part's), all in one transaction.

        The page's quarantined records (ones the adapter could not read) are written to the
        sync log in the same transaction, once each while the log still shows them.

        Returns:
            The local ids of tickets that changed.
        """
        with self.db.atomic():
            changed = self.team.forget_tickets(page.removed) if page.removed else set()
            changed |= self._apply_page(backend, page, save_cursor=save_cursor)
            chat = getattr(page, "chat", ())
            if chat:
                self.team.keep_chat(chat)
        return changed

    def apply_pages(self, backend: str, pages: Sequence[Page]) -> set[int]:
        """:meth:`apply_page` for each of ``pages`` in order, in one transaction (the last
        page's cursor is the one kept)."""
        changed: set[int] = set()
        with self.db.atomic():
            for page in pages:
                changed |= self.apply_page(backend, page)
        return changed

    def _apply_page(self, backend: str, page: Page, *, save_cursor: bool) -> set[int]:
        with self.db.atomic():
            self.records.mirror_only = page.relayed
            try:
                changed = self.records.write(
                    backend, page.customers, page.tickets, page.comments, settled=page.done
                )
            finally:
                self.records.mirror_only = False
            if page.quarantined:
                self._log_quarantined(backend, page.quarantined)
            if page.notes:
                self._log_notes(backend, page.notes)
            self._mark_refreshed(backend, page)
            if save_cursor:
                self.db.execute(
                    "INSERT INTO sync_state (backend, cursor) VALUES (?, ?) "
                    "ON CONFLICT (backend) DO UPDATE SET cursor = excluded.cursor",
                    [backend, page.cursor],
                )
        return changed

    def _mark_refreshed(self, backend: str, page: Page) -> None:
        """A ticket in the page is fresh again; with a scope, the cached tickets outside it
        are marked not refreshed (since now), the ones inside it not."""
        for source in {t.source for t in page.tickets}:
            ids = json.dumps([t.remote_id for t in page.tickets if t.source == source])
            self.db.execute(
                "UPDATE tickets SET not_refreshed_since = NULL WHERE source = ? AND "
                "not_refreshed_since IS NOT NULL AND remote_id IN (SELECT value FROM json_each(?))",
                [source.value, ids],
            )
        scope = page.in_scope
        if scope is None:
            return
        ids = json.dumps(sorted(scope.remote_ids))
        self.db.execute(
            "UPDATE tickets SET not_refreshed_since = NULL WHERE source = ? AND "
            "not_refreshed_since IS NOT NULL AND remote_id IN (SELECT value FROM json_each(?))",
            [scope.source.value, ids],
        )
        left = [
            str(row[0])
            for row in self.db.execute(
                "SELECT remote_id FROM tickets WHERE source = ? AND not_refreshed_since IS NULL "
                "AND remote_id IS NOT NULL AND remote_id NOT IN (SELECT value FROM json_each(?))",
                [scope.source.value, ids],
            ).fetchall()
        ]
        if not left:
            return
        self.db.execute(
            "UPDATE tickets SET not_refreshed_since = ? WHERE source = ? AND "
            "remote_id IN (SELECT value FROM json_each(?))",
            [self.now(), scope.source.value, json.dumps(left)],
        )
        shown = ", ".join(f"#{r}" for r in sorted(left, key=number)[:10])
        more = f" and {len(left) - 10} more" if len(left) > 10 else ""
        self.db.execute(
            "INSERT INTO sync_log (at, backend, level, message) VALUES (?, ?, ?, ?)",
            [
                self.now(),
                backend,
                "info",
                clean_line(
                    f"{len(left)} cached tickets left what this sync keeps fresh ({shown}{more}): "
                    "kept, marked as not refreshed"
                ),
            ],
        )

    def not_refreshed(self, source: Source) -> dict[str, datetime]:
        """Cached tickets of ``source`` outside what the backend keeps fresh, with the time
        each left it (``remote_id -> since``)."""
        rows = self.db.execute(
            "SELECT remote_id, not_refreshed_since FROM tickets WHERE source = ? AND "
            "not_refreshed_since IS NOT NULL",
            [source.value],
        ).fetchall()
        found = {str(r[0]): parse_iso(r[1]) for r in rows}
        return {remote_id: when for remote_id, when in found.items() if when is not None}

    def not_refreshed_since(self, ticket_id: int) -> datetime | None:
        """When this cached ticket left what its backend keeps fresh (None: it has not)."""
        row = self._one("SELECT not_refreshed_since FROM tickets WHERE id = ?", [ticket_id])
        return parse_iso(row[0]) if row is not None else None

    def _log_notes(self, backend: str, notes: Iterable[str]) -> None:
        """The adapter's own lines (which pull and why, the budget), each once while the log's
        newest line of this backend is not the same."""
        for note in notes:
            message = clean_line(note)
            last = self._one(
                "SELECT message FROM sync_log WHERE backend = ? ORDER BY id DESC LIMIT 1",
                [backend],
            )
            if last is None or last[0] != message:
                self.db.execute(
                    "INSERT INTO sync_log (at, backend, level, message) VALUES (?, ?, ?, ?)",
                    [self.now(), backend, "info", message],
                )

    def _log_quarantined(self, backend: str, records: Iterable[Quarantined]) -> None:
        """One sync log line per record set aside; a line the log still holds is not repeated
        (a pass reads the same bad record again: Slack's history, GitHub's newest issue)."""
        for record in records:
            message = clean_line(record.describe())
            seen = self._one(
                "SELECT 1 FROM sync_log WHERE backend = ? AND message = ? LIMIT 1",
                [backend, message],
            )
            if seen is None:
                self.db.execute(
                    "INSERT INTO sync_log (at, backend, level, message) VALUES (?, ?, ?, ?)",
                    [self.now(), backend, "warning", message],
                )
        self.db.execute(
            "DELETE FROM sync_log WHERE id <= (SELECT max(id) FROM sync_log) - ?", [LOG_KEEP]
        )

    def apply_records(self, backend: str, tickets: Sequence[RemoteTicket]) -> set[int]:
        """Write tickets found outside the incremental pull (e.g. a live search)."""
        return self.records.apply_records(backend, tickets)

    def apply_remote_ticket(self, backend: str, ticket: RemoteTicket) -> set[int]:
        """Write one ticket a push returned (its newest copy)."""
        return self.records.apply_remote_ticket(backend, ticket)

    def resolve_conflict(self, ticket_id: int, *, keep_mine: bool) -> None:
        """Settle a conflict: keep our edits (they will be pushed) or take the remote values.

        Taking theirs cancels the unsent entries for the conflicting fields.
        """
        with self.db.atomic():
            row = self._one("SELECT conflict FROM tickets WHERE id = ?", [ticket_id])
            conflicts: dict[str, Any] = json.loads(row[0]) if row and row[0] else {}
            if not keep_mine and conflicts:
                kinds = [k for k, fields in OP_FIELDS.items() if set(fields) & set(conflicts)]
                marks = ",".join("?" * len(kinds))
                cancelled = self.db.execute(
                    f"UPDATE outbox SET state = 'cancelled', updated_at = ? WHERE ticket_id = ? "
                    f"AND state IN ('pending', 'failed') AND kind IN ({marks})",
                    [self.now(), ticket_id, *kinds],
                ).rowcount
                columns = {field: value["theirs"] for field, value in conflicts.items()}
                assignments = ", ".join(f"{k} = :{k}" for k in columns)
                self.db.execute(
                    f"UPDATE tickets SET {assignments}, pending_ops = max(pending_ops - :n, 0) "
                    "WHERE id = :id",
                    {**columns, "n": cancelled, "id": ticket_id},
                )
                self.tickets.recompute_sla([ticket_id])
            self.db.execute("UPDATE tickets SET conflict = NULL WHERE id = ?", [ticket_id])

    def conflicts(self, ticket_id: int) -> dict[str, Any]:
        """The ticket's unresolved conflicts: field → {"mine": ..., "theirs": ...}."""
        row = self._one("SELECT conflict FROM tickets WHERE id = ?", [ticket_id])
        return json.loads(row[0]) if row and row[0] else {}

    def settle_op(
        self,
        op_id: int,
        *,
        remote_id: str | None,
        version: str | None,
        url: str | None,
        ticket: Any = None,
        backend: str | None = None,
    ) -> None:
        """The backend confirmed an entry: mark it done, then store its side effects.

        A created tracker issue is linked to its support ticket and its draft becomes
        "filed"; a channel message keeps its ``channel:ts`` and its draft becomes "filed";
        a returned ticket copy becomes the newest known version. A creation without a ticket
        of its own (the relay's out-of-hours ticket) also keeps the new remote id on its
        outbox entry.
        """
        with self.db.atomic():
            self._settle(
                op_id,
                remote_id=remote_id,
                version=version,
                url=url,
                ticket=ticket,
                backend=backend,
            )
            if remote_id is not None:
                self.db.execute(
                    "UPDATE outbox SET remote_id = coalesce(remote_id, ?) "
                    "WHERE id = ? AND kind = 'create_ticket' AND ticket_id IS NULL",
                    [remote_id, op_id],
                )

    def _settle(
        self,
        op_id: int,
        *,
        remote_id: str | None,
        version: str | None,
        url: str | None,
        ticket: Any,
        backend: str | None,
    ) -> None:
        with self.db.atomic():
            op = self.outbox.get_op(op_id)
            if op is None:
                return
            self.outbox.mark_done(op_id, remote_id=remote_id, version=version, url=url)
            if op.kind == OpKind.CREATE_ISSUE:
                title = str(op.payload.get("title", ""))
                self.db.execute(
                    "UPDATE drafts SET state = 'filed', updated_at = ? WHERE outbox_id = ?",
                    [self.now(), op_id],
                )
                if op.ticket_id is not None and url:
                    self.tickets.link(op.ticket_id, url, title)
                for other in op.payload.get("linked_tickets") or ():  # a suspected outage
                    if isinstance(other, int) and other != op.ticket_id and url:
                        if self.db.execute(
                            "SELECT 1 FROM tickets WHERE id = ?", [other]
                        ).fetchone():
                            self.tickets.link(other, url, title)
            elif op.kind == OpKind.POST_MESSAGE:
                # a channel message has no ticket: the entry keeps where it went
                # (``channel:ts``), and a draft it posted is sent
                self.db.execute(
                    "UPDATE outbox SET remote_id = coalesce(remote_id, ?) WHERE id = ?",
                    [remote_id, op_id],
                )
                self.db.execute(
                    "UPDATE drafts SET state = 'filed', updated_at = ? WHERE outbox_id = ?",
                    [self.now(), op_id],
                )
            if ticket is not None and backend is not None:
                # not the end of a pull: tickets a pull left stale in the index wait for it
                self.records.write(backend, (), (ticket,), (), settled=False)
            elif op.ticket_id is not None and version is not None:
                self.db.execute(
                    "UPDATE tickets SET version = ? WHERE id = ?", [version, op.ticket_id]
                )
