"""A scripted in-memory backend for engine and UI tests (the wire fakes live in demo/fakes)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta

from oncall_tui.domain.ops import Op, OpKind
from oncall_tui.domain.tickets import Channel, Priority, Source, Status
from oncall_tui.sync.base import (
    BackendUnavailable,
    Page,
    PushResult,
    RateLimited,
    Rejected,
    RemoteComment,
    RemoteCustomer,
    RemoteTicket,
)

T0 = datetime.fromisoformat("2026-11-23T17:00:00+00:00")


def remote_ticket(n: int, **kw: object) -> RemoteTicket:
    fields: dict = dict(
        source=Source.HELPDESK,
        remote_id=str(n),
        subject=f"Remote ticket {n}",
        body="body",
        status=Status.OPEN,
        priority=Priority.P1,
        channel=Channel.EMAIL,
        labels=(),
        assignee=None,
        requester="rita@globexhealth.io",
        customer_remote_id="org1",
        opened_at=T0,
        updated_at=T0,
        url=f"https://fake/tickets/{n}",
        version="1",
    )
    fields.update(kw)
    return RemoteTicket(**fields)


class FakeBackend:
    """Holds tickets; pulls return them in pages; pushes change them exactly once per key."""

    name = "fake"
    source = Source.HELPDESK
    supported_ops = frozenset(OpKind)

    def __init__(self, tickets: list[RemoteTicket] | None = None, page_size: int = 2) -> None:
        self.tickets: dict[str, RemoteTicket] = {t.remote_id: t for t in tickets or []}
        self.order: list[str] = list(self.tickets)
        self.comments: list[RemoteComment] = []
        self.customers = [
            RemoteCustomer(
                "org1", "Globex Health", "premium", ("globexhealth.io",), ("Rita Okafor",), "vesta"
            )
        ]
        self.page_size = page_size
        self.applied: Counter[str] = Counter()
        self.script: list[str] = []  # faults for the next pushes: "unclear", "429", "reject"
        self.pull_faults: list[str] = []
        self.clock_step = 0
        self.wait_hint: float | None = None

    def touch(self, ticket: RemoteTicket) -> None:
        self.clock_step += 1
        ticket = replace(
            ticket,
            updated_at=T0 + timedelta(minutes=self.clock_step),
            version=str(int(ticket.version or "0") + 1),
        )
        self.tickets[ticket.remote_id] = ticket
        self.order.append(ticket.remote_id)  # a change log: the cursor is a position in it

    async def fetch_changes(self, cursor: str | None) -> Page:
        if self.pull_faults:
            fault = self.pull_faults.pop(0)
            if fault == "429":
                raise RateLimited("fake: 429", retry_after=30)
            raise BackendUnavailable("fake: 503")
        start = int(cursor or 0)
        ids = self.order[start : start + self.page_size]
        end = start + len(ids)
        return Page(
            tickets=tuple(self.tickets[i] for i in ids),
            comments=tuple(c for c in self.comments if c.ticket_remote_id in ids),
            customers=tuple(self.customers),
            cursor=str(end),
            done=end >= len(self.order),
            wait_hint=self.wait_hint,
        )

    def _apply(self, op: Op) -> PushResult:
        self.applied[op.idempotency_key] += 1
        rid = op.remote_id or ""
        if op.kind == OpKind.CREATE_ISSUE:
            n = 9000 + len(self.applied)
            return PushResult(remote_id=str(n), url=f"https://fake/issues/{n}")
        ticket = self.tickets[rid]
        if op.kind == OpKind.SET_PRIORITY:
            ticket = replace(ticket, priority=Priority(op.payload["priority"]))
        elif op.kind == OpKind.SET_STATUS:
            ticket = replace(ticket, status=Status(op.payload["status"]))
        elif op.kind == OpKind.ASSIGN:
            ticket = replace(ticket, assignee=op.payload["assignee"])
        elif op.kind == OpKind.ADD_LABELS:
            ticket = replace(ticket, labels=ticket.labels + tuple(op.payload["labels"]))
        elif op.kind == OpKind.REMOVE_LABELS:
            ticket = replace(
                ticket, labels=tuple(x for x in ticket.labels if x not in op.payload["labels"])
            )
        elif op.kind in (OpKind.REPLY, OpKind.NOTE):
            comment = RemoteComment(
                self.source,
                rid,
                f"c{len(self.comments) + 1}",
                "alex",
                op.payload["body"],
                op.kind == OpKind.REPLY,
                T0 + timedelta(hours=1),
            )
            self.comments.append(comment)
            self.touch(ticket)
            return PushResult(remote_id=rid, comment=comment, ticket=self.tickets[rid])
        self.touch(ticket)
        return PushResult(
            remote_id=rid, version=self.tickets[rid].version, ticket=self.tickets[rid]
        )

    async def push(self, op: Op) -> PushResult:
        fault = self.script.pop(0) if self.script else None
        if fault == "429":
            raise RateLimited("fake: 429", retry_after=30)
        if fault == "reject":
            raise Rejected("fake: 422 Assignee is not an agent", status=422)
        if fault == "down":
            raise BackendUnavailable("fake: 503")
        if self.applied[op.idempotency_key]:  # an idempotency key replay
            return PushResult(remote_id=op.remote_id or "")
        result = self._apply(op)
        if fault == "unclear":  # applied, but the answer was lost
            raise BackendUnavailable("fake: connection reset")
        return result

    async def lookup(
        self, op: Op, taken: frozenset[str] = frozenset()
    ) -> PushResult | None:
        if self.applied[op.idempotency_key]:
            return PushResult(remote_id=op.remote_id or "")
        return None
