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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import fields, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from oncall_tui.domain import sla as sla_rules
from oncall_tui.domain.ops import Op, OpKind, is_supported
from oncall_tui.domain.text import clean_line, clean_text, is_unsafe, is_unsafe_line
from oncall_tui.domain.tickets import (
    BACKEND_NAMES,
    Customer,
    Source,
    Status,
    Ticket,
    is_waiting_label,
)
from oncall_tui.store.base import TICKET_COLUMNS, Part, Shared, ticket_from_row
from oncall_tui.store.db import dumps, iso, parse_iso
from oncall_tui.store.sync_state import LOG_KEEP

if TYPE_CHECKING:
    from oncall_tui.store.outbox import Outbox
    from oncall_tui.store.team import Team
    from oncall_tui.store.tickets import Tickets

if TYPE_CHECKING:  # the SLA clocks load with the first page applied, not at start
    from oncall_tui.domain.sla_clocks import SlaEvent

if TYPE_CHECKING:  # the sync records load with the first page applied, not at start
    from oncall_tui.domain.remote import (
        Page,
        Quarantined,
        RemoteComment,
        RemoteCustomer,
        RemoteTicket,
    )

#: Which ticket fields each kind of outbox entry edits locally.
OP_FIELDS: dict[str, tuple[str, ...]] = {
    OpKind.SET_STATUS: ("status",),
    OpKind.SET_PRIORITY: ("priority",),
    OpKind.ASSIGN: ("assignee",),
    OpKind.ADD_LABELS: ("labels",),
    OpKind.REMOVE_LABELS: ("labels",),
}
#: Fields that exist only locally for chat threads (Slack has no status or priority).
CHAT_LOCAL_FIELDS = ("status", "priority", "assignee", "labels")


def inert(record: Any) -> Any:
    """A copy of a remote record (a dataclass) whose text can no longer drive a terminal.

    ``body`` keeps its lines (:func:`clean_text`); every other string, and the strings of
    tuples (labels, domains, contacts), becomes one inert line (:func:`clean_line`). Ids are
    cleaned the same way on every page, so they still match each other.
    """
    names = _field_names(type(record))
    lines = [getattr(record, n) for n in names if n != "body"]
    texts = [v for v in lines if isinstance(v, str)]
    texts += [x for v in lines if isinstance(v, tuple) for x in v if isinstance(x, str)]
    body = getattr(record, "body", None)
    if not is_unsafe_line(" ".join(texts)) and not (isinstance(body, str) and is_unsafe(body)):
        return record  # the usual case: one look at the record's text, nothing to change
    changes: dict[str, Any] = {}
    for name in names:
        value = getattr(record, name)
        if isinstance(value, str):
            new: Any = clean_text(value) if name == "body" else clean_line(value)
        elif isinstance(value, tuple) and all(isinstance(v, str) for v in value):
            new = tuple(clean_line(v) for v in value)
        else:
            continue
        if new != value:
            changes[name] = new
    return replace(record, **changes) if changes else record


def _local_ticket(
    rt: RemoteTicket,
    *,
    ticket_id: int = 0,
    customer_id: int | None,
    first_response_at: datetime | None = None,
    label_since: dict[str, datetime] | None = None,
) -> Ticket:
    """The cached form of a backend's ticket (what only we know is passed in)."""
    return Ticket(
        id=ticket_id,
        source=rt.source,
        remote_id=rt.remote_id,
        channel=rt.channel,
        subject=rt.subject,
        body=rt.body,
        status=rt.status,
        priority=rt.priority,
        labels=tuple(rt.labels),
        assignee=rt.assignee,
        requester=rt.requester,
        customer_id=customer_id,
        url=rt.url,
        opened_at=rt.opened_at,
        updated_at=rt.updated_at,
        version=rt.version,
        first_response_at=first_response_at,
        label_since=label_since or {},
        status_since=rt.updated_at,
    )


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(kind: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(kind))
    return names


