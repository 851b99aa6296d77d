"""The undo window (issue 14): an entry waits ``undo_seconds`` before it may be sent, and
the cursor's ticket is found again by a bounded count, not a walk over the queue."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.ops import OpKind, OpState
from oncall_tui.domain.query import parse_query
from oncall_tui.domain.tickets import Priority
from oncall_tui.store import Store, open_store


def first_open(store: Store) -> int:
    return store.queue.open_queue(parse_query("is:open source:helpdesk"), limit=1)[0].id


def test_an_entry_waits_out_its_window(demo_store: Store, clock: FrozenClock) -> None:
    demo_store.undo_seconds = 10
    tid = first_open(demo_store)
    demo_store.tickets.set_priority(tid, Priority.P0)
    assert demo_store.outbox.due_ops(clock()) == []  # waiting: the engine does not take it
    assert demo_store.outbox.waiting(clock()) == {tid: clock() + timedelta(seconds=10)}
    assert demo_store.outbox.waiting_count(clock()) == 1
    assert demo_store.outbox.next_send_after(clock()) == clock() + timedelta(seconds=10)
    clock.advance(9)
    assert demo_store.outbox.due_ops(clock()) == []
    clock.advance(1)
    (op,) = demo_store.outbox.due_ops(clock())
    assert op.kind == OpKind.SET_PRIORITY
    assert (
        demo_store.outbox.waiting(clock()) == {}
        and demo_store.outbox.next_send_after(clock()) is None
    )


def test_a_fraction_of_a_second_rounds_up(demo_store: Store, clock: FrozenClock) -> None:
    demo_store.undo_seconds = 0.2
    demo_store.tickets.assign(first_open(demo_store), "alex")
    assert demo_store.outbox.due_ops(clock()) == []  # not sent before its window
    clock.advance(1)
    assert len(demo_store.outbox.due_ops(clock())) == 1


def test_zero_sends_at_once(demo_store: Store, clock: FrozenClock) -> None:
    demo_store.undo_seconds = 0
    demo_store.tickets.assign(first_open(demo_store), "alex")
    assert len(demo_store.outbox.due_ops(clock())) == 1
    assert demo_store.outbox.waiting_count(clock()) == 0


def test_undo_with_an_engine_takes_only_a_waiting_entry(
    demo_store: Store, clock: FrozenClock
) -> None:
    demo_store.undo_seconds = 10
    tid = first_open(demo_store)
    demo_store.tickets.assign(tid, "alex")
    clock.advance(10)  # its window is over: the engine may be sending it right now
    assert demo_store.outbox.undo_last(clock()) is None
    demo_store.tickets.set_priority(tid, Priority.P0)  # a newer one, waiting
    op = demo_store.outbox.undo_last(clock())
    assert op is not None and op.kind == OpKind.SET_PRIORITY
    assert demo_store.outbox.get_op(op.id).state == OpState.CANCELLED  # type: ignore[arg-type,union-attr]
    assert demo_store.outbox.undo_last() is not None  # local only: any unsent entry
    assert demo_store.tickets.get_ticket(tid).pending_ops == 0


def test_send_waiting_now_ends_every_window(demo_store: Store, clock: FrozenClock) -> None:
    demo_store.undo_seconds = 10
    tid = first_open(demo_store)
    demo_store.tickets.assign(tid, "alex")
    demo_store.tickets.set_priority(tid, Priority.P0)
    assert demo_store.outbox.send_waiting_now(clock()) == 2
    assert [op.kind for op in demo_store.outbox.due_ops(clock())] == [OpKind.ASSIGN]
    assert demo_store.outbox.waiting_count(clock()) == 0


def test_an_old_database_gets_the_column(tmp_path: Path, clock: FrozenClock) -> None:
    path = tmp_path / "old.db"
    store = open_store(path, clock=clock)
    store.db.execute("ALTER TABLE outbox DROP COLUMN send_after")
    store.db.execute("DELETE FROM _sqlite_migrations WHERE name = '0012_outbox_send_after'")
    store.db.execute("PRAGMA user_version = 6")
    store.close()
    store = open_store(path, clock=clock)
    try:
        columns = [r[1] for r in store.db.execute("PRAGMA table_info(outbox)")]
        assert "send_after" in columns
    finally:
        store.close()


@pytest.mark.parametrize(
    "query",
    [
        "",
        "is:open",
        "is:open assignee:me",
        "is:paused",
        "source:tracker",
        "sla:breached,warning",
        "priority:P1,P2 -label:bug",
        "query",
    ],
)
def test_queue_position_is_the_index_in_the_queue(demo_store: Store, query: str) -> None:
    parsed = parse_query(query)
    me = "alex@support.example"
    rows = demo_store.queue.open_queue(parsed, limit=10_000, me=me)
    assert rows or query in ("sla:breached,warning",)
    for index, row in enumerate(rows):
        assert demo_store.queue.queue_position(parsed, row.id, me=me) == index
    outside = demo_store.db.execute("SELECT max(id) + 1 FROM tickets").fetchone()[0]
    assert demo_store.queue.queue_position(parsed, outside, me=me) is None
    others = {r[0] for r in demo_store.db.execute("SELECT id FROM tickets")} - {r.id for r in rows}
    for tid in list(others)[:20]:
        assert demo_store.queue.queue_position(parsed, tid, me=me) is None
