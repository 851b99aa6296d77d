"""Trust in the stored clocks when a change is taken back (issue 13): a reply the customer
never got stops being the answer, and undo takes out only its own SLA event."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from oncall_tui.domain.ops import OpState
from oncall_tui.domain.remote import Page
from oncall_tui.domain.sla_clocks import ClockState
from oncall_tui.domain.tickets import Status
from tests.store.test_sla_store import DUE, T0, columns, rc, report, seeded

DUE_ISO = "2026-11-23T19:00:00Z"  # premium P1 from T0: 4 business hours


def test_a_reply_refused_for_good_no_longer_answers(tmp_path: Path) -> None:
    now = T0 + timedelta(hours=1)
    store, clock, tid = seeded(tmp_path, now)
    store.tickets.add_comment(tid, "On it", public=True, author="me")
    assert columns(store, tid)[0] == 2  # answered: nothing runs
    (op,) = store.outbox.ops(ticket_id=tid)
    assert store.outbox.mark_failed(op.id, "422: comment body invalid")
    assert columns(store, tid)[:2] == (0, DUE_ISO)  # the clock runs again, to the same due
    assert store.tickets.get_ticket(tid).first_response_at is None
    (first,) = report(store, tid, now).clocks
    assert first.state is ClockState.ACTIVE and first.fulfilled_at is None
    # past the due, the refused reply is a breach, not a met clock
    later = DUE + timedelta(minutes=5)
    clock.set(later)
    (first,) = report(store, tid, later).clocks
    assert first.state is ClockState.BREACHED and first.breached_at == DUE
    # retried, it answers as of the retry (the customer never had it before): late
    store.outbox.retry_failed(op.id)
    assert columns(store, tid)[0] == 2
    (first,) = report(store, tid, later).clocks
    assert first.state is ClockState.BREACHED and first.fulfilled_at == later
    assert store.tickets.get_ticket(tid).first_response_at == later
    # refused again and discarded: no answer at all, and nothing is taken out twice
    store.outbox.mark_failed(op.id, "422 again")
    assert store.outbox.discard(op.id)
    assert columns(store, tid)[:2] == (0, DUE_ISO)
    assert store.tickets.comments(tid) == []
    store.close()


def test_a_discarded_reply_keeps_a_comment_synced_meanwhile(tmp_path: Path) -> None:
    now = T0 + timedelta(hours=1)
    store, _, tid = seeded(tmp_path, now)
    store.tickets.add_comment(tid, "On it", public=True, author="me")
    colleague = rc(1, T0 + timedelta(minutes=50), role="staff")
    store.remote.apply_page("zendesk", Page(comments=(colleague,)))
    (op,) = store.outbox.ops(ticket_id=tid)
    assert store.outbox.discard(op.id)
    (first,) = report(store, tid, now).clocks
    assert first.state is ClockState.FULFILLED  # the colleague's answer still counts
    assert first.fulfilled_at == T0 + timedelta(minutes=50)
    assert store.tickets.get_ticket(tid).first_response_at == T0 + timedelta(minutes=50)
    store.close()


def test_undo_takes_out_only_its_own_event(tmp_path: Path) -> None:
    """A status change is undone while a customer's message synced in its undo window: the
    message stays in the history (it starts the next clock), the status goes back."""
    now = T0 + timedelta(hours=1)
    store, clock, tid = seeded(tmp_path, now)
    store.undo_seconds = 10
    store.remote.apply_page(
        "zendesk", Page(comments=(rc(1, T0 + timedelta(minutes=30), role="staff"),))
    )
    assert columns(store, tid)[0] == 2  # answered
    store.tickets.set_status(tid, Status.HOLD)
    follow = rc(2, now, role="customer", author="rita@globex.io")
    store.remote.apply_page("zendesk", Page(comments=(follow,)))
    undone = store.outbox.undo_last(clock())
    assert undone is not None and undone.kind.value == "set_status"
    ticket = store.tickets.get_ticket(tid)
    assert ticket.status is Status.OPEN
    history = [(e.type.value, e.value) for e in ticket.sla_events]
    assert ("customer_comment", "") in history and ("status", "hold") not in history
    assert columns(store, tid)[0] == 0  # the follow-up's next-reply clock runs
    clocks = report(store, tid, now).clocks
    assert [c.metric.value for c in clocks] == ["first_reply", "next_reply"]
    assert store.outbox.ops((OpState.PENDING,), ticket_id=tid) == []
    store.close()


def test_a_pending_refused_for_good_stops_pausing_the_clock(tmp_path: Path) -> None:
    """Set pending, the backend refuses it for good: the clock runs as if it never paused
    (to the same due, breaching at it); retried, it pauses as of the retry."""
    now = T0 + timedelta(hours=1)
    store, clock, tid = seeded(tmp_path, now)
    store.tickets.set_status(tid, Status.PENDING)
    assert columns(store, tid) == (1, None, 1)  # paused at once, offline first
    (op,) = store.outbox.ops(ticket_id=tid)
    assert store.outbox.mark_failed(op.id, "422: status invalid")
    assert columns(store, tid) == (0, DUE_ISO, 0)  # runs again, to the very same due
    assert ("status", "pending") not in [
        (e.type.value, e.value) for e in store.tickets.get_ticket(tid).sla_events
    ]
    later = DUE + timedelta(minutes=5)
    clock.set(later)
    (first,) = report(store, tid, later).clocks
    assert first.state is ClockState.BREACHED and first.breached_at == DUE
    # retried after the breach: paused as of the retry, and the breach stays visible
    store.outbox.retry_failed(op.id)
    (first,) = report(store, tid, later).clocks
    assert first.state is ClockState.BREACHED and first.paused
    # refused again and discarded: the status goes back, nothing is taken out twice
    store.outbox.mark_failed(op.id, "422 again")
    assert store.outbox.discard(op.id)
    ticket = store.tickets.get_ticket(tid)
    assert ticket.status is Status.OPEN
    assert [(e.type.value, e.value) for e in ticket.sla_events].count(("status", "open")) == 1
    (first,) = report(store, tid, later).clocks
    assert first.state is ClockState.BREACHED and not first.paused
    store.close()


def test_a_plus_label_refused_then_retried_pauses_as_of_the_retry(tmp_path: Path) -> None:
    now = T0 + timedelta(hours=1)
    store, clock, tid = seeded(tmp_path, now)
    store.tickets.add_labels(tid, ["+more info please"])
    assert columns(store, tid)[0] == 1
    (op,) = store.outbox.ops(ticket_id=tid)
    clock.set(now + timedelta(minutes=30))
    assert store.outbox.mark_failed(op.id, "403: forbidden")
    assert columns(store, tid) == (0, DUE_ISO, 0)  # the half hour counted
    assert store.tickets.get_ticket(tid).labels == ("+more info please",)  # the row keeps it
    clock.set(now + timedelta(hours=1))
    store.outbox.retry_failed(op.id)
    assert columns(store, tid)[0] == 1  # paused again, from the retry
    store.outbox.mark_done(op.id)
    clock.set(now + timedelta(hours=2))
    store.tickets.remove_labels(tid, ["+more info please"])
    # paused one hour (the retry until the removal), not two: the due moves by one hour
    assert columns(store, tid)[:2] == (0, "2026-11-23T20:00:00Z")
    store.close()


def test_discarding_a_refused_edit_leaves_a_later_identical_pause_alone(tmp_path: Path) -> None:
    """A refused edit's SLA event went when it was refused. Discarding the entry afterwards
    must not take out a later, identical event of another change (same status, same minute)."""
    now = T0 + timedelta(hours=1)
    store, clock, tid = seeded(tmp_path, now)
    store.tickets.set_status(tid, Status.PENDING)
    (refused,) = store.outbox.ops(ticket_id=tid)
    assert store.outbox.mark_failed(refused.id, "422: status invalid")
    assert columns(store, tid)[0] == 0  # runs again
    store.tickets.set_status(tid, Status.OPEN)
    store.tickets.set_status(tid, Status.PENDING)  # the same change again, at the same instant
    assert columns(store, tid)[0] == 1
    assert store.outbox.discard(refused.id)
    events = [(e.type.value, e.value) for e in store.tickets.get_ticket(tid).sla_events]
    assert events.count(("status", "pending")) == 1
    assert columns(store, tid)[0] == 1  # still paused by the later change
    store.close()
