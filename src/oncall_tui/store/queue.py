"""The triage queue: windowed, indexed queries over the cached tickets.

Only the visible window is ever loaded (``LIMIT``/``OFFSET`` over the urgency index), so the
queue costs the same with 200 tickets as with 100,000.

Past 500 lines on purpose: the queue's first frame needs all of it (query terms to SQL, the
window, the counter), so one module is one start-up import rather than two.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from oncall_tui.domain.query import Query, Term
from oncall_tui.domain.tickets import Channel, Priority, Source, Status
from oncall_tui.store.base import Part, decoded
from oncall_tui.store.db import BUSY_TIMEOUT_MS, HELD, connect_read_only, iso, parse_iso

ORDER = "t.sla_bucket, t.sla_due, t.id"
#: What each column sorts by (any other key: the urgency order alone). Ties keep the urgency
#: order, so equal rows stay in a stable order and a ticket's position is well defined; a
#: descending sort is the exact reverse of the ascending one (ties too), so that both walk
#: one index (migration 0018 spells the same expressions). The customer's columns (plan,
#: name) are not sortable: no index on the tickets can order by them, and sorting a million
#: rows per window would freeze the queue.
SORT_SQL = {
    "priority": "t.priority",
    "subject": "lower(t.subject)",
    "status": "t.status",
    "assignee": "lower(coalesce(t.assignee, ''))",
    "source": "t.source",
    "updated": "t.updated_at",
}
Sort = tuple[str, bool]
"""A column key and whether it sorts descending (``("sla", False)``: the urgency order)."""
URGENCY: Sort = ("sla", False)
REVERSED_ORDER = "t.sla_bucket DESC, t.sla_due DESC, t.id DESC"


#: A sorted result with fewer rows than this is sorted in memory (from the filter's own
#: indexes); a larger one is read in the order of its column's index (migration 0018).
SORT_IN_MEMORY = 2000


def order_sql(sort: Sort, *, in_memory: bool = False) -> str:
    """The ORDER BY of a window sorted by ``sort`` (``in_memory``: not walking the column's
    index, for a result of few rows that walking would look for among all the tickets)."""
    key, descending = sort
    expression = SORT_SQL.get(key)
    if expression is None:
        return ORDER
    if in_memory:
        expression = f"+{expression}"
    if descending:
        return f"{expression} DESC, {REVERSED_ORDER}"
    return f"{expression}, {ORDER}"


#: Filter fields that are the customer's (tested on ``customers cu``).
CUSTOMER_FIELDS = ("plan", "customer")


@dataclass(frozen=True, slots=True)
class QueueRow:
    """What one line of the queue shows."""

    id: int
    source: Source
    subject: str
    status: Status
    priority: Priority
    assignee: str | None
    updated_at: datetime
    sla_due: datetime | None
    sla_warn_at: datetime | None
    sla_target: str | None
    paused: bool
    is_open: bool
    pending_ops: int
    conflict: bool
    customer_name: str | None
    codename: str | None
    plan: str | None
    labels: str
    investigating_since: datetime | None = None


_ROW_SQL = (
    "SELECT t.id, t.source, t.subject, t.status, t.priority, t.assignee, t.updated_at, "
    "t.sla_due, t.sla_warn_at, t.sla_target, t.paused, t.is_open, t.pending_ops, t.conflict, "
    "c.name, c.codename, c.plan, t.labels, "
    "CASE WHEN json_valid(t.label_since) THEN "
    "json_extract(t.label_since, '$.\"~investigate\"') END, "
    # What opening the ticket reads beyond the row: checked here, so that a row the queue
    # shows can be opened (a damaged one is left out and noted instead).
    "t.channel, t.opened_at, t.first_response_at, "
    "CASE WHEN json_valid(t.labels) AND json_valid(t.pauses) AND json_valid(t.label_since) "
    "THEN json_type(t.labels) = 'array' AND json_type(t.pauses) = 'array' "
    "AND json_type(t.label_since) = 'object' ELSE 0 END "
    "FROM tickets t LEFT JOIN customers c "
    "ON c.id = t.customer_id"
)


def _row_decode(r: Any) -> QueueRow:
    if not r[22]:
        raise ValueError("labels, pauses or label_since is not the JSON it should be")
    Channel(r[19])
    if parse_iso(r[20]) is None:
        raise ValueError("no opened_at")
    parse_iso(r[21])
    updated = parse_iso(r[6])
    assert updated is not None
    return QueueRow(
        id=r[0],
        source=Source(r[1]),
        subject=r[2],
        status=Status(r[3]),
        priority=Priority(r[4]),
        assignee=r[5],
        updated_at=updated,
        sla_due=parse_iso(r[7]),
        sla_warn_at=parse_iso(r[8]),
        sla_target=r[9],
        paused=bool(r[10]),
        is_open=bool(r[11]),
        pending_ops=r[12],
        conflict=bool(r[13]),
        customer_name=r[14],
        codename=r[15],
        plan=r[16],
        labels=r[17],
        investigating_since=parse_iso(r[18]),
    )


_row = decoded("tickets", _row_decode)


_FTS_WORD = re.compile(r"\w+", re.UNICODE)


def _tokens(word: str) -> list[str]:
    return _FTS_WORD.findall(word)


def _all_of(words: tuple[str, ...]) -> str | None:
    tokens = [t for w in words for t in _tokens(w)]
    return " AND ".join(f'"{t}"*' for t in tokens) if tokens else None


def fts_expression(words: tuple[str, ...], excluded: tuple[str, ...] = ()) -> str | None:
    """Turn typed words into a safe FTS5 query: every word must match, as a prefix, and no
    ``excluded`` word (each of its parts, as prefixes) may. None when no word is positive."""
    positive = _all_of(words)
    if positive is None:
        return None
    negative = _any_of(excluded)
    return positive if negative is None else f"({positive}) NOT ({negative})"


def _any_of(words: tuple[str, ...]) -> str | None:
    """FTS5: any of ``words`` (each word all of its parts)."""
    parts = [p for p in (_all_of((w,)) for w in words) if p is not None]
    return " OR ".join(f"({p})" for p in parts) if parts else None


def _single_letters(words: tuple[str, ...]) -> bool:
    """True when every typed word is one letter (a prefix that matches most tickets)."""
    tokens = [t for w in words for t in _tokens(w)]
    return bool(tokens) and all(len(t) == 1 for t in tokens)


#: A ticket's number at its backend: its remote id after any "#" (the help desk's "41165",
#: the tracker's "acme/product#123"), spelt as the tickets_number index is (migration 0013).
NUMBER_SQL = "substr(remote_id, instr(remote_id, '#') + 1)"
_NUMBERED = (
    f"SELECT id FROM tickets WHERE {NUMBER_SQL} = ? "
    "UNION ALL SELECT id FROM tickets WHERE id = ? AND remote_id IS NULL"
)


def _like_prefix(text: str) -> str:
    """``text`` as the beginning of a LIKE pattern (its own % and _ taken literally)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _number_sql(number: str, exact: bool, *, window: bool) -> tuple[str, list[Any]]:
    """The ticket numbered ``number`` (a local ticket, never synced, by its own id; a
    tracker's ``acme/product#123``, that repository's); not ``exact``: or a ticket with the
    word."""
    if "#" in number:  # owner/name#123
        sql = f"SELECT id FROM tickets WHERE {NUMBER_SQL} = ? AND remote_id = ?"
        return f"t.id IN ({sql})", [number.rpartition("#")[2], number]
    numbered = f"t.id IN ({_NUMBERED})"
    params: list[Any] = [number, int(number)]
    if exact:
        return numbered, params
    params.append(f'"{number}"*')
    if len(number) > 2:  # few tickets have the word: from the matches (both indexed)
        word = "t.id IN (SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH ?)"
        return f"({numbered} OR {word})", params
    # "4", on the way to "41165", is in many tickets: walk the urgency order and test each
    # row (driving from the matches would sort thousands), as for a short word.
    if window and len(number) == 1:
        word = (
            "EXISTS (SELECT 1 FROM ticket_fts WHERE ticket_fts MATCH ? AND ticket_fts.rowid = t.id)"
        )
    else:
        word = "+t.id IN (SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH ?)"
    return f"(+{numbered} OR {word})", params


