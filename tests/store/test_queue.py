"""The queue's windowed queries, filters and local edits with their outbox entries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from oncall_tui.demo.seed import make_demo_data
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.ops import OpKind, OpState
from oncall_tui.domain.query import parse_query
from oncall_tui.domain.tickets import Customer, Priority, Source, Status, Ticket
from oncall_tui.store import Store
from oncall_tui.store.tickets import Tickets

ALL = parse_query("")


def add_ticket(store: Store, clock: FrozenClock, **kw: object) -> int:
    return add_ticket_to(store.tickets, clock, **kw)


def add_ticket_to(tickets: Tickets, clock: FrozenClock, **kw: object) -> int:
    """A premium P0 ticket of Globex Health opened 30 minutes ago (``kw`` overrides)."""
    customer_id = tickets.upsert_customer(
        Customer(
            id=0,
            name="Globex Health",
            plan=str(kw.pop("plan", "premium")),
            codename="vesta",
            domains=("globexhealth.io",),
            contacts=("Rita Okafor",),
            remote_id=str(kw.pop("org", "1")),
        )
    )
    fields: dict = dict(
        id=0,
        source=Source.HELPDESK,
        subject="Printer on fire",
        opened_at=clock() - timedelta(minutes=30),
        updated_at=clock(),
        status=Status.OPEN,
        priority=Priority.P0,
        customer_id=customer_id,
    )
    fields.update(kw)
    return tickets.insert_tickets([Ticket(**fields)])[0]


def test_demo_seed_is_deterministic(clock: FrozenClock) -> None:
    a = make_demo_data(clock(), seed=7)
    b = make_demo_data(clock(), seed=7)
    c = make_demo_data(clock(), seed=8)
    assert a == b
    assert a.tickets != c.tickets
    assert 180 <= len(a.tickets) <= 220
    assert len(a.customers) == 12
    assert {c.plan for c in a.customers} == {"free", "premium", "ultimate"}
    assert all(c.codename for c in a.customers)
    assert {t.source for t in a.tickets} == set(Source)
    assert {t.priority for t in a.tickets} == set(Priority)
    assert a.comments


def test_demo_has_breached_due_soon_and_paused(demo_store: Store, clock: FrozenClock) -> None:
    now = clock()
    assert demo_store.queue.queue_count(parse_query("sla:breached"), now=now) > 0
    assert demo_store.queue.queue_count(parse_query("sla:critical"), now=now) > 0
    assert demo_store.queue.queue_count(parse_query("is:paused is:open"), now=now) > 0
    soon = [
        r
        for r in demo_store.queue.open_queue(parse_query("is:open"), limit=300, now=now)
        if r.sla_due and not r.paused and timedelta(0) < r.sla_due - now <= timedelta(hours=1)
    ]
    assert soon
    bugs = demo_store.queue.open_queue(parse_query("source:tracker"), limit=50, now=now)
    stages = {
        ("~investigate" in r.labels, ":product" in r.labels, ":incoming" in r.labels) for r in bugs
    }
    assert len(stages) >= 3


def test_default_order_breached_then_due_then_paused_then_none(demo_store: Store) -> None:
    rows = demo_store.queue.open_queue(ALL, limit=1000)
    # A running clock has a due (a breached one: when it breached, also while it waits);
    # a paused one a target but no due while it waits; the rest neither.
    buckets = [0 if r.sla_due else 1 if r.sla_target else 2 for r in rows]
    assert buckets == sorted(buckets)
    assert 1 in buckets and any(r.sla_due and r.paused for r in rows)  # breached · paused
    running = [r.sla_due for r in rows if r.sla_due]
    assert running == sorted(running)


def test_window_matches_full_order(demo_store: Store) -> None:
    full = [r.id for r in demo_store.queue.open_queue(ALL, limit=1000)]
    window = [r.id for r in demo_store.queue.open_queue(ALL, offset=40, limit=25)]
    assert window == full[40:65]
    assert demo_store.queue.queue_count(ALL) == len(full)


@pytest.mark.parametrize(
    ("query", "check"),
    [
        ("priority:P0", lambda r: r.priority == "P0"),
        ("priority:P0,P1", lambda r: r.priority in ("P0", "P1")),
        ("plan:ultimate", lambda r: r.plan == "ultimate"),
        ("customer:vesta", lambda r: r.codename == "vesta"),
        ("customer:globex", lambda r: r.codename == "vesta"),
        ("status:open", lambda r: r.status == "open"),
        ("label:~investigate", lambda r: "~investigate" in r.labels),
        ("assignee:alex@support.example", lambda r: r.assignee == "alex@support.example"),
        ("assignee:none", lambda r: r.assignee is None),
        ("source:chat", lambda r: r.source == "chat"),
        ("-source:chat", lambda r: r.source != "chat"),
        ("is:paused", lambda r: r.paused),
    ],
)
def test_field_filters(demo_store: Store, query: str, check) -> None:  # type: ignore[no-untyped-def]
    rows = demo_store.queue.open_queue(parse_query(query), limit=1000, me="alex@support.example")
    assert rows, query
    assert all(check(r) for r in rows)
    assert demo_store.queue.queue_count(parse_query(query), me="alex@support.example") == len(rows)


def test_assignee_me_means_the_configured_user(demo_store: Store) -> None:
    rows = demo_store.queue.open_queue(
        parse_query("assignee:me"), limit=1000, me="sam@support.example"
    )
    assert rows and all(r.assignee == "sam@support.example" for r in rows)


def test_full_text_search_covers_subject_comments_and_customer(
    store: Store, clock: FrozenClock
) -> None:
    tid = add_ticket(store, clock, subject="Hosts vanish from dashboard", body="nothing here")
    store.tickets.add_comment(tid, "the osquery watchdog killed it", public=False, author="sam")
    for words in ("vanish", "watchdog", "globex", "vesta", "dash"):
        assert [r.id for r in store.queue.open_queue(parse_query(words))] == [tid], words
    assert store.queue.open_queue(parse_query("unrelatedword")) == []
    # FTS syntax typed by a user never breaks the query
    for hostile in ('"unbalanced', "AND OR NOT", "a*b^c", "NEAR(", "col:umn"):
        store.queue.open_queue(parse_query(hostile))


def test_local_edit_changes_row_and_queues_one_outbox_entry(
    store: Store, clock: FrozenClock
) -> None:
    tid = add_ticket(store, clock, priority=Priority.P2)
    before = store.tickets.get_ticket(tid)
    after = store.tickets.set_priority(tid, Priority.P0)
    assert after.priority == Priority.P0
    assert after.pending_ops == 1
    assert after.sla_due != before.sla_due  # P0 has a shorter target than P2
    ops = store.outbox.ops()
    assert [(op.kind, op.payload, op.ticket_id) for op in ops] == [
        (OpKind.SET_PRIORITY, {"priority": "P0"}, tid)
    ]
    assert ops[0].idempotency_key


def test_undo_restores_the_row_and_cancels_the_entry(store: Store, clock: FrozenClock) -> None:
    tid = add_ticket(store, clock, priority=Priority.P2)
    before = store.tickets.get_ticket(tid)
    store.tickets.set_priority(tid, Priority.P0)
    op = store.outbox.undo_last()
    assert op is not None and op.kind == OpKind.SET_PRIORITY
    restored = store.tickets.get_ticket(tid)
    assert (restored.priority, restored.sla_due, restored.pending_ops) == (
        before.priority,
        before.sla_due,
        0,
    )
    assert store.outbox.get_op(op.id).state == OpState.CANCELLED  # type: ignore[arg-type,union-attr]
    assert store.outbox.undo_last() is None


def test_sent_entries_cannot_be_undone(store: Store, clock: FrozenClock) -> None:
    tid = add_ticket(store, clock)
    store.tickets.assign(tid, "alex")
    (op,) = store.outbox.ops()
    store.outbox.mark_inflight(op.id)  # type: ignore[arg-type]
    assert store.outbox.undo_last() is None
    store.outbox.mark_done(op.id)  # type: ignore[arg-type]
    assert store.tickets.get_ticket(tid).pending_ops == 0


def test_waiting_label_pauses_and_resumes_the_clock(store: Store, clock: FrozenClock) -> None:
    tid = add_ticket(store, clock, priority=Priority.P0)
    due = store.tickets.get_ticket(tid).sla_due
    paused = store.tickets.add_labels(tid, ["+more info please"])
    assert paused.is_paused
    assert store.queue.queue_count(parse_query("is:paused")) == 1
    clock.advance(timedelta(hours=1))
    resumed = store.tickets.remove_labels(tid, ["+more info please"])
    assert not resumed.is_paused
    assert resumed.sla_due is not None and due is not None
    assert resumed.sla_due - due == timedelta(hours=1)  # premium P0: calendar hours


def test_public_reply_is_first_response_and_stops_the_countdown(
    store: Store, clock: FrozenClock
) -> None:
    tid = add_ticket(store, clock)
    comment = store.tickets.add_comment(tid, "On it!", public=True, author="alex")
    assert comment.pending
    ticket = store.tickets.get_ticket(tid)
    assert ticket.first_response_at == clock()
    assert ticket.sla_due is None
    assert [c.body for c in store.tickets.comments(tid)] == ["On it!"]
    store.outbox.undo_last()
    assert store.tickets.comments(tid) == []
    assert store.tickets.get_ticket(tid).sla_due is not None


def test_internal_note_refused_on_public_tracker(store: Store, clock: FrozenClock) -> None:
    tid = add_ticket(store, clock, source=Source.TRACKER)
    with pytest.raises(ValueError, match="public"):
        store.tickets.add_comment(tid, "secret", public=False, author="alex")
    assert store.outbox.ops() == []


def test_chat_metadata_is_local_only(store: Store, clock: FrozenClock) -> None:
    tid = add_ticket(store, clock, source=Source.CHAT)
    store.tickets.set_priority(tid, Priority.P1)
    assert store.tickets.get_ticket(tid).priority == Priority.P1
    assert store.outbox.ops() == []  # Slack has no priorities: nothing to push


def test_control_characters_are_neutralised_at_the_boundary(
    store: Store, clock: FrozenClock
) -> None:
    tid = add_ticket(
        store, clock, subject="\x1b]52;c;ZXZpbA==\x07 hi \x1b[31mred", body="line\r\nnext\x00"
    )
    t = store.tickets.get_ticket(tid)
    assert "\x1b" not in t.subject and "\x07" not in t.subject and "\x00" not in t.body
    assert "␛]52;c;ZXZpbA==␇ hi ␛[31mred" == t.subject
    assert t.body == "line\nnext␀"


def test_sla_crossings(store: Store, clock: FrozenClock) -> None:
    tid = add_ticket(store, clock, priority=Priority.P0)  # premium P0: 4 calendar hours
    due = store.tickets.get_ticket(tid).sla_due
    assert due is not None
    before = due - timedelta(minutes=15, seconds=1)
    assert store.queue.sla_crossings(before, before + timedelta(seconds=2)) == [
        (tid, "Printer on fire", "critical")
    ]
    assert store.queue.sla_crossings(due - timedelta(seconds=1), due) == [
        (tid, "Printer on fire", "breached")
    ]
    assert store.queue.sla_crossings(due, due + timedelta(seconds=5)) == []


def test_customer_contacts_accumulate_across_pages(store: Store) -> None:
    first = Customer(id=0, name="Globex", plan="premium", codename="vesta",
                     domains=("globex.io",), contacts=("Rita Okafor",), remote_id="7")
    cid = store.tickets.upsert_customer(first, source="zendesk")
    store.tickets.upsert_customer(
        Customer(
            id=0,
            name="Globex",
            plan="ultimate",
            codename="vesta",
            domains=(),
            contacts=("Sam Lee",),
            remote_id="7",
        ),
        source="zendesk",
    )
    customer = store.tickets.get_customer(cid)
    assert customer is not None
    assert customer.contacts == ("Rita Okafor", "Sam Lee")
    assert customer.domains == ("globex.io",)
    assert customer.plan == "ultimate"
