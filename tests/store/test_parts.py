"""The store's parts built alone over a real SQLite file, each given only what it needs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.ops import Op, OpKind, OpState
from oncall_tui.domain.remote import Page, RemoteRemoval
from oncall_tui.domain.sla import SlaSettings
from oncall_tui.domain.tickets import Source, Status
from oncall_tui.store import open_store
from oncall_tui.store.base import Shared
from oncall_tui.store.db import open_database
from oncall_tui.store.drafts import Drafts
from oncall_tui.store.open import apply_migrations
from oncall_tui.store.outbox import AUTO_PREFIX, Outbox
from oncall_tui.store.remote import Remote
from oncall_tui.store.sync_state import SyncState
from oncall_tui.store.team import Team
from oncall_tui.store.tickets import Tickets
from oncall_tui.store.watches import Watches
from tests.fakes import T0, remote_ticket
from tests.store.test_queue import add_ticket_to

LEASE = timedelta(minutes=10)


@pytest.fixture
def shared(tmp_path: Path, clock: FrozenClock) -> Iterator[Shared]:
    """A migrated database file and the state the parts share; no Store around it."""
    path = tmp_path / "parts.db"
    db, _ = open_database(path, migrate=apply_migrations)
    state = Shared(db, sla=SlaSettings.default(), clock=clock, path=path)
    yield state
    state.close()


def post(key: str) -> Op:
    return Op(
        kind=OpKind.POST_MESSAGE,
        source=Source.CHAT,
        payload={"channel": "C0123ABCD", "text": "standup in 5"},
        idempotency_key=key,
    )


def test_the_outbox_alone_claims_settles_and_looks_up(shared: Shared, clock: FrozenClock) -> None:
    outbox = Outbox(shared)
    first = outbox.enqueue_once(post(f"{AUTO_PREFIX}k1"))
    assert first is not None
    assert outbox.enqueue_once(post(f"{AUTO_PREFIX}k1")) is None  # one cause, one entry
    second = outbox.enqueue(post("k2"))
    claimed = outbox.claim_due(clock(), "a", LEASE, limit=10)
    assert [op.id for op in claimed] == [first, second]
    assert outbox.claim_due(clock(), "b", LEASE, limit=10) == []  # claimed: nobody else
    assert outbox.holds_claim(first, "a") and not outbox.holds_claim(first, "b")
    assert not outbox.mark_failed(first, "not mine", "b")  # only the claimer settles
    outbox.mark_done(first)
    assert outbox.op_state(f"{AUTO_PREFIX}k1") == ("done", None)
    found = outbox.op_by_key("k2")
    assert found is not None and found.id == second and found.state is OpState.INFLIGHT
    assert outbox.op_by_key("nope") is None
    assert outbox.end_leases("a") == 1  # "a" died: its unsettled claim is free again
    assert [op.id for op in outbox.claim_due(clock(), "b", LEASE)] == [second]
    assert outbox.outbox_counts() == {"inflight": 1}  # done entries are not counted


def test_an_entry_queued_in_flight_is_looked_up_before_it_is_sent(shared: Shared) -> None:
    outbox = Outbox(shared)
    op_id = outbox.enqueue_unclear(post("relay-1"))
    entry = outbox.get_op(op_id)
    assert entry is not None and entry.state is OpState.INFLIGHT
    assert outbox.op_state("relay-1") == ("inflight", None)


def test_the_tickets_part_queues_its_edits_in_the_outbox_it_is_given(
    shared: Shared, clock: FrozenClock
) -> None:
    recomputed: list[int] = []
    outbox = Outbox(shared, sla_changed=recomputed.append)
    tickets = Tickets(shared, outbox=outbox)
    tid = add_ticket_to(tickets, clock)
    edited = tickets.set_status(tid, Status.PENDING)
    assert edited.status is Status.PENDING and edited.pending_ops == 1
    (op,) = outbox.claim_due(clock(), "a", LEASE)
    assert op.kind is OpKind.SET_STATUS and op.ticket_id == tid
    assert recomputed == []
    assert outbox.mark_failed(op.id, "refused", "a")
    assert recomputed == [tid]  # the refused pause left the history: the clocks follow


def test_the_remote_part_hands_each_page_to_the_team_part(
    shared: Shared, clock: FrozenClock
) -> None:
    outbox = Outbox(shared)
    tickets = Tickets(shared, outbox=outbox)
    team = Team(shared)
    remote = Remote(shared, tickets=tickets, outbox=outbox, team=team)
    remote.apply_page("zendesk", Page(tickets=(remote_ticket(1), remote_ticket(2)), cursor="c1"))
    assert tickets.ticket_count() == 2 and SyncState(shared).cursor("zendesk") == "c1"
    assert team.outgoing_count() == 0  # not a relay: nothing queued for the stream
    team.publish = True
    team.sources = {"zendesk": Source.HELPDESK}
    remote.apply_page("zendesk", Page(tickets=(remote_ticket(3),)))
    assert team.outgoing_count() > 0  # a relay: the written record is queued
    gone = RemoteRemoval(Source.HELPDESK, "1", T0 + timedelta(days=1))
    changed = remote.apply_page("zendesk", Page(removed=(gone,)))
    assert tickets.find_ticket("helpdesk", "1") is None and changed
    posted = outbox.enqueue(post("k3"))
    remote.settle_op(posted, remote_id="C0123ABCD:1.5", version=None, url=None)
    assert outbox.op_state("k3") == ("done", "C0123ABCD:1.5")  # where the message went


def test_small_parts_alone(shared: Shared, clock: FrozenClock) -> None:
    drafts = Drafts(shared)
    draft = drafts.create_draft("bug", None, {"title": "Crash on save"})
    assert [d.id for d in drafts.all("bug")] == [draft]
    state = SyncState(shared)
    state.log("zendesk", "info", "pulled 2")
    assert [e[3] for e in state.log_entries()] == ["pulled 2"]
    tickets = Tickets(shared, outbox=Outbox(shared))
    tid = add_ticket_to(tickets, clock)
    watches = Watches(shared)
    watches.set_watched(tid, True)
    tickets.assign(tid, "alex")
    assert watches.watch_changes([tid]) == [(tid, ["assignee — → alex"])]
    assert watches.watch_changes([tid]) == []  # told once


def test_the_store_wires_one_outbox_into_every_part(tmp_path: Path, clock: FrozenClock) -> None:
    store = open_store(tmp_path / "held.db", clock=clock)
    try:
        assert store.tickets.outbox is store.outbox
        assert store.remote.outbox is store.outbox and store.remote.tickets is store.tickets
        assert store.remote.team is store.team
        assert store.escalation.outbox is store.outbox
        assert store.escalation.drafts is store.drafts
        assert store.handoff.outbox is store.outbox and store.handoff.drafts is store.drafts
        assert {p.shared for p in (store.queue, store.watches, store.sync_state)} == {store.shared}
    finally:
        store.close()
