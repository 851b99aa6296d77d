"""The sync log screen: states, failed changes retried or discarded, log lines."""

from __future__ import annotations

from typing import Any

import pytest

from oncall_tui.domain.ops import OpState
from oncall_tui.ui.screens.sync_log_screen import SyncLogScreen
from tests.fakes import FakeBackend, remote_ticket

pytestmark = pytest.mark.anyio


async def test_failed_change_is_shown_retried_and_discarded(make_app: Any) -> None:
    backend = FakeBackend([remote_ticket(1), remote_ticket(2)])
    backend.script = ["reject"]
    from oncall_tui.settings.config import Config

    config = Config(user="alex@support.example", sync_interval=None, undo_seconds=0)
    app = make_app(seed=None, backend=backend, config=config)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()  # the engine starts after the first frame
        await app.workers.wait_for_complete()
        store = app.ctx.store
        tid = store.tickets.find_ticket("helpdesk", "1").id
        store.tickets.assign(tid, "nobody@example.com")
        app.store_revision += 1
        await pilot.press("ctrl+r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "1 failed" in app.sync_status
        app.push_screen(SyncLogScreen(store, app.ctx.config.sla))
        await pilot.pause()
        screen = app.screen
        assert [op.state for op in screen.ops] == [OpState.FAILED]
        assert "not an agent" in str(screen.ops[0].error)
        lines = str(screen.query_one("#sync-lines").render())
        assert "assign refused" in lines
        await pilot.press("r")  # retry: the backend accepts it this time
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert store.tickets.get_ticket(tid).pending_ops == 0, (
            store.outbox.ops(),
            app.sync_status,
            backend.applied,
        )
        assert backend.tickets["1"].assignee == "nobody@example.com"
        # a second failure, discarded: the local value comes back
        backend.script = ["reject"]
        store.tickets.assign(tid, "someone@example.com")
        await pilot.press("ctrl+r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.ops and screen.ops[0].state == OpState.FAILED
        await pilot.press("d")
        await pilot.pause()
        assert store.tickets.get_ticket(tid).assignee == "nobody@example.com"
        assert screen.ops == []


@pytest.mark.parametrize("fault", ["429", "unclear"])
async def test_a_parked_change_is_sent_now_or_discarded(make_app: Any, fault: str) -> None:
    """A change parked by a server's wait (429) or left unclear (a lost answer) shows when it
    is tried next; n sends it now (an unclear one is looked up first, never sent twice), d
    discards one; both keys are in the footer, the help and the palette."""
    backend = FakeBackend([remote_ticket(1)])
    from oncall_tui.settings.config import Config

    config = Config(user="alex@support.example", sync_interval=None, undo_seconds=0)
    app = make_app(seed=None, backend=backend, config=config)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()  # the engine starts after the first frame
        await app.workers.wait_for_complete()
        store = app.ctx.store
        tid = store.tickets.find_ticket("helpdesk", "1").id
        backend.script = [fault]
        store.tickets.assign(tid, "nobody@example.com")
        await pilot.press("ctrl+r")
        await app.workers.wait_for_complete()
        await pilot.press("L")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SyncLogScreen)
        (op,) = screen.ops
        if fault == "429":  # parked for the server's 30 s (an unclear one: a short backoff)
            assert store.outbox.parked_until(op.id) is not None
            prompt = str(screen.query_one("#sync-ops").get_option_at_index(0).prompt)
            assert "n sends now" in prompt
        keys = {b.id for b in screen.BINDINGS if hasattr(b, "id")}
        assert {"send-change-now", "discard-change"} <= keys
        from oncall_tui.ui.commands import BindingCommands

        names = [d for d, _k, _r in BindingCommands(screen)._commands()]
        assert "Send now" in names and "Discard" in names
        await pilot.press("n")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert store.outbox.ops() == [], store.outbox.ops()
        assert backend.tickets["1"].assignee == "nobody@example.com"
        applied = sum(backend.applied.values())
        assert applied == 1  # the unclear one was looked up, not sent again

        backend.script = [fault]
        store.tickets.assign(tid, "someone@example.com")
        await pilot.press("ctrl+r")
        await app.workers.wait_for_complete()
        app.store_revision += 1
        await pilot.pause()
        assert screen.ops
        await pilot.press("d")
        await pilot.pause()
        assert store.tickets.get_ticket(tid).assignee == "nobody@example.com"
        assert screen.ops == []


async def test_the_sync_loop_survives_an_unexpected_error(make_app: Any) -> None:
    """A pass that raises (whatever the cause) is reported in the header and the sync log;
    the loop goes on by itself and the next pass works: no ctrl+r needed."""
    import asyncio

    from oncall_tui.settings.config import Config

    backend = FakeBackend([remote_ticket(1)])
    config = Config(user="alex@support.example", sync_interval=0.05, undo_seconds=0)
    app = make_app(seed=None, backend=backend, config=config)
    calls = {"n": 0}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()  # the engine starts after the first frame
        real = app.engine.run_once

        async def flaky() -> Any:
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("injected: the unexpected")
            return await real()

        app.engine.run_once = flaky
        app.run_sync()
        for _ in range(100):
            await asyncio.sleep(0.05)
            if calls["n"] >= 3:
                break
        await pilot.pause()
        assert calls["n"] >= 3, "the loop stopped after the error"
        assert any("injected" in m for _, _, _, m in app.ctx.store.sync_state.log_entries())
        assert "failed" not in app.sync_status, app.sync_status
        assert app.ctx.store.tickets.find_ticket("helpdesk", "1") is not None
        app.workers.cancel_group(app, "sync")