class Remote(Part):
    """Applying pulled pages and push confirmations: the tickets part writes the records,
    the outbox part settles a confirmed entry, the team part (a member's removals, a relay's
    publication queue) sees every page."""

    def __init__(self, shared: Shared, *, tickets: Tickets, outbox: Outbox, team: Team) -> None:
        super().__init__(shared)
        self.tickets = tickets
        self.outbox = outbox
        self.team = team

    mirror_only: bool = False
    """While a relayed page (team mode) is applied: what a customer's message ends is only
    mirrored in the cache, never queued (the relay queues it, once for the team)."""

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

    def _apply_page(self, backend: str, page: Page, *, save_cursor: bool) -> set[int]:
        with self.db.atomic():
            self.mirror_only = page.relayed
            try:
                changed = self._apply_records(
                    backend, page.customers, page.tickets, page.comments, settled=page.done
                )
            finally:
                self.mirror_only = False
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
        shown = ", ".join(f"#{r}" for r in sorted(left, key=_number)[:10])
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
        with self.db.atomic():
            return self._apply_records(backend, (), tickets, ())

    def apply_remote_ticket(self, backend: str, ticket: RemoteTicket) -> set[int]:
        """Write one ticket a push returned (its newest copy)."""
        with self.db.atomic():
            return self._apply_records(backend, (), (ticket,), ())

    def _customer_ids(self, backend: str, customers: Iterable[RemoteCustomer]) -> None:
        """Store a page's customers; most pages repeat what is known, so those are skipped."""
        customers = list(customers)
        known: dict[str, tuple[Any, ...]] = {}
        for chunk in _chunks(sorted({rc.remote_id for rc in customers})):
            rows = self.db.execute(
                "SELECT remote_id, name, plan, codename, domains, contacts FROM customers "
                f"WHERE source = ? AND remote_id IN ({','.join('?' * len(chunk))})",
                [backend, *chunk],
            )
            known.update((row[0], row[1:]) for row in rows)
        for rc in customers:
            row = known.get(rc.remote_id)
            if (
                row is not None
                and row[:3] == (clean_line(rc.name), rc.plan, rc.codename)
                and set(rc.domains) <= set(json.loads(row[3]))
                and set(rc.contacts) <= set(json.loads(row[4]))
            ):
                continue
            self.tickets.upsert_customer(
                Customer(
                    id=0,
                    name=rc.name,
                    plan=rc.plan,
                    codename=rc.codename,
                    domains=tuple(rc.domains),
                    contacts=tuple(rc.contacts),
                    remote_id=rc.remote_id,
                ),
                source=backend,
            )

    def _customer_for(self, backend: str, remote_id: str | None) -> int | None:
        if remote_id is None:
            return None
        row = self._one(
            "SELECT id FROM customers WHERE source = ? AND remote_id = ?", [backend, remote_id]
        )
        if row is None:  # the same organisation may be known through another backend
            row = self._one("SELECT id FROM customers WHERE remote_id = ?", [remote_id])
        return int(row[0]) if row else None

    def _pending_fields(self, ticket_id: int) -> set[str]:
        rows = self.db.execute(
            "SELECT kind FROM outbox WHERE ticket_id = ? AND state IN ('pending', 'inflight', "
            "'failed')",
            [ticket_id],
        )
        fields: set[str] = set()
        for (kind,) in rows:
            fields.update(OP_FIELDS.get(kind, ()))
        return fields

    def _apply_records(
        self,
        backend: str,
        customers: Iterable[RemoteCustomer],
        tickets: Iterable[RemoteTicket],
        comments: Iterable[RemoteComment],
        *,
        settled: bool = True,
    ) -> set[int]:
        """Write records; ``settled`` False means more pages of the same pull follow.

        A ticket whose record changed is re-indexed at once. One whose thread alone grew in
        an unsettled page (a long stream of comment pages: a first sync's history touches a
        ticket on several of them) is marked stale and re-indexed once, with every other
        stale one, when a settled page arrives.

        On a relay's store (the team part's ``publish``) what was written is also queued for
        the stream, in the same transaction.
        """
        staged = (tuple(customers), tuple(tickets), tuple(comments)) if self.team.publish else None
        if staged is not None:
            customers, tickets, comments = staged
        self._customer_ids(backend, (inert(c) for c in customers))
        changed: set[int] = set()
        incoming = [inert(rt) for rt in tickets]
        if incoming:
            changed |= self._apply_tickets(backend, incoming)
        thread = [inert(rc) for rc in comments]
        grown = self._apply_comments(thread) if thread else set()
        if settled:
            stale = {r[0] for r in self.db.execute("SELECT ticket_id FROM fts_stale")}
            if stale:
                self.db.execute("DELETE FROM fts_stale")
            refresh = changed | grown | stale
        else:
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO fts_stale (ticket_id) VALUES (?)",
                [(tid,) for tid in sorted(grown - changed)],
            )
            refresh = changed
        if refresh:
            self.reindex(sorted(refresh))
        if staged is not None:
            self.team.stage(backend, *staged)
        return changed | grown

    def _apply_tickets(self, backend: str, tickets: Sequence[RemoteTicket]) -> set[int]:
        """Known tickets one by one (merge rules), new ones in one statement."""
        latest: dict[tuple[str, str], RemoteTicket] = {}
        for rt in tickets:
            key = (str(rt.source), rt.remote_id)
            seen = latest.get(key)
            if seen is None or rt.updated_at >= seen.updated_at:
                latest[key] = rt
        known = self._ticket_ids(latest)
        changed: set[int] = set()
        fresh: list[RemoteTicket] = []
        for key, rt in latest.items():
            if key in known:
                tid = self._apply_ticket(backend, rt)
                if tid is not None:
                    changed.add(tid)
            else:
                fresh.append(rt)
        if fresh:
            changed |= self._insert_remote_tickets(backend, fresh)
        return changed

    def _ticket_ids(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Local ids of the cached tickets among (source, remote id) keys."""
        return {key: row[0] for key, row in self._ticket_rows(keys, "id").items()}

    def _ticket_rows(
        self, keys: Iterable[tuple[str, str]], columns: str
    ) -> dict[tuple[str, str], tuple[Any, ...]]:
        """``columns`` of the cached tickets among (source, remote id) keys, by key."""
        found: dict[tuple[str, str], tuple[Any, ...]] = {}
        for source, chunk, marks in _by_source(keys):
            rows = self.db.execute(
                f"SELECT remote_id, {columns} FROM tickets "
                f"WHERE source = ? AND remote_id IN ({marks})",
                [source, *chunk],
            )
            found.update(((source, row[0]), tuple(row[1:])) for row in rows)
        return found

    def _customer_map(self, backend: str, remote_ids: Iterable[str]) -> dict[str, int]:
        """Local customer ids by remote id; this backend's own record wins (the same
        organisation may be known through another backend)."""
        found: dict[str, int] = {}
        for chunk in _chunks(sorted(set(remote_ids))):
            rows = self.db.execute(
                f"SELECT remote_id, id, source = ? FROM customers "
                f"WHERE remote_id IN ({','.join('?' * len(chunk))}) ORDER BY source = ?, id",
                [backend, *chunk, backend],
            )
            for remote_id, cid, _own in rows:  # own rows last, so they win
                found[remote_id] = cid
        return found

    def _insert_remote_tickets(self, backend: str, fresh: Sequence[RemoteTicket]) -> set[int]:
        from oncall_tui.domain import sla_history

        customer_ids = self._customer_map(
            backend, (rt.customer_remote_id for rt in fresh if rt.customer_remote_id is not None)
        )
        plans = self.tickets.plans()
        rows: list[dict[str, Any]] = []
        for rt in fresh:
            customer_id = customer_ids.get(rt.customer_remote_id or "")
            ticket = _local_ticket(rt, customer_id=customer_id)
            ticket = replace(
                ticket,
                pauses=sla_rules.update_pauses(None, ticket, rt.opened_at),
                sla_events=sla_history.initial_events(ticket),
            )
            values = self.tickets.ticket_values(ticket, plans.get(customer_id))
            values["remote_updated_at"] = iso(rt.updated_at)
            rows.append(values)
        columns = list(rows[0])
        self.db.conn.executemany(
            f"INSERT INTO tickets ({', '.join(columns)}) "
            f"VALUES ({', '.join(':' + c for c in columns)})",
            rows,
        )
        ids = self._ticket_ids((str(rt.source), rt.remote_id) for rt in fresh)
        self._adopt_pending(list(ids))
        return set(ids.values())

    def _adopt_pending(self, keys: Sequence[tuple[str, str]]) -> None:
        """Move comments that waited for these (just inserted) tickets into their threads."""
        from oncall_tui.domain.remote import RemoteComment

        waiting: list[RemoteComment] = []
        for source, chunk, marks in _by_source(keys):
            where = f"WHERE source = ? AND ticket_remote_id IN ({marks})"
            rows = self.db.execute(
                "SELECT ticket_remote_id, remote_id, author, author_handle, body, public, "
                f"created_at, author_role FROM pending_comments {where}",
                [source, *chunk],
            ).fetchall()
            if not rows:
                continue
            self.db.execute(f"DELETE FROM pending_comments {where}", [source, *chunk])
            for ticket_remote_id, remote_id, author, handle, body, public, at, role in rows:
                created = parse_iso(at)
                assert created is not None
                waiting.append(
                    RemoteComment(
                        source=Source(source),
                        ticket_remote_id=ticket_remote_id,
                        remote_id=remote_id,
                        author=author,
                        body=body,
                        public=bool(public),
                        created_at=created,
                        author_handle=handle,
                        author_role=role or "",
                    )
                )
        if waiting:
            self._apply_comments(waiting)

    def _apply_comments(self, comments: Sequence[RemoteComment]) -> set[int]:
        """Add new comments to their tickets' threads (a repeated one is ignored); keep those
        of tickets not cached yet for later; mark first responses. Returns changed ids."""
        from oncall_tui.domain import sla_history
        from oncall_tui.domain.sla_clocks import EventType

        tickets = self._ticket_rows(
            {(str(rc.source), rc.ticket_remote_id) for rc in comments},
            "id, requester, first_response_at",
        )
        orphans = [rc for rc in comments if (str(rc.source), rc.ticket_remote_id) not in tickets]
        if orphans:
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO pending_comments (source, ticket_remote_id, remote_id, "
                "author, author_handle, body, public, created_at, author_role) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        str(rc.source),
                        rc.ticket_remote_id,
                        rc.remote_id,
                        clean_line(rc.author),
                        rc.author_handle,
                        clean_text(rc.body),
                        int(rc.public),
                        iso(rc.created_at),
                        rc.author_role,
                    )
                    for rc in orphans
                ],
            )
        tids = sorted({t[0] for t in tickets.values()})
        have: set[tuple[int, str]] = set()
        for chunk in _chunks(tids):
            have.update(
                self.db.execute(
                    "SELECT ticket_id, remote_id FROM comments "
                    f"WHERE ticket_id IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
            )
        new: list[tuple[int, RemoteComment]] = []
        for rc in comments:
            found = tickets.get((str(rc.source), rc.ticket_remote_id))
            if found is None or (found[0], rc.remote_id) in have:
                continue
            have.add((found[0], rc.remote_id))
            new.append((found[0], rc))
        if not new:
            return set()
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO comments (ticket_id, remote_id, author, body, public, "
            "created_at, author_role) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    tid,
                    rc.remote_id,
                    clean_line(rc.author),
                    clean_text(rc.body),
                    int(rc.public),
                    iso(rc.created_at),
                    comment_role(rc, tickets[(str(rc.source), rc.ticket_remote_id)][1]),
                )
                for tid, rc in new
            ],
        )
        said: dict[int, list[SlaEvent]] = {}
        customer_said: dict[int, tuple[datetime, str]] = {}
        for tid, rc in new:
            role = comment_role(rc, tickets[(str(rc.source), rc.ticket_remote_id)][1])
            event = sla_history.comment_event(role, rc.public, rc.created_at)
            if event is not None:
                said.setdefault(tid, []).append(event)
                if event.type is EventType.CUSTOMER_COMMENT:
                    last = customer_said.get(tid)
                    if last is None or rc.created_at >= last[0]:
                        customer_said[tid] = (rc.created_at, rc.remote_id)
        if said:
            self._record_messages(said, customer_said)
        return {tid for tid, _rc in new}

    def _record_messages(
        self,
        said: dict[int, list[SlaEvent]],
        customer_said: dict[int, tuple[datetime, str]] | None = None,
    ) -> None:
        """Add messages to their tickets' SLA histories and recompute the clocks; a staff
        answer is also the first response if there was none. A customer's message ends the
        waiting (:meth:`_end_waiting`): ``customer_said`` has each ticket's latest one (its
        instant and remote id)."""
        from oncall_tui.domain import sla_history
        from oncall_tui.domain.sla_clocks import EventType

        plans = self.tickets.plans()
        updates: list[dict[str, Any]] = []
        customer_said = customer_said or {}
        for chunk in _chunks(sorted(said)):
            rows = self.db.execute(
                f"SELECT {TICKET_COLUMNS} FROM tickets WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            for row in rows:
                ticket = ticket_from_row(row)
                events = sorted(said[ticket.id], key=lambda e: e.at)
                answers = [e.at for e in events if e.type is EventType.AGENT_PUBLIC]
                first = ticket.first_response_at
                if answers and (first is None or min(answers) < first):
                    first = min(answers)
                ticket = replace(
                    ticket,
                    first_response_at=first,
                    sla_events=sla_history.ordered(ticket.sla_events + tuple(events)),
                )
                spoke = customer_said.get(ticket.id)
                if spoke is not None:
                    ended = self._end_waiting(ticket, *spoke)
                    if ended is not ticket:
                        values = self.tickets.ticket_values(ended, plans.get(ended.customer_id))
                        assignments = ", ".join(f"{k} = :{k}" for k in values)
                        self.db.execute(
                            f"UPDATE tickets SET {assignments} WHERE id = :id",
                            {**values, "id": ended.id},
                        )
                        continue
                cols = self.tickets.sla_columns(ticket, plans.get(ticket.customer_id))
                cols.update(
                    first_response_at=iso(first),
                    sla_events=sla_history.events_to_json(ticket.sla_events),
                    id=ticket.id,
                )
                updates.append(cols)
        self.db.conn.executemany(
            "UPDATE tickets SET first_response_at = :first_response_at, "
            "sla_events = :sla_events, paused = :paused, "
            "is_open = :is_open, sla_bucket = :sla_bucket, sla_due = :sla_due, "
            "sla_warn_at = :sla_warn_at, sla_target = :sla_target WHERE id = :id",
            updates,
        )

    def _end_waiting(self, ticket: Ticket, at: datetime, comment_id: str) -> Ticket:
        """A customer's public message (at ``at``) ends the waiting: pending (or solved)
        becomes open and ``+`` labels come off; on hold stays on hold, closed stays closed.

        Only what was set before the message ends: a status or label set after it (the
        user's "pending" again, a backend copy that already shows the reply) stays. What the
        backend does not do by itself (``SlaSettings.wait_end``) is queued to it, keyed on the
        message, so two processes that both pull it queue it once; a relayed page (team mode)
        is only mirrored, the relay queues it. Returns ``ticket`` itself when nothing ends.
        """
        from oncall_tui.domain import sla_history

        if ticket.status is Status.CLOSED:
            return ticket
        status_since = ticket.status_since or ticket.updated_at
        reopen = ticket.status in (Status.PENDING, Status.SOLVED) and status_since <= at
        gone = [
            x
            for x in ticket.labels
            if is_waiting_label(x) and ticket.label_since.get(x, ticket.updated_at) <= at
        ]
        if not reopen and not gone:
            return ticket
        ended = replace(
            ticket,
            status=Status.OPEN if reopen else ticket.status,
            status_since=at if reopen else ticket.status_since,
            labels=tuple(x for x in ticket.labels if x not in gone),
            updated_at=max(ticket.updated_at, at),
        )
        ended = replace(
            ended,
            pauses=sla_rules.update_pauses(ticket, ended, at),
            sla_events=ticket.sla_events + sla_history.changes(ticket, ended, at),
        )
        if self.mirror_only or ticket.remote_id is None:
            return ended
        wait = self.sla.wait_end(BACKEND_NAMES[ticket.source])
        # An unsent edit of ours (the user's "pending" before the message) lands after what
        # the backend did by itself: then ending the wait must be sent too, after it.
        unsent = self._pending_fields(ticket.id)
        key = f"auto:customer-reply:{ticket.source}:{ticket.remote_id}:{comment_id}"
        queued: list[tuple[OpKind, dict[str, Any], dict[str, Any]]] = []
        if reopen and (not wait.reopens or "status" in unsent):
            queued.append(
                (OpKind.SET_STATUS, {"status": str(Status.OPEN)}, {"status": str(ticket.status)})
            )
        if gone and (not wait.removes_waiting_labels or "labels" in unsent):
            before = {"labels": dumps(list(ticket.labels))}
            queued.append((OpKind.REMOVE_LABELS, {"labels": gone}, before))
        for kind, payload, before in queued:
            if not is_supported(ticket.source, kind):
                continue  # local only there (a chat thread's status and labels)
            self.outbox.enqueue_once(
                Op(
                    kind=kind,
                    source=ticket.source,
                    payload=payload,
                    idempotency_key=f"{key}:{kind}",
                    ticket_id=ticket.id,
                    remote_id=ticket.remote_id,
                    base_version=ticket.version,
                    undo={"columns": before},
                )
            )
        return ended

    def _apply_ticket(self, backend: str, rt: RemoteTicket) -> int | None:
        """A newer copy of a cached ticket, merged field by field with unsent local edits."""
        from oncall_tui.domain import sla_history

        existing = self.tickets.find_ticket(str(rt.source), rt.remote_id)
        if existing is None:
            return next(iter(self._insert_remote_tickets(backend, [rt])), None)
        customer_id = self._customer_for(backend, rt.customer_remote_id)
        incoming = _local_ticket(
            rt,
            ticket_id=existing.id,
            customer_id=customer_id if customer_id is not None else existing.customer_id,
            first_response_at=existing.first_response_at,
            label_since=existing.label_since,
        )
        known = self._one("SELECT remote_updated_at FROM tickets WHERE id = ?", [existing.id])
        known_at = parse_iso(known[0]) if known else None
        if known_at is not None and rt.updated_at < known_at:
            return None  # an older copy (e.g. the export's one-minute lag): not a revert
        pending = self._pending_fields(existing.id)
        keep = set(pending)
        if rt.source == Source.CHAT:
            keep.update(CHAT_LOCAL_FIELDS)
        merged = replace(incoming, **{f: getattr(existing, f) for f in keep})
        if merged.status == existing.status:  # the status was set when it was set
            merged = replace(merged, status_since=existing.status_since or existing.updated_at)
        merged = replace(
            merged,
            pauses=sla_rules.update_pauses(existing, merged, rt.updated_at),
            sla_events=existing.sla_events + sla_history.changes(existing, merged, rt.updated_at),
        )
        values = self.tickets.ticket_values(merged, self.tickets.plan_of(merged.customer_id))
        values["remote_updated_at"] = iso(rt.updated_at)
        conflicts = self._conflicts(existing, incoming, pending)
        if conflicts:
            values["conflict"] = dumps(conflicts)
        old_values = self.tickets.ticket_values(
            existing, self.tickets.plan_of(existing.customer_id)
        )
        if all(old_values.get(k) == v for k, v in values.items() if k != "remote_updated_at"):
            self.db.execute(
                "UPDATE tickets SET remote_updated_at = ? WHERE id = ?",
                [values["remote_updated_at"], existing.id],
            )
            return None
        assignments = ", ".join(f"{k} = :{k}" for k in values)
        self.db.execute(
            f"UPDATE tickets SET {assignments} WHERE id = :id", {**values, "id": existing.id}
        )
        return existing.id

    def _conflicts(self, mine: Ticket, theirs: Ticket, pending: set[str]) -> dict[str, Any]:
        """Fields both sides changed since the base of the unsent local edit.

        A field only we changed keeps ours, a field only they changed takes theirs (a field by
        field merge); a field both changed to different values is a conflict for the user.
        """
        if not pending:
            return {}
        plan = self.tickets.plan_of(mine.customer_id)
        mine_values = self.tickets.ticket_values(mine, plan)
        their_values = self.tickets.ticket_values(theirs, plan)
        bases = self._pending_bases(mine.id)
        row = self._one("SELECT conflict FROM tickets WHERE id = ?", [mine.id])
        found: dict[str, Any] = json.loads(row[0]) if row and row[0] else {}
        for field in sorted(pending):
            base = bases.get(field, mine_values[field])
            if their_values[field] not in (base, mine_values[field]):
                found[field] = {"mine": mine_values[field], "theirs": their_values[field]}
        return found

    def _pending_bases(self, ticket_id: int) -> dict[str, Any]:
        """Each field's value before the oldest unsent local edit of it."""
        rows = self.db.execute(
            "SELECT undo FROM outbox WHERE ticket_id = ? AND state IN ('pending', 'inflight', "
            "'failed') ORDER BY id DESC",
            [ticket_id],
        )
        bases: dict[str, Any] = {}
        for (undo,) in rows:  # newest first, so the oldest edit's value wins
            bases.update(json.loads(undo).get("columns", {}))
        return bases

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
                self._apply_records(backend, (), (ticket,), ())
            elif op.ticket_id is not None and version is not None:
                self.db.execute(
                    "UPDATE tickets SET version = ? WHERE id = ?", [version, op.ticket_id]
                )


def comment_role(rc: RemoteComment, requester: str | None) -> str:
    """The author's role as the backend said; the requester is the customer whatever the
    backend said; an author nobody resolved stays unknown (never staff)."""
    from oncall_tui.domain import sla_history

    if requester and requester in (rc.author, rc.author_handle):
        return sla_history.CUSTOMER
    return rc.author_role if rc.author_role in sla_history.ROLES else ""


def _by_source(keys: Iterable[tuple[str, str]]) -> Iterator[tuple[str, list[str], str]]:
    """(source, a slice of its remote ids, their ``?`` marks) for (source, remote id) keys."""
    by_source: dict[str, list[str]] = {}
    for source, remote_id in keys:
        by_source.setdefault(source, []).append(remote_id)
    for source, remote_ids in by_source.items():
        for chunk in _chunks(sorted(set(remote_ids))):
            yield source, chunk, ",".join("?" * len(chunk))


def _chunks(values: Sequence[Any], size: int = 900) -> Iterator[list[Any]]:
    """``values`` in slices small enough for one statement's parameters."""
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def _number(remote_id: str) -> tuple[int, str]:
    """Ticket numbers in numeric order (``#9`` before ``#10``)."""
    tail = remote_id.rsplit("#", 1)[-1]
    return (int(tail), remote_id) if tail.isdigit() else (2**63, remote_id)
