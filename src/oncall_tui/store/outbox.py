"""The durable outbox: user intent waiting to reach a backend.

An entry is appended in the same transaction as the local change it mirrors. The sync engine
takes entries in order per ticket, marks them in flight before sending (so an unclear outcome
after a crash is looked up, not blindly resent), and done only after the backend confirms.

This module keeps that exactly-once core (appending, claiming, settling, the undo window) in
one place, which is why it runs past 500 lines; what withdrawing, re-queueing or reverting an
entry does to the ticket's SLA history and local row is in :mod:`oncall_tui.store.outbox_undo`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from oncall_tui.domain.ops import Op, OpKind, OpState
from oncall_tui.domain.tickets import Source
from oncall_tui.store.base import Part, Shared
from oncall_tui.store.db import dumps, iso, parse_iso
from oncall_tui.store.outbox_undo import Undoing

#: How the key of an automatic entry (one no user typed, e.g. what a customer's reply ends)
#: starts; it names the cause, so the cause queues it once.
AUTO_PREFIX = "auto:"
#: The longest an entry is ever parked (a server's absurd wait never parks it for centuries).
MAX_PARK = timedelta(days=365)

OUTBOX_COLUMNS = (
    "id, kind, source, ticket_id, remote_id, payload, idempotency_key, base_version, undo, "
    "state, attempts, error, created_at"
)


def op_from_row(row: Sequence[Any]) -> Op:
    """Map an outbox row to an :class:`Op`."""
    (
        id_,
        kind,
        source,
        ticket_id,
        remote_id,
        payload,
        key,
        base,
        undo,
        state,
        attempts,
        error,
        created_at,
    ) = row
    return Op(
        id=id_,
        kind=OpKind(kind),
        source=Source(source),
        ticket_id=ticket_id,
        remote_id=remote_id,
        payload=json.loads(payload),
        idempotency_key=key,
        base_version=base,
        undo=json.loads(undo),
        state=OpState(state),
        attempts=attempts,
        error=error,
        created_at=parse_iso(created_at),
    )


class Outbox(Part):
    """Appending, claiming, settling and looking up outbox entries (the heart of
    exactly-once: an entry is claimed before it is sent and settled once, by its claimer)."""

    def __init__(
        self, shared: Shared, *, sla_changed: Callable[[int], None] | None = None
    ) -> None:
        super().__init__(shared)
        self.undoing = Undoing(shared, sla_changed=sla_changed)
        """What withdrawing or reverting an entry restores (its SLA history, the local row)."""

    def enqueue(self, op: Op, *, undo_window: bool = True) -> int:
        """Append ``op`` (inside the caller's transaction, if any); returns its id.

        It waits :attr:`undo_seconds` (rounded up to the second) before it may be sent,
        unless ``undo_window`` is False (a change nobody typed: nothing for `u` to take back).
        """
        now = self.now()
        send_after = None
        if undo_window and self.undo_seconds > 0:
            send_after = iso(self.clock() + timedelta(seconds=math.ceil(self.undo_seconds)))
        with self.db.atomic():
            cur = self.db.execute(
                "INSERT INTO outbox (kind, source, ticket_id, remote_id, payload, "
                "idempotency_key, base_version, undo, state, created_at, updated_at, "
                "send_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
                [
                    str(op.kind),
                    str(op.source),
                    op.ticket_id,
                    op.remote_id,
                    dumps(op.payload),
                    op.idempotency_key,
                    op.base_version,
                    dumps(op.undo),
                    now,
                    now,
                    send_after,
                ],
            )
            if op.ticket_id is not None:
                self.db.execute(
                    "UPDATE tickets SET pending_ops = pending_ops + 1 WHERE id = ?", [op.ticket_id]
                )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def enqueue_once(self, op: Op) -> int | None:
        """Append an automatic entry (its key names what caused it, ``auto:...``) unless one
        with that key was ever queued; it has no undo window. Returns its id, or None.

        Checked and written in the caller's ``BEGIN IMMEDIATE`` transaction (the key is also
        unique in the table), so two processes that saw the same cause queue it once.
        """
        assert op.idempotency_key.startswith(AUTO_PREFIX)
        with self.db.atomic():
            if self._one("SELECT 1 FROM outbox WHERE idempotency_key = ?", [op.idempotency_key]):
                return None
            return self.enqueue(op, undo_window=False)

    def enqueue_unclear(self, op: Op) -> int:
        """Append ``op`` already in flight: before it is sent, the adapter looks for an
        earlier attempt (another relay's, or one whose answer was lost)."""
        with self.db.atomic():
            op_id = self.enqueue(op)
            self.mark_inflight(op_id)
        return op_id

    def op_by_key(self, idempotency_key: str) -> Op | None:
        """The outbox entry with this key, if there is one."""
        row = self._one("SELECT id FROM outbox WHERE idempotency_key = ?", [idempotency_key])
        return self.get_op(int(row[0])) if row else None

    def op_state(self, idempotency_key: str) -> tuple[str, str | None] | None:
        """(state, remote id) of the outbox entry with this key, if there is one."""
        row = self._one(
            "SELECT state, remote_id FROM outbox WHERE idempotency_key = ?", [idempotency_key]
        )
        return (str(row[0]), row[1]) if row else None

    def get_op(self, op_id: int) -> Op | None:
        """One outbox entry."""
        row = self._one(f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = ?", [op_id])
        return op_from_row(row) if row else None

    def ops(
        self,
        states: Sequence[OpState] = (OpState.PENDING, OpState.INFLIGHT),
        ticket_id: int | None = None,
    ) -> list[Op]:
        """Outbox entries in these states, oldest first."""
        marks = ",".join("?" * len(states))
        sql = f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE state IN ({marks})"
        params: list[Any] = [str(s) for s in states]
        if ticket_id is not None:
            sql += " AND ticket_id = ?"
            params.append(ticket_id)
        return [op_from_row(r) for r in self.db.execute(sql + " ORDER BY id", params)]

    def due_ops(self, now: datetime, limit: int = 50) -> list[Op]:
        """Entries ready to push: pending or in flight, whose backoff has passed, in order.

        An entry still in its undo window (``send_after`` later than ``now``) is not due yet,
        nor is one another process holds a live claim on (``lease_until`` later than ``now``).
        Only the oldest unsettled entry of each ticket is returned, so a ticket's entries are
        applied in the order they were made; a failed entry holds the ones after it until the
        user retries or discards it, and a ticket in conflict waits for the user's choice.
        """
        return [op_from_row(r) for r in self._due_rows(now, limit)]

    def _due_rows(
        self, now: datetime, limit: int, sources: Sequence[str] | None = None
    ) -> list[Any]:
        at = iso(now)
        params: list[Any] = [at, at, at]
        by_source = ""
        if sources is not None:
            by_source = f"AND source IN ({','.join('?' * len(sources))}) "
            params.extend(sources)
        rows = self.db.execute(
            f"SELECT {OUTBOX_COLUMNS} FROM outbox o WHERE state IN ('pending', 'inflight') "
            "AND (next_attempt_at IS NULL OR next_attempt_at <= ?) "
            "AND (send_after IS NULL OR send_after <= ?) "  # the undo window is over
            "AND (lease_until IS NULL OR lease_until <= ?) "  # nobody is sending it
            f"{by_source}"
            "AND (ticket_id IS NULL OR id = (SELECT min(id) FROM outbox p WHERE "
            "p.ticket_id = o.ticket_id AND p.state IN ('pending', 'inflight', 'failed'))) "
            # a ticket in conflict waits until the user chose (keep mine / take theirs)
            "AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.id = o.ticket_id "
            "AND t.conflict IS NOT NULL) "
            "ORDER BY id LIMIT ?",
            [*params, limit],
        )
        return list(rows)

    def claim_due(
        self,
        now: datetime,
        claimer: str,
        lease: timedelta,
        *,
        sources: Sequence[str] | None = None,
        limit: int = 1,
    ) -> list[Op]:
        """Claim up to ``limit`` due entries for ``claimer``, in one ``BEGIN IMMEDIATE``.

        Each claimed entry moves to in flight with the claimer's id and a lease until
        ``now + lease``; another process's :meth:`claim_due` skips it until the lease ends.
        The returned entries carry the state they had *before* the claim: ``INFLIGHT`` means
        an unclear send (a lost answer, or a claimer that died mid-send), to be looked up at
        the backend before anything is sent again.

        Args:
            now: the current time (due and lease checks).
            claimer: who claims (unique per process and engine: pid and a random part).
            lease: how long the claim holds; a send must end (or give up) before it runs out.
            sources: only entries for these backends (the ones that can take them now).
            limit: how many entries at most.
        """
        if sources is not None and not sources:
            return []
        until = iso(now + lease)
        claimed: list[Op] = []
        with self.db.atomic():
            for row in self._due_rows(now, limit, sources):
                op = op_from_row(row)
                cur = self.db.execute(
                    "UPDATE outbox SET state = 'inflight', claimed_by = ?, lease_until = ?, "
                    "updated_at = ? WHERE id = ? "
                    "AND state IN ('pending', 'inflight') "
                    "AND (lease_until IS NULL OR lease_until <= ?)",
                    [claimer, until, self.now(), op.id, iso(now)],
                )
                if cur.rowcount == 1:
                    claimed.append(op)
        return claimed

    def live_claimers(self, now: datetime) -> set[str]:
        """Who holds a claim whose lease has not run out."""
        rows = self.db.execute(
            "SELECT DISTINCT claimed_by FROM outbox WHERE state = 'inflight' "
            "AND claimed_by IS NOT NULL AND lease_until > ?",
            [iso(now)],
        )
        return {str(r[0]) for r in rows}

    def end_leases(self, claimer: str) -> int:
        """End every lease ``claimer`` holds (it is known to be dead: its process is gone).

        Its entries stay in flight, so the next claimer looks each up before any resend.
        """
        cur = self.db.execute(
            "UPDATE outbox SET lease_until = NULL, updated_at = ? "
            "WHERE state = 'inflight' AND claimed_by = ?",
            [self.now(), claimer],
        )
        return cur.rowcount

    def holds_claim(self, op_id: int, claimer: str) -> bool:
        """True while ``claimer`` holds the entry's claim (in flight, claimed by it)."""
        row = self._one(
            "SELECT 1 FROM outbox WHERE id = ? AND state = 'inflight' AND claimed_by = ?",
            [op_id, claimer],
        )
        return row is not None

    def mark_inflight(self, op_id: int, claimer: str | None = None) -> bool:
        """Record that the entry is about to be sent (before the request goes out).

        Only a pending or in-flight entry qualifies (never a settled, failed or undone one);
        with ``claimer``, only while it holds the entry's claim. Returns whether it did.
        """
        sql = (
            "UPDATE outbox SET state = 'inflight', attempts = attempts + 1, updated_at = ? "
            "WHERE id = ? AND state IN ('pending', 'inflight')"
        )
        params: list[Any] = [self.now(), op_id]
        if claimer is not None:
            sql += " AND claimed_by = ?"
            params.append(claimer)
        return self.db.execute(sql, params).rowcount == 1

    def _claim_clause(self, claimer: str | None) -> tuple[str, list[Any]]:
        if claimer is None:
            return "", []
        return " AND claimed_by = ?", [claimer]

    def mark_retry(
        self, op_id: int, delay: timedelta, error: str, claimer: str | None = None
    ) -> bool:
        """Put the entry back for a later attempt (its outcome is known: not applied).

        With ``claimer``, only while it holds the claim (another process that took over an
        expired lease decides then). Returns whether it did.
        """
        clause, extra = self._claim_clause(claimer)
        cur = self.db.execute(
            "UPDATE outbox SET state = 'pending', next_attempt_at = ?, error = ?, updated_at = ?, "
            "claimed_by = NULL, lease_until = NULL "
            f"WHERE id = ? AND state IN ('pending', 'inflight'){clause}",
            [self._later(delay), error, self.now(), op_id, *extra],
        )
        return cur.rowcount == 1

    def mark_unclear(
        self, op_id: int, delay: timedelta, error: str, claimer: str | None = None
    ) -> bool:
        """The outcome is unknown (timeout, reset, a failed look-up): stay in flight, claim
        released, and look it up before any resend. Returns whether it did."""
        clause, extra = self._claim_clause(claimer)
        cur = self.db.execute(
            "UPDATE outbox SET state = 'inflight', next_attempt_at = ?, error = ?, "
            "updated_at = ?, claimed_by = NULL, lease_until = NULL "
            f"WHERE id = ? AND state IN ('pending', 'inflight'){clause}",
            [self._later(delay), error, self.now(), op_id, *extra],
        )
        return cur.rowcount == 1

    def _later(self, delay: timedelta) -> str | None:
        """``now + delay`` as stored; an absurd delay is the latest sane one (a year)."""
        return iso(self.clock() + min(max(delay, timedelta(0)), MAX_PARK))

    def mark_failed(self, op_id: int, error: str, claimer: str | None = None) -> bool:
        """The backend refused the entry for a reason the user must see and fix.

        A refused reply never reached the customer: it stops being the answer of the reply
        clock; a refused edit (pending, a ``+`` label, a priority) did not happen either: its
        SLA events go from the history, so the clock no longer pauses or re-targets on it
        (until it is retried; see :meth:`retry_failed`). The row keeps the edit until the
        user discards or retries it.
        """
        clause, extra = self._claim_clause(claimer)
        with self.db.atomic():
            cur = self.db.execute(
                "UPDATE outbox SET state = 'failed', error = ?, updated_at = ?, "
                "claimed_by = NULL, lease_until = NULL "
                f"WHERE id = ? AND state IN ('pending', 'inflight'){clause}",
                [error, self.now(), op_id, *extra],
            )
            if cur.rowcount == 1:
                op = self.get_op(op_id)
                if op is not None and op.kind is OpKind.REPLY:
                    self.undoing.withdraw_answer(op)
                elif op is not None and "sla_events" in op.undo:
                    self.undoing.withdraw_edit(op)
        return cur.rowcount == 1

    def mark_done(
        self,
        op_id: int,
        *,
        remote_id: str | None = None,
        version: str | None = None,
        url: str | None = None,
    ) -> None:
        """The backend confirmed the entry; settle it and the ticket's pending marker."""
        with self.db.atomic():
            op = self.get_op(op_id)
            if op is None or op.state in (OpState.DONE, OpState.CANCELLED):
                return  # settled already (twice, or by another process): nothing to do
            self.db.execute(
                "UPDATE outbox SET state = 'done', error = NULL, updated_at = ?, "
                "claimed_by = NULL, lease_until = NULL WHERE id = ?",
                [self.now(), op_id],
            )
            self._settle_ticket(op, remote_id=remote_id, version=version, url=url)

    def _settle_ticket(
        self, op: Op, *, remote_id: str | None, version: str | None, url: str | None
    ) -> None:
        if op.ticket_id is None:
            return
        self.db.execute(
            "UPDATE tickets SET pending_ops = max(pending_ops - 1, 0) WHERE id = ?",
            [op.ticket_id],
        )
        if op.kind in (OpKind.REPLY, OpKind.NOTE) and remote_id is not None:
            self._settle_comment(op.id, op.ticket_id, remote_id)
        elif op.kind == OpKind.CREATE_TICKET and remote_id is not None:
            self.db.execute(
                "UPDATE tickets SET remote_id = coalesce(remote_id, ?), url = coalesce(?, url) "
                "WHERE id = ?",
                [remote_id, url, op.ticket_id],
            )
            self.db.execute(
                "UPDATE outbox SET remote_id = ? WHERE ticket_id = ? AND remote_id IS NULL",
                [remote_id, op.ticket_id],
            )

    def _settle_comment(self, op_id: int | None, ticket_id: int, remote_id: str) -> None:
        """Give the entry's local comment the backend's id, once.

        The same comment may be in the thread already: pulled before its entry settled (a
        lost answer), it is the same comment twice, so the pulled copy goes. One that belongs
        to another entry is never taken over (two notes with the same text are two comments).
        """
        row = self._one(
            "SELECT id, outbox_id FROM comments WHERE ticket_id = ? AND remote_id = ?",
            [ticket_id, remote_id],
        )
        if row is not None:
            if row[1] == op_id:
                return
            if row[1] is not None:
                self.db.execute(
                    "INSERT INTO sync_log (at, backend, level, message) VALUES (?, ?, ?, ?)",
                    [
                        self.now(),
                        "outbox",
                        "warning",
                        f"entry {op_id}: comment {remote_id} is another change's; not linked",
                    ],
                )
                return
            self.db.execute("DELETE FROM comments WHERE id = ?", [row[0]])
            self.reindex([ticket_id])
        self.db.execute(
            "UPDATE comments SET remote_id = ? WHERE outbox_id = ? AND remote_id IS NULL",
            [remote_id, op_id],
        )

    def taken_comment_ids(self, op: Op) -> frozenset[str]:
        """Remote ids of the ticket's comments that other outbox entries made (a look-up by
        content must never match one of them)."""
        if op.ticket_id is None:
            return frozenset()
        rows = self.db.execute(
            "SELECT remote_id FROM comments WHERE ticket_id = ? AND remote_id IS NOT NULL "
            "AND outbox_id IS NOT NULL AND outbox_id != ?",
            [op.ticket_id, op.id if op.id is not None else -1],
        )
        return frozenset(str(r[0]) for r in rows)

    def retry_failed(self, op_id: int) -> None:
        """Put a failed entry back in the queue (after the user fixed the cause).

        A reply retried is the answer again, as of now (the customer never had it before);
        an edit retried counts for the clocks as of now too (a pause starts at the retry).
        """
        with self.db.atomic():
            cur = self.db.execute(
                "UPDATE outbox SET state = 'pending', next_attempt_at = NULL, updated_at = ? "
                "WHERE id = ? AND state = 'failed'",
                [self.now(), op_id],
            )
            if cur.rowcount == 1:
                op = self.get_op(op_id)
                if op is not None and op.undo.get("withdrawn"):
                    if op.kind is OpKind.REPLY:
                        self.undoing.answer_again(op)
                    else:
                        self.undoing.edit_again(op)

    def discard(self, op_id: int) -> bool:
        """Drop a failed, unsent or unclear entry and restore the local row; False if not
        possible (settled, or claimed by a sync that is sending it right now).

        An unclear entry may have reached the backend: then the next pull shows it.
        """
        with self.db.atomic():
            op = self.get_op(op_id)
            if op is None or op.state not in (OpState.PENDING, OpState.FAILED, OpState.INFLIGHT):
                return False
            if self._claimed_now(op_id):
                return False
            self.undoing.revert(op)
            return True

    def _claimed_now(self, op_id: int) -> bool:
        row = self._one(
            "SELECT 1 FROM outbox WHERE id = ? AND lease_until > ?", [op_id, self.now()]
        )
        return row is not None

    def send_now(self, op_id: int) -> bool:
        """End an entry's wait (a server's Retry-After, a backoff, its undo window) so the
        next pass takes it; an unclear one is still looked up before it is sent. False if
        it is not waiting to be sent (settled, failed, or being sent right now)."""
        with self.db.atomic():
            if self._claimed_now(op_id):
                return False
            cur = self.db.execute(
                "UPDATE outbox SET next_attempt_at = NULL, send_after = NULL, updated_at = ? "
                "WHERE id = ? AND state IN ('pending', 'inflight')",
                [self.now(), op_id],
            )
            return cur.rowcount == 1

    def parked_until(self, op_id: int) -> datetime | None:
        """When a waiting entry may go next (its backoff or a server's wait), if later than
        now."""
        row = self._one(
            "SELECT next_attempt_at FROM outbox WHERE id = ? AND next_attempt_at > ?",
            [op_id, self.now()],
        )
        return parse_iso(row[0]) if row else None

    def undo_last(self, now: datetime | None = None) -> Op | None:
        """Undo the most recent entry that has not been sent yet; None if there is none.

        With ``now`` (a sync engine is running), only an entry still in its undo window
        qualifies: the engine takes an entry only once its window is over, so one undone
        before then can never be on its way out.
        """
        sql = (
            f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE state = 'pending' AND attempts = 0 "
            "AND idempotency_key NOT LIKE 'auto:%'"  # what nobody typed is not undone
        )
        params: list[Any] = []
        if now is not None:
            sql += " AND send_after > ?"
            params.append(iso(now))
        with self.db.atomic():
            row = self._one(sql + " ORDER BY id DESC LIMIT 1", params)
            if row is None:
                return None
            op = op_from_row(row)
            self.undoing.revert(op)
            return op

    def waiting(self, now: datetime) -> dict[int, datetime]:
        """Tickets with an entry in its undo window, and when the last one ends."""
        rows = self.db.execute(
            "SELECT ticket_id, max(send_after) FROM outbox WHERE state = 'pending' "
            "AND send_after > ? AND ticket_id IS NOT NULL GROUP BY ticket_id",
            [iso(now)],
        )
        result: dict[int, datetime] = {}
        for tid, until in rows:
            when = parse_iso(until)
            if when is not None:
                result[int(tid)] = when
        return result

    def waiting_op_ids(self, now: datetime) -> set[int]:
        """Ids of the entries in their undo window."""
        rows = self.db.execute(
            "SELECT id FROM outbox WHERE state = 'pending' AND send_after > ?", [iso(now)]
        )
        return {int(r[0]) for r in rows}

    def waiting_count(self, now: datetime) -> int:
        """How many entries are in their undo window."""
        row = self._one(
            "SELECT count(*) FROM outbox WHERE state = 'pending' AND send_after > ?", [iso(now)]
        )
        return int(row[0]) if row else 0

    def next_send_after(self, now: datetime) -> datetime | None:
        """When the first undo window still running ends (None: none is)."""
        row = self._one(
            "SELECT min(send_after) FROM outbox WHERE state = 'pending' AND send_after > ?",
            [iso(now)],
        )
        return parse_iso(row[0]) if row else None

    def send_waiting_now(self, now: datetime) -> int:
        """End every undo window at once (ctrl+r, quitting); returns how many entries."""
        cur = self.db.execute(
            "UPDATE outbox SET send_after = NULL, updated_at = ? WHERE state = 'pending' "
            "AND send_after > ?",
            [self.now(), iso(now)],
        )
        return cur.rowcount

    def outbox_counts(self) -> dict[str, int]:
        """How many entries are in each state (pending, inflight, failed...)."""
        rows = self.db.execute(
            "SELECT state, count(*) FROM outbox WHERE state != 'done' GROUP BY state"
        )
        return {str(state): int(n) for state, n in rows}

    def send_ticket_now(self, ticket_id: int, up_to: int) -> int:
        """End the undo window of ``ticket_id``'s entries up to ``up_to`` (a script's
        ``--send-now``: a ticket's entries go out in order, so the earlier ones go first);
        returns how many entries."""
        cur = self.db.execute(
            "UPDATE outbox SET send_after = NULL, updated_at = ? WHERE ticket_id = ? "
            "AND id <= ? AND state = 'pending' AND send_after IS NOT NULL",
            [self.now(), ticket_id, up_to],
        )
        return cur.rowcount
