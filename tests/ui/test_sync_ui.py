"""The app's background sync worker: pulls on start and on ctrl+r, shows status, never blocks."""

from __future__ import annotations

from typing import Any

import pytest

from oncall_tui.domain.query import parse_query
from oncall_tui.ui.screens.choice_screen import ChoiceScreen
from oncall_tui.ui.screens.queue_empty import empty_context
from oncall_tui.ui.widgets.empty_state import explain_empty
from tests.fakes import FakeBackend, remote_ticket

pytestmark = pytest.mark.anyio


async def test_sync_on_start_and_on_ctrl_r(make_app: Any) -> None:
    backend = FakeBackend([remote_ticket(1, subject="Pulled from the help desk")])
    app = make_app(seed=None, backend=backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()  # the engine starts after the first frame
        await app.workers.wait_for_complete()
        await pilot.pause()
        store = app.ctx.store
        assert store.tickets.ticket_count() == 1, (app.sync_status, [w.error for w in app.workers])
        assert "online" in app.sync_status
        backend.touch(remote_ticket(2, subject="Arrived later"))
        await pilot.press("ctrl+r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert store.tickets.ticket_count() == 2
        await pilot.press("5")
        await pilot.pause()
        assert app.screen.query_one("TicketTable").total == store.queue.queue_count(
            parse_query("is:open")
        )


async def test_the_engine_is_built_after_the_first_frame(make_app: Any) -> None:
    """Building the engine imports httpx, the adapters and the keyring (~100 ms): the queue's
    first frame does not wait for it. Until then the status says sync is starting (not "local
    only"), and ctrl+r says so too."""
    built: list[bool] = []
    backend = FakeBackend([remote_ticket(1)])
    app = make_app(seed=None, backend=backend)
    factory = app.ctx.engine_factory

    def counting(a: Any) -> Any:
        built.append(True)
        return factory(a)

    app.ctx.engine_factory = counting
    app.ctx.demo = False  # a user's own empty cache, not the demo's
    async with app.run_test(size=(120, 40)) as pilot:
        assert not built and app.engine is None
        assert app.sync_status == "starting sync"
        why, _tips = explain_empty(empty_context(app.screen))  # the cache is empty
        assert why == "No tickets yet: the first sync is under way.", why
        app.action_sync_now()  # ctrl+r in that moment: it says so, not "no backend"
        await pilot.pause()
        notes = [str(n.message) for n in app._notifications]
        assert "Sync is starting." in notes and not any("No backend" in n for n in notes)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert built == [True] and app.engine is not None
        assert app.ctx.store.tickets.ticket_count() == 1
        assert "online" in app.sync_status


async def test_local_edit_shows_pending_then_settles(make_app: Any) -> None:
    backend = FakeBackend([remote_ticket(1)])
    app = make_app(seed=None, backend=backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()  # the engine starts after the first frame
        await app.workers.wait_for_complete()
        await pilot.press("5")
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        assert "1 waiting" in app.sync_status  # its undo window
        await pilot.press("ctrl+r")  # sync now offers to send what waits
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("enter")  # send it now
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "pending" not in app.sync_status and "waiting" not in app.sync_status
        assert backend.tickets["1"].assignee == "alex@support.example"


async def test_without_backends_the_app_is_local_only(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.sync_status.startswith("local only")


async def test_a_local_edit_wakes_the_sync_loop(make_app: Any) -> None:
    from oncall_tui.settings.config import Config

    backend = FakeBackend([remote_ticket(1)])
    config = Config(user="alex@support.example", sync_interval=3600, undo_seconds=0)
    app = make_app(seed=None, backend=backend, config=config)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        await pilot.press("5")
        await pilot.pause()
        await pilot.press("a")
        for _ in range(50):  # the push goes out long before the hour is up
            await pilot.pause(0.05)
            if backend.tickets["1"].assignee == "alex@support.example":
                break
        assert backend.tickets["1"].assignee == "alex@support.example"


async def test_a_waiting_edit_goes_out_when_its_window_ends(make_app: Any, clock: Any) -> None:
    """Neither at once (u can still take it back) nor at the next interval: at window's end."""
    from oncall_tui.settings.config import Config

    backend = FakeBackend([remote_ticket(1)])
    config = Config(user="alex@support.example", sync_interval=3600, undo_seconds=1)
    app = make_app(seed=None, backend=backend, config=config)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        await pilot.press("5")
        await pilot.pause()
        passes = app.engine.passes
        await pilot.press("a")
        await pilot.pause(0.6)
        assert backend.tickets["1"].assignee is None  # waiting out its window
        assert app.engine.passes == passes  # and the edit did not start a pass of its own
        line = app.screen.query_one("TicketTable").render_line(0).text
        assert "↶Remote ticket 1" in line  # the row shows it waits
        clock.advance(1)  # the window is over
        for _ in range(60):
            await pilot.pause(0.05)
            if backend.tickets["1"].assignee == "alex@support.example":
                break
        assert backend.tickets["1"].assignee == "alex@support.example"


async def test_conflict_is_shown_in_the_detail_and_resolved_with_keys(make_app: Any) -> None:
    from dataclasses import replace

    from oncall_tui.domain.tickets import Priority

    backend = FakeBackend([remote_ticket(1, priority=Priority.P1)])
    app = make_app(seed=None, backend=backend)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()  # the engine starts after the first frame
        await app.workers.wait_for_complete()
        store = app.ctx.store
        tid = store.tickets.find_ticket("helpdesk", "1").id
        store.tickets.set_priority(tid, Priority.P0)  # ours, not yet sent
        backend.touch(replace(backend.tickets["1"], priority=Priority.P3))  # theirs
        store.remote.apply_page(
            "fake", await backend.fetch_changes(store.sync_state.cursor("fake"))
        )
        await pilot.press("5")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        from rich.console import Console

        console = Console(width=100, record=True, file=__import__("io").StringIO())
        console.print(app.screen.query_one("#detail-meta").content)
        meta = console.export_text()
        assert "priority: yours P0 · theirs P3" in meta
        await pilot.press("T")
        await pilot.pause()
        ticket = store.tickets.get_ticket(tid)
        assert (ticket.priority, ticket.conflict, ticket.pending_ops) == (Priority.P3, False, 0)
