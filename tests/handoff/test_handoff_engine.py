"""The handoff's SLA numbers are the SLA engine's: every number recounted from the clocks the
engine replays for each stored ticket, on a generated week that includes tickets where the old
report-only clocks disagreed (automatic reply, unknown author, a ``+`` label pause)."""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from oncall_tui.domain import sla_history
from oncall_tui.domain.handoff import Window, build_handoff, forecast
from oncall_tui.domain.sla import SlaSettings
from oncall_tui.domain.sla_clocks import Metric, run_clocks
from tests.handoff.week import (
    AUTO_REPLY,
    NOW,
    PLUS_LABEL,
    START,
    UNKNOWN_AUTHOR,
    add_disagreements,
    make_week,
)

LA = ZoneInfo("America/Los_Angeles")
S = SlaSettings.default()
KIND = {Metric.FIRST_REPLY: "first", Metric.NEXT_REPLY: "next"}


@pytest.fixture
def store(tmp_path: Path):
    store = make_week(tmp_path / "week.db")
    add_disagreements(store)
    yield store
    store.close()


def engine_clocks(store) -> list[tuple[object, object, list]]:
    """(ticket, plan, targeted clocks at NOW) for every stored ticket, straight from the
    engine (``run_clocks`` on the stored history), not through the handoff."""
    ids = [r[0] for r in store.db.execute("SELECT id FROM tickets ORDER BY id")]
    out = []
    for tid in ids:
        t = store.tickets.get_ticket(tid)
        plan = store.tickets.plan_of(t.customer_id)
        report = run_clocks(sla_history.inputs_of(t, plan), S, NOW)
        out.append((t, plan, [c for c in report.clocks if c.target is not None]))
    return out


def test_every_sla_number_is_recounted_from_the_engines_clocks(store) -> None:
    h = build_handoff(store.handoff.handoff_records(START, NOW), Window(START, NOW), S)
    breached, met, firsts = [], [], []
    for t, plan, clocks in engine_clocks(store):
        for c in clocks:
            key = (plan or "none", str(t.priority), KIND[c.metric])
            if c.breached_at is not None and START <= c.breached_at < NOW:
                end = c.fulfilled_at or NOW
                breached.append(
                    (
                        t.id,
                        key,
                        c.breached_at,
                        int((end - c.breached_at).total_seconds()),
                        t.assignee or "unassigned",
                    )
                )
            elif c.breached_at is None and c.fulfilled_at and START <= c.fulfilled_at < NOW:
                met.append(key)
            if (
                c.metric is Metric.FIRST_REPLY
                and c.fulfilled_by == "reply"
                and START <= c.fulfilled_at < NOW
            ):
                firsts.append(int((c.fulfilled_at - c.activated_at).total_seconds()))
    assert len(breached) > 5 and len(met) > 5  # the week is worth looking at
    # attainment per plan, priority and clock
    got_total = Counter({(a.plan, a.priority, str(a.kind)): a.total for a in h.sla.attainment})
    got_met = Counter({(a.plan, a.priority, str(a.kind)): a.met for a in h.sla.attainment})
    assert +got_met == Counter(met)
    assert +got_total == Counter(met) + Counter(b[1] for b in breached)
    # every breach: ticket, instant, lateness, holder
    assert sorted((b.ticket_id, b.due, b.late_seconds, b.holder) for b in h.sla.breaches) == sorted(
        (tid, at, late, who) for tid, _k, at, late, who in breached
    )
    per_day = Counter(at.astimezone(LA).date() for _t, _k, at, _l, _w in breached)
    assert len(h.sla.breaches_per_day) == 8  # Mon 23 (local) .. Mon 30
    assert {d: n for d, n in h.sla.breaches_per_day if n} == dict(per_day)
    assert dict(h.sla.breaches_by_holder) == dict(Counter(b[4] for b in breached))
    # first-reply times, nearest-rank median and p90
    secs = sorted(firsts)
    assert list(h.sla.first_reply_seconds) == secs
    assert h.sla.first_reply_median == secs[math.ceil(len(secs) / 2) - 1]
    assert h.sla.first_reply_p90 == secs[math.ceil(len(secs) * 0.9) - 1]


def test_the_forecast_is_the_engines_current_clock(store) -> None:
    from oncall_tui.domain.tickets import Channel, Priority, Source, Status, Ticket

    cust = store.db.execute("SELECT id FROM customers").fetchone()[0]
    fresh = [
        Ticket(
            0,
            Source.HELPDESK,
            f"fresh {i}",
            opened_at=NOW - timedelta(hours=i),
            updated_at=NOW - timedelta(hours=i),
            remote_id=str(8000 + i),
            customer_id=cust,
            priority=Priority.P0,
            channel=Channel.EMAIL,
            status=Status.PENDING if i == 3 else Status.OPEN,
        )
        for i in (1, 2, 3)
    ]
    store.tickets.insert_tickets(fresh)
    hours = 30
    fc = forecast(store.handoff.handoff_records(NOW, NOW), NOW, hours, S, threshold=3)
    want, late = [], 0
    for t, plan, _clocks in engine_clocks(store):
        if t.is_done:
            continue
        cur = run_clocks(sla_history.inputs_of(t, plan), S, NOW).current
        if cur is None:
            continue
        if cur.breached_at is not None:
            late += 1
        elif cur.due_at is not None and cur.due_at <= NOW + timedelta(hours=hours):
            want.append((cur.due_at, t.id))
    assert fc.already == late and late > 0
    assert [(d, i.ticket_id) for i, d in fc.items] == sorted(want)
    assert len(want) == 2  # the pending one waits: not projected


def test_where_the_old_clocks_disagreed_the_engine_counts(store) -> None:
    h = build_handoff(store.handoff.handoff_records(START, NOW), Window(START, NOW), S)
    ids = {
        r[1]: r[0]
        for r in store.db.execute(
            "SELECT id, remote_id FROM tickets WHERE remote_id IN (?, ?, ?)",
            [AUTO_REPLY, UNKNOWN_AUTHOR, PLUS_LABEL],
        )
    }
    late = {(b.ticket_id, str(b.kind)): b.late_seconds for b in h.sla.breaches}
    # the automatic reply answers nothing: breached at 4 h, answered 2 h late
    assert late[(ids[AUTO_REPLY], "first")] == 2 * 3600
    assert 6 * 3600 in h.sla.first_reply_seconds  # its first reply is ours, at 6 h
    # the unknown author is the customer speaking: a next-reply clock, answered 6 h late
    assert late[(ids[UNKNOWN_AUTHOR], "next")] == 6 * 3600
    # the + label paused the clock for 3 h: 2 h used when we answered at 5 h, met
    assert (ids[PLUS_LABEL], "first") not in late
    assert 5 * 3600 in h.sla.first_reply_seconds
