"""The live demo: the real engine over the seeded fakes keeps the demo store as it is, and
brings the fakes' new activity (tickets, customer replies) in, comments included."""

from __future__ import annotations

from collections import Counter

import pytest

from oncall_tui.demo.live import build_demo_backends
from oncall_tui.demo.seed import DEMO_USER, make_demo_data, seed_store
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.settings.config import Config
from oncall_tui.store import open_store
from oncall_tui.sync.engine import SyncEngine

pytestmark = pytest.mark.anyio


def thread_sizes(store) -> Counter[str]:  # type: ignore[no-untyped-def]
    rows = store.db.execute(
        "SELECT t.source || ':' || t.remote_id, count(c.id) FROM tickets t "
        "LEFT JOIN comments c ON c.ticket_id = t.id GROUP BY t.id"
    )
    return Counter(dict(rows.fetchall()))


async def test_the_demo_sync_adds_activity_without_duplicating_the_seed(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    data = make_demo_data(clock(), seed=1)
    store = open_store(tmp_path / "demo.db", sla=Config(user=DEMO_USER).sla, clock=clock)
    seed_store(store, data)
    seeded = thread_sizes(store)
    demo = build_demo_backends(data, clock)
    engine = SyncEngine(store, demo.backends, clock, between_passes=demo.add_activity)
    try:
        report = await engine.run_once()
        assert report.ok, report.summary()
        while report.more:
            report = await engine.run_once()
        assert thread_sizes(store) == seeded  # the fakes hold what the store was seeded with
        zendesk = demo.fakes[0]
        before = sum(len(c) for c in zendesk.comments.values())
        for _ in range(12):  # a minute of demo activity, a pass every five seconds
            assert isinstance(clock, FrozenClock)
            clock.advance(5)
            report = await engine.run_once()
            assert report.ok, report.summary()
        assert sum(len(c) for c in zendesk.comments.values()) > before  # replies came in
        after = thread_sizes(store)
        for tid, thread in zendesk.comments.items():  # the first comment is the description
            assert after[f"helpdesk:{tid}"] == len(thread) - 1, tid
        assert store.db.execute("SELECT count(*) FROM pending_comments").fetchone()[0] == 0
    finally:
        for client in demo.clients:
            await client.aclose()
        store.close()
