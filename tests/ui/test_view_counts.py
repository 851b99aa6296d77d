"""The view bar's counts: right after every data change and as the clock moves, without
recounting what the clock cannot change (at a million tickets each count is ~0.2 s of CPU, once a
minute, for ever, in an idle app)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from oncall_tui.domain.query import parse_query
from oncall_tui.store.queue import QueueCounter

pytestmark = pytest.mark.anyio
SIZE = (120, 40)
ME = "alex@support.example"


class CountLog:
    """Records which view queries the background counter counted; can hold them back."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.queries: list[Any] = []
        self.hold = threading.Event()
        self.hold.set()
        real = QueueCounter.count

        def count(counter: QueueCounter, query: Any, **kw: Any) -> int | None:
            self.hold.wait(10)
            self.queries.append(query)
            return real(counter, query, **kw)

        monkeypatch.setattr(QueueCounter, "count", count)


@pytest.fixture
def log(monkeypatch: pytest.MonkeyPatch) -> Any:
    counts = CountLog(monkeypatch)
    yield counts
    counts.hold.set()


def direct_counts(app: Any) -> list[int]:
    store, now = app.ctx.store, app.ctx.clock()
    return [
        store.queue.queue_count(parse_query(v.query), me=app.ctx.config.user, now=now)
        for v in app.ctx.config.views
    ]


async def settle(pilot: Any) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_the_minute_tick_recounts_only_the_views_the_clock_changes(
    make_app: Any, clock: Any, log: CountLog
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.counts == direct_counts(app)
        log.queries.clear()
        for _ in range(6):  # six hours, an hour a tick: tickets go from ok to warning to breached
            clock.advance(timedelta(hours=1))
            screen.tick()
            await settle(pilot)
            assert screen.counts == direct_counts(app)
        timed = [v.query for v in app.ctx.config.views if parse_query(v.query).depends_on_time]
        assert timed, "the default views include a time-based one (Breaching soon)"
        counted = set(log.queries)
        assert counted == {parse_query(q) for q in timed}
        assert len(log.queries) == 6 * len(timed)


async def test_a_data_change_recounts_every_view(
    make_app: Any, clock: Any, log: CountLog
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        before = list(screen.counts)
        unassigned = app.ctx.store.queue.open_queue(parse_query("assignee:none"), limit=1, me=ME)[0]
        log.queries.clear()
        app.ctx.store.tickets.assign(unassigned.id, ME)  # as a sync or another process would
        app.store_revision += 1
        await settle(pilot)
        assert len(log.queries) == len(app.ctx.config.views)
        assert screen.counts == direct_counts(app)
        assert screen.counts[0] == before[0] + 1  # My queue


async def test_a_minute_tick_during_a_full_count_still_counts_every_view(
    make_app: Any, clock: Any, log: CountLog
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        before = list(screen.counts)
        log.hold.clear()  # the full count after the data change waits …
        unassigned = app.ctx.store.queue.open_queue(parse_query("assignee:none"), limit=1, me=ME)[0]
        app.ctx.store.tickets.assign(unassigned.id, ME)
        app.store_revision += 1
        await pilot.pause()
        clock.advance(timedelta(minutes=1))
        screen.tick()  # … and the minute tick supersedes it: it must count every view too
        await pilot.pause()
        log.hold.set()
        await settle(pilot)
        assert screen.counts == direct_counts(app)
        assert screen.counts[0] == before[0] + 1

