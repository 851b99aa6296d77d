"""The durable outbox: user intent waiting to reach a backend.

An entry is appended in the same transaction as the local change it mirrors. The sync engine
takes entries in order per ticket, marks them in flight before sending (so an unclear outcome
after a crash is looked up, not blindly resent), and done only after the backend confirms.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from oncall_tui.domain.ops import Op, OpKind, OpState
from oncall_tui.domain.tickets import Source
from oncall_tui.store.base import StoreBase
from oncall_tui.store.db import dumps, iso, parse_iso

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


class OutboxMixin(StoreBase):
    """Appending, taking and settling outbox entries."""

    def enqueue(self, op: Op) -> int:
        """Append ``op`` (inside the caller's transaction, if any); returns its id.

        It waits :attr:`undo_seconds` (rounded up to the second) before it may be sent.
        """
        now = self.now()
        send_after = None
        if self.undo_seconds > 0:
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

        An entry still in its undo window (``send_after`` later than ``now``) is not due yet.
        Only the oldest unsettled entry of each ticket is returned, so a ticket's entries are
        applied in the order they were made; a failed entry holds the ones after it until the
        user retries or discards it, and a ticket in conflict waits for the user's choice.
        """
        rows = self.db.execute(
            f"SELECT {OUTBOX_COLUMNS} FROM outbox o WHERE state IN ('pending', 'inflight') "
            "AND (next_attempt_at IS NULL OR next_attempt_at <= ?) "
            "AND (send_after IS NULL OR send_after <= ?) "  # the undo window is over
            "AND (ticket_id IS NULL OR id = (SELECT min(id) FROM outbox p WHERE "
            "p.ticket_id = o.ticket_id AND p.state IN ('pending', 'inflight', 'failed'))) "
            # a ticket in conflict waits until the user chose (keep mine / take theirs)
            "AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.id = o.ticket_id "
            "AND t.conflict IS NOT NULL) "
            "ORDER BY id LIMIT ?",
            [iso(now), iso(now), limit],
        )
        return [op_from_row(r) for r in rows]

    def mark_inflight(self, op_id: int) -> None:
        """Record that the entry is about to be sent (before the request goes out)."""
        self.db.execute(
            "UPDATE outbox SET state = 'inflight', attempts = attempts + 1, updated_at = ? "
            "WHERE id = ?",
            [self.now(), op_id],
        )

    def mark_retry(self, op_id: int, delay: timedelta, error: str) -> None:
        """Put the entry back for a later attempt (its outcome is known: not applied)."""
        when = iso(self.clock() + delay)
        self.db.execute(
            "UPDATE outbox SET state = 'pending', next_attempt_at = ?, error = ?, updated_at = ? "
            "WHERE id = ?",
            [when, error, self.now(), op_id],
        )

    def mark_unclear(self, op_id: int, delay: timedelta, error: str) -> None:
        """The outcome is unknown (timeout, reset): stay in flight, look up before resending."""
        self.db.execute(
            "UPDATE outbox SET next_attempt_at = ?, error = ?, updated_at = ? WHERE id = ?",
            [iso(self.clock() + delay), error, self.now(), op_id],
        )

    def mark_failed(self, op_id: int, error: str) -> None:
        """The backend refused the entry for a reason the user must see and fix."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE outbox SET state = 'failed', error = ?, updated_at = ? WHERE id = ?",
                [error, self.now(), op_id],
            )

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
            if op is None or op.state == OpState.DONE:
                return
            self.db.execute(
                "UPDATE outbox SET state = 'done', error = NULL, updated_at = ? WHERE id = ?",
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
            self.db.execute(
                "UPDATE comments SET remote_id = ? WHERE outbox_id = ? AND remote_id IS NULL",
                [remote_id, op.id],
            )
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

    def retry_failed(self, op_id: int) -> None:
        """Put a failed entry back in the queue (after the user fixed the cause)."""
        self.db.execute(
            "UPDATE outbox SET state = 'pending', next_attempt_at = NULL, updated_at = ? "
            "WHERE id = ? AND state = 'failed'",
            [self.now(), op_id],
        )

    def discard(self, op_id: int) -> bool:
        """Drop a failed or unsent entry and restore the local row; False if not possible."""
        with self.db.atomic():
            op = self.get_op(op_id)
            if op is None or op.state not in (OpState.PENDING, OpState.FAILED):
                return False
            self._revert(op)
            return True

    def undo_last(self, now: datetime | None = None) -> Op | None:
        """Undo the most recent entry that has not been sent yet; None if there is none.

        With ``now`` (a sync engine is running), only an entry still in its undo window
        qualifies: the engine takes an entry only once its window is over, so one undone
        before then can never be on its way out.
        """
        sql = f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE state = 'pending' AND attempts = 0"
        params: list[Any] = []
        if now is not None:
            sql += " AND send_after > ?"
            params.append(iso(now))
        with self.db.atomic():
            row = self._one(sql + " ORDER BY id DESC LIMIT 1", params)
            if row is None:
                return None
            op = op_from_row(row)
            self._revert(op)
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

    def _revert(self, op: Op) -> None:
        self.db.execute(
            "UPDATE outbox SET state = 'cancelled', updated_at = ? WHERE id = ?",
            [self.now(), op.id],
        )
        if op.ticket_id is None:
            return
        self.db.execute(
            "UPDATE tickets SET pending_ops = max(pending_ops - 1, 0) WHERE id = ?",
            [op.ticket_id],
        )
        columns = op.undo.get("columns") or {}
        if columns:
            assignments = ", ".join(f"{k} = :{k}" for k in columns)
            self.db.execute(
                f"UPDATE tickets SET {assignments} WHERE id = :id", {**columns, "id": op.ticket_id}
            )
        if op.undo.get("comment_id") is not None:
            self.db.execute("DELETE FROM comments WHERE id = ?", [op.undo["comment_id"]])
            self.reindex([op.ticket_id])

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
