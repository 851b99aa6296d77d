"""Undoing an outbox entry: what withdrawing, re-queueing or reverting it does to the
ticket's SLA history and local row.

A sub-part of :class:`~oncall_tui.store.outbox.Outbox`, which builds it and calls it while an
entry fails for good, is retried, discarded or undone; the claiming and settling core stays in
:mod:`oncall_tui.store.outbox`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from oncall_tui.domain.calendars import from_epoch, to_epoch
from oncall_tui.domain.ops import Op, OpKind
from oncall_tui.store.base import Part, Shared
from oncall_tui.store.db import dumps, iso, parse_iso


class Undoing(Part):
    """An entry's own effects taken back (its SLA events, the first response it was, the
    columns and comment it wrote), each once; what others wrote meanwhile stays."""

    def __init__(
        self, shared: Shared, *, sla_changed: Callable[[int], None] | None = None
    ) -> None:
        super().__init__(shared)
        self._recompute = sla_changed
        """Recomputes a ticket's stored clocks after an entry's SLA history changed (the
        tickets part's; None: nothing to recompute, the part alone)."""

    def sla_changed(self, ticket_id: int) -> None:
        """Recompute the ticket's stored clocks after its history changed."""
        if self._recompute is not None:
            self._recompute(ticket_id)

    def drop_events(self, ticket_id: int, events: Sequence[Any]) -> None:
        """Take ``events`` (stored triples) out of the ticket's SLA history, each once, the
        latest match first; what others added meanwhile (a synced comment) stays."""
        row = self._one("SELECT sla_events FROM tickets WHERE id = ?", [ticket_id])
        if row is None or not events:
            return
        history = json.loads(row[0] or "[]")
        for event in events:
            for i in range(len(history) - 1, -1, -1):
                if history[i] == list(event):
                    del history[i]
                    break
        self.db.execute(
            "UPDATE tickets SET sla_events = ? WHERE id = ?", [dumps(history), ticket_id]
        )

    def withdraw_answer(self, op: Op) -> None:
        """A reply that will not reach the customer stops answering the clock: its event
        goes from the history, and the first response it was goes back to what it was."""
        if op.ticket_id is None or op.undo.get("withdrawn"):
            return
        events = op.undo.get("sla_events")
        if events is None and op.undo.get("comment_id") is not None:
            # queued before replies kept their events: the comment says when it answered
            row = self._one("SELECT created_at FROM comments WHERE id = ?", [op.undo["comment_id"]])
            when = parse_iso(row[0]) if row else None
            events = [] if when is None else [[to_epoch(when), "agent_public", ""]]
        events = events or []
        self.drop_events(op.ticket_id, events)
        before = (op.undo.get("columns") or {}).get("first_response_at")
        for at, _kind, _value in events:
            self.db.execute(
                "UPDATE tickets SET first_response_at = ? WHERE id = ? "
                "AND first_response_at = ?",
                [before, op.ticket_id, iso(from_epoch(int(at)))],
            )
        self.db.execute(
            "UPDATE outbox SET undo = ? WHERE id = ?",
            [dumps({**op.undo, "withdrawn": True}), op.id],
        )
        self.sla_changed(op.ticket_id)

    def answer_again(self, op: Op) -> None:
        """A withdrawn reply queued again answers as of now."""
        if op.ticket_id is None:
            return
        now = self.clock()
        event = [to_epoch(now), "agent_public", ""]
        row = self._one("SELECT sla_events FROM tickets WHERE id = ?", [op.ticket_id])
        if row is None:
            return
        history = json.loads(row[0] or "[]") + [event]
        self.db.execute(
            "UPDATE tickets SET sla_events = ?, first_response_at = coalesce(first_response_at, ?) "
            "WHERE id = ?",
            [dumps(history), iso(now), op.ticket_id],
        )
        undo = {k: v for k, v in op.undo.items() if k != "withdrawn"}
        undo["sla_events"] = [event]
        self.db.execute("UPDATE outbox SET undo = ? WHERE id = ?", [dumps(undo), op.id])
        self.sla_changed(op.ticket_id)

    def withdraw_edit(self, op: Op) -> None:
        """An edit the backend refused for good did not happen: its own SLA events go from
        the history (what was synced meanwhile stays) and the clocks are replayed without
        them."""
        if op.ticket_id is None or op.undo.get("withdrawn"):
            return
        self.drop_events(op.ticket_id, op.undo.get("sla_events") or [])
        self.db.execute(
            "UPDATE outbox SET undo = ? WHERE id = ?",
            [dumps({**op.undo, "withdrawn": True}), op.id],
        )
        self.sla_changed(op.ticket_id)

    def edit_again(self, op: Op) -> None:
        """A withdrawn edit queued again counts as of now."""
        if op.ticket_id is None:
            return
        row = self._one("SELECT sla_events FROM tickets WHERE id = ?", [op.ticket_id])
        if row is None:
            return
        now = to_epoch(self.clock())
        events = [[now, kind, value] for _at, kind, value in op.undo.get("sla_events") or []]
        history = json.loads(row[0] or "[]") + events
        self.db.execute(
            "UPDATE tickets SET sla_events = ? WHERE id = ?", [dumps(history), op.ticket_id]
        )
        undo = {k: v for k, v in op.undo.items() if k != "withdrawn"}
        undo["sla_events"] = events
        self.db.execute("UPDATE outbox SET undo = ? WHERE id = ?", [dumps(undo), op.id])
        self.sla_changed(op.ticket_id)

    def revert(self, op: Op) -> None:
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
        if op.kind is OpKind.REPLY and "sla_events" in op.undo:
            self.withdraw_answer(op)  # its event, and the first response only if it was it
        elif columns:
            assignments = ", ".join(f"{k} = :{k}" for k in columns)
            self.db.execute(
                f"UPDATE tickets SET {assignments} WHERE id = :id", {**columns, "id": op.ticket_id}
            )
        if "sla_events" in op.undo and op.kind is not OpKind.REPLY:
            # only its own events go (older entries restore the whole column above); a
            # refused edit's went when it was refused, and nothing goes twice
            if not op.undo.get("withdrawn"):
                self.drop_events(op.ticket_id, op.undo["sla_events"])
            self.sla_changed(op.ticket_id)
        if op.undo.get("comment_id") is not None:
            self.db.execute("DELETE FROM comments WHERE id = ?", [op.undo["comment_id"]])
            self.reindex([op.ticket_id])
