"""The sync engine against a scripted backend: pages, outbox, faults, exactly-once."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from oncall_tui.domain.ops import OpState
from oncall_tui.domain.query import parse_query
from oncall_tui.domain.tickets import Priority, Status
from oncall_tui.store import Store
from oncall_tui.sync.base import BackendUnavailable, Page
from oncall_tui.sync.engine import SyncEngine
from tests.fakes import FakeBackend, remote_ticket

pytestmark = pytest.mark.anyio


async def synced(store: Store, clock: Any, n: int = 5) -> tuple[FakeBackend, SyncEngine]:
    backend = FakeBackend([remote_ticket(i) for i in range(1, n + 1)])
    engine = SyncEngine(store, [backend], clock)
    report = await engine.run_once()
    assert report.ok, report.summary()
    return backend, engine


async def pull_only(store: Store, backend: FakeBackend) -> None:
    """A pull arriving before our unsent edit is pushed."""
    page = await backend.fetch_changes(store.sync_state.cursor("fake"))
    store.remote.apply_page("fake", page)


async def test_first_sync_pages_to_the_end_with_cursor(store: Store, clock: Any) -> None:
    backend, engine = await synced(store, clock)
    assert store.tickets.ticket_count() == 5
    assert store.sync_state.cursor("fake") == "5"
    customer = store.tickets.get_customer(store.tickets.find_ticket("helpdesk", "1").customer_id)
    assert customer is not None and customer.codename == "vesta" and customer.plan == "premium"
    report = await engine.run_once()
    assert report.changed_ids == set()


async def test_local_edit_is_pushed_once_and_settled(store: Store, clock: Any) -> None:
    backend, engine = await synced(store, clock)
    tid = store.tickets.find_ticket("helpdesk", "2").id
    store.tickets.set_priority(tid, Priority.P0)
    report = await engine.run_once()
    assert report.outcomes["fake"].pushed == 1
    assert backend.tickets["2"].priority == Priority.P0
    assert list(backend.applied.values()) == [1]
    ticket = store.tickets.get_ticket(tid)
    assert ticket.pending_ops == 0 and ticket.priority == Priority.P0


async def test_older_copy_is_not_taken_for_a_revert(store: Store, clock: Any) -> None:
    backend, engine = await synced(store, clock)
    stale = backend.tickets["3"]
    tid = store.tickets.find_ticket("helpdesk", "3").id
    store.tickets.set_status(tid, Status.PENDING)
    await engine.run_once()
    # the export's lagging copy (older updated_at, old status) arrives after the push
    store.remote.apply_page("fake", Page(tickets=(stale,), cursor="5"))
    assert store.tickets.get_ticket(tid).status == Status.PENDING


async def test_pending_local_field_survives_a_pull(store: Store, clock: Any) -> None:
    backend, engine = await synced(store, clock)
    tid = store.tickets.find_ticket("helpdesk", "4").id
    store.tickets.assign(tid, "alex")  # not yet pushed
    backend.touch(backend.tickets["4"])  # someone else changed the ticket remotely
    await engine._pull(
        backend,
        __import__("oncall_tui.sync.engine", fromlist=["x"]).SyncReport(
            outcomes={
                "fake": __import__("oncall_tui.sync.engine", fromlist=["x"]).BackendOutcome("fake")
            }
        ),
    )
    assert store.tickets.get_ticket(tid).assignee == "alex"


async def test_unclear_outcome_is_looked_up_not_resent(store: Store, clock: Any) -> None:
    backend, engine = await synced(store, clock)
    tid = store.tickets.find_ticket("helpdesk", "1").id
    store.tickets.set_priority(tid, Priority.P3)
    backend.script = ["unclear"]
    report = await engine.run_once()
    assert report.outcomes["fake"].error
    (op,) = store.outbox.ops()
    assert op.state == OpState.INFLIGHT
    clock.advance(timedelta(minutes=10))
    report = await engine.run_once()
    assert report.ok
    assert list(backend.applied.values()) == [1]  # applied exactly once
    assert store.outbox.get_op(op.id).state == OpState.DONE


async def test_rejected_entry_is_failed_with_message_not_dropped(store: Store, clock: Any) -> None:
    backend, engine = await synced(store, clock)
    tid = store.tickets.find_ticket("helpdesk", "1").id
    store.tickets.assign(tid, "nobody")
    backend.script = ["reject"]
    await engine.run_once()
    (op,) = store.outbox.ops((OpState.FAILED,))
    assert "not an agent" in (op.error or "")
    assert store.queue.queue_count(parse_query("is:failed")) == 1


async def test_rate_limit_waits_and_says_so(store: Store, clock: Any) -> None:
    backend, engine = await synced(store, clock)
    tid = store.tickets.find_ticket("helpdesk", "1").id
    store.tickets.set_priority(tid, Priority.P2)
    backend.script = ["429"]
    report = await engine.run_once()
    assert report.outcomes["fake"].waiting == 30
    assert "rate limited" in report.summary()
    assert not backend.applied
    clock.advance(timedelta(seconds=31))
    await engine.run_once()
    assert list(backend.applied.values()) == [1]


async def test_entries_apply_in_order_per_ticket(store: Store, clock: Any) -> None:
    backend, engine = await synced(store, clock)
    tid = store.tickets.find_ticket("helpdesk", "5").id
    store.tickets.set_priority(tid, Priority.P0)
    store.tickets.set_priority(tid, Priority.P3)
    store.tickets.set_priority(tid, Priority.P2)
    await engine.run_once()
    assert backend.tickets["5"].priority == Priority.P2
    assert store.tickets.get_ticket(tid).priority == Priority.P2


async def test_reply_gets_its_remote_id_and_is_not_duplicated(store: Store, clock: Any) -> None:
    backend, engine = await synced(store, clock)
    tid = store.tickets.find_ticket("helpdesk", "1").id
    store.tickets.add_comment(tid, "We are on it", public=True, author="alex")
    await engine.run_once()
    await engine.run_once()
    bodies = [c.body for c in store.tickets.comments(tid)]
    assert bodies.count("We are on it") == 1
    assert not store.tickets.comments(tid)[-1].pending


async def test_one_failing_backend_does_not_stop_the_others(store: Store, clock: Any) -> None:
    good = FakeBackend([remote_ticket(1)])
    bad = FakeBackend(
        [
            remote_ticket(
                2, source=__import__("oncall_tui.domain.tickets", fromlist=["x"]).Source.TRACKER
            )
        ]
    )
    bad.name, bad.source = (
        "broken",
        __import__("oncall_tui.domain.tickets", fromlist=["x"]).Source.TRACKER,
    )
    bad.pull_faults = ["down"]
    report = await SyncEngine(store, [good, bad], clock).run_once()
    assert report.outcomes["fake"].error is None and report.outcomes["broken"].error
    assert store.tickets.ticket_count() == 1


async def test_different_fields_merge_without_conflict(store: Store, clock: Any) -> None:
    backend, engine = await synced(store, clock)
    tid = store.tickets.find_ticket("helpdesk", "1").id
    store.tickets.assign(tid, "alex@support.example")  # ours, unsent
    backend.touch(replace(backend.tickets["1"], priority=Priority.P0))  # theirs
    await pull_only(store, backend)
    ticket = store.tickets.get_ticket(tid)
    assert (ticket.assignee, ticket.priority, ticket.conflict) == (
        "alex@support.example",
        Priority.P0,
        False,
    )


async def test_same_field_changed_on_both_sides_is_a_conflict(store: Store, clock: Any) -> None:
    backend, engine = await synced(store, clock)
    tid = store.tickets.find_ticket("helpdesk", "2").id
    store.tickets.set_priority(tid, Priority.P0)  # ours: P1 -> P0, unsent
    backend.touch(replace(backend.tickets["2"], priority=Priority.P3))  # theirs: P1 -> P3
    await pull_only(store, backend)
    assert store.tickets.get_ticket(tid).conflict
    assert store.remote.conflicts(tid) == {"priority": {"mine": "P0", "theirs": "P3"}}
    clock.advance(timedelta(minutes=10))
    await engine.run_once()
    assert backend.tickets["2"].priority == Priority.P3  # held until the user chooses
    store.remote.resolve_conflict(tid, keep_mine=True)
    await engine.run_once()
    assert backend.tickets["2"].priority == Priority.P0
    assert store.tickets.get_ticket(tid).conflict is False


async def test_taking_theirs_cancels_our_unsent_edit(store: Store, clock: Any) -> None:
    backend, engine = await synced(store, clock)
    tid = store.tickets.find_ticket("helpdesk", "3").id
    store.tickets.set_priority(tid, Priority.P0)
    backend.touch(replace(backend.tickets["3"], priority=Priority.P3))
    await pull_only(store, backend)
    store.remote.resolve_conflict(tid, keep_mine=False)
    ticket = store.tickets.get_ticket(tid)
    assert (ticket.priority, ticket.pending_ops, ticket.conflict) == (Priority.P3, 0, False)
    clock.advance(timedelta(minutes=10))
    await engine.run_once()
    assert backend.tickets["3"].priority == Priority.P3
    assert not backend.applied


async def test_request_budget_is_waited_inside_the_pass(store: Store, clock: Any) -> None:
    backend = FakeBackend([remote_ticket(i) for i in range(1, 6)], page_size=2)
    backend.wait_hint = 6.0  # e.g. the help desk's ~10 export requests a minute
    waits: list[float] = []
    progress: list[str] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    engine = SyncEngine(store, [backend], clock, sleep=sleep, progress=progress.append)
    report = await engine.run_once()
    assert store.tickets.ticket_count() == 5 and report.ok
    assert waits == [6.0, 6.0]  # between the three pages
    assert any("request budget, next page in 6s" in p for p in progress)


async def test_long_budget_wait_resumes_in_a_later_pass(store: Store, clock: Any) -> None:
    backend = FakeBackend([remote_ticket(i) for i in range(1, 6)], page_size=2)
    backend.wait_hint = 60.0
    engine = SyncEngine(store, [backend], clock)
    report = await engine.run_once()
    assert store.tickets.ticket_count() == 2 and report.outcomes["fake"].waiting == 60.0
    assert "request budget" in store.sync_state.log_entries(1)[0][3]
    clock.advance(61)
    await engine.run_once()
    assert store.tickets.ticket_count() == 4


async def test_live_tracker_search_lands_in_the_cache(store: Store, clock: Any) -> None:
    from oncall_tui.domain.tickets import Source

    class Tracker(FakeBackend):
        name = "tracker"
        source = Source.TRACKER

        async def search_issues(self, query: str) -> list[Any]:
            return [t for t in self.tickets.values() if query.lower() in t.subject.lower()]

    tracker = Tracker(
        [
            remote_ticket(
                1, source=Source.TRACKER, remote_id="acme/p#1", subject="Live query stalls at 95%"
            ),
            remote_ticket(2, source=Source.TRACKER, remote_id="acme/p#2", subject="Unrelated"),
        ]
    )
    engine = SyncEngine(store, [tracker], clock)
    changed = await engine.search_tracker("live query")
    assert len(changed) == 1
    assert store.tickets.find_ticket("tracker", "acme/p#1") is not None
    assert store.tickets.find_ticket("tracker", "acme/p#2") is None


async def test_a_pass_that_hits_the_page_cap_says_there_is_more(
    store: Store, clock: Any, monkeypatch: Any
) -> None:
    import oncall_tui.sync.engine as engine_module

    monkeypatch.setattr(engine_module, "MAX_PAGES_PER_PASS", 2)
    backend = FakeBackend([remote_ticket(i) for i in range(1, 10)], page_size=2)
    engine = SyncEngine(store, [backend], clock)
    report = await engine.run_once()
    assert report.more and store.tickets.ticket_count() == 4
    while report.more:
        report = await engine.run_once()
    assert store.tickets.ticket_count() == 9


def fail_read(backend: FakeBackend, n: int) -> None:
    """The backend's ``n``-th page request fails (a 503); the others are answered."""
    fetch = backend.fetch_changes
    calls = 0

    async def flaky(cursor: str | None) -> Page:
        nonlocal calls
        calls += 1
        if calls == n:
            raise BackendUnavailable("fake: 503")
        return await fetch(cursor)

    backend.fetch_changes = flaky  # type: ignore[method-assign]