def _email_sql(email: str) -> str:
    """A range of the requester index (NOCASE), not a scan. The beginning of an address
    ("rita@") is on many tickets: then the urgency order is walked and each row tested."""
    dense = len(email.partition("@")[2]) < 2
    requesters = "SELECT id FROM tickets WHERE requester LIKE ? ESCAPE '\\'"
    return f"{'+' if dense else ''}t.id IN ({requesters})"


def _term_sql(term: Term, now: datetime, me: str, critical: timedelta) -> tuple[str, list[Any]]:
    values = list(term.values)
    marks = ",".join("?" * len(values))
    field = term.field
    if field in ("priority", "status", "source"):
        return f"t.{field} IN ({marks})", values
    if field == "plan":
        return f"cu.plan IN ({marks})", [v.lower() for v in values]
    if field == "label":
        # The labels' own index (migration 0021, kept by triggers): no JSON parsed per row.
        return (
            f"t.id IN (SELECT ticket_id FROM ticket_labels WHERE label IN ({marks}))",
            [v.lower() for v in values],
        )
    if field == "customer":
        parts = []
        params: list[Any] = []
        for v in values:
            parts.append("(lower(cu.codename) = ? OR lower(cu.name) LIKE ?)")
            params += [v.lower(), f"%{v.lower()}%"]
        return "(" + " OR ".join(parts) + ")", params
    if field == "assignee":
        parts = []
        params = []
        for v in values:
            if v.lower() == "none":
                parts.append("t.assignee IS NULL")
            else:
                who = (me if v.lower() == "me" else v).lower()
                if "@" in who:
                    parts.append("lower(t.assignee) = ?")
                    params.append(who)
                else:  # the name before the @, as the Assignee column shows it
                    parts.append("(lower(t.assignee) = ? OR t.assignee LIKE ? ESCAPE '\\')")
                    params += [who, _like_prefix(who + "@")]
        return "(" + " OR ".join(parts) + ")", params
    if field == "is":
        parts = []
        for v in values:
            parts.append(
                {
                    "open": "t.is_open = 1",
                    "closed": "t.is_open = 0",
                    "paused": "t.paused = 1",
                    "pending": "t.status = 'pending'",
                    # (from the few of them: a partial index, migration 0013)
                    "unsent": "t.id IN (SELECT id FROM tickets WHERE pending_ops > 0)",
                    "conflict": "t.conflict IS NOT NULL",
                    "failed": "EXISTS (SELECT 1 FROM outbox o WHERE o.ticket_id = t.id "
                    "AND o.state = 'failed')",
                }[v]
            )
        return "(" + " OR ".join(parts) + ")", []
    if field == "sla":
        now_s = iso(now)
        crit_s = iso(now + critical)
        parts = []
        params = []
        for v in values:
            if v == "breached":
                parts.append("(t.sla_bucket = 0 AND t.sla_due <= ?)")
                params.append(now_s)
            elif v == "critical":
                parts.append("(t.sla_bucket = 0 AND t.sla_due > ? AND t.sla_due <= ?)")
                params += [now_s, crit_s]
            elif v == "warning":
                parts.append("(t.sla_bucket = 0 AND t.sla_due > ? AND t.sla_warn_at <= ?)")
                params += [crit_s, now_s]
            elif v == "ok":
                parts.append("(t.sla_bucket = 0 AND t.sla_due > ? AND t.sla_warn_at > ?)")
                params += [crit_s, now_s]
            elif v == "paused":
                parts.append("t.sla_bucket = 1")
            else:
                parts.append("t.sla_bucket = 2")
        return "(" + " OR ".join(parts) + ")", params
    raise ValueError(f"unknown field {field}")  # parse_query only lets known fields through


