"""A customer's message ends the waiting (issue 13, policy item 4): pending becomes open and
``+`` labels come off, in the cache at once; what the backend does not do by itself is queued
once, keyed on the message; a status or label set after the message stays."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.ops import OpKind, OpState
from oncall_tui.domain.remote import Page, RemoteComment, RemoteCustomer
from oncall_tui.domain.sla import sla_settings_from_dict
from oncall_tui.domain.tickets import Source, Status
from oncall_tui.store import Store, open_store
from tests.fakes import T0, remote_ticket

WAITING = ("bug", "+more info please")
ORG = RemoteCustomer("org1", "Globex Health", "premium", ("globexhealth.io",))


def customer(ticket: int, n: int, minutes: int, **kw: object) -> RemoteComment:
    values: dict = dict(
        source=Source.HELPDESK,
        ticket_remote_id=str(ticket),
        remote_id=f"c{ticket}-{n}",
        author="Rita Jones",
        body="here are the logs",
        public=True,
        created_at=T0 + timedelta(minutes=minutes),
        author_handle="rita@globexhealth.io",
        author_role="customer",
    )
    values.update(kw)
    return RemoteComment(**values)


def waiting_ticket(store: Store, *, status: Status = Status.PENDING, n: int = 1) -> int:
    """A ticket that has been waiting on the customer since T0 + 5 min (seen then)."""
    store.remote.apply_page(
        "zendesk",
        Page(
            tickets=(
                remote_ticket(
                    n, status=status, labels=WAITING, updated_at=T0 + timedelta(minutes=5)
                ),
            ),
            customers=(ORG,),
        ),
    )
    found = store.tickets.find_ticket("helpdesk", str(n))
    assert found is not None and found.is_paused
    return found.id


def auto_ops(store: Store) -> list:
    return [op for op in store.outbox.ops(tuple(OpState)) if op.idempotency_key.startswith("auto:")]


def test_a_customer_reply_opens_the_ticket_and_queues_the_label_removal_once(
    store: Store,
) -> None:
    tid = waiting_ticket(store)
    store.remote.apply_page("zendesk", Page(comments=(customer(1, 1, 30),)))
    ticket = store.tickets.get_ticket(tid)
    assert ticket.status is Status.OPEN  # Zendesk reopens by itself: mirrored, not queued
    assert ticket.labels == ("bug",)
    assert not ticket.is_paused and ticket.sla_due is not None  # the clock runs again
    ops = auto_ops(store)
    assert [(op.kind, op.payload) for op in ops] == [
        (OpKind.REMOVE_LABELS, {"labels": ["+more info please"]})
    ]
    assert ops[0].idempotency_key == "auto:customer-reply:helpdesk:1:c1-1:remove_labels"
    assert ticket.pending_ops == 1
    # the same message again (a second pull, a repeat page): nothing more
    store.remote.apply_page("zendesk", Page(comments=(customer(1, 1, 30),)))
    assert len(auto_ops(store)) == 1
    # nothing for `u` to take back: the user did not type it
    assert store.outbox.undo_last() is None
    assert store.outbox.waiting_count(store.clock()) == 0


def test_on_hold_stays_on_hold_and_closed_stays_closed(store: Store) -> None:
    tid = waiting_ticket(store, status=Status.HOLD)
    store.remote.apply_page("zendesk", Page(comments=(customer(1, 1, 30),)))
    ticket = store.tickets.get_ticket(tid)
    assert ticket.status is Status.HOLD and ticket.labels == ("bug",)
    store.remote.apply_page(
        "zendesk",
        Page(tickets=(remote_ticket(2, status=Status.CLOSED, labels=WAITING),)),
    )
    store.remote.apply_page("zendesk", Page(comments=(customer(2, 1, 30),)))
    closed = store.tickets.find_ticket("helpdesk", "2")
    assert (
        closed is not None
        and closed.status is Status.CLOSED
        and "+more info please" in (closed.labels)
    )


def test_a_status_or_label_set_after_the_message_stays(store: Store, clock: FrozenClock) -> None:
    """The user set pending and `+` again after the customer wrote (before the message was
    pulled, or through another process): the late-arriving message does not undo it."""
    tid = waiting_ticket(store, status=Status.OPEN)
    store.tickets.remove_labels(tid, ["+more info please"])
    store.tickets.set_status(tid, Status.PENDING)  # at FROZEN_NOW, after the message below
    store.tickets.add_labels(tid, ["+logs please"])
    store.remote.apply_page("zendesk", Page(comments=(customer(1, 1, 60),)))  # T0 + 60 min < now
    ticket = store.tickets.get_ticket(tid)
    assert ticket.status is Status.PENDING and "+logs please" in ticket.labels
    assert auto_ops(store) == []


def test_history_pulled_with_a_ticket_first_seen_ends_nothing(store: Store) -> None:
    """A first sync: the ticket is pending as of its last update; the customer's older
    messages are history the backend's state already answers."""
    ticket = remote_ticket(3, status=Status.PENDING, labels=WAITING, updated_at=T0 + timedelta(1))
    store.remote.apply_page("zendesk", Page(tickets=(ticket,), comments=(customer(3, 1, 30),)))
    found = store.tickets.find_ticket("helpdesk", "3")
    assert found is not None and found.status is Status.PENDING
    assert "+more info please" in found.labels and auto_ops(store) == []


