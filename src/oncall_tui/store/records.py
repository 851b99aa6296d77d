"""Writing a backend's records into the cache: customers, tickets (merged field by field
with unsent local edits, conflicts kept for the user) and comments (what a customer's reply
ends: a waiting label, a time-box).

A sub-part of :class:`~oncall_tui.store.remote.Remote`, which builds it and hands it the
tickets, outbox and team parts; the pure helpers are in :mod:`oncall_tui.store.remote_rows`.
Past 500 lines on purpose: the merge rules and the comment writes share the same ticket
lookups, and splitting them would scatter one transaction's steps.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from oncall_tui.domain import sla as sla_rules
from oncall_tui.domain.ops import Op, OpKind, is_supported
from oncall_tui.domain.text import clean_line, clean_text
from oncall_tui.domain.tickets import (
    BACKEND_NAMES,
    DONE_STATUSES,
    Customer,
    Source,
    Status,
    Ticket,
    is_waiting_label,
)
from oncall_tui.store.base import TICKET_COLUMNS, Part, Shared, ticket_from_row
from oncall_tui.store.db import dumps, iso, parse_iso
from oncall_tui.store.remote_rows import (
    CHAT_LOCAL_FIELDS,
    OP_FIELDS,
    by_source,
    chunks,
    comment_role,
    inert,
    local_ticket,
)

if TYPE_CHECKING:
    from oncall_tui.store.outbox import Outbox
    from oncall_tui.store.team import Team
    from oncall_tui.store.tickets import Tickets

if TYPE_CHECKING:  # the SLA clocks load with the first page applied, not at start
    from oncall_tui.domain.sla_clocks import SlaEvent

if TYPE_CHECKING:  # the sync records load with the first page applied, not at start
    from oncall_tui.domain.remote import (
        RemoteComment,
        RemoteCustomer,
        RemoteTicket,
    )


class Records(Part):
    """The record writes of :class:`~oncall_tui.store.remote.Remote`: the tickets part stores
    and re-plans tickets, the outbox part's unsent entries keep local fields, the team part
    (a relay's publication queue) stages what was written."""

    def __init__(self, shared: Shared, *, tickets: Tickets, outbox: Outbox, team: Team) -> None:
        super().__init__(shared)
        self.tickets = tickets
        self.outbox = outbox
        self.team = team

    mirror_only: bool = False
    """While a relayed page (team mode) is applied: what a customer's message ends is only
    mirrored in the cache, never queued (the relay queues it, once for the team)."""

    def apply_records(self, backend: str, tickets: Sequence[RemoteTicket]) -> set[int]:
        """Write tickets found outside the incremental pull (e.g. a live search); tickets a
        pull left stale in the index wait for that pull's end."""
        with self.db.atomic():
            return self.write(backend, (), tickets, (), settled=False)

    def apply_remote_ticket(self, backend: str, ticket: RemoteTicket) -> set[int]:
        """Write one ticket a push returned (its newest copy)."""
        with self.db.atomic():
            return self.write(backend, (), (ticket,), (), settled=False)

    def _customer_ids(self, backend: str, customers: Iterable[RemoteCustomer]) -> None:
        """Store a page's customers; most pages repeat what is known, so those are skipped."""
        customers = list(customers)
        known: dict[str, tuple[Any, ...]] = {}
        for chunk in chunks(sorted({rc.remote_id for rc in customers})):
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

    def write(
        self,
        backend: str,
        customers: Iterable[RemoteCustomer],
        tickets: Iterable[RemoteTicket],
        comments: Iterable[RemoteComment],
        *,
        settled: bool = True,
    ) -> set[int]:
        """Write records; ``settled`` False means more pages of the same pull follow, or
        the records are not a pull's (a push's answer, a live search).

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
            self.db.insert_rows(
                "fts_stale",
                ("ticket_id",),
                [(tid,) for tid in sorted(grown - changed)],
                or_ignore=True,
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
        for source, chunk, marks in by_source(keys):
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
        for chunk in chunks(sorted(set(remote_ids))):
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
            ticket = local_ticket(rt, customer_id=customer_id)
            ticket = replace(
                ticket,
                pauses=sla_rules.update_pauses(None, ticket, rt.opened_at),
                sla_events=sla_history.initial_events(ticket),
            )
            values = self.tickets.ticket_values(ticket, plans.get(customer_id))
            values["remote_updated_at"] = iso(rt.updated_at)
            rows.append(values)
        columns = list(rows[0])
        self.db.insert_rows("tickets", columns, [[row[c] for c in columns] for row in rows])
        ids = self._ticket_ids((str(rt.source), rt.remote_id) for rt in fresh)
        self._adopt_pending(list(ids))
        return set(ids.values())

    def _adopt_pending(self, keys: Sequence[tuple[str, str]]) -> None:
        """Move comments that waited for these (just inserted) tickets into their threads."""
        from oncall_tui.domain.remote import RemoteComment

        waiting: list[RemoteComment] = []
        for source, chunk, marks in by_source(keys):
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
            self.db.insert_rows(
                "pending_comments",
                ("source", "ticket_remote_id", "remote_id", "author", "author_handle", "body")
                + ("public", "created_at", "author_role"),
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
                or_ignore=True,
            )
        tids = sorted({t[0] for t in tickets.values()})
        have: set[tuple[int, str]] = set()
        for chunk in chunks(tids):
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
        self.db.insert_rows(
            "comments",
            ("ticket_id", "remote_id", "author", "body", "public", "created_at", "author_role"),
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
            or_ignore=True,
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
        instant and remote id).

        Most tickets take the stored-text path (no :class:`Ticket` is made, only the clock
        columns that changed are rewritten with the history); one whose waiting a customer's
        message may end (pending, solved or ``+``-labelled) is read whole for the merge."""
        from oncall_tui.domain.sla_clocks import EventType

        customer_said = customer_said or {}
        plans = self.tickets.plans()
        clocks = self.tickets.clocks
        history: list[tuple[Any, ...]] = []  # the clock columns did not change
        updates: list[tuple[Any, ...]] = []
        whole: list[int] = []
        for chunk in chunks(sorted(said)):
            rows = self.db.execute(
                "SELECT id, source, channel, status, labels, opened_at, sla_events, "
                "customer_id, first_response_at, paused, is_open, sla_bucket, sla_due, "
                "sla_warn_at, sla_target, status, labels, status_since, label_since, "
                f"updated_at FROM tickets WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            for row in rows:
                (tid, source, channel, status, labels, opened, events, cid, first) = row[:9]
                old = list(row[9:15])
                if _read_whole(customer_said.get(tid), row[15:]):
                    whole.append(tid)  # _end_waiting may change it: read it whole
                    continue
                merged = _merge_history(events, said[tid])
                answers = [e.at for e in said[tid] if e.type is EventType.AGENT_PUBLIC]
                if answers:
                    before = parse_iso(first)
                    if before is None or min(answers) < before:
                        first = iso(min(answers))
                if status in _DONE_TEXT:
                    new = [0, 0, 2, None, None, None]  # as SlaColumns.columns has it
                else:
                    new = clocks.stored_columns(
                        status, labels, source, channel, opened, merged, plans.get(cid)
                    )
                text = _encode(merged)
                if new == old:
                    history.append((first, text, tid))
                else:
                    updates.append((first, text, *new, tid))
        # Only what changed: an unchanged clock leaves the clock columns' indexes alone.
        self.db.update_rows("tickets", ("first_response_at", "sla_events"), history)
        self.db.update_rows(
            "tickets",
            ("first_response_at", "sla_events", "paused", "is_open", "sla_bucket", "sla_due")
            + ("sla_warn_at", "sla_target"),
            updates,
        )
        if whole:
            self._record_whole({tid: said[tid] for tid in whole}, customer_said, plans)

    def _record_whole(
        self,
        said: dict[int, list[SlaEvent]],
        customer_said: dict[int, tuple[datetime, str]],
        plans: dict[int | None, str],
    ) -> None:
        """:meth:`_record_messages` for tickets a customer's message may stop waiting:
        each read as a :class:`Ticket`, the waiting ended where it does."""
        from oncall_tui.domain import sla_history
        from oncall_tui.domain.sla_clocks import EventType

        for chunk in chunks(sorted(said)):
            rows = self.db.execute(
                f"SELECT {TICKET_COLUMNS} FROM tickets WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
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
                ended = ticket if spoke is None else self._end_waiting(ticket, *spoke)
                if ended is ticket:  # nothing ended: the history and clocks only
                    values = self.tickets.sla_columns(ticket, plans.get(ticket.customer_id))
                    values.update(
                        first_response_at=iso(first),
                        sla_events=sla_history.events_to_json(ticket.sla_events),
                    )
                else:
                    values = self.tickets.ticket_values(ended, plans.get(ended.customer_id))
                assignments = ", ".join(f"{k} = :{k}" for k in values)
                self.db.execute(
                    f"UPDATE tickets SET {assignments} WHERE id = :id", {**values, "id": ticket.id}
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
        incoming = local_ticket(
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
        if existing.updated_at > merged.updated_at:
            # what happened here since (a customer's reply that ended the wait, an edit) is
            # not undone by a copy that predates it: the same page twice changes nothing
            merged = replace(merged, updated_at=existing.updated_at)
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


_CLOSED = str(Status.CLOSED)
#: The SLA history's stored form (as :func:`~oncall_tui.domain.sla_history.events_to_json`).
_encode = json.JSONEncoder(separators=(",", ":")).encode
#: Statuses a customer's message takes back to open (:meth:`Records._end_waiting`).
_ENDS_WAITING = frozenset({str(Status.PENDING), str(Status.SOLVED)})
_DONE_TEXT = frozenset(str(x) for x in DONE_STATUSES)


def _merge_history(stored: str | None, events: Sequence[SlaEvent]) -> list[list[Any]]:
    """A ticket's stored SLA history (its JSON) with ``events`` added, in the order
    :func:`~oncall_tui.domain.sla_history.ordered` gives, as ``[[epoch, type, value], ...]``;
    entries the store cannot read are dropped, as reading it as a ticket would."""
    from oncall_tui.domain.calendars import to_epoch
    from oncall_tui.domain.sla_history import EVENT_TYPES

    kept = [
        [at, kind, str(value)]
        for at, kind, value in (json.loads(stored) if stored and stored != "[]" else ())
        if kind in EVENT_TYPES and isinstance(at, int)
    ]
    kept += [[to_epoch(e.at), e.type.value, e.value] for e in sorted(events, key=lambda e: e.at)]
    return sorted(kept, key=lambda e: (e[0], e[1] == "status" and e[2] in _DONE_TEXT))


def _read_whole(spoke: tuple[datetime, str] | None, row: Sequence[Any]) -> bool:
    """Whether a customer's latest message (``spoke``: its instant and id; None: none in
    this batch) may end some waiting of a ticket, from its stored ``status, labels,
    status_since, label_since, updated_at``: the tests of :meth:`Records._end_waiting`, which
    decides (stored instants sort as text). Then the ticket is read whole."""
    if spoke is None:
        return False
    at = iso(spoke[0])
    assert at is not None
    status, labels, status_since, label_since, updated_at = row
    if status == _CLOSED:
        return False
    if status in _ENDS_WAITING and (status_since or updated_at) <= at:
        return True
    if '"+' not in labels:
        return False
    since = json.loads(label_since or "{}")
    return any(
        isinstance(x, str) and x.startswith("+") and (since.get(x) or updated_at) <= at
        for x in json.loads(labels)
    )