class Queue(Part):
    """Windowed queue queries and counts."""

    def _where(
        self, query: Query, now: datetime, me: str, *, window: bool = False
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        critical = timedelta(seconds=self.sla.critical_seconds)
        for term in query.terms:
            sql, p = _term_sql(term, now, me, critical)
            if term.field in CUSTOMER_FIELDS:
                # The set of customers that pass, negated inside (a ticket without a customer
                # passes neither way, as with a join): one look-up per ticket, checked before
                # the full-text probe (a join's condition is checked after it, for every row).
                # The unary + keeps SQLite from reading the tickets by customer and sorting.
                condition = f"NOT {sql}" if term.negated else sql
                clauses.append(
                    f"+t.customer_id IN (SELECT cu.id FROM customers cu WHERE {condition})"
                )
            elif term.negated:
                # An unassigned ticket is not assigned to alex: NULL must not drop it.
                clauses.append(
                    f"NOT coalesce({sql}, 0)" if term.field == "assignee" else f"NOT {sql}"
                )
            else:
                clauses.append(sql)
            params += p
        for number, exact in query.numbers:
            sql, p = _number_sql(number, exact, window=window)
            clauses.append(sql)
            params += p
        for email in query.emails:
            clauses.append(_email_sql(email))
            params.append(_like_prefix(email))
        fts = fts_expression(query.words, query.excluded)
        unwanted = _any_of(query.excluded)
        if fts is None and unwanted is not None:  # only words to leave out
            clauses.append("t.id NOT IN (SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH ?)")
            params.append(unwanted)
        if fts is not None:
            # How to join the full-text matches (measured at 100,000 tickets; the results are
            # the same, only the plans differ):
            single = _single_letters(query.words)
            labels = any(t.field == "label" for t in query.terms)  # JSON parsed per row
            if window and single:
                # One letter matches most tickets: walk the urgency order and probe the
                # (prefix-indexed) full-text index per row; the window fills within a few rows.
                clauses.append(
                    "EXISTS (SELECT 1 FROM ticket_fts WHERE ticket_fts MATCH ? "
                    "AND ticket_fts.rowid = t.id)"
                )
            elif not labels and (window or (single and query.terms)):
                # Walk the urgency order (the window: it stops once full) or the terms' rows
                # (the count of a one-letter prefix) and test each row against the set of
                # matches; the unary + keeps SQLite from driving the query from the matches,
                # a look-up for each of up to 90,000 rowids.
                clauses.append("+t.id IN (SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH ?)")
            else:
                # From the matches: few for a longer word, whatever the terms.
                clauses.append("t.id IN (SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH ?)")
            params.append(fts)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def open_queue(
        self,
        query: Query,
        *,
        offset: int = 0,
        limit: int = 50,
        me: str = "me",
        now: datetime | None = None,
        sort: Sort = URGENCY,
    ) -> list[QueueRow]:
        """One window of the queue, in urgency order (breached, soonest due, paused, none),
        or sorted by a column (``sort``; ties in urgency order)."""
        where, params = self._where(query, now or self.clock(), me, window=offset < 1000)
        in_memory = False
        if sort[0] in SORT_SQL:  # few rows (a "My queue"): sorted, not looked for in an index
            bounded = f"SELECT count(*) FROM (SELECT 1 FROM tickets t{where} LIMIT ?)"
            few = self._one(bounded, [*params, SORT_IN_MEMORY])
            in_memory = few is not None and int(few[0]) < SORT_IN_MEMORY
        rows = self.db.execute(
            f"{_ROW_SQL}{where} ORDER BY {order_sql(sort, in_memory=in_memory)} LIMIT ? OFFSET ?",
            [*params, limit, max(offset, 0)],
        )
        return self.decode_all(rows, _row)

    def _count_sql(self, query: Query, me: str, now: datetime | None) -> tuple[str, list[Any]]:
        where, params = self._where(query, now or self.clock(), me)
        return f"SELECT count(*) FROM tickets t{where}", params  # the terms need no join

    def queue_count(self, query: Query, *, me: str = "me", now: datetime | None = None) -> int:
        """How many tickets match ``query``."""
        row = self._one(*self._count_sql(query, me, now))
        assert row is not None
        return int(row[0])

    def numbered(self, number: str) -> list[int]:
        """The tickets with this number at their backend (``41165``; a tracker's
        ``acme/product#123``), most urgent first: usually one, one per backend at most."""
        sql, params = _number_sql(number, True, window=False)
        rows = self.db.execute(f"SELECT t.id FROM tickets t WHERE {sql} ORDER BY {ORDER}", params)
        return [int(r[0]) for r in rows]

    def has_tickets(self) -> bool:
        """False for an empty cache (the first run, before any sync)."""
        return self._one("SELECT 1 FROM tickets LIMIT 1") is not None

    def queue_counter(self) -> QueueCounter | None:
        """A counter with a read-only connection of its own, for counting off the UI thread
        (None for an in-memory database, which no second connection can see)."""
        if str(self.path) == ":memory:":
            return None
        return QueueCounter(self)

    def queue_position(
        self,
        query: Query,
        ticket_id: int,
        *,
        me: str = "me",
        now: datetime | None = None,
        sort: Sort = URGENCY,
    ) -> int | None:
        """Where ``ticket_id`` stands in the queue (None: it is not in it).

        Used to keep the cursor on a ticket that moved beyond the window the table holds:
        one look-up by id, then a count of the rows before it in the urgency order, range
        by range on the urgency index (each bounded by the ticket's own key), never a walk
        over the whole result.
        """
        when = now or self.clock()
        where, params = self._where(query, when, me)
        key = self._one("SELECT sla_bucket, sla_due FROM tickets WHERE id = ?", [ticket_id])
        if key is None:
            return None
        joiner = " AND " if where else " WHERE "
        if not self.in_queue(query, ticket_id, me=me, now=when):
            return None
        bucket, due = key
        # Rows before (bucket, due, id) in ``ORDER BY sla_bucket, sla_due, id`` (NULLs first).
        if due is None:
            ranges = [
                ("t.sla_bucket < ?", [bucket]),
                ("t.sla_bucket = ? AND t.sla_due IS NULL AND t.id < ?", [bucket, ticket_id]),
            ]
        else:
            ranges = [
                ("t.sla_bucket < ?", [bucket]),
                ("t.sla_bucket = ? AND t.sla_due IS NULL", [bucket]),
                ("t.sla_bucket = ? AND t.sla_due < ?", [bucket, due]),
                ("t.sla_bucket = ? AND t.sla_due = ? AND t.id < ?", [bucket, due, ticket_id]),
            ]
        expression = SORT_SQL.get(sort[0])
        if expression is not None:  # sorted by a column: rows with a value before it, then
            # rows with the same value before it in the urgency order
            found = self._one(f"SELECT {expression} FROM tickets t WHERE t.id = ?", [ticket_id])
            value = found[0] if found else None
            ranges = [
                (f"{expression} < ?", [value]),
                *((f"{expression} = ? AND {c}", [value, *v]) for c, v in ranges),
            ]
        total = 0
        for condition, values in ranges:
            row = self._one(
                f"SELECT count(*) FROM tickets t{where}{joiner}{condition}", [*params, *values]
            )
            total += int(row[0]) if row else 0
        if expression is not None and sort[1]:  # descending: the exact reverse
            return self.queue_count(query, me=me, now=when) - 1 - total
        return total

    def in_queue(
        self, query: Query, ticket_id: int, *, me: str = "me", now: datetime | None = None
    ) -> bool:
        """True if ``ticket_id`` is in the result of ``query`` (one look-up by id)."""
        where, params = self._where(query, now or self.clock(), me)
        joiner = " AND " if where else " WHERE "
        row = self._one(f"SELECT 1 FROM tickets t{where}{joiner}t.id = ?", [*params, ticket_id])
        return row is not None

    def sla_crossings(self, since: datetime, until: datetime) -> list[tuple[int, str, str]]:
        """Open tickets that went critical or breached in ``(since, until]``: (id, subject, state).

        Two range scans on the urgency index; called once a second by the queue.
        """
        critical = timedelta(seconds=self.sla.critical_seconds)
        a, b = iso(since), iso(until)
        ca, cb = iso(since + critical), iso(until + critical)
        rows = self.db.execute(
            "SELECT id, subject, 'breached' FROM tickets WHERE sla_bucket = 0 AND is_open = 1 "
            "AND sla_due > ? AND sla_due <= ? "
            "UNION ALL SELECT id, subject, 'critical' FROM tickets WHERE sla_bucket = 0 "
            "AND is_open = 1 AND sla_due > ? AND sla_due <= ? AND sla_due > ? ORDER BY 1",
            [a, b, ca, cb, b],
        )
        return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]


