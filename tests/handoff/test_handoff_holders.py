"""Breaches are attributed to who held the ticket at the breach instant: the assignee history
(migration 0024) is recorded from sync pulls and local edits, whichever way a row is written."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.handoff import Window, build_handoff
from oncall_tui.domain.remote import Page, RemoteCustomer
from oncall_tui.domain.sla import SlaSettings
from oncall_tui.store import Store, open_store
from tests.fakes import T0, remote_ticket

ORG = RemoteCustomer("org1", "Globex Health", "premium", ("globexhealth.io",))
H = timedelta(hours=1)
NOW = T0 + 8 * H


@pytest.fixture
def week(tmp_path: Path):
    clock = FrozenClock(T0 + H)
    store = open_store(tmp_path / "h.db", clock=clock)
    yield store, clock
    store.close()


def pull(store: Store, n: int, assignee: str | None, at) -> None:
    ticket = remote_ticket(
        n, priority="P0", assignee=assignee, updated_at=at, version=at.isoformat()
    )
    store.remote.apply_page("zendesk", Page(tickets=(ticket,), customers=(ORG,)))


def test_a_breach_is_held_by_who_had_the_ticket_then(week) -> None:
    store, clock = week
    # premium P0: 4 calendar hours; none is answered, so each breaches at T0 + 4 h
    pull(store, 1, "alex@s.example", T0)
    pull(store, 2, "alex@s.example", T0)
    pull(store, 3, None, T0)
    pull(store, 4, None, T0)
    ids = {n: store.tickets.find_ticket("helpdesk", str(n)).id for n in (1, 2, 3, 4)}
    clock.set(T0 + 2 * H)
    store.tickets.assign(ids[2], "mei@s.example")  # a local edit before the breach
    clock.set(T0 + 3 * H)
    pull(store, 3, "alex@s.example", T0 + 3 * H)  # assigned at the backend before it
    store.tickets.assign(ids[4], "mei@s.example")
    assert store.outbox.undo_last() is not None  # taken back at once: it stays unassigned
    clock.set(T0 + 5 * H)
    store.tickets.assign(ids[2], "sam@s.example")  # reassigned after the breach, locally
    clock.set(T0 + 6 * H)
    pull(store, 1, "sam@s.example", T0 + 6 * H)  # reassigned after the breach, at the backend
    assert [w for _at, w in store.handoff.assignee_history(ids[1])] == [
        "alex@s.example",
        "sam@s.example",
    ]
    assert store.handoff.assignee_history(ids[2]) == [
        (T0, "alex@s.example"),
        (T0 + 2 * H, "mei@s.example"),
        (T0 + 5 * H, "sam@s.example"),
    ]
    clock.set(NOW)
    h = build_handoff(
        store.handoff.handoff_records(T0 - 24 * H, NOW),
        Window(T0 - 24 * H, NOW),
        SlaSettings.default(),
    )
    held = {b.ticket_id: (b.due, b.holder) for b in h.sla.breaches}
    assert held == {
        ids[1]: (T0 + 4 * H, "alex@s.example"),  # today it is sam's
        ids[2]: (T0 + 4 * H, "mei@s.example"),  # today it is sam's
        ids[3]: (T0 + 4 * H, "alex@s.example"),
        ids[4]: (T0 + 4 * H, "unassigned"),
    }
    assert dict(h.sla.breaches_by_holder) == {
        "alex@s.example": 2,
        "mei@s.example": 1,
        "unassigned": 1,
    }
    # the current assignees, which the summary used before, would say otherwise
    assert (
        store.tickets.get_ticket(ids[1]).assignee
        == store.tickets.get_ticket(ids[2]).assignee
        == "sam@s.example"
    )


def test_existing_tickets_start_with_their_assignee_and_a_repeat_records_nothing(week) -> None:
    store, clock = week
    pull(store, 1, "alex@s.example", T0)
    tid = store.tickets.find_ticket("helpdesk", "1").id
    pull(store, 1, "alex@s.example", T0 + H)  # the same assignee again: no new entry
    store.tickets.assign(tid, "alex@s.example")
    assert store.handoff.assignee_history(tid) == [(T0, "alex@s.example")]
    store.db.execute("DELETE FROM tickets WHERE id = ?", [tid])
    assert store.handoff.assignee_history(tid) == []