def written_batches(store: Store, delay: float) -> list[list[str]]:
    """The cursors of the pages of each transaction the engine writes (each write taking
    ``delay`` seconds longer, as a slow disk would)."""
    batches: list[list[str]] = []
    apply_pages = store.remote.apply_pages

    def spied(backend: str, pages: Any) -> set[int]:
        time.sleep(delay)
        batches.append([page.cursor for page in pages])
        return apply_pages(backend, pages)

    store.remote.apply_pages = spied  # type: ignore[method-assign]
    return batches


async def test_pages_that_arrive_during_a_write_are_written_together_in_order(
    store: Store, clock: Any
) -> None:
    """The next pages are read while one is written; those that arrived meanwhile go into
    the next transaction together (a first sync writes each index leaf once for several
    pages), in order, each once, never more than WRITE_BATCH at a time."""
    from oncall_tui.sync.engine import WRITE_BATCH

    backend = FakeBackend([remote_ticket(i) for i in range(1, 20)], page_size=2)
    engine = SyncEngine(store, [backend], clock)
    batches = written_batches(store, delay=0.05)
    report = await engine.run_once()
    assert report.ok and store.tickets.ticket_count() == 19
    assert store.sync_state.cursor("fake") == "19"
    assert [c for batch in batches for c in batch] == [*map(str, range(2, 19, 2)), "19"]
    assert max(map(len, batches)) == WRITE_BATCH  # pages read during a write wait for it


