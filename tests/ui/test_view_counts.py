"""The view bar's counts: right after every data change and as the clock moves, without
recounting what the clock cannot change (at a million tickets each count is ~0.2 s of CPU, once a
minute, for ever, in an idle app)."""

from __future__ import annotations

import re
import subprocess
import sys
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
    """Records which view queries the counters were asked for, and which counts they ran in
    SQL over the whole result (``full``) or over the tickets that crossed an SLA boundary
    (``changes``); can hold the counts back."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.queries: list[Any] = []
        self.full: list[str] = []
        self.changes: list[str] = []
        self.hold = threading.Event()
        self.hold.set()
        real = QueueCounter.count
        connect = QueueCounter._connection

        def count(counter: QueueCounter, query: Any, **kw: Any) -> int | None:
            self.hold.wait(10)
            self.queries.append(query)
            return real(counter, query, **kw)

        def traced(counter: QueueCounter) -> Any:
            fresh = counter._conn is None
            conn = connect(counter)
            if fresh:
                conn.set_trace_callback(self._statement)
            return conn

        monkeypatch.setattr(QueueCounter, "count", count)
        monkeypatch.setattr(QueueCounter, "_connection", traced)

    def _statement(self, sql: str) -> None:
        if sql.startswith("SELECT count(*) FROM tickets t"):
            (self.changes if re.search(r"t\.id IN \([\d,]+\)$", sql) else self.full).append(sql)

    def clear(self) -> None:
        self.queries.clear()
        self.full.clear()
        self.changes.clear()


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
        log.clear()
        for _ in range(6):  # six hours, an hour a tick: tickets go from ok to warning to breached
            clock.advance(timedelta(hours=1))
            screen.tick()
            await settle(pilot)
            assert screen.counts == direct_counts(app)
        timed = [v.query for v in app.ctx.config.views if parse_query(v.query).depends_on_time]
        assert timed, "the default views include a time-based one (Breaching soon)"
        assert len(log.queries) == 6 * len(app.ctx.config.views)  # every view is asked …
        assert len(log.full) + len(log.changes) // 2 == 6 * len(timed)  # … the timed counted


async def test_minute_after_minute_only_the_tickets_that_crossed_are_counted(
    make_app: Any, clock: Any, log: CountLog
) -> None:
    """No write: a time-based view a minute later is its count plus what the tickets that
    crossed an SLA boundary changed (not a walk over every running clock), and right."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        log.clear()
        seen = {tuple(screen.counts)}
        for _ in range(240):  # four hours, a minute a tick
            clock.advance(timedelta(minutes=1))
            screen.tick()
            await settle(pilot)
            assert screen.counts == direct_counts(app)
            seen.add(tuple(screen.counts))
        assert len(seen) > 3, "tickets crossed SLA boundaries meanwhile"
        assert log.full == [] and log.changes  # never a full count: only the changes


async def test_the_minute_tick_counts_what_another_process_wrote(
    make_app: Any, clock: Any, log: CountLog
) -> None:
    """No edit here, so no data change to recount on: the next minute's counts see it
    (data_version), the views nobody wrote to being asked without a count."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        before = list(screen.counts)
        clock.advance(timedelta(minutes=1))
        screen.tick()
        await settle(pilot)
        log.clear()
        clock.advance(timedelta(minutes=1))
        screen.tick()
        await settle(pilot)
        assert log.full == [] and len(log.queries) == len(app.ctx.config.views)  # no write
        unassigned = app.ctx.store.queue.open_queue(parse_query("assignee:none"), limit=1, me=ME)[0]
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                "c.execute('UPDATE tickets SET assignee = ? WHERE id = ?', sys.argv[2:]); "
                "c.commit()",
                str(app.ctx.store.path),
                ME,
                str(unassigned.id),
            ],
            check=True,
            timeout=30,
        )
        log.clear()
        clock.advance(timedelta(minutes=1))
        screen.tick()
        await settle(pilot)
        assert screen.counts == direct_counts(app)
        assert screen.counts[0] == before[0] + 1  # My queue
        assert len(log.full) == len(app.ctx.config.views)  # the write: every view counted


async def test_a_data_change_recounts_every_view(make_app: Any, clock: Any, log: CountLog) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        before = list(screen.counts)
        unassigned = app.ctx.store.queue.open_queue(parse_query("assignee:none"), limit=1, me=ME)[0]
        log.clear()
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


async def test_a_views_count_is_counted_once_for_the_table_and_the_bar(
    make_app: Any, log: CountLog
) -> None:
    """The first view's total (the table's, after the first paint) and its number in the view
    bar are one count; a switch back to a view, with no write since, counts nothing."""
    from dataclasses import replace

    from oncall_tui.demo.seed import DEMO_USER
    from oncall_tui.settings.config import Config, ViewSpec

    views = (ViewSpec("Everything open", "is:open"), *Config().views[1:])
    config = replace(Config(user=DEMO_USER, sync_interval=None), views=views)
    app = make_app(config=config)
    everything = "SELECT count(*) FROM tickets t WHERE (t.is_open = 1)"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.table.total > screen.table.size.height  # more rows than a window
        assert screen.table.total == screen.counts[0] == direct_counts(app)[0]
        assert log.full.count(everything) == 1
        log.clear()
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        assert screen.table.total == screen.counts[0] == direct_counts(app)[0]
        assert everything not in log.full


async def test_a_time_based_view_shown_is_recounted_by_its_changes_each_minute(
    make_app: Any, clock: Any, log: CountLog
) -> None:
    """ "Breaching soon" on screen: its rows are reloaded once a minute, its total (and every
    view's) counted from the tickets that crossed a boundary, and right."""
    from oncall_tui.store import open_store

    app = make_app()
    names = [v.name for v in app.ctx.config.views]
    shown = names.index("Breaching soon")
    query = parse_query(app.ctx.config.views[shown].query)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(str(shown + 1))
        await settle(pilot)
        screen = app.screen
        app.ctx.store.db.conn.set_trace_callback(log._statement)  # the UI's own counts too
        direct = open_store(app.ctx.store.path, clock=clock, migrate=False)  # (not traced)
        log.clear()
        totals = set()
        for _ in range(120):
            clock.advance(timedelta(minutes=1))
            screen.tick()
            await settle(pilot)
            expected = direct.queue.queue_count(query, me=ME, now=clock())
            assert screen.table.total == expected == screen.counts[shown]
            totals.add(expected)
        direct.close()
        assert len(totals) > 1  # tickets came and went meanwhile
        assert log.changes
        assert not [sql for sql in log.full if "sla_warn_at <=" in sql]  # never a full walk
