"""Issue 14: `u` works online. The app runs the real engine against the demo's wire fakes
(Zendesk, GitHub, Slack over httpx.MockTransport); a change waits out its undo window in the
outbox, `u` takes it back before anything reaches the help desk, and one left alone arrives
exactly once when its window ends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from oncall_tui.demo.live import build_demo_backends
from oncall_tui.demo.seed import DEMO_USER, make_demo_data, seed_store
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.query import parse_query
from oncall_tui.settings.config import Config
from oncall_tui.settings.paths import Paths
from oncall_tui.settings.secrets import MemorySecretStore
from oncall_tui.store import open_store
from oncall_tui.sync.engine import SyncEngine
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.context import AppContext
from oncall_tui.ui.screens.choice_screen import ChoiceScreen

pytestmark = pytest.mark.anyio


def demo_app(tmp_path: Path, clock: FrozenClock, undo_seconds: float = 10) -> tuple[Any, Any]:
    config = Config(user=DEMO_USER, sync_interval=3600, undo_seconds=undo_seconds)
    data = make_demo_data(clock(), seed=1)
    path = tmp_path / "demo.db"
    store = open_store(path, sla=config.sla, clock=clock)
    seed_store(store, data)
    demo = build_demo_backends(data, clock)

    def engine(app: Any) -> SyncEngine:
        writer = open_store(path, sla=config.sla, clock=clock, migrate=False)
        return SyncEngine(writer, demo.backends, clock)

    ctx = AppContext(
        config=config,
        paths=Paths(config=tmp_path / "config.toml", db=path, data_dir=tmp_path),
        secrets=MemorySecretStore(),
        store=store,
        clock=clock,
        demo=True,
        engine_factory=engine,
    )
    return OncallApp(ctx), demo.fakes[0]


async def settle(pilot: Any) -> None:
    for _ in range(100):
        await pilot.pause(0.02)
        if pilot.app.engine is not None and not pilot.app.engine._lock.locked():
            break
    await pilot.pause(0.1)


async def unassigned_ticket(pilot: Any, tid: int | None = None) -> tuple[int, int]:
    """The cursor on an unassigned help-desk ticket (``tid``, or the first one)."""
    await pilot.press("2")  # Unassigned
    await pilot.pause()
    store = pilot.app.ctx.store
    if tid is None:
        rows = store.queue.open_queue(parse_query("is:open assignee:none source:helpdesk"), limit=1)
        tid = rows[0].id
    table = pilot.app.screen.query_one("TicketTable")
    table.cursor = store.queue.queue_position(pilot.app.screen.query_now(), tid)
    await pilot.pause()
    assert table.current.id == tid
    ticket = store.tickets.get_ticket(tid)
    return ticket.id, int(ticket.remote_id or 0)


async def test_u_cancels_a_change_while_online(tmp_path: Path, clock: FrozenClock) -> None:
    app, zendesk = demo_app(tmp_path, clock)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        assert "online" in app.sync_status
        tid, remote = await unassigned_ticket(pilot)
        before = dict(zendesk.mutations)
        await pilot.press("a")  # assign to me: waits out its 10 s window
        await pilot.pause(0.3)
        store = app.ctx.store
        assert store.tickets.get_ticket(tid).assignee == DEMO_USER
        assert "1 waiting" in app.sync_status
        clock.advance(5)
        await pilot.press("u")  # five seconds later: taken back
        await pilot.pause()
        assert (
            store.tickets.get_ticket(tid).assignee is None
            and store.tickets.get_ticket(tid).pending_ops == 0
        )
        assert any("Undone: assign on zendesk #" in str(n.message) for n in app._notifications)
        clock.advance(30)  # long past the window; and a sync pass
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert dict(zendesk.mutations) == before  # nothing reached the help desk
        assert zendesk.tickets[remote]["assignee_id"] is None

        # The same change left alone arrives once its window ends, exactly once. (The
        # assigned ticket left "Unassigned", so the cursor went on to its neighbour: back.)
        await unassigned_ticket(pilot, tid)
        await pilot.press("a")
        await pilot.pause(0.3)
        await pilot.press("ctrl+r")  # offered: send now or wait; wait
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("end", "enter")
        await settle(pilot)
        assert zendesk.tickets[remote]["assignee_id"] is None  # still in its window
        clock.advance(11)
        for _ in range(100):  # the loop wakes when the window ends (the hour is not up)
            await pilot.pause(0.05)
            if zendesk.tickets[remote]["assignee_id"] is not None:
                break
        await settle(pilot)
        assert zendesk.tickets[remote]["assignee_id"] is not None
        assert sum(zendesk.mutations.values()) == sum(before.values()) + 1
        assert store.tickets.get_ticket(tid).pending_ops == 0
        await pilot.press("u")  # too late now: it was sent
        await pilot.pause()
        assert store.tickets.get_ticket(tid).assignee == DEMO_USER
        assert any("Nothing to undo" in str(n.message) for n in app._notifications)


async def test_quitting_offers_to_send_what_waits(tmp_path: Path, clock: FrozenClock) -> None:
    app, zendesk = demo_app(tmp_path, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        _tid, remote = await unassigned_ticket(pilot)
        await pilot.press("a")
        await pilot.pause(0.3)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("home", "enter")  # send now, then quit
        for _ in range(100):
            await pilot.pause(0.05)
            if not app.is_running:
                break
        assert zendesk.tickets[remote]["assignee_id"] is not None
    assert app.return_code in (0, None)