#: How far ahead of a count the counter lists the warning times to come (one read of every
#: running SLA clock's row, ~0.15 s at a million tickets, instead of one a minute).
WARN_HORIZON = timedelta(hours=1)
#: A count is recounted from scratch rather than from its changes when more tickets than this
#: crossed an SLA boundary since (a jump of the clock after a suspend).
MAX_CHANGED = 2000
#: Counts a counter keeps (the views', and the last few filters').
MAX_KEPT = 32


@dataclass(frozen=True, slots=True)
class _Counted:
    """A count made by the counter, and the database it was made on (``data_version``)."""

    now: datetime
    total: int
    version: int


@dataclass(frozen=True, slots=True)
class _WarnTimes:
    """The tickets whose running SLA clock reaches its warning time in ``(start, end]``."""

    start: datetime
    end: datetime
    version: int
    warn_at: tuple[tuple[str, int], ...]  # (sla_warn_at, id)


class QueueCounter:
    """Counts a queue result on a read-only connection of its own, from a worker thread.

    A filter's total can take tens of milliseconds at 100,000 tickets (a full-text prefix of
    one letter matches most of them), so the queue shows the filtered window at once and counts
    here. SQLite (WAL) lets this reader run beside the UI's connection. One count runs at a
    time; :meth:`interrupt` (any thread) stops the running one when a newer keystroke made it
    stale.

    What was counted is kept with the connection's ``PRAGMA data_version``, which changes
    whenever any other connection (this process's own, or another process's) committed a
    write; this connection never writes. Counting the same query again with no write since
    returns the kept total; a query that depends on the time (``sla:``), counted again a minute
    later, is the kept total plus what the tickets that crossed an SLA boundary in between
    changed (their due time passed, came within the critical span, or their warning time
    passed: index ranges, and the warning times listed once per :data:`WARN_HORIZON`) rather
    than a new walk over every running clock (~0.16 s at a million tickets for "Breaching
    soon", once a minute).
    """

    def __init__(self, store: Queue) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._held: tuple[int, int] | None = None
        self._closed = False
        self._counted: dict[tuple[Query, str], _Counted] = {}
        self._warn_times: _WarnTimes | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn, self._held = connect_read_only(
                Path(self._store.path).resolve(),
                check_same_thread=False,
                timeout=BUSY_TIMEOUT_MS / 1000,
            )
        return self._conn

    def count(
        self,
        query: Query,
        *,
        me: str = "me",
        now: datetime | None = None,
        wanted: Callable[[], bool] = lambda: True,
    ) -> int | None:
        """How many tickets match ``query``; None when interrupted, closed, or no longer
        ``wanted`` by the time the previous count let go of the connection."""
        when = now or self._store.clock()
        with self._lock:
            if self._closed or not wanted():
                return None
            try:
                return self._count(query, me, when)
            except sqlite3.OperationalError as exc:
                if "interrupt" in str(exc):
                    return None
                raise

    def count_now(self, query: Query, *, me: str = "me", now: datetime | None = None) -> int:
        """:meth:`count` for the calling thread, never stale (the first counts, after the first
        paint): kept like the others, so that the next ones are not counted again."""
        with self._lock:
            if self._closed:
                return self._store.queue_count(query, me=me, now=now)
            return self._count(query, me, now or self._store.clock())

    def _version(self) -> int:
        row = self._connection().execute("PRAGMA data_version").fetchone()
        return int(row[0])

    def _count(self, query: Query, me: str, now: datetime) -> int:
        key = (query, me)
        version = self._version()
        kept = self._counted.get(key)
        total: int | None = None
        if kept is not None and kept.version == version:
            if not query.depends_on_time or kept.now == now:
                total = kept.total
            elif kept.now < now:
                changed = self._changed(query, me, kept.now, now, version)
                if changed is not None:
                    total = kept.total + changed
        if total is None:
            sql, params = self._store._count_sql(query, me, now)
            total = int(self._connection().execute(sql, params).fetchone()[0])
        self._counted.pop(key, None)  # (re)kept last: the oldest are let go first
        if self._version() == version:  # else written meanwhile: it may be older than that
            self._counted[key] = _Counted(now, total, version)
            while len(self._counted) > MAX_KEPT:  # a filter typed: a query per keystroke
                del self._counted[next(iter(self._counted))]
        return total

    def _changed(
        self, query: Query, me: str, since: datetime, until: datetime, version: int
    ) -> int | None:
        """How many more tickets match ``query`` at ``until`` than at ``since`` (no write in
        between); None when too many crossed a boundary to be worth it."""
        ids = self._crossed(since, until, version)
        if len(ids) > MAX_CHANGED:
            return None
        if not ids:
            return 0
        conn = self._connection()
        found = []
        marks = ",".join("?" * len(ids))
        for at in (until, since):
            where, params = self._store._where(query, at, me)
            joiner = " AND " if where else " WHERE "
            sql = f"SELECT count(*) FROM tickets t{where}{joiner}t.id IN ({marks})"
            found.append(int(conn.execute(sql, [*params, *ids]).fetchone()[0]))
        return found[0] - found[1]

    def _crossed(self, since: datetime, until: datetime, version: int) -> list[int]:
        """The tickets whose SLA state (breached, critical, warning, ok) may differ between
        ``since`` and ``until``: a running clock (``sla_bucket = 0``) whose due time, due time
        less the critical span, or warning time falls in ``(since, until]``."""
        critical = timedelta(seconds=self._store.sla.critical_seconds)
        a, b = iso(since), iso(until)
        assert a is not None and b is not None
        warn = self._warn_times
        if warn is None or warn.version != version or not warn.start <= since < until <= warn.end:
            end = until + WARN_HORIZON
            rows = self._connection().execute(
                "SELECT sla_warn_at, id FROM tickets WHERE sla_bucket = 0 AND sla_due > ? "
                "AND sla_warn_at > ? AND sla_warn_at <= ?",
                [a, a, iso(end)],
            )
            warn = _WarnTimes(since, end, version, tuple((str(r[0]), int(r[1])) for r in rows))
            self._warn_times = warn
        ids = {i for at, i in warn.warn_at if a < at <= b}
        rows = self._connection().execute(
            "SELECT id FROM tickets WHERE sla_bucket = 0 AND sla_due > ? AND sla_due <= ? "
            "UNION SELECT id FROM tickets WHERE sla_bucket = 0 AND sla_due > ? AND sla_due <= ?",
            [a, b, iso(since + critical), iso(until + critical)],
        )
        ids.update(int(r[0]) for r in rows)
        return sorted(ids)

    def interrupt(self) -> None:
        """Stop the count running now, if any (from any thread)."""
        conn = self._conn
        if conn is not None:
            conn.interrupt()

    def close(self) -> None:
        """Stop any running count and close the connection."""
        self._closed = True
        self.interrupt()
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
                HELD.release(self._held)
                self._held = None
