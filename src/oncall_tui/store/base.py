"""What every part of the store shares: the connection, settings, clock, row mapping.

:class:`Shared` is the one state object of an open store (its connection, SLA settings,
clock, the damaged rows noted so far, the undo window); every part holds it, and only it
plus the parts it is given (see :mod:`oncall_tui.store.store`). :class:`Part` is the
small base a part builds on: the connection and the helpers every part's SQL uses.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, overload

from oncall_tui.domain.clock import Clock
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
from oncall_tui.store.db import DamagedRowError, Database, iso, parse_iso

T = TypeVar("T")
#: What decoding a damaged row raises (bad JSON, date or enum, a NULL where text belongs).
DECODE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, AssertionError, ArithmeticError)

FTS_CHUNK = 500

TICKET_COLUMNS = (
    "id, source, remote_id, channel, subject, body, status, priority, labels, assignee, "
    "requester, customer_id, url, opened_at, updated_at, first_response_at, pauses, "
    "sla_due, sla_warn_at, sla_target, version, pending_ops, conflict, label_since, sla_events, "
    "status_since"
)


class Shared:
    """State shared by the store's parts: one connection, its settings and clock."""

    def __init__(self, db: Database, *, sla: SlaSettings, clock: Clock, path: Path) -> None:
        self.db = db
        self.sla = sla
        self.clock = clock
        self.path = path
        self.damage_notes: list[str] = []
        """Damaged rows left out of lists so far (each also noted once in the sync log)."""
        self._damaged: set[tuple[str, object]] = set()
        self.undo_seconds: float = 0.0
        """How long an entry queued through this connection waits before it may be sent
        (the app sets the config's ``undo_seconds`` on its own connection; 0: at once)."""

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

    def skip_damaged(self, error: DamagedRowError) -> None:
        """Note a damaged row a list leaves out: once per row, in the sync log."""
        key = (error.table, error.row_id)
        if key in self._damaged:
            return
        self._damaged.add(key)
        note = f"{error}; left out (the rest of the database is used as usual)"
        self.damage_notes.append(note)
        try:
            self.db.execute(
                "INSERT INTO sync_log (at, backend, level, message) VALUES (?, 'store', "
                "'error', ?)",
                [self.now(), note],
            )
        except sqlite3.Error as exc:  # locked or read-only: the note stays in damage_notes
            self.damage_notes.append(f"(could not write that to the sync log: {exc})")

    def decode_all(self, rows: Iterable[Any], decode: Callable[[Any], T]) -> list[T]:
        """Each row decoded; damaged rows are left out and noted (:meth:`skip_damaged`)."""
        result = []
        for row in rows:
            try:
                result.append(decode(row))
            except DamagedRowError as error:
                self.skip_damaged(error)
        return result

    def one(self, sql: str, params: Any = ()) -> tuple[Any, ...] | None:
        """The first row of ``sql`` as a tuple (None: no row)."""
        row = self.db.execute(sql, params).fetchone()
        return tuple(row) if row is not None else None


class _HasShared(Protocol):
    shared: Shared


class FromShared(Generic[T]):
    """An attribute of :class:`Shared` read (and, ``writable``, set) through a part or the
    store: one value for all of them."""

    def __init__(self, *, writable: bool = False) -> None:
        self.writable = writable
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> FromShared[T]: ...

    @overload
    def __get__(self, obj: _HasShared, owner: type | None = None) -> T: ...

    def __get__(self, obj: _HasShared | None, owner: type | None = None) -> T | FromShared[T]:
        if obj is None:
            return self
        value: T = getattr(obj.shared, self.name)
        return value

    def __set__(self, obj: _HasShared, value: T) -> None:
        if not self.writable:
            raise AttributeError(f"{self.name} is set on the store, not on a part")
        setattr(obj.shared, self.name, value)