async def test_pages_slower_to_read_than_to_write_are_written_one_by_one(
    store: Store, clock: Any
) -> None:
    import asyncio

    backend = FakeBackend([remote_ticket(i) for i in range(1, 8)], page_size=2)
    engine = SyncEngine(store, [backend], clock)
    fetch = backend.fetch_changes

    async def slow(cursor: str | None):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.05)
        return await fetch(cursor)

    backend.fetch_changes = slow  # type: ignore[method-assign]
    batches = written_batches(store, delay=0.0)
    report = await engine.run_once()
    assert report.ok and batches == [["2"], ["4"], ["6"], ["7"]]  # never waits to gather


async def test_a_failed_read_after_pages_that_arrived_writes_them_then_says_why(
    store: Store, clock: Any
) -> None:
    backend = FakeBackend([remote_ticket(i) for i in range(1, 10)], page_size=2)
    engine = SyncEngine(store, [backend], clock)
    fail_read(backend, 4)
    batches = written_batches(store, delay=0.05)
    report = await engine.run_once()
    assert report.outcomes["fake"].error == "fake: 503"
    assert batches == [["2", "4", "6"]]  # the pages before the failed read, then no more
    assert store.sync_state.cursor("fake") == "6" and store.tickets.ticket_count() == 6
    report = await engine.run_once()  # the next pass goes on from the last written page
    assert report.ok and store.tickets.ticket_count() == 9


