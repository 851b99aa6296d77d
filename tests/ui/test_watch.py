"""Issue 20, item 8: a per-ticket watch (`w`) that tells each change from a sync once."""

from __future__ import annotations

from typing import Any

import pytest

from oncall_tui.domain.query import parse_query
from oncall_tui.domain.tickets import Status
from oncall_tui.store import Store
from oncall_tui.store.watches import describe_change
from tests.fakes import FakeBackend, remote_ticket


def test_changes_are_told_once(demo_store: Store) -> None:
    ticket = demo_store.queue.open_queue(parse_query(""), limit=1)[0]
    demo_store.watches.set_watched(ticket.id, True)
    assert demo_store.watches.is_watched(ticket.id)
    assert demo_store.watches.watch_changes([ticket.id]) == []  # nothing changed yet
    demo_store.db.execute(
        "UPDATE tickets SET status = 'pending', assignee = 'sam@x' WHERE id = ?", [ticket.id]
    )
    changes = demo_store.watches.watch_changes([ticket.id, 999999])
    assert len(changes) == 1 and changes[0][0] == ticket.id
    assert any(c.startswith("status ") and c.endswith("→ pending") for c in changes[0][1])
    assert any(c.startswith("assignee ") for c in changes[0][1])
    assert demo_store.watches.watch_changes([ticket.id]) == []  # never twice
    demo_store.watches.set_watched(ticket.id, False)
    demo_store.db.execute("UPDATE tickets SET status = 'open' WHERE id = ?", [ticket.id])
    assert demo_store.watches.watch_changes([ticket.id]) == []  # not watched any more


def test_describe_change() -> None:
    before = {"status": "open", "labels": ["a"], "comments": 1, "assignee": None}
    after = {"status": "open", "labels": ["b"], "comments": 3, "assignee": "alex"}
    assert describe_change(before, after) == ["assignee — → alex", "labels +b -a", "2 new comments"]


@pytest.mark.anyio
async def test_watched_ticket_changed_by_a_sync_is_told_once(make_app: Any) -> None:
    backend = FakeBackend([remote_ticket(1), remote_ticket(2)])
    app = make_app(backend=backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()  # the engine starts after the first frame
        await app.workers.wait_for_complete()
        await pilot.pause()
        store = app.ctx.store
        watched = store.tickets.find_ticket("helpdesk", "1")
        assert watched is not None
        app.screen.open_ticket(watched.id)
        await pilot.pause()
        await pilot.press("w")
        await pilot.pause()
        assert store.watches.is_watched(watched.id)
        backend.touch(remote_ticket(1, status=Status.PENDING))
        backend.touch(remote_ticket(2, status=Status.PENDING))  # not watched
        app.run_sync()
        await app.workers.wait_for_complete()
        await pilot.pause()
        told = [n.message for n in app._notifications if n.title == "Watched ticket changed"]
        assert len(told) == 1 and "zendesk #1" in told[0] and "→ pending" in told[0], told
        app.run_sync()  # nothing new
        await app.workers.wait_for_complete()
        await pilot.pause()
        told = [n.message for n in app._notifications if n.title == "Watched ticket changed"]
        assert len(told) == 1
