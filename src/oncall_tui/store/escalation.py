"""The escalation loop's state: stand-up acknowledgements, time-boxes, outage reminders and
link-back notices (migration 0017). Every write is one transaction; the texts that go out go
through the outbox like any other edit."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from oncall_tui.domain.ops import Op
from oncall_tui.domain.tickets import Customer, Source, Ticket
from oncall_tui.store.base import (
    CUSTOMER_COLUMNS,
    TICKET_COLUMNS,
    Part,
    Shared,
    customer_from_row,
)
from oncall_tui.store.db import dumps, iso, parse_iso

if TYPE_CHECKING:
    from oncall_tui.store.drafts import Drafts
    from oncall_tui.store.outbox import Outbox
    from oncall_tui.store.tickets import Tickets

#: The drafts kind of a message for a chat channel (the on-call nudge's).
CHANNEL_DRAFT = "channel"

_TIMER_COLUMNS = (
    "id, kind, ticket_id, title, outbox_id, started_at, due_at, interval_seconds, state, meta"
)


@dataclass(frozen=True, slots=True)
class Timer:
    """A running investigation time-box or suspected-outage reminder."""

    id: int
    kind: str  # "timebox" or "outage"
    ticket_id: int | None
    title: str
    outbox_id: int | None
    started_at: datetime
    due_at: datetime
    interval_seconds: int | None
    state: str
    meta: dict[str, Any]


def _timer(row: Sequence[Any]) -> Timer:
    started, due = parse_iso(row[5]), parse_iso(row[6])
    assert started is not None and due is not None
    return Timer(
        id=row[0],
        kind=row[1],
        ticket_id=row[2],
        title=row[3],
        outbox_id=row[4],
        started_at=started,
        due_at=due,
        interval_seconds=row[7],
        state=row[8],
        meta=json.loads(row[9] or "{}"),
    )


@dataclass(frozen=True, slots=True)
class LinkNotice:
    """A ticket linked to a tracker issue, and what its customer was last told about it."""

    ticket_id: int
    url: str
    issue: Ticket | None  # the issue, once synced
    told: str | None  # the last state offered (None: not even the link yet)


class Escalation(Part):
    """Stand-up, time-box, outage and link-back bookkeeping (over the tickets, drafts and
    outbox parts it is given)."""

    def __init__(self, shared: Shared, *, tickets: Tickets, drafts: Drafts, outbox: Outbox) -> None:
        super().__init__(shared)
        self.tickets = tickets
        self.drafts = drafts
        self.outbox = outbox

    # ---- stand-up ------------------------------------------------------------------------

    def investigations(self, label: str) -> list[Ticket]:
        """Open tracker issues carrying ``label`` (``~investigate``), oldest change first."""
        from oncall_tui.store.base import ticket_from_row

        rows = self.db.execute(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE source = ? AND is_open = 1 "
            "AND json_valid(labels) AND EXISTS (SELECT 1 FROM json_each(tickets.labels) "
            "WHERE lower(json_each.value) = lower(?)) ORDER BY updated_at, id",
            [str(Source.TRACKER), label],
        )
        return self.decode_all(rows, ticket_from_row)

    def affected_customers(self, issue: Ticket, prefix: str = "customer-") -> list[Customer]:
        """Customers a tracker issue hits: its own, those of the tickets linked to it, and
        those its ``customer-<codename>`` labels name."""
        codenames = [
            x[len(prefix) :].casefold() for x in issue.labels if x.casefold().startswith(prefix)
        ]
        marks = ",".join("?" * len(codenames)) or "NULL"
        rows = self.db.execute(
            f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = ? OR id IN ("
            "SELECT t.customer_id FROM ticket_links l JOIN tickets t ON t.id = l.ticket_id "
            "WHERE l.linked_id = ? OR (l.url IS NOT NULL AND l.url = ?)) "
            f"OR lower(codename) IN ({marks}) ORDER BY name",
            [issue.customer_id, issue.id, issue.url, *codenames],
        )
        return self.decode_all(rows, customer_from_row)

    def standup_acks(self, ticket_ids: Sequence[int]) -> dict[int, date]:
        """The last stand-up day each issue was acknowledged on."""
        if not ticket_ids:
            return {}
        marks = ",".join("?" * len(ticket_ids))
        rows = self.db.execute(
            f"SELECT ticket_id, max(day) FROM standup_acks WHERE ticket_id IN ({marks}) "
            "GROUP BY ticket_id",
            list(ticket_ids),
        )
        return {int(t): date.fromisoformat(d) for t, d in rows}

    def acknowledge(self, ticket_id: int, day: date, body: str, *, author: str) -> bool:
        """Record today's acknowledgement and queue its comment, in one transaction.

        Returns False (and queues nothing) if the issue was already acknowledged that day.
        """
        with self.db.atomic():
            cur = self.db.execute(
                "INSERT OR IGNORE INTO standup_acks (ticket_id, day, at) VALUES (?, ?, ?)",
                [ticket_id, day.isoformat(), self.now()],
            )
            if cur.rowcount == 0:
                return False
            comment = self.tickets.add_comment(ticket_id, body, public=True, author=author)
            self.db.execute(
                "UPDATE standup_acks SET outbox_id = (SELECT outbox_id FROM comments "
                "WHERE id = ?) WHERE ticket_id = ? AND day = ?",
                [comment.id, ticket_id, day.isoformat()],
            )
            return True

    # ---- timers --------------------------------------------------------------------------

    def timers(self, kind: str | None = None) -> list[Timer]:
        """Running timers, soonest due first."""
        sql = f"SELECT {_TIMER_COLUMNS} FROM escalation_timers WHERE state = 'running'"
        params: list[Any] = []
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        return [_timer(r) for r in self.db.execute(sql + " ORDER BY due_at, id", params)]

    def timebox_for(self, ticket_id: int) -> Timer | None:
        """The ticket's running time-box."""
        row = self._one(
            f"SELECT {_TIMER_COLUMNS} FROM escalation_timers WHERE kind = 'timebox' "
            "AND state = 'running' AND ticket_id = ?",
            [ticket_id],
        )
        return _timer(row) if row else None

    def start_timebox(self, ticket_id: int, due_at: datetime) -> int:
        """Start (or restart) the ticket's investigation time-box; returns its id."""
        with self.db.atomic():
            self.tickets.get_ticket(ticket_id)  # UnknownTicket for a ticket that is gone
            self.db.execute(
                "UPDATE escalation_timers SET state = 'stopped' WHERE kind = 'timebox' "
                "AND state = 'running' AND ticket_id = ?",
                [ticket_id],
            )
            cur = self.db.execute(
                "INSERT INTO escalation_timers (kind, ticket_id, started_at, due_at) "
                "VALUES ('timebox', ?, ?, ?)",
                [ticket_id, self.now(), iso(due_at)],
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

    def stop_timer(self, timer_id: int, state: str = "stopped") -> bool:
        """End a running timer (``stopped``, ``nudged``, ``closed``); False if it was not."""
        cur = self.db.execute(
            "UPDATE escalation_timers SET state = ? WHERE id = ? AND state = 'running'",
            [state, timer_id],
        )
        return cur.rowcount == 1

    def reschedule_timer(
        self, timer_id: int, due_at: datetime, *, expected: datetime | None = None
    ) -> bool:
        """Move a running timer's next due instant; with ``expected``, only if it is still
        due then (two instances on one database: one of them reminds). False if not moved."""
        sql = "UPDATE escalation_timers SET due_at = ? WHERE id = ? AND state = 'running'"
        params: list[Any] = [iso(due_at), timer_id]
        if expected is not None:
            sql += " AND due_at = ?"
            params.append(iso(expected))
        return self.db.execute(sql, params).rowcount == 1

    def file_outage(
        self, op: Op, title: str, first_due: datetime, interval_seconds: int, ticket_ids: list[int]
    ) -> int:
        """Queue the outage issue and start its update reminder, in one transaction."""
        with self.db.atomic():
            op_id = self.outbox.enqueue(op)
            self.db.execute(
                "INSERT INTO escalation_timers (kind, ticket_id, title, outbox_id, started_at, "
                "due_at, interval_seconds, meta) VALUES ('outage', ?, ?, ?, ?, ?, ?, ?)",
                [
                    op.ticket_id,
                    title,
                    op_id,
                    self.now(),
                    iso(first_due),
                    interval_seconds,
                    dumps({"tickets": ticket_ids}),
                ],
            )
            return op_id

    def outage_issue(self, timer: Timer) -> Ticket | None:
        """The tracker issue an outage reminder is about, once it is synced."""
        from oncall_tui.store.base import ticket_from_row

        row = self._one(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE source = ? AND (subject = ? OR url IN "
            "(SELECT url FROM ticket_links WHERE title = ? AND ticket_id = ?)) "
            "ORDER BY id DESC LIMIT 1",
            [str(Source.TRACKER), timer.title, timer.title, timer.ticket_id],
        )
        return ticket_from_row(row) if row else None

    # ---- link-back -----------------------------------------------------------------------

    def link_notices(self) -> list[LinkNotice]:
        """Every help-desk or chat ticket linked to an issue, with the issue (when synced) and
        the last state its customer was offered."""
        from oncall_tui.store.base import ticket_from_row

        cols = ", ".join(f"i.{c.strip()}" for c in TICKET_COLUMNS.split(","))
        rows = self.db.execute(
            f"SELECT l.ticket_id, l.url, n.state, i.id IS NOT NULL, {cols} "
            "FROM ticket_links l JOIN tickets t ON t.id = l.ticket_id AND t.source != ? "
            "LEFT JOIN tickets i ON i.source = ? AND (i.id = l.linked_id OR i.url = l.url) "
            "LEFT JOIN link_notices n ON n.ticket_id = l.ticket_id AND n.url = l.url "
            "WHERE l.url IS NOT NULL AND l.url != '' ORDER BY l.created_at, l.ticket_id",
            [str(Source.TRACKER), str(Source.TRACKER)],
        )
        seen: set[tuple[int, str]] = set()
        result = []
        for row in rows:
            key = (int(row[0]), str(row[1]))
            if key in seen:
                continue
            seen.add(key)
            issue = ticket_from_row(tuple(row[4:])) if row[3] else None
            result.append(LinkNotice(key[0], key[1], issue, row[2]))
        return result

    def set_link_notice(self, ticket_id: int, url: str, state: str) -> None:
        """Remember that the ticket's customer was offered ``state`` for ``url``."""
        self.db.execute(
            "INSERT OR REPLACE INTO link_notices (ticket_id, url, state, at) VALUES (?, ?, ?, ?)",
            [ticket_id, url, state, self.now()],
        )

    def queue_reply_draft(self, ticket_id: int, text: str) -> int:
        """Put ``text`` in the ticket's reply draft (after what is already typed there, never
        over it); returns the draft's id."""
        with self.db.atomic():
            draft = self.drafts.draft_for_ticket("reply", ticket_id)
            if draft is None:
                first = text.strip().splitlines()[0] if text.strip() else ""
                return self.drafts.create_draft("reply", ticket_id, {"body": text, "title": first})
            body = draft.fields.get("body", "")
            if text in body:
                return draft.id
            fields = dict(draft.fields)
            fields["body"] = f"{body.rstrip()}\n\n{text}" if body.strip() else text
            self.drafts.save_draft(draft.id, fields)
            return draft.id

    def queue_channel_post(
        self, draft_id: int | None, ticket_id: int | None, fields: dict[str, str], op: Op
    ) -> tuple[int, int]:
        """Post a channel message drafted about ``ticket_id`` (the time-box's on-call nudge):
        the draft saved as sent and one ``post_message`` entry (with its undo window), in one
        transaction. Returns the draft's and the entry's ids."""
        with self.db.atomic():
            if draft_id is None or self.drafts.get_draft(draft_id) is None:
                draft_id = self.drafts.create_draft(CHANNEL_DRAFT, ticket_id, fields)
            else:
                self.drafts.save_draft(draft_id, fields)
            op_id: int = self.outbox.enqueue(op)
            self.drafts.set_draft_state(draft_id, "submitted", op_id)
        return draft_id, op_id

    def reopen_drafts_of(self, op_id: int) -> int:
        """Drafts an undone (or discarded) entry posted are drafts again; returns how many."""
        cur = self.db.execute(
            "UPDATE drafts SET state = 'draft', outbox_id = NULL, updated_at = ? "
            "WHERE outbox_id = ? AND state = 'submitted'",
            [self.now(), op_id],
        )
        return cur.rowcount

    # ---- codenames -----------------------------------------------------------------------

    def tracker_labels(self) -> set[str]:
        """Every label on a cached tracker issue."""
        rows = self.db.execute(
            "SELECT DISTINCT json_each.value FROM tickets, json_each(tickets.labels) "
            "WHERE tickets.source = ? AND json_valid(tickets.labels)",
            [str(Source.TRACKER)],
        )
        return {str(r[0]) for r in rows}

    def assign_codename(self, customer_id: int, codename: str, labels: Sequence[Op]) -> None:
        """Give the customer its codename and queue its labels, in one transaction.

        Raises:
            ValueError: the customer already has a codename, or another customer has this one.
        """
        with self.db.atomic():
            customer = self.tickets.get_customer(customer_id)
            if customer is None:
                raise ValueError("no such customer")
            if customer.codename:
                raise ValueError(f"{customer.name} already has the codename {customer.codename}")
            clash = self._one(
                "SELECT name FROM customers WHERE lower(codename) = lower(?)", [codename]
            )
            if clash:
                raise ValueError(f"the codename {codename} belongs to {clash[0]}")
            self.db.execute(
                "UPDATE customers SET codename = ? WHERE id = ?", [codename, customer_id]
            )
            for op in labels:
                self.outbox.enqueue(op)
