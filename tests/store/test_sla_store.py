"""Stored reply clocks (issue 13): the indexed columns follow the clocks, breaches stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.query import parse_query
from oncall_tui.domain.remote import Page, RemoteComment, RemoteCustomer, RemoteTicket
from oncall_tui.domain.sla_clocks import ClockState, Metric
from oncall_tui.domain.sla_history import clocks_of
from oncall_tui.domain.tickets import Channel, Priority, Source, Status
from oncall_tui.store import Store, open_store

T0 = datetime(2026, 11, 23, 15, tzinfo=UTC)  # Monday 07:00 Los Angeles
DUE = T0 + timedelta(hours=4)  # premium P1: 4 business hours


def rt(**kw: object) -> RemoteTicket:
    values: dict = dict(
        source=Source.HELPDESK,
        remote_id="41165",
        subject="Every page returns 502",
        body="",
        status=Status.OPEN,
        priority=Priority.P1,
        channel=Channel.EMAIL,
        labels=(),
        assignee=None,
        requester="rita@globex.io",
        customer_remote_id="org1",
        opened_at=T0,
        updated_at=T0,
        url=None,
        version="1",
    )
    values.update(kw)
    return RemoteTicket(**values)


def rc(n: int, at: datetime, *, role: str, author: str = "Alice Agent", **kw: object):  # type: ignore[no-untyped-def]
    values: dict = dict(
        source=Source.HELPDESK,
        ticket_remote_id="41165",
        remote_id=f"c{n}",
        author=author,
        body=f"message {n}",
        public=True,
        created_at=at,
        author_handle=author,
        author_role=role,
    )
    values.update(kw)
    return RemoteComment(**values)


def seeded(tmp_path: Path, now: datetime) -> tuple[Store, FrozenClock, int]:
    clock = FrozenClock(now)
    store = open_store(tmp_path / "sla.db", clock=clock)
    org = RemoteCustomer("org1", "Globex Health", "premium", ("globex.io",))
    store.remote.apply_page("zendesk", Page(customers=(org,), tickets=(rt(),), cursor="1"))
    ticket = store.tickets.find_ticket("helpdesk", "41165")
    assert ticket is not None
    return store, clock, ticket.id


def columns(store: Store, tid: int) -> tuple[int, str | None, int]:
    row = store.db.execute(
        "SELECT sla_bucket, sla_due, paused FROM tickets WHERE id = ?", [tid]
    ).fetchone()
    return row[0], row[1], row[2]


def count(store: Store, text: str, now: datetime) -> int:
    return store.queue.queue_count(parse_query(text), now=now)


def report(store: Store, tid: int, now: datetime):  # type: ignore[no-untyped-def]
    ticket = store.tickets.get_ticket(tid)
    return clocks_of(ticket, "premium", store.sla, now)


def test_a_late_answer_is_history_not_met(tmp_path: Path) -> None:
    late = T0 + timedelta(days=2, hours=3)
    store, clock, tid = seeded(tmp_path, late)
    assert columns(store, tid) == (0, "2026-11-23T19:00:00Z", 0)
    assert count(store, "sla:breached", late) == 1
    store.tickets.add_comment(tid, "Sorry for the wait", public=True, author="me")
    bucket, _, _ = columns(store, tid)
    assert bucket == 2  # nothing runs any more
    (first,) = report(store, tid, late).clocks
    assert first.state is ClockState.BREACHED
    assert first.breached_at == DUE and first.fulfilled_at == late
    store.close()


def test_an_author_nobody_resolved_never_answers(tmp_path: Path) -> None:
    store, _, tid = seeded(tmp_path, T0 + timedelta(hours=5))
    page = Page(comments=(rc(1, T0 + timedelta(hours=1), role="", author="1046"),), cursor="2")
    store.remote.apply_page("zendesk", page)
    assert store.tickets.get_ticket(tid).first_response_at is None
    assert columns(store, tid)[:2] == (0, "2026-11-23T19:00:00Z")
    automatic = rc(2, T0 + timedelta(hours=1), role="automation", author="Support bot")
    store.remote.apply_page("zendesk", Page(comments=(automatic,), cursor="3"))
    assert columns(store, tid)[:2] == (0, "2026-11-23T19:00:00Z")
    store.close()


def test_a_staff_answer_then_a_customer_follow_up_starts_a_next_reply(tmp_path: Path) -> None:
    now = T0 + timedelta(hours=3)
    store, _, tid = seeded(tmp_path, now)
    store.remote.apply_page(
        "zendesk", Page(comments=(rc(1, T0 + timedelta(hours=1), role="staff"),))
    )
    assert store.tickets.get_ticket(tid).first_response_at == T0 + timedelta(hours=1)
    assert columns(store, tid)[0] == 2
    follow = rc(2, T0 + timedelta(hours=2), role="customer", author="rita@globex.io")
    store.remote.apply_page("zendesk", Page(comments=(follow,)))
    assert columns(store, tid)[:2] == (0, "2026-11-23T21:00:00Z")
    metrics = [c.metric for c in report(store, tid, now).clocks]
    assert metrics == [Metric.FIRST_REPLY, Metric.NEXT_REPLY]
    store.close()


def test_the_requester_is_the_customer_whatever_the_role_says(tmp_path: Path) -> None:
    store, _, tid = seeded(tmp_path, T0 + timedelta(hours=1))
    mine = rc(1, T0 + timedelta(minutes=30), role="staff", author="rita@globex.io")
    store.remote.apply_page("zendesk", Page(comments=(mine,)))
    assert store.tickets.get_ticket(tid).first_response_at is None
    assert columns(store, tid)[0] == 0
    store.close()


def test_waiting_on_a_breached_ticket_keeps_it_breached(tmp_path: Path) -> None:
    now = T0 + timedelta(hours=6)
    store, _, tid = seeded(tmp_path, now)
    store.tickets.add_labels(tid, ["+more info please"])
    assert columns(store, tid) == (0, "2026-11-23T19:00:00Z", 1)  # breached, and waiting
    assert count(store, "sla:breached", now) == 1
    assert count(store, "sla:paused", now) == 0
    assert count(store, "is:paused", now) == 1
    (c,) = report(store, tid, now).clocks
    assert c.state is ClockState.BREACHED and c.paused
    store.close()


def test_waiting_before_the_due_pauses_and_a_customer_message_resumes(tmp_path: Path) -> None:
    now = T0 + timedelta(hours=1)
    store, clock, tid = seeded(tmp_path, now)
    store.tickets.set_status(tid, Status.PENDING)
    assert columns(store, tid)[0] == 1
    assert count(store, "sla:paused", now) == 1
    back = T0 + timedelta(hours=2)
    clock.set(back)
    reply = rc(1, back, role="customer", author="rita@globex.io")
    store.remote.apply_page("zendesk", Page(comments=(reply,)))
    # One business hour was used before the pause; three are left from 09:00.
    assert columns(store, tid)[:2] == (0, "2026-11-23T20:00:00Z")
    store.close()


def test_a_priority_change_past_the_new_target_breaches_then(tmp_path: Path) -> None:
    now = T0 + timedelta(days=1, hours=1)  # Tuesday 08:00: ten business hours in
    clock = FrozenClock(now)
    store = open_store(tmp_path / "p.db", clock=clock)
    org = RemoteCustomer("org1", "Globex Health", "premium", ("globex.io",))
    page = Page(customers=(org,), tickets=(rt(priority=Priority.P3),), cursor="1")
    store.remote.apply_page("zendesk", page)
    ticket = store.tickets.find_ticket("helpdesk", "41165")
    assert ticket is not None
    assert columns(store, ticket.id)[0] == 0
    store.tickets.set_priority(ticket.id, Priority.P1)
    assert columns(store, ticket.id)[:2] == (0, "2026-11-24T16:00:00Z")
    assert count(store, "sla:breached", now) == 1
    store.close()


def test_schema_8_cache_gets_its_clocks_from_stored_history(tmp_path: Path) -> None:
    from sqlite_utils import Database

    from oncall_tui.store.db import APPLICATION_ID
    from oncall_tui.store.migrations import migrations

    path = tmp_path / "v8.db"
    db = Database(path)
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    migrations.apply(db, stop_before="0015_sla_clocks")
    db.execute("PRAGMA user_version = 8")
    db.execute("INSERT INTO customers (id, name, plan) VALUES (1, 'Globex', 'premium')")
    insert = (
        "INSERT INTO tickets (id, source, remote_id, subject, status, priority, labels, "
        "opened_at, updated_at, first_response_at, customer_id, requester, sla_bucket) "
        "VALUES (?, 'helpdesk', ?, 's', 'open', 'P1', '[]', ?, ?, ?, 1, 'rita@globex.io', 2)"
    )
    # 1: answered two days late (the old cache forgot the breach).
    # 2: answered, then the customer wrote again: a next reply is running.
    # 3: "answered" by an author nobody resolved: still unanswered, breached.
    late = "2026-11-25T18:00:00Z"
    db.execute(insert, [1, "1", "2026-11-23T15:00:00Z", late, late])
    db.execute(
        insert, [2, "2", "2026-11-23T15:00:00Z", "2026-11-23T17:00:00Z", "2026-11-23T16:00:00Z"]
    )
    db.execute(
        insert, [3, "3", "2026-11-23T15:00:00Z", "2026-11-23T16:00:00Z", "2026-11-23T16:00:00Z"]
    )
    comment = (
        "INSERT INTO comments (ticket_id, remote_id, author, body, public, created_at) "
        "VALUES (?, ?, ?, 'x', 1, ?)"
    )
    db.execute(comment, [1, "a", "Alice Agent", late])
    db.execute(comment, [2, "b", "Alice Agent", "2026-11-23T16:00:00Z"])
    db.execute(comment, [2, "c", "rita@globex.io", "2026-11-23T17:00:00Z"])
    db.execute(comment, [3, "d", "1046", "2026-11-23T16:00:00Z"])
    db.close()
    now = datetime(2026, 11, 23, 18, tzinfo=UTC)
    store = open_store(path, clock=FrozenClock(now))
    try:
        roles = dict(store.db.execute("SELECT remote_id, author_role FROM comments").fetchall())
        assert roles == {"a": "staff", "b": "staff", "c": "customer", "d": ""}
        assert columns(store, 2)[:2] == (0, "2026-11-23T21:00:00Z")
        assert columns(store, 3)[:2] == (0, "2026-11-23T19:00:00Z")
        (first,) = report(store, 1, datetime(2026, 11, 26, tzinfo=UTC)).clocks
        assert first.state is ClockState.BREACHED and first.fulfilled_at is not None
        assert (
            store.db.execute("SELECT value FROM meta WHERE key = 'sla_recompute'").fetchone()
            is None
        )
    finally:
        store.close()