def test_a_backend_that_does_not_reopen_gets_the_status_queued(tmp_path: Path) -> None:
    sla = sla_settings_from_dict(
        {"customer_reply": {"zendesk": {"reopens": False, "removes_waiting_labels": True}}}
    )
    store = open_store(tmp_path / "db.sqlite", sla=sla, clock=FrozenClock(T0 + timedelta(2)))
    try:
        tid = waiting_ticket(store)
        store.remote.apply_page("zendesk", Page(comments=(customer(1, 1, 30),)))
        ticket = store.tickets.get_ticket(tid)
        assert ticket.status is Status.OPEN and ticket.labels == ("bug",)
        assert [(op.kind, op.payload) for op in auto_ops(store)] == [
            (OpKind.SET_STATUS, {"status": "open"})
        ]
        # a stale copy (before the push) does not put pending back: the entry holds it
        stale = remote_ticket(1, status=Status.PENDING, updated_at=T0 + timedelta(minutes=31))
        store.remote.apply_page("zendesk", Page(tickets=(stale,)))
        again = store.tickets.get_ticket(tid)
        assert again.status is Status.OPEN and not again.conflict
    finally:
        store.close()


def test_a_relayed_page_is_mirrored_not_queued(store: Store) -> None:
    tid = waiting_ticket(store)
    store.remote.apply_page("zendesk", Page(comments=(customer(1, 1, 30),), relayed=True))
    ticket = store.tickets.get_ticket(tid)
    assert ticket.status is Status.OPEN and ticket.labels == ("bug",)
    assert auto_ops(store) == []


def test_notes_staff_replies_and_automatic_replies_end_nothing(store: Store) -> None:
    tid = waiting_ticket(store)
    page = Page(
        comments=(
            customer(1, 1, 30, public=False),  # not public
            customer(1, 2, 31, author="Alice", author_handle="alice@x", author_role="staff"),
            customer(1, 3, 32, author="bot", author_handle="bot", author_role="automation"),
        )
    )
    store.remote.apply_page("zendesk", page)
    ticket = store.tickets.get_ticket(tid)
    assert ticket.status is Status.PENDING and "+more info please" in ticket.labels
    assert auto_ops(store) == []


def test_the_key_queues_a_message_once_even_from_a_stale_read(store: Store) -> None:
    """Another process that read the ticket before this one's change (still waiting) and
    acts on the same message: the message's key is queued already, so nothing is added."""
    tid = waiting_ticket(store)
    stale = store.tickets.get_ticket(tid)
    store.remote.apply_page("zendesk", Page(comments=(customer(1, 1, 30),)))
    assert len(auto_ops(store)) == 1
    with store.db.atomic():
        ended = store.remote.records._end_waiting(stale, T0 + timedelta(minutes=30), "c1-1")
    assert ended.labels == ("bug",)  # it would end the same waiting...
    assert len(auto_ops(store)) == 1  # ...but queues nothing twice
    with store.db.atomic():
        # another message
        store.remote.records._end_waiting(stale, T0 + timedelta(minutes=40), "c1-2")
    assert len(auto_ops(store)) == 2


def test_an_unsent_pending_of_ours_is_followed_by_the_reopen(
    store: Store, clock: FrozenClock
) -> None:
    """The user set pending (still in the outbox) before the customer wrote: Zendesk reopens
    by itself at the reply, but our "pending" lands after it, so the reopen is sent too,
    after it."""
    tid = waiting_ticket(store, status=Status.OPEN)
    store.tickets.set_status(tid, Status.PENDING)  # now; unsent
    later = clock() + timedelta(minutes=5)
    clock.set(later)
    store.remote.apply_page(
        "zendesk", Page(comments=(customer(1, 1, int((later - T0).total_seconds() // 60)),))
    )
    ticket = store.tickets.get_ticket(tid)
    assert ticket.status is Status.OPEN
    ops = [(op.kind, op.payload) for op in store.outbox.ops(ticket_id=tid)]
    assert ops[0] == (OpKind.SET_STATUS, {"status": "pending"})
    assert (OpKind.SET_STATUS, {"status": "open"}) in ops[1:]


def test_the_sync_log_says_why_the_entry_is_there(store: Store) -> None:
    from oncall_tui.ui.screens.sync_log_screen import describe

    waiting_ticket(store)
    store.remote.apply_page("zendesk", Page(comments=(customer(1, 1, 30),)))
    (op,) = auto_ops(store)
    line = describe(op, store).plain
    assert "zendesk #1 remove labels: +more info please" in line
    assert "(the customer replied)" in line
