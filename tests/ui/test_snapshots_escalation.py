"""Snapshots of the escalation loop: frozen clock (Monday 2026-11-23 10:30 PST), demo seed 1."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.conftest import settle_factory

settle = settle_factory()


def standup_app(make_app: Any) -> Any:
    """The demo with one of its two investigations labelled on Friday 10:00 (day two: a
    decision is due) and the other acknowledged at today's stand-up."""
    app = make_app()
    store = app.ctx.store
    old, fresh = store.escalation.investigations("~investigate")[:2]
    friday = app.ctx.clock() - timedelta(days=3, minutes=30)
    store.db.execute(
        "UPDATE tickets SET label_since = json_set(label_since, '$.\"~investigate\"', ?) "
        "WHERE id = ?",
        [friday.isoformat(), old.id],
    )
    today = app.ctx.clock().astimezone(app.ctx.config.tz).date()
    store.escalation.acknowledge(
        fresh.id, today, "Reviewed at the support stand-up.", author="alex"
    )
    return app


def test_standup_screen(snap_compare: Any, make_app: Any) -> None:
    """S: the stand-up at 120×40: the demo's ~investigate bugs, the one labelled on Friday
    first (⚑ day 2 · decide), the other on day 1 and acknowledged today (✓ today), each with
    the customer it hits and its plan; the footer's a, d, I, o and escape."""
    assert snap_compare(
        standup_app(make_app), press=["S"], terminal_size=(120, 40), run_before=settle
    )


def test_standup_screen_narrow(snap_compare: Any, make_app: Any) -> None:
    """The same at 80×24: the columns fit (the titles cut with …), the footer wraps."""
    assert snap_compare(
        standup_app(make_app), press=["S"], terminal_size=(80, 24), run_before=settle
    )
