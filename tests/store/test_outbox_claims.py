"""Claiming outbox entries: one transaction per claim, a lease, state checks everywhere."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.ops import OpState
from oncall_tui.store import Store, open_store
from tests.store.test_queue import add_ticket

LEASE = timedelta(minutes=10)


def test_a_claimed_entry_is_skipped_until_its_lease_ends(store: Store, clock: FrozenClock) -> None:
    tid = add_ticket(store, clock)
    store.tickets.assign(tid, "alex")
    (mine,) = store.outbox.claim_due(clock(), "a", LEASE)
    assert mine.state == OpState.PENDING  # claimed from pending: send it
    assert store.outbox.get_op(mine.id).state == OpState.INFLIGHT
    assert store.outbox.claim_due(clock(), "b", LEASE) == []  # another process skips it
    assert store.outbox.due_ops(clock()) == []
    clock.advance(LEASE.total_seconds() + 1)  # "a" died mid-send
    (theirs,) = store.outbox.claim_due(clock(), "b", LEASE)
    assert theirs.state == OpState.INFLIGHT  # unclear: look it up before any resend
    assert not store.outbox.mark_inflight(mine.id, "a")  # "a" lost its claim
    assert store.outbox.mark_inflight(theirs.id, "b")


def test_state_checks_on_every_mark(store: Store, clock: FrozenClock) -> None:
    tid = add_ticket(store, clock)
    store.tickets.assign(tid, "alex")
    (op,) = store.outbox.claim_due(clock(), "a", LEASE)
    assert store.outbox.mark_inflight(op.id, "a")
    store.outbox.mark_done(op.id, remote_id=None)
    assert not store.outbox.mark_inflight(op.id)  # a settled entry is never sent again
    assert not store.outbox.mark_retry(op.id, timedelta(seconds=5), "late answer")
    assert not store.outbox.mark_unclear(op.id, timedelta(seconds=5), "late answer")
    assert not store.outbox.mark_failed(op.id, "late answer")
    store.outbox.mark_done(op.id)  # settling twice is harmless
    assert store.outbox.get_op(op.id).state == OpState.DONE
    assert store.tickets.get_ticket(tid).pending_ops == 0


def test_only_the_claimer_releases_its_claim(store: Store, clock: FrozenClock) -> None:
    tid = add_ticket(store, clock)
    store.tickets.assign(tid, "alex")
    (op,) = store.outbox.claim_due(clock(), "a", LEASE)
    assert not store.outbox.mark_retry(op.id, timedelta(0), "not mine", "b")
    assert store.outbox.get_op(op.id).state == OpState.INFLIGHT
    assert store.outbox.mark_unclear(op.id, timedelta(0), "reset", "a")
    (again,) = store.outbox.claim_due(clock(), "b", LEASE)  # released: unclear, claimable at once
    assert again.state == OpState.INFLIGHT


def test_a_dead_claimers_leases_end(store: Store, clock: FrozenClock) -> None:
    tid = add_ticket(store, clock)
    store.tickets.assign(tid, "alex")
    store.outbox.claim_due(clock(), "dead", LEASE)
    assert store.outbox.live_claimers(clock()) == {"dead"}
    assert store.outbox.end_leases("dead") == 1
    (op,) = store.outbox.claim_due(clock(), "b", LEASE)
    assert op.state == OpState.INFLIGHT


def test_absurd_delays_park_at_most_a_year(store: Store, clock: FrozenClock) -> None:
    tid = add_ticket(store, clock)
    store.tickets.assign(tid, "alex")
    (op,) = store.outbox.claim_due(clock(), "a", LEASE)
    store.outbox.mark_retry(op.id, timedelta(days=999_999_999), "absurd", "a")
    assert store.outbox.parked_until(op.id) == clock() + timedelta(days=365)
    assert store.outbox.send_now(op.id)
    assert store.outbox.parked_until(op.id) is None
    assert [o.id for o in store.outbox.due_ops(clock())] == [op.id]


def test_two_connections_never_claim_the_same_entry(tmp_path: Path, clock: FrozenClock) -> None:
    one = open_store(tmp_path / "shared.db", clock=clock)
    two = open_store(tmp_path / "shared.db", clock=clock)
    try:
        tids = [add_ticket(one, clock, remote_id=str(n)) for n in range(5)]
        for tid in tids:
            one.tickets.assign(tid, "alex")
        claimed = []
        for _ in range(5):
            claimed += [op.id for op in one.outbox.claim_due(clock(), "one", LEASE)]
            claimed += [op.id for op in two.outbox.claim_due(clock(), "two", LEASE)]
        assert sorted(claimed) == sorted({op.id for op in one.outbox.ops()})
    finally:
        one.close()
        two.close()


def test_an_unclear_entry_claimed_by_a_live_sync_cannot_be_discarded(
    store: Store, clock: FrozenClock
) -> None:
    tid = add_ticket(store, clock)
    store.tickets.assign(tid, "alex")
    (op,) = store.outbox.claim_due(clock(), "a", LEASE)
    assert not store.outbox.discard(op.id) and not store.outbox.send_now(op.id)
    store.outbox.mark_unclear(op.id, timedelta(minutes=14), "reset", "a")
    assert store.outbox.discard(op.id)
    assert store.tickets.get_ticket(tid).assignee is None