async def test_a_read_cancelled_from_inside_is_an_error_of_the_pass_not_a_hang(
    store: Store, clock: Any
) -> None:
    import asyncio

    backend = FakeBackend([remote_ticket(i) for i in range(1, 6)], page_size=2)
    engine = SyncEngine(store, [backend], clock)
    fetch = backend.fetch_changes

    async def cut_short(cursor: str | None) -> Page:
        if cursor == "2":
            raise asyncio.CancelledError  # e.g. a library's own timeout, not the app's
        return await fetch(cursor)

    backend.fetch_changes = cut_short  # type: ignore[method-assign]
    report = await asyncio.wait_for(engine.run_once(), timeout=10)
    assert "cut short" in (report.outcomes["fake"].error or "")
    assert store.sync_state.cursor("fake") == "2"  # the page before it was written
    backend.fetch_changes = fetch  # type: ignore[method-assign]
    report = await engine.run_once()
    assert report.ok and store.tickets.ticket_count() == 5


async def test_a_failed_read_ahead_keeps_the_written_page_and_says_why(
    store: Store, clock: Any
) -> None:
    backend = FakeBackend([remote_ticket(i) for i in range(1, 6)], page_size=2)
    engine = SyncEngine(store, [backend], clock)
    fail_read(backend, 2)
    report = await engine.run_once()
    assert report.outcomes["fake"].error == "fake: 503"
    assert store.sync_state.cursor("fake") == "2" and store.tickets.ticket_count() == 2
    report = await engine.run_once()  # the next pass goes on from the written page
    assert (
        report.ok and store.tickets.ticket_count() == 5 and store.sync_state.cursor("fake") == "5"
    )
