"""A generated week of history with calendar-hour targets only (premium P0: 4 h, chat: 24 h),
so the tests can count every number directly from the rows with plain timedelta arithmetic,
independently of the SLA engine."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from oncall_tui.clock import FrozenClock
from oncall_tui.domain.tickets import Channel, Comment, Customer, Priority, Source, Status, Ticket
from oncall_tui.store import Store, open_store

NOW = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)  # a Monday, 10:00 in Los Angeles
START = NOW - timedelta(days=7)
AGENTS = ("alex@s.example", "sam@s.example", "mei@s.example")
TARGET = {Source.HELPDESK: timedelta(hours=4), Source.CHAT: timedelta(hours=24)}


def make_week(path: Path, seed: int = 7, n: int = 80) -> Store:
    rng = random.Random(seed)
    store = open_store(path, clock=FrozenClock(NOW))
    premium = store.upsert_customer(Customer(1, "Globex", "premium", "vesta"))
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
        comments.append(Comment(0, idx, "agent", "first", answer, True, f"c{i}a"))
        when = answer
        for j in range(rng.randint(0, 3)):  # follow-ups and answers (some internal)
            when += timedelta(minutes=rng.randint(30, 60 * 30))
            if when >= NOW:
                break
            author = requester if j % 2 == 0 else rng.choice(AGENTS)
            public = rng.random() > 0.15
            comments.append(Comment(0, idx, author, "x", when, public, f"c{i}.{j}"))
    store.insert_tickets(tickets, comments)
    return store
