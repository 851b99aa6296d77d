"""Alarms, impact, watch, the forecast, the Markdown golden files and the retro."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from oncall_tui.domain import sla_history
from oncall_tui.domain.handoff import TicketRecord, Window, build_handoff, forecast
from oncall_tui.domain.handoff_md import handoff_markdown, retro_markdown
from oncall_tui.domain.sla import SlaSettings
from oncall_tui.domain.sla_clocks import EventType, SlaEvent
from oncall_tui.domain.tickets import Channel, PauseInterval, Priority, Source, Status, Ticket
from tests.handoff.week import NOW, START, make_week

GOLDEN = Path(__file__).parent / "golden"
S = SlaSettings.default()


def rec(ticket: Ticket, plan: str | None = None) -> TicketRecord:
    """A record as the store keeps it: the ticket's SLA history as it is first seen, and our
    public answer at its first response (what ``Store.tickets.insert_tickets`` records)."""
    events = sla_history.initial_events(ticket)
    if ticket.first_response_at is not None:
        events += (SlaEvent(ticket.first_response_at, EventType.AGENT_PUBLIC),)
    return TicketRecord(replace(ticket, sla_events=events), plan)


def _t(i: int, **kw) -> Ticket:
    base = dict(
        id=i,
        source=Source.HELPDESK,
        subject=f"t{i}",
        opened_at=NOW - timedelta(hours=30),
        updated_at=NOW - timedelta(hours=30),
        remote_id=str(i),
        status=Status.OPEN,
    )
    base.update(kw)
    return Ticket(**base)


def test_alarms_time_to_acknowledge_against_the_target() -> None:
    # Mon 30 Nov 16:00Z = 08:00 LA (in hours: 1 h); Sun 29 Nov 16:00Z (out of hours: 4 h)
    in_hours = _t(
        1,
        channel=Channel.ALERT,
        opened_at=datetime(2026, 11, 30, 16, tzinfo=UTC),
        first_response_at=datetime(2026, 11, 30, 17, 30, tzinfo=UTC),
    )
    weekend = _t(
        2,
        channel=Channel.ALERT,
        opened_at=datetime(2026, 11, 29, 16, tzinfo=UTC),
        first_response_at=datetime(2026, 11, 29, 19, tzinfo=UTC),
    )
    silent = _t(3, channel=Channel.ALERT, opened_at=datetime(2026, 11, 30, 17, 30, tzinfo=UTC))
    old = _t(4, channel=Channel.ALERT, opened_at=START - timedelta(hours=1))
    h = build_handoff([rec(t) for t in (in_hours, weekend, silent, old)], Window(START, NOW), S)
    got = [(a.ref, a.seconds_to_ack, a.target, a.breached) for a in h.alarms]
    assert got == [
        ("zendesk #2", 3 * 3600, "4h", False),
        ("zendesk #1", 5400, "1h", True),
        ("zendesk #3", None, "1h", False),  # 30 min old, due in 30 min
    ]


def test_impact_no_impact_and_watch() -> None:
    records = [
        rec(_t(1, priority=Priority.P1)),
        rec(
            _t(
                2,
                source=Source.TRACKER,
                channel=Channel.TRACKER,
                remote_id="a/b#2",
                labels=("bug", "customer-vesta"),
            )
        ),
        rec(
            _t(
                3,
                source=Source.TRACKER,
                channel=Channel.TRACKER,
                remote_id="a/b#3",
                labels=("bug", ":incoming"),
            )
        ),
        # flagged Friday 27 Nov 10:00 LA; Monday 30 Nov 10:00 LA is a later business day
        rec(
            _t(
                4,
                source=Source.TRACKER,
                channel=Channel.TRACKER,
                remote_id="a/b#4",
                labels=("~investigate",),
                label_since={"~investigate": datetime(2026, 11, 27, 18, tzinfo=UTC)},
            )
        ),
        # flagged this morning: not yet
        rec(
            _t(
                5,
                source=Source.TRACKER,
                channel=Channel.TRACKER,
                remote_id="a/b#5",
                labels=("~investigate",),
                label_since={"~investigate": NOW - timedelta(hours=2)},
            )
        ),
        rec(_t(6, status=Status.PENDING, pauses=(PauseInterval(NOW),))),
        rec(_t(7, conflict=True, status=Status.SOLVED)),  # done: not listed
        rec(_t(8, conflict=True)),
        # premium P0 opened 3 h ago: 4 calendar hours, due in 1 h
        rec(_t(9, priority=Priority.P0, opened_at=NOW - timedelta(hours=3)), "premium"),
        rec(_t(10)),
    ]
    h = build_handoff(records, Window(START, NOW), S, failed_ticket_ids=frozenset({10}))
    assert [i.ticket_id for i in h.impact] == [1, 2, 4, 5, 9]
    assert [i.ticket_id for i in h.no_impact] == [3]
    assert h.longest_investigation is not None
    assert h.longest_investigation[0].ticket_id == 4
    assert "longest investigation: a/b#4" in retro_markdown(h)
    assert [(i.ticket_id, i.why) for i in h.watch] == [
        (4, "~investigate on a second business day"),
        (6, "waiting on the customer"),
        (8, "conflict with the backend"),
        (9, "due in 1h 00m"),
        (10, "a change failed to send"),
    ]


def test_forecast_counts_business_hours_and_pauses() -> None:
    # Friday 27 Nov 2026 is the day after Thanksgiving: a business day. 15:00 LA = 23:00Z.
    now = datetime(2026, 11, 27, 23, 0, tzinfo=UTC)
    p1 = _t(1, priority=Priority.P1, opened_at=now - timedelta(hours=2))  # 4 bh: 2 h used
    p0 = _t(2, priority=Priority.P0, opened_at=now - timedelta(hours=1))  # 4 h calendar
    paused = _t(
        3,
        priority=Priority.P0,
        opened_at=now - timedelta(hours=1),
        status=Status.PENDING,
        pauses=(PauseInterval(now - timedelta(minutes=30)),),
    )
    records = [rec(t, "premium") for t in (p1, p0, paused)]
    fc = forecast(records, now, 8, S, threshold=0)
    # p1 has 2 business hours left: 1 today (to 16:00 LA), the next on Monday: not in 8 h
    assert [(i.ticket_id, d) for i, d in fc.items] == [(p0.id, now + timedelta(hours=3))]
    assert fc.needs_replacement
    fc = forecast(records, now, 24 * 3 + 2, S, threshold=5)
    # Monday 30 Nov 08:00 LA = 16:00Z
    assert [(i.ticket_id, d) for i, d in fc.items] == [
        (2, now + timedelta(hours=3)),
        (1, datetime(2026, 11, 30, 16, 0, tzinfo=UTC)),
    ]
    assert not fc.needs_replacement


@pytest.fixture
def week_handoff(tmp_path: Path):
    store = make_week(tmp_path / "week.db")
    h = build_handoff(store.handoff.handoff_records(START, NOW), Window(START, NOW), S)
    store.close()
    return h


@pytest.mark.parametrize(
    ("name", "render"), [("handoff.md", handoff_markdown), ("retro.md", retro_markdown)]
)
def test_markdown_matches_the_golden_file(week_handoff, name, render, request) -> None:
    text = render(week_handoff)
    golden = GOLDEN / name
    if request.config.getoption("--snapshot-update", default=False):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_customer_text_cannot_break_a_table(week_handoff) -> None:
    text = handoff_markdown(week_handoff)
    assert "\\| with a pipe" in text
    assert " | with a pipe" not in text
