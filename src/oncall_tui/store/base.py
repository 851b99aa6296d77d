"""What every part of the store shares: the connection, settings, clock, row mapping."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from oncall_tui.clock import Clock
from oncall_tui.domain.sla import SlaSettings
from oncall_tui.domain.tickets import (
    Channel,
    Comment,
    Customer,
    PauseInterval,
    Priority,
    Source,
    Status,
    Ticket,
)
from oncall_tui.store.db import Database, iso, parse_iso

FTS_CHUNK = 500

TICKET_COLUMNS = (
    "id, source, remote_id, channel, subject, body, status, priority, labels, assignee, "
    "requester, customer_id, url, opened_at, updated_at, first_response_at, pauses, "
    "sla_due, sla_warn_at, sla_target, version, pending_ops, conflict, label_since"
)


class StoreBase:
    """State shared by the store's parts."""

    def __init__(self, db: Database, *, sla: SlaSettings, clock: Clock, path: Path) -> None:
        self.db = db
        self.sla = sla
        self.clock = clock
        self.path = path

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def now(self) -> str:
        """The clock's now as stored text."""
        stamp = iso(self.clock())
        assert stamp is not None
        return stamp

    def reindex(self, ticket_ids: Sequence[int]) -> None:
        """Refresh the full-text index of these tickets (one statement per chunk)."""
        for start in range(0, len(ticket_ids), FTS_CHUNK):
            chunk = list(ticket_ids[start : start + FTS_CHUNK])
            marks = ",".join("?" * len(chunk))
            self.db.execute(f"DELETE FROM ticket_fts WHERE rowid IN ({marks})", chunk)
            self.db.execute(
                "INSERT INTO ticket_fts (rowid, subject, body, comments, customer) "
                "SELECT t.id, t.subject, t.body, "
                "coalesce((SELECT group_concat(body, char(10)) FROM comments "
                "WHERE ticket_id = t.id), ''), "
                "coalesce(c.name, '') || ' ' || coalesce(c.codename, '') "
                f"FROM tickets t LEFT JOIN customers c ON c.id = t.customer_id "
                f"WHERE t.id IN ({marks})",
                chunk,
            )

    def _one(self, sql: str, params: Any = ()) -> tuple[Any, ...] | None:
        row = self.db.execute(sql, params).fetchone()
        return tuple(row) if row is not None else None


def pauses_to_json(pauses: tuple[PauseInterval, ...]) -> str:
    """Serialise pause intervals."""
    return json.dumps([[iso(p.start), iso(p.end)] for p in pauses])


def pauses_from_json(text: str) -> tuple[PauseInterval, ...]:
    """Inverse of :func:`pauses_to_json`."""
    result = []
    for start, end in json.loads(text or "[]"):
        begin = parse_iso(start)
        assert begin is not None
        result.append(PauseInterval(begin, parse_iso(end)))
    return tuple(result)


def ticket_from_row(row: tuple[Any, ...] | Any) -> Ticket:
    """Map a row selected with :data:`TICKET_COLUMNS` to a :class:`Ticket`."""
    (
        id_,
        source,
        remote_id,
        channel,
        subject,
        body,
        status,
        priority,
        labels,
        assignee,
        requester,
        customer_id,
        url,
        opened_at,
        updated_at,
        first_response_at,
        pauses,
        sla_due,
        sla_warn_at,
        sla_target,
        version,
        pending_ops,
        conflict,
        label_since,
    ) = row
    opened = parse_iso(opened_at)
    updated = parse_iso(updated_at)
    assert opened is not None and updated is not None
    return Ticket(
        id=id_,
        source=Source(source),
        remote_id=remote_id,
        channel=Channel(channel),
        subject=subject,
        body=body,
        status=Status(status),
        priority=Priority(priority),
        labels=tuple(json.loads(labels)),
        assignee=assignee,
        requester=requester,
        customer_id=customer_id,
        url=url,
        opened_at=opened,
        updated_at=updated,
        first_response_at=parse_iso(first_response_at),
        pauses=pauses_from_json(pauses),
        sla_due=parse_iso(sla_due),
        sla_warn_at=parse_iso(sla_warn_at),
        sla_target=sla_target,
        version=version,
        pending_ops=pending_ops,
        conflict=bool(conflict),
        label_since={
            k: v
            for k, v in ((k, parse_iso(v)) for k, v in json.loads(label_since).items())
            if v is not None
        },
    )


CUSTOMER_COLUMNS = "id, name, plan, codename, domains, contacts, remote_id"


def customer_from_row(row: tuple[Any, ...] | Any) -> Customer:
    """Map a row selected with :data:`CUSTOMER_COLUMNS` to a :class:`Customer`."""
    id_, name, plan, codename, domains, contacts, remote_id = row
    return Customer(
        id=id_,
        name=name,
        plan=plan,
        codename=codename,
        domains=tuple(json.loads(domains)),
        contacts=tuple(json.loads(contacts)),
        remote_id=remote_id,
    )


COMMENT_COLUMNS = "id, ticket_id, author, body, created_at, public, remote_id, outbox_id"


def comment_from_row(row: tuple[Any, ...] | Any) -> Comment:
    """Map a row selected with :data:`COMMENT_COLUMNS` to a :class:`Comment`."""
    id_, ticket_id, author, body, created_at, public, remote_id, outbox_id = row
    created = parse_iso(created_at)
    assert created is not None
    return Comment(
        id=id_,
        ticket_id=ticket_id,
        author=author,
        body=body,
        created_at=created,
        public=bool(public),
        remote_id=remote_id,
        pending=outbox_id is not None and remote_id is None,
    )
