"""A change made with the CLI while the real app runs on the same database: the app's queue
shows it, its `u`-window is the config's, and the app's engine sends it once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.demo.seed import DEMO_USER
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.query import parse_query
from tests.cli.conftest import run
from tests.ui.test_undo_online import demo_app, settle

pytestmark = pytest.mark.anyio


async def test_a_cli_assign_shows_in_the_running_app_and_is_sent_once(
    tmp_path: Path, clock: FrozenClock
) -> None:
    app, zendesk = demo_app(tmp_path, clock)
    config = tmp_path / "cli.toml"
    config.write_text(f'user = "{DEMO_USER}"\nundo_seconds = 10\n')
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        store = app.ctx.store
        row = store.queue.open_queue(parse_query("is:open assignee:none source:helpdesk"), limit=1)[
            0
        ]
        remote = int(store.tickets.get_ticket(row.id).remote_id or 0)
        before = sum(zendesk.mutations.values())
        done = await asyncio.to_thread(
            run,
            "ticket",
            "assign",
            f"zendesk:{remote}",
            "me",
            "--db",
            str(store.path),
            "--config",
            str(config),
            "--now",
            clock().isoformat(),
        )
        assert done.returncode == 0, done.stderr
        app.store_revision += 1  # what any refresh of the app does (a tick, a sync, a key)
        await pilot.pause(0.3)
        table: Any = app.screen.query_one("TicketTable")
        shown = [table.row_at(i) for i in range(table._total)]
        assert any(r is not None and r.id == row.id and r.assignee == DEMO_USER for r in shown)
        assert "1 waiting" in app.sync_status  # the CLI's change waits like a key's
        clock.advance(11)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert zendesk.tickets[remote]["assignee_id"] is not None
        assert sum(zendesk.mutations.values()) == before + 1
        await pilot.press("ctrl+r")  # another pass sends nothing again
        await settle(pilot)
        assert sum(zendesk.mutations.values()) == before + 1
        assert store.tickets.get_ticket(row.id).pending_ops == 0
