"""Snapshots of the on-call week (frozen clock: Monday 2026-11-23 10:30 PST, demo seed 1 with its
week of history)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from oncall_tui.demo.seed import DEMO_USER, make_demo_data, seed_store
from oncall_tui.settings.config import Config
from oncall_tui.store import open_store
from tests.conftest import settle_factory

settle = settle_factory()


@pytest.fixture
def week_app(tmp_path: Path, clock: Any, make_app: Any) -> Any:
    cfg = Config(user=DEMO_USER, sync_interval=None)
    store = open_store(tmp_path / "week.db", sla=cfg.sla, clock=clock)
    seed_store(store, make_demo_data(clock(), seed=1, history=True))
    return make_app(config=cfg, store=store)


def test_handoff_charts_wide(snap_compare: Any, week_app: Any) -> None:
    """120×40: W opens the week: title line, breaches per day, first-reply distribution and
    attainment by plan as charts, then alarms and the open issues."""
    assert snap_compare(week_app, press=["W"], terminal_size=(120, 40), run_before=settle)


def test_handoff_charts_small(snap_compare: Any, week_app: Any) -> None:
    """80×24: the same charts, narrower; the lists scroll below them."""
    assert snap_compare(week_app, press=["W"], terminal_size=(80, 24), run_before=settle)


def test_breach_forecast(snap_compare: Any, week_app: Any) -> None:
    """f on the week: offline for 8 h, the clocks that breach meanwhile, and the warning that
    more than the threshold (2) call for a replacement."""
    assert snap_compare(week_app, press=["W", "f"], terminal_size=(120, 40), run_before=settle)