class Part:
    """One part of the store: it owns its SQL and reaches the connection, the clock and the
    settings through :class:`Shared` (other parts only when its constructor is given them)."""

    db: FromShared[Database] = FromShared()
    sla: FromShared[SlaSettings] = FromShared()
    clock: FromShared[Clock] = FromShared()
    path: FromShared[Path] = FromShared()
    undo_seconds: FromShared[float] = FromShared()

    def __init__(self, shared: Shared) -> None:
        self.shared = shared

    def now(self) -> str:
        """The clock's now as stored text."""
        return self.shared.now()

    def reindex(self, ticket_ids: Sequence[int]) -> None:
        """Refresh the full-text index of these tickets."""
        self.shared.reindex(ticket_ids)

    def decode_all(self, rows: Iterable[Any], decode: Callable[[Any], T]) -> list[T]:
        """Each row decoded; damaged rows are left out and noted."""
        return self.shared.decode_all(rows, decode)

    def skip_damaged(self, error: DamagedRowError) -> None:
        """Note a damaged row a list leaves out."""
        self.shared.skip_damaged(error)

    def _one(self, sql: str, params: Any = ()) -> tuple[Any, ...] | None:
        return self.shared.one(sql, params)


def _strings(text: str) -> tuple[str, ...]:
    """A JSON array of strings (labels, domains, contacts) as a tuple.

    Raises:
        ValueError: not JSON, or not an array of strings.
    """
    value = json.loads(text)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a JSON array of strings, got {text[:40]!r}")
    return tuple(value)


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


def decoded(table: str, decode: Callable[[Any], T]) -> Callable[[Any], T]:
    """``decode`` raising :class:`DamagedRowError` (naming ``table`` and the row's first
    column, its id) for a row it cannot read."""

    def safe(row: Any) -> T:
        try:
            return decode(row)
        except DECODE_ERRORS as exc:
            raise DamagedRowError(table, row[0] if len(row) else "?", exc) from None

    safe.__doc__ = decode.__doc__
    return safe


def ticket_from_row(row: tuple[Any, ...] | Any) -> Ticket:
    """Map a row selected with :data:`TICKET_COLUMNS` to a :class:`Ticket`.

    Raises:
        DamagedRowError: the row holds a value that cannot be read back.
    """
    return _ticket_from_row(row)


def _ticket_decode(row: tuple[Any, ...] | Any) -> Ticket:
    """Map a row selected with :data:`TICKET_COLUMNS` to a :class:`Ticket` (a row without
    ``status_since``, as migrations before 0022 select, has it unknown)."""
    from oncall_tui.domain.sla_history import events_from_json

    row = tuple(row)
    status_since = row[25] if len(row) > 25 else None
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
        sla_events,
    ) = row[:25]
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
        labels=_strings(labels),
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
        sla_events=events_from_json(sla_events),
        status_since=parse_iso(status_since),
    )


_ticket_from_row = decoded("tickets", _ticket_decode)

CUSTOMER_COLUMNS = "id, name, plan, codename, domains, contacts, remote_id"


def customer_from_row(row: tuple[Any, ...] | Any) -> Customer:
    """Map a row selected with :data:`CUSTOMER_COLUMNS` to a :class:`Customer`.

    Raises:
        DamagedRowError: the row holds a value that cannot be read back.
    """
    return _customer_from_row(row)


def _customer_decode(row: tuple[Any, ...] | Any) -> Customer:
    id_, name, plan, codename, domains, contacts, remote_id = row
    return Customer(
        id=id_,
        name=name,
        plan=plan,
        codename=codename,
        domains=_strings(domains),
        contacts=_strings(contacts),
        remote_id=remote_id,
    )


_customer_from_row = decoded("customers", _customer_decode)

COMMENT_COLUMNS = (
    "id, ticket_id, author, body, created_at, public, remote_id, outbox_id, author_role"
)


def comment_from_row(row: tuple[Any, ...] | Any) -> Comment:
    """Map a row selected with :data:`COMMENT_COLUMNS` to a :class:`Comment`.

    Raises:
        DamagedRowError: the row holds a value that cannot be read back.
    """
    return _comment_from_row(row)


def _comment_decode(row: tuple[Any, ...] | Any) -> Comment:
    id_, ticket_id, author, body, created_at, public, remote_id, outbox_id, role = row
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
        role=role or "",
    )


_comment_from_row = decoded("comments", _comment_decode)
