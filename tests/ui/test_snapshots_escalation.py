"""Snapshots of the escalation loop: frozen clock (Monday 2026-11-23 10:30 PST), demo seed 1."""

from __future__ import annotations

from typing import Any

from tests.conftest import settle_factory

settle = settle_factory()


def test_standup_screen(snap_compare: Any, make_app: Any) -> None:
    """S: the stand-up at 120×40: every ~investigate bug of the demo with its business day
    (⚑ and "decide" from the second), the customers it hits by their plans, and whether it
    was acknowledged today; the footer's a, d, I, o and escape."""
    assert snap_compare(make_app(), press=["S"], terminal_size=(120, 40), run_before=settle)


def test_standup_screen_narrow(snap_compare: Any, make_app: Any) -> None:
    """The same at 80×24: the columns fit, the footer wraps."""
    assert snap_compare(make_app(), press=["S"], terminal_size=(80, 24), run_before=settle)
