"""Tickets, customers and comments: reading them, writing them, and local edits.

A local edit is one transaction: the row changes (SLA recomputed), and an outbox entry is
appended for the backend, with the values needed to undo it while it is still unsent.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from oncall_tui.domain import sla as sla_rules
from oncall_tui.domain.calendars import to_epoch
from oncall_tui.domain.ops import Op, OpKind, is_supported
from oncall_tui.domain.text import clean_line, clean_text
from oncall_tui.domain.tickets import (
    Comment,
    Customer,
    Priority,
    Status,
    Ticket,
    labels_since,
)
from oncall_tui.store.base import (
    COMMENT_COLUMNS,
    CUSTOMER_COLUMNS,
    TICKET_COLUMNS,
    Part,
    Shared,
    comment_from_row,
    customer_from_row,
    pauses_to_json,
    ticket_from_row,
)
from oncall_tui.store.db import dumps, iso
from oncall_tui.store.sla_columns import SlaColumns

if TYPE_CHECKING:
    from oncall_tui.store.outbox import Outbox


def _triples(events: Iterable[Any]) -> list[list[Any]]:
    """SLA events as stored (``[epoch, type, value]``)."""
    return [[to_epoch(e.at), e.type.value, e.value] for e in events]


class UnknownTicket(LookupError):
    """No ticket with that id."""


class Tickets(Part):
    """Reading and writing tickets, customers and comments; a local edit queues its outbox
    entry in the same transaction (through the outbox part it is given)."""

    def __init__(self, shared: Shared, *, outbox: Outbox) -> None:
        super().__init__(shared)
        self.outbox = outbox
        self.clocks = SlaColumns(shared, plans=self.plans)
        """The SLA clock columns: computed for a ticket written, recomputed from history."""

    # ---- reading -------------------------------------------------------------------------

    def get_ticket(self, ticket_id: int) -> Ticket:
        """The ticket with ``ticket_id``.

        Raises:
            UnknownTicket: no such ticket.
        """
        row = self._one(f"SELECT {TICKET_COLUMNS} FROM tickets WHERE id = ?", [ticket_id])
        if row is None:
            raise UnknownTicket(ticket_id)
        return ticket_from_row(row)

    def find_ticket(self, source: str, remote_id: str) -> Ticket | None:
        """The ticket a backend knows as ``remote_id``, if cached."""
        row = self._one(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE source = ? AND remote_id = ?",
            [source, remote_id],
        )
        return ticket_from_row(row) if row else None

    def get_customer(self, customer_id: int | None) -> Customer | None:
        """The customer with ``customer_id`` (None for None)."""
        if customer_id is None:
            return None
        row = self._one(f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = ?", [customer_id])
        return customer_from_row(row) if row else None

    def customers(self) -> list[Customer]:
        """Every customer, by name."""
        rows = self.db.execute(f"SELECT {CUSTOMER_COLUMNS} FROM customers ORDER BY name")
        return self.decode_all(rows, customer_from_row)

    def comments(self, ticket_id: int) -> list[Comment]:
        """The ticket's thread, oldest first."""
        rows = self.db.execute(
            f"SELECT {COMMENT_COLUMNS} FROM comments WHERE ticket_id = ? ORDER BY created_at, id",
            [ticket_id],
        )
        return self.decode_all(rows, comment_from_row)

    def plans(self) -> dict[int | None, str]:
        """Every customer's support plan, by customer id (``.get(None)`` is None: no customer)."""
        return dict(self.db.execute("SELECT id, plan FROM customers").fetchall())

    def plan_of(self, customer_id: int | None) -> str | None:
        """The support plan of a customer."""
        if customer_id is None:
            return None
        row = self._one("SELECT plan FROM customers WHERE id = ?", [customer_id])
        return row[0] if row else None

    def ticket_count(self) -> int:
        """How many tickets are cached."""
        row = self._one("SELECT count(*) FROM tickets")
        assert row is not None
        return int(row[0])

    # ---- writing -------------------------------------------------------------------------

    def upsert_customer(self, customer: Customer, source: str = "local") -> int:
        """Insert or update a customer (matched on source + remote id); returns its id."""
        values = {
            "source": source,
            "remote_id": customer.remote_id,
            "name": clean_line(customer.name),
            "plan": customer.plan,
            "codename": customer.codename,
            "domains": dumps(list(customer.domains)),
            "contacts": dumps(list(customer.contacts)),
        }
        with self.db.atomic():
            existing = None
            if customer.remote_id is not None:
                existing = self._one(
                    "SELECT id, plan, name, codename, domains, contacts FROM customers "
                    "WHERE source = ? AND remote_id = ?",
                    [source, customer.remote_id],
                )
            elif customer.id:
                existing = self._one(
                    "SELECT id, plan, name, codename, domains, contacts FROM customers "
                    "WHERE id = ?",
                    [customer.id],
                )
            if existing is None:
                cur = self.db.execute(
                    "INSERT INTO customers (source, remote_id, name, plan, codename, domains, "
                    "contacts) VALUES (:source, :remote_id, :name, :plan, :codename, :domains, "
                    ":contacts)",
                    values,
                )
                assert cur.lastrowid is not None
                return cur.lastrowid
            customer_id = int(existing[0])
            # A page only names the people it saw: add to what we know, never shrink it (the
            # confidentiality guard is only as good as this list).
            for column, index, new in (
                ("domains", 4, customer.domains),
                ("contacts", 5, customer.contacts),
            ):
                known = json.loads(existing[index])
                values[column] = dumps(known + [x for x in new if x not in known])
            self.db.execute(
                # a codename given here (assign_codename) stays when the backend has none
                "UPDATE customers SET name = :name, plan = :plan, "
                "codename = coalesce(:codename, codename), "
                "domains = :domains, contacts = :contacts WHERE id = :id",
                {**values, "id": customer_id},
            )
            if existing[1] != customer.plan:
                self.recompute_sla(
                    self._ids("SELECT id FROM tickets WHERE customer_id = ?", [customer_id])
                )
            if (existing[2], existing[3]) != (values["name"], customer.codename):
                self.reindex(
                    self._ids("SELECT id FROM tickets WHERE customer_id = ?", [customer_id])
                )
            return customer_id

    def _ids(self, sql: str, params: Any = ()) -> list[int]:
        return [int(r[0]) for r in self.db.execute(sql, params)]

    def sla_columns(self, ticket: Ticket, plan: str | None) -> dict[str, Any]:
        """The stored SLA columns for ``ticket`` (see :meth:`SlaColumns.columns`)."""
        return self.clocks.columns(ticket, plan)

    def ticket_values(self, ticket: Ticket, plan: str | None) -> dict[str, Any]:
        from oncall_tui.domain import sla_history

        values: dict[str, Any] = {
            "source": str(ticket.source),
            "remote_id": ticket.remote_id,
            "channel": str(ticket.channel),
            "subject": clean_line(ticket.subject),
            "body": clean_text(ticket.body),
            "status": str(ticket.status),
            "priority": str(ticket.priority),
            "labels": dumps([clean_line(x) for x in ticket.labels]),
            "assignee": ticket.assignee,
            "requester": ticket.requester,
            "customer_id": ticket.customer_id,
            "url": ticket.url,
            "opened_at": iso(ticket.opened_at),
            "updated_at": iso(ticket.updated_at),
            "first_response_at": iso(ticket.first_response_at),
            "pauses": pauses_to_json(ticket.pauses),
            "label_since": dumps(
                {
                    label: iso(since)
                    for label, since in labels_since(
                        ticket.label_since, ticket.labels, ticket.updated_at
                    ).items()
                }
            ),
            "version": ticket.version,
            "sla_events": sla_history.events_to_json(ticket.sla_events),
            "status_since": iso(ticket.status_since or ticket.updated_at),
        }
        values.update(self.sla_columns(ticket, plan))
        return values

    def insert_tickets(
        self, tickets: Sequence[Ticket], comments: Iterable[Comment] = ()
    ) -> list[int]:
        """Add new tickets (ids are assigned) and their comments, in one transaction.

        ``Comment.ticket_id`` refers to the position of its ticket in ``tickets``.
        """
        from oncall_tui.domain import sla_history

        plans = self.plans()
        ids: list[int] = []
        comments = list(comments)
        said: dict[int, list[Any]] = {}
        for c in comments:
            ev = sla_history.comment_event(c.role, c.public, c.created_at)
            if ev is not None:
                said.setdefault(c.ticket_id, []).append(ev)
        with self.db.atomic():
            for i, ticket in enumerate(tickets):
                if not ticket.sla_events:
                    events = sla_history.ordered(
                        sla_history.initial_events(ticket) + tuple(said.get(i, ()))
                    )
                    ticket = replace(ticket, sla_events=events)
                values = self.ticket_values(ticket, plans.get(ticket.customer_id or -1))
                columns = ", ".join(values)
                marks = ", ".join(f":{k}" for k in values)
                cur = self.db.execute(f"INSERT INTO tickets ({columns}) VALUES ({marks})", values)
                assert cur.lastrowid is not None
                ids.append(cur.lastrowid)
            self.db.conn.executemany(
                "INSERT INTO comments (ticket_id, remote_id, author, body, public, created_at, "
                "author_role) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        ids[c.ticket_id],
                        c.remote_id,
                        clean_line(c.author),
                        clean_text(c.body),
                        int(c.public),
                        iso(c.created_at),
                        c.role,
                    )
                    for c in comments
                ],
            )
            self.reindex(ids)
        return ids

    def recompute_sla(self, ticket_ids: Sequence[int] | None = None) -> int:
        """Recompute the stored clock columns (see :meth:`SlaColumns.recompute`); None means
        every open ticket. Returns how many tickets were recomputed."""
        return self.clocks.recompute(ticket_ids)

    def _sla_changed(self, ticket_id: int) -> None:
        self.recompute_sla([ticket_id])

    # ---- local edits -----------------------------------------------------------------------

    def _edit(
        self,
        ticket_id: int,
        kind: OpKind,
        payload: dict[str, Any],
        change: dict[str, Any],
    ) -> Ticket:
        """Apply ``change`` to the ticket and queue ``kind`` for its backend, atomically."""
        from oncall_tui.domain import sla_history

        now = self.clock()
        with self.db.atomic():
            old = self.get_ticket(ticket_id)
            new = replace(old, updated_at=now, **change)
            if new.status != old.status:
                new = replace(new, status_since=now)
            new = replace(new, pauses=sla_rules.update_pauses(old, new, now))
            added = sla_history.changes(old, new, now)
            new = replace(new, sla_events=old.sla_events + added)
            columns = self.ticket_values(new, self.plan_of(new.customer_id))
            undo = {
                k: v
                for k, v in self.ticket_values(old, self.plan_of(old.customer_id)).items()
                if columns.get(k) != v and k != "sla_events"
            }
            assignments = ", ".join(f"{k} = :{k}" for k in columns)
            self.db.execute(
                f"UPDATE tickets SET {assignments} WHERE id = :id", {**columns, "id": ticket_id}
            )
            if is_supported(old.source, kind):
                self.outbox.enqueue(
                    Op(
                        kind=kind,
                        source=old.source,
                        payload=payload,
                        idempotency_key=str(uuid.uuid4()),
                        ticket_id=ticket_id,
                        remote_id=old.remote_id,
                        base_version=old.version,
                        # undo takes back the row's fields and only this edit's events: a
                        # comment synced meanwhile stays in the history
                        undo={"columns": undo, "sla_events": _triples(added)},
                    )
                )
            return self.get_ticket(ticket_id)

    def set_status(self, ticket_id: int, status: Status) -> Ticket:
        """Change the status (pending / on hold pause the SLA clock)."""
        return self._edit(ticket_id, OpKind.SET_STATUS, {"status": str(status)}, {"status": status})

    def set_priority(self, ticket_id: int, priority: Priority) -> Ticket:
        """Change the priority (the due instant is recomputed)."""
        return self._edit(
            ticket_id, OpKind.SET_PRIORITY, {"priority": str(priority)}, {"priority": priority}
        )

    def assign(self, ticket_id: int, assignee: str | None) -> Ticket:
        """Assign the ticket (None unassigns)."""
        return self._edit(ticket_id, OpKind.ASSIGN, {"assignee": assignee}, {"assignee": assignee})

    def add_labels(self, ticket_id: int, labels: Sequence[str]) -> Ticket:
        """Add labels (a "+" label pauses the SLA clock)."""
        with self.db.atomic():  # read and write in one transaction: no lost update
            ticket = self.get_ticket(ticket_id)
            new = [x for x in labels if x not in ticket.labels]
            if not new:
                return ticket
            return self._edit(
                ticket_id,
                OpKind.ADD_LABELS,
                {"labels": new},
                {"labels": ticket.labels + tuple(new)},
            )

    def remove_labels(self, ticket_id: int, labels: Sequence[str]) -> Ticket:
        """Remove labels."""
        with self.db.atomic():  # read and write in one transaction: no lost update
            ticket = self.get_ticket(ticket_id)
            gone = [x for x in labels if x in ticket.labels]
            if not gone:
                return ticket
            kept = tuple(x for x in ticket.labels if x not in gone)
            return self._edit(ticket_id, OpKind.REMOVE_LABELS, {"labels": gone}, {"labels": kept})

    def add_comment(self, ticket_id: int, body: str, *, public: bool, author: str) -> Comment:
        """Queue a public reply or an internal note; it shows in the thread at once.

        A public reply is the first response if there was none, which stops the SLA clock.

        Raises:
            ValueError: an internal note on a public tracker issue or a chat thread.
        """
        from oncall_tui.domain import sla_history

        now = self.clock()
        with self.db.atomic():
            ticket = self.get_ticket(ticket_id)
            kind = OpKind.REPLY if public else OpKind.NOTE
            if not public and not is_supported(ticket.source, OpKind.NOTE):
                raise ValueError(
                    f"internal notes are not possible on {ticket.source} items: anything "
                    "written there is public"
                )
            op_id = self.outbox.enqueue(
                Op(
                    kind=kind,
                    source=ticket.source,
                    payload={"body": body},
                    idempotency_key=str(uuid.uuid4()),
                    ticket_id=ticket_id,
                    remote_id=ticket.remote_id,
                    base_version=ticket.version,
                )
            )
            cur = self.db.execute(
                "INSERT INTO comments (ticket_id, author, body, public, created_at, outbox_id, "
                "author_role) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [ticket_id, author, clean_text(body), int(public), iso(now), op_id, "staff"],
            )
            undo: dict[str, Any] = {"comment_id": cur.lastrowid}
            # Ours, so staff: a public reply answers the running clock, a note does not.
            event = sla_history.comment_event("staff", public, now)
            assert event is not None
            answered = replace(
                ticket,
                first_response_at=ticket.first_response_at or (now if public else None),
                sla_events=ticket.sla_events + (event,),
            )
            cols = self.sla_columns(answered, self.plan_of(ticket.customer_id))
            cols.update(
                first_response_at=iso(answered.first_response_at),
                sla_events=sla_history.events_to_json(answered.sla_events),
                id=ticket_id,
            )
            self.db.execute(
                "UPDATE tickets SET first_response_at = :first_response_at, "
                "sla_events = :sla_events, "
                "paused = :paused, is_open = :is_open, sla_bucket = :sla_bucket, "
                "sla_due = :sla_due, sla_warn_at = :sla_warn_at, sla_target = :sla_target "
                "WHERE id = :id",
                cols,
            )
            # Undone (or refused for good), the reply takes back only what it changed: its
            # event, and the first response it was.
            undo["columns"] = {"first_response_at": iso(ticket.first_response_at)}
            undo["sla_events"] = _triples((event,))
            self.db.execute("UPDATE outbox SET undo = ? WHERE id = ?", [dumps(undo), op_id])
            self.reindex([ticket_id])
            row = self._one(f"SELECT {COMMENT_COLUMNS} FROM comments WHERE id = ?", [cur.lastrowid])
            assert row is not None
            return comment_from_row(row)

    def link(self, ticket_id: int, url: str, title: str, linked_id: int | None = None) -> None:
        """Record that ``ticket_id`` is linked to a tracker issue."""
        self.db.execute(
            "INSERT OR REPLACE INTO ticket_links (ticket_id, linked_id, url, title, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [ticket_id, linked_id, url, clean_line(title), self.now()],
        )

    def links(self, ticket_id: int) -> list[tuple[str, str]]:
        """(url, title) of the issues linked to a ticket."""
        rows = self.db.execute(
            "SELECT url, title FROM ticket_links WHERE ticket_id = ? ORDER BY created_at",
            [ticket_id],
        )
        return [(r[0], r[1]) for r in rows]

    # ---- runbook progress ----------------------------------------------------------------

    def runbook_progress(self, ticket_id: int, slug: str | None = None) -> dict[str, set[int]]:
        """Ticked checklist items per runbook slug for a ticket."""
        sql = "SELECT slug, item FROM runbook_progress WHERE ticket_id = ?"
        params: list[Any] = [ticket_id]
        if slug is not None:
            sql += " AND slug = ?"
            params.append(slug)
        result: dict[str, set[int]] = {}
        for row_slug, item in self.db.execute(sql, params):
            result.setdefault(row_slug, set()).add(int(item))
        return result

    def set_runbook_item(self, ticket_id: int, slug: str, item: int, done: bool) -> None:
        """Tick or untick one checklist item of a runbook for a ticket."""
        if done:
            self.db.execute(
                "INSERT OR IGNORE INTO runbook_progress (ticket_id, slug, item, done_at) "
                "VALUES (?, ?, ?, ?)",
                [ticket_id, slug, item, self.now()],
            )
        else:
            self.db.execute(
                "DELETE FROM runbook_progress WHERE ticket_id = ? AND slug = ? AND item = ?",
                [ticket_id, slug, item],
            )

    def meta(self, key: str) -> str | None:
        """A value from the meta table."""
        row = self._one("SELECT value FROM meta WHERE key = ?", [key])
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Set a value in the meta table."""
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value])
