"""The demo carries a week of history, so the handoff is worth looking at on first run."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from oncall_tui.demo.seed import make_demo_data, seed_store
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.handoff import Window, build_handoff
from oncall_tui.domain.sla import SlaSettings
from oncall_tui.store import open_store


def test_history_adds_a_week_and_leaves_the_rest_as_it_was(clock: FrozenClock) -> None:
    plain = make_demo_data(clock(), seed=1)
    full = make_demo_data(clock(), seed=1, history=True)
    assert full.tickets[: len(plain.tickets)] == plain.tickets
    assert full.comments[: len(plain.comments)] == plain.comments
    added = full.tickets[len(plain.tickets) :]
    assert len(added) >= 60 and all(t.is_done for t in added)
    ids = [t.remote_id for t in full.tickets if t.source == "helpdesk"]
    assert len(ids) == len(set(ids))  # the fakes can serve every one of them


def test_the_demo_week_has_alarms_breaches_and_replies(tmp_path: Path, clock: FrozenClock) -> None:
    store = open_store(tmp_path / "demo.db", clock=clock)
    seed_store(store, make_demo_data(clock(), seed=1, history=True))
    now = clock()
    window = Window(now - timedelta(days=7), now)
    h = build_handoff(
        store.handoff.handoff_records(window.start, now), window, SlaSettings.default()
    )
    store.close()
    assert len(h.alarms) >= 5
    assert sum(1 for a in h.alarms if a.acknowledged_at is not None) >= 5
    assert len(h.sla.breaches) >= 10
    assert sum(1 for _d, n in h.sla.breaches_per_day if n) >= 5  # spread over the week
    assert len(h.sla.first_reply_seconds) >= 80
    assert {a.plan for a in h.sla.attainment} >= {"premium", "ultimate"}
    assert {str(a.kind) for a in h.sla.attainment} == {"first", "next"}
