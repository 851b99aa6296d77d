"""A generated week of history with calendar-hour targets only (premium P0: 4 h, chat: 24 h),
so the tests can count every number directly from the rows with plain timedelta arithmetic,
independently of the SLA engine."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.tickets import Channel, Comment, Customer, Priority, Source, Status, Ticket
from oncall_tui.store import Store, open_store

NOW = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)  # a Monday, 10:00 in Los Angeles
START = NOW - timedelta(days=7)
AGENTS = ("alex@s.example", "sam@s.example", "mei@s.example")
TARGET = {Source.HELPDESK: timedelta(hours=4), Source.CHAT: timedelta(hours=24)}


def make_week(path: Path, seed: int = 7, n: int = 80) -> Store:
    rng = random.Random(seed)
    store = open_store(path, clock=FrozenClock(NOW))
    premium = store.tickets.upsert_customer(Customer(1, "Globex", "premium", "vesta"))
    tickets: list[Ticket] = []
    comments: list[Comment] = []
    for i in range(n):
        chat = rng.random() < 0.3
        source = Source.CHAT if chat else Source.HELPDESK
        opened = NOW - timedelta(minutes=rng.randint(10, 60 * 24 * 9))
        requester = f"user{i}@globex.example"
        answer: datetime | None = opened + timedelta(minutes=rng.randint(5, 60 * 8))
        assert answer is not None
        if answer >= NOW or rng.random() < 0.2:
            answer = None
        status = Status.OPEN if answer is None or rng.random() < 0.5 else Status.SOLVED
        idx = len(tickets)
        tickets.append(
            Ticket(
                id=0,
                source=source,
                channel=Channel.CHAT if chat else Channel.EMAIL,
                subject=f"ticket {i} | with a pipe",
                opened_at=opened,
                updated_at=answer or opened,
                status=status,
                priority=Priority.P2 if chat else Priority.P0,
                remote_id=f"C1:{i}.0" if chat else str(5000 + i),
                requester=requester,
                customer_id=premium,
                assignee=rng.choice((*AGENTS, None)),
                first_response_at=answer,
            )
        )
        if answer is None:
            continue
        comments.append(Comment(0, idx, "agent", "first", answer, True, f"c{i}a", role="staff"))
        when = answer
        for j in range(rng.randint(0, 3)):  # follow-ups and answers (some internal)
            when += timedelta(minutes=rng.randint(30, 60 * 30))
            if when >= NOW:
                break
            author = requester if j % 2 == 0 else rng.choice(AGENTS)
            role = "customer" if author == requester else "staff"
            public = rng.random() > 0.15
            comments.append(Comment(0, idx, author, "x", when, public, f"c{i}.{j}", role=role))
    store.tickets.insert_tickets(tickets, comments)
    return store


#: Tickets where the old report-only clocks and the SLA engine disagreed (premium P0: 4 h).
AUTO_REPLY, UNKNOWN_AUTHOR, PLUS_LABEL = "9001", "9002", "9003"


def add_disagreements(store: Store) -> None:
    """Three tickets the old ``ticket_clocks`` counted otherwise than the engine:

    - an automatic reply 5 minutes in (the backend's first response), our answer 6 h in: the
      engine breaches the first clock at 4 h (an automatic reply never answers); the old
      function took ``first_response_at`` and said met;
    - a public message by an author nobody resolved (a colleague of the customer in cc) after
      our answer: the engine starts a next-reply clock (anyone not known to be staff is the
      customer speaking), answered 10 h later: breached; the old function ignored it;
    - ``+more info please`` on from 1 h to 4 h, our answer at 5 h: the engine pauses the
      clock (2 h used, met); the old function had no pause (the label came from the
      backend, not a local edit) and breached it.
    """
    from oncall_tui.domain.sla_clocks import EventType, SlaEvent

    premium = store.tickets.upsert_customer(Customer(1, "Globex", "premium", "vesta"))
    h = timedelta(hours=1)
    o1, o2, o3 = NOW - 30 * h, NOW - 50 * h, NOW - 40 * h

    def ticket(remote_id: str, opened: datetime, first: datetime, **kw: object) -> Ticket:
        return Ticket(
            id=0,
            source=Source.HELPDESK,
            channel=Channel.EMAIL,
            subject=f"disagreement {remote_id}",
            opened_at=opened,
            updated_at=opened + 20 * h,
            status=Status.OPEN,
            priority=Priority.P0,
            remote_id=remote_id,
            requester="boss@globex.example",
            customer_id=premium,
            assignee="sam@s.example",
            first_response_at=first,
            **kw,  # type: ignore[arg-type]
        )

    plus_events = (
        SlaEvent(o3, EventType.PRIORITY, "P0"),
        SlaEvent(o3, EventType.STATUS, "open"),
        SlaEvent(o3 + h, EventType.LABEL_ADD, "+more info please"),
        SlaEvent(o3 + 4 * h, EventType.CUSTOMER_COMMENT),
        SlaEvent(o3 + 4 * h, EventType.LABEL_REMOVE, "+more info please"),
        SlaEvent(o3 + 5 * h, EventType.AGENT_PUBLIC),
    )
    store.tickets.insert_tickets(
        [
            ticket(AUTO_REPLY, o1, o1 + timedelta(minutes=5)),
            ticket(UNKNOWN_AUTHOR, o2, o2 + h),
            ticket(PLUS_LABEL, o3, o3 + 5 * h, sla_events=plus_events),
        ],
        [
            Comment(0, 0, "bot", "auto", o1 + timedelta(minutes=5), True, "a1", role="automation"),
            Comment(0, 0, "alex@s.example", "ans", o1 + 6 * h, True, "a2", role="staff"),
            Comment(0, 1, "alex@s.example", "ans", o2 + h, True, "u1", role="staff"),
            Comment(0, 1, "cc@globex.example", "any news?", o2 + 10 * h, True, "u2"),
            Comment(0, 1, "alex@s.example", "ans", o2 + 20 * h, True, "u3", role="staff"),
            Comment(0, 2, "boss@globex.example", "logs", o3 + 4 * h, True, "p1", role="customer"),
            Comment(0, 2, "alex@s.example", "ans", o3 + 5 * h, True, "p2", role="staff"),
        ],
    )
