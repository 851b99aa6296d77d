"""Queries for the on-call week (the handoff summary, the retro and the breach forecast)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from oncall_tui.domain.ops import Op
from oncall_tui.domain.sla import SlaSettings
from oncall_tui.domain.tickets import Comment
from oncall_tui.store.base import (
    COMMENT_COLUMNS,
    TICKET_COLUMNS,
    Part,
    Shared,
    comment_from_row,
    ticket_from_row,
)
from oncall_tui.store.db import iso, parse_iso

if TYPE_CHECKING:
    from oncall_tui.store.drafts import Drafts
    from oncall_tui.store.outbox import Outbox

if TYPE_CHECKING:  # the handoff domain loads with the first summary, not at start
    from oncall_tui.domain.handoff import Handoff, TicketRecord

#: The ``meta`` key remembering when the last handoff was posted.
LAST_HANDOFF_KEY = "handoff.last_posted_at"


#: The drafts kind of a handoff summary being edited before it is posted.
HANDOFF_DRAFT = "handoff"


class Handoffs(Part):
    """The on-call week's reads, and queueing its post (a draft and an outbox entry)."""

    def __init__(self, shared: Shared, *, outbox: Outbox, drafts: Drafts) -> None:
        super().__init__(shared)
        self.outbox = outbox
        self.drafts = drafts

    def queue_handoff_post(self, draft_id: int, body: str, op: Op, at: datetime) -> int:
        """Post the edited summary: the draft saved as sent, one outbox entry, and the next
        handoff's window starting at ``at``, in one transaction. Returns the entry's id."""
        with self.db.atomic():
            self.drafts.save_draft(draft_id, {"title": "On-call handoff", "body": body})
            op_id: int = self.outbox.enqueue(op)
            self.drafts.set_draft_state(draft_id, "submitted", op_id)
            self.mark_handoff_posted(at)
        return op_id

    def handoff_records(self, start: datetime, end: datetime) -> list[TicketRecord]:
        """Tickets the week's summary needs, with their plans, threads and who held them
        since when: every ticket open now, and every ticket opened, answered, changed or
        commented on in ``[start, end)`` (opened before ``end``)."""
        s, e = iso(start), iso(end)
        wanted = (
            "SELECT id FROM tickets WHERE opened_at < :e AND (is_open = 1 OR opened_at >= :s "
            "OR updated_at >= :s OR first_response_at >= :s "
            "OR id IN (SELECT ticket_id FROM comments WHERE created_at >= :s))"
        )
        rows = self.db.execute(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE id IN ({wanted}) ORDER BY id",
            {"s": s, "e": e},
        )
        tickets = self.decode_all(rows, ticket_from_row)
        plans: dict[int | None, str] = dict(
            self.db.execute("SELECT id, plan FROM customers").fetchall()
        )
        threads: dict[int, list[Comment]] = {t.id: [] for t in tickets}
        crows = self.db.execute(
            f"SELECT {COMMENT_COLUMNS} FROM comments WHERE ticket_id IN ({wanted}) "
            "ORDER BY ticket_id, created_at, id",
            {"s": s, "e": e},
        )
        for c in self.decode_all(crows, comment_from_row):
            threads.setdefault(c.ticket_id, []).append(c)
        holders: dict[int, list[tuple[datetime, str | None]]] = {}
        for tid, since, who in self.db.execute(
            f"SELECT ticket_id, since, assignee FROM assignments WHERE ticket_id IN ({wanted}) "
            "ORDER BY ticket_id, since, seq",
            {"s": s, "e": e},
        ):
            at = parse_iso(since)
            if at is not None:
                holders.setdefault(int(tid), []).append((at, who))
        from oncall_tui.domain.handoff import TicketRecord

        return [
            TicketRecord(
                t,
                plans.get(t.customer_id),
                tuple(threads.get(t.id, ())),
                tuple(holders.get(t.id, ())),
            )
            for t in tickets
        ]

    def assignee_history(self, ticket_id: int) -> list[tuple[datetime, str | None]]:
        """Who held the ticket since when, oldest first (kept by migration 0024's triggers)."""
        return [
            (at, who)
            for since, who in self.db.execute(
                "SELECT since, assignee FROM assignments WHERE ticket_id = ? ORDER BY since, seq",
                [ticket_id],
            )
            if (at := parse_iso(since)) is not None
        ]

    def handoff_summary(
        self, start: datetime, end: datetime, settings: SlaSettings, next_shift_hours: int = 4
    ) -> Handoff:
        """The on-call week's summary of ``[start, end)`` from the cache."""
        from oncall_tui.domain.handoff import Window, build_handoff

        return build_handoff(
            self.handoff_records(start, end),
            Window(start, end),
            settings,
            failed_ticket_ids=self.failed_change_ticket_ids(),
            next_shift_hours=next_shift_hours,
        )

    def failed_change_ticket_ids(self) -> frozenset[int]:
        """Tickets with an outbox entry the backend refused (waiting for the user)."""
        rows = self.db.execute(
            "SELECT DISTINCT ticket_id FROM outbox WHERE state = 'failed' AND ticket_id IS NOT NULL"
        )
        return frozenset(r[0] for r in rows)

    def last_handoff_at(self) -> datetime | None:
        """When the last handoff was posted from this cache, if ever."""
        row = self._one("SELECT value FROM meta WHERE key = ?", [LAST_HANDOFF_KEY])
        return parse_iso(row[0]) if row and row[0] else None

    def mark_handoff_posted(self, at: datetime) -> None:
        """Remember that a handoff was posted at ``at`` (the next one starts there)."""
        self.db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            [LAST_HANDOFF_KEY, iso(at)],
        )
