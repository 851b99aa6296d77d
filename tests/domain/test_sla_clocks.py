"""Reply clocks (issue 13): every rule of the policy, on the default calendar.

Default calendar: Monday to Friday 07:00-16:00 America/Los_Angeles, US federal holidays.
Thanksgiving 2026 is Thursday 26 November; DST starts Sunday 8 March 2026.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from oncall_tui.domain.sla import SlaSettings, sla_settings_from_dict
from oncall_tui.domain.sla_clocks import (
    ClockInputs,
    ClockState,
    EventType,
    Metric,
    SlaEvent,
    end_of_waiting,
    run_clocks,
)
from oncall_tui.domain.sla_explain import clock_outcome
from oncall_tui.domain.tickets import Channel, Priority, Source, Status

LA = ZoneInfo("America/Los_Angeles")
SLA = SlaSettings.default()
E = EventType


def la(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LA)


def ev(at: str, kind: EventType, value: str = "") -> SlaEvent:
    return SlaEvent(la(at), kind, value)


def run(
    opened: str,
    events: list[SlaEvent],
    now: str,
    *,
    plan: str | None = "premium",
    priority: str = "P1",
    channel: Channel = Channel.EMAIL,
    settings: SlaSettings = SLA,
):  # type: ignore[no-untyped-def]
    source = Source.CHAT if channel is Channel.CHAT else Source.HELPDESK
    inputs = ClockInputs(
        plan, Priority(priority), la(opened), tuple(events), source=source, channel=channel
    )
    return run_clocks(inputs, settings, la(now))


# -- 1. reply clocks ----------------------------------------------------------------------


def test_first_reply_runs_from_opening_in_business_time() -> None:
    r = run("2026-11-23T07:00", [], "2026-11-23T08:00")
    (c,) = r.clocks
    assert c.metric is Metric.FIRST_REPLY and c.state is ClockState.ACTIVE
    assert c.due_at == la("2026-11-23T11:00")
    assert c.left == 3 * 3600
    assert clock_outcome(c, r.now, LA) == "3h 00m business time left · due Mon 11:00 PST"


def test_a_clock_runs_over_the_weekend() -> None:
    # Friday 14:00: two business hours on Friday, two on Monday.
    r = run("2026-11-20T14:00", [], "2026-11-21T12:00")
    assert r.clocks[0].due_at == la("2026-11-23T09:00")
    assert r.clocks[0].left == 2 * 3600  # nothing consumed over the weekend


def test_a_holiday_does_not_count() -> None:
    # Wednesday 15:00 before Thanksgiving: one hour Wednesday, three on Friday.
    r = run("2026-11-25T15:00", [], "2026-11-25T15:30")
    assert r.clocks[0].due_at == la("2026-11-27T10:00")


def test_dst_start_business_and_calendar() -> None:
    r = run("2026-03-06T14:00", [], "2026-03-06T14:00")
    assert r.clocks[0].due_at == la("2026-03-09T09:00")  # PDT Monday
    assert r.clocks[0].due_at.astimezone(UTC).hour == 16
    # Calendar P0 (4 h) over the skipped hour: four real hours.
    r = run("2026-03-08T00:30", [], "2026-03-08T00:30", priority="P0")
    assert r.clocks[0].due_at == datetime(2026, 3, 8, 12, 30, tzinfo=UTC)


def test_customer_follow_up_after_an_answer_starts_a_next_reply_clock() -> None:
    events = [
        ev("2026-11-23T08:00", E.AGENT_PUBLIC),
        ev("2026-11-23T09:00", E.CUSTOMER_COMMENT),
        ev("2026-11-23T10:00", E.CUSTOMER_COMMENT),  # one clock at a time
    ]
    r = run("2026-11-23T07:00", events, "2026-11-23T11:00")
    first, nxt = r.clocks
    assert first.state is ClockState.FULFILLED and first.fulfilled_at == la("2026-11-23T08:00")
    assert clock_outcome(first, r.now) == "met 3h 00m early"
    assert nxt.metric is Metric.NEXT_REPLY and nxt.activated_at == la("2026-11-23T09:00")
    assert nxt.due_at == la("2026-11-23T13:00")


def test_customer_messages_before_the_first_answer_start_nothing() -> None:
    r = run("2026-11-23T07:00", [ev("2026-11-23T07:30", E.CUSTOMER_COMMENT)], "2026-11-23T08:00")
    assert len(r.clocks) == 1


def test_next_reply_override_and_in_hours_judged_at_activation() -> None:
    # Ultimate P0 opened Saturday: 2 h (out of hours); the next reply starts Monday 08:00:
    # in hours, 1 h.
    events = [ev("2026-11-21T09:00", E.AGENT_PUBLIC), ev("2026-11-23T08:00", E.CUSTOMER_COMMENT)]
    r = run("2026-11-21T08:00", events, "2026-11-23T08:10", plan="ultimate", priority="P0")
    assert r.clocks[0].target is not None and r.clocks[0].target.seconds == 2 * 3600
    assert "out of hours" in r.clocks[0].target.reason
    assert r.clocks[1].target is not None and r.clocks[1].target.seconds == 3600
    assert r.clocks[1].due_at == la("2026-11-23T09:00")
    custom = sla_settings_from_dict({"next_reply": {"premium": {"P1": "8bh"}}})
    r = run(
        "2026-11-23T07:00",
        [ev("2026-11-23T07:30", E.AGENT_PUBLIC), ev("2026-11-23T08:00", E.CUSTOMER_COMMENT)],
        "2026-11-23T08:00",
        settings=custom,
    )
    assert r.clocks[0].target.seconds == 4 * 3600  # type: ignore[union-attr]
    assert r.clocks[1].target.seconds == 8 * 3600  # type: ignore[union-attr]


def test_chat_channel_rule_applies_to_next_replies_too() -> None:
    events = [ev("2026-11-23T08:00", E.AGENT_PUBLIC), ev("2026-11-23T09:00", E.CUSTOMER_COMMENT)]
    r = run("2026-11-23T07:00", events, "2026-11-23T10:00", channel=Channel.CHAT)
    assert [c.target.seconds for c in r.clocks] == [86400, 86400]  # type: ignore[union-attr]
    assert r.clocks[1].due_at == la("2026-11-24T09:00")


# -- 2. what fulfils ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", [E.AGENT_NOTE, E.AUTOMATION_PUBLIC, E.CUSTOMER_COMMENT])
def test_only_a_public_staff_message_fulfils(kind: EventType) -> None:
    r = run("2026-11-23T07:00", [ev("2026-11-23T08:00", kind)], "2026-11-23T12:00")
    (c,) = r.clocks
    assert c.state is ClockState.BREACHED and c.fulfilled_at is None
    assert c.breached_at == la("2026-11-23T11:00")


def test_an_answer_exactly_at_the_due_instant_meets_it() -> None:
    r = run("2026-11-23T07:00", [ev("2026-11-23T11:00", E.AGENT_PUBLIC)], "2026-11-24T12:00")
    assert r.clocks[0].state is ClockState.FULFILLED and r.clocks[0].breached_at is None


def test_unanswered_at_the_due_instant_is_breached() -> None:
    r = run("2026-11-23T07:00", [], "2026-11-23T11:00")
    assert r.clocks[0].state is ClockState.BREACHED
    r = run("2026-11-23T07:00", [], "2026-11-23T10:59:59")
    assert r.clocks[0].state is ClockState.ACTIVE


# -- 3. solved or closed ------------------------------------------------------------------


def test_solved_stops_and_a_customer_message_reopens_it() -> None:
    events = [
        ev("2026-11-23T08:00", E.STATUS, "solved"),
        ev("2026-11-24T08:00", E.CUSTOMER_COMMENT),
    ]
    r = run("2026-11-23T07:00", events, "2026-11-24T09:00")
    first, nxt = r.clocks
    assert first.state is ClockState.FULFILLED and first.fulfilled_by == "solved"
    assert nxt.metric is Metric.NEXT_REPLY and nxt.state is ClockState.ACTIVE
    assert r.status is Status.OPEN


def test_closed_stays_closed() -> None:
    events = [
        ev("2026-11-23T08:00", E.STATUS, "closed"),
        ev("2026-11-24T08:00", E.CUSTOMER_COMMENT),
    ]
    r = run("2026-11-23T07:00", events, "2026-11-24T09:00")
    assert len(r.clocks) == 1 and r.status is Status.CLOSED


def test_solving_a_breached_ticket_keeps_the_breach() -> None:
    r = run("2026-11-23T07:00", [ev("2026-11-24T08:00", E.STATUS, "solved")], "2026-11-25T09:00")
    c = r.clocks[0]
    assert c.state is ClockState.BREACHED and c.fulfilled_at == la("2026-11-24T08:00")


# -- 4. waiting on the customer -----------------------------------------------------------


def test_pending_pauses_and_a_customer_message_resumes_and_reopens() -> None:
    events = [
        ev("2026-11-23T08:00", E.STATUS, "pending"),
        ev("2026-11-24T08:00", E.CUSTOMER_COMMENT),
    ]
    r = run("2026-11-23T07:00", events, "2026-11-23T15:00")
    assert r.clocks[0].state is ClockState.PAUSED and r.clocks[0].due_at is None
    assert r.clocks[0].left == 3 * 3600
    assert clock_outcome(r.clocks[0], r.now) == "paused · 3h 00m business time left"
    r = run("2026-11-23T07:00", events, "2026-11-24T08:30")
    c = r.clocks[0]
    assert c.state is ClockState.ACTIVE and r.status is Status.OPEN
    assert c.due_at == la("2026-11-24T11:00")
    assert c.pauses[0].cause == "pending" and c.pauses[0].end == la("2026-11-24T08:00")


def test_a_plus_label_pauses_and_comes_off_on_a_customer_message() -> None:
    events = [
        ev("2026-11-23T08:00", E.LABEL_ADD, "+more info please"),
        ev("2026-11-23T08:00", E.LABEL_ADD, "vip"),
        ev("2026-11-23T10:00", E.CUSTOMER_COMMENT),
    ]
    r = run("2026-11-23T07:00", events, "2026-11-23T10:00")
    assert r.labels == ("vip",)
    assert r.clocks[0].due_at == la("2026-11-23T13:00")
    assert r.clocks[0].pauses[0].cause == "label +more info please"


def test_on_hold_stays_on_hold_after_a_customer_message() -> None:
    events = [ev("2026-11-23T08:00", E.STATUS, "hold"), ev("2026-11-23T10:00", E.CUSTOMER_COMMENT)]
    r = run("2026-11-23T07:00", events, "2026-11-23T12:00")
    assert r.status is Status.HOLD and r.clocks[0].state is ClockState.PAUSED


def test_a_breached_clock_paused_reads_breached_paused() -> None:
    events = [ev("2026-11-23T12:00", E.LABEL_ADD, "+more info please")]
    r = run("2026-11-23T07:00", events, "2026-11-23T13:00")
    c = r.clocks[0]
    assert c.state is ClockState.BREACHED and c.paused
    assert c.breached_at == la("2026-11-23T11:00")
    assert clock_outcome(c, r.now).startswith("breached · paused")


def test_end_of_waiting() -> None:
    assert end_of_waiting(Status.PENDING, ("+x", "a")) == (Status.OPEN, ("a",))
    assert end_of_waiting(Status.HOLD, ("+x",)) == (Status.HOLD, ())
    assert end_of_waiting(Status.SOLVED, ()) == (Status.OPEN, ())


# -- 5. breaches are history --------------------------------------------------------------


def test_a_late_answer_reads_answered_late() -> None:
    # Due Monday 11:00; answered Wednesday 22:00 (local): 2d 11h late.
    r = run("2026-11-23T07:00", [ev("2026-11-25T22:00", E.AGENT_PUBLIC)], "2026-11-26T09:00")
    c = r.clocks[0]
    assert c.state is ClockState.BREACHED
    assert c.breached_at == la("2026-11-23T11:00") and c.fulfilled_at == la("2026-11-25T22:00")
    assert clock_outcome(c, r.now) == "answered 2d 11h late"


def test_a_looser_priority_does_not_unbreach() -> None:
    events = [ev("2026-11-23T12:00", E.PRIORITY, "P3")]
    r = run("2026-11-23T07:00", events, "2026-11-23T13:00")
    c = r.clocks[0]
    assert c.state is ClockState.BREACHED and c.breached_at == la("2026-11-23T11:00")


# -- 6. priority changes ------------------------------------------------------------------


def test_priority_change_retargets_from_activation() -> None:
    # Premium P3 (2 business days) opened Monday 07:00; P1 (4 business hours) at 09:00.
    events = [ev("2026-11-23T09:00", E.PRIORITY, "P1")]
    r = run("2026-11-23T07:00", events, "2026-11-23T09:30", priority="P3")
    assert r.clocks[0].due_at == la("2026-11-23T11:00")
    # P0 is 4 calendar hours, measured from the opening: due 11:00 too; a pause counts out.
    events = [
        ev("2026-11-23T08:00", E.STATUS, "pending"),
        ev("2026-11-23T09:00", E.STATUS, "open"),
        ev("2026-11-23T09:30", E.PRIORITY, "P0"),
    ]
    r = run("2026-11-23T07:00", events, "2026-11-23T09:30", priority="P3")
    assert r.clocks[0].target.seconds == 4 * 3600  # type: ignore[union-attr]
    assert r.clocks[0].due_at == la("2026-11-23T12:00")


def test_priority_change_past_the_new_target_breaches_at_the_change() -> None:
    events = [ev("2026-11-24T08:00", E.PRIORITY, "P1")]  # 10 business hours in
    r = run("2026-11-23T07:00", events, "2026-11-24T09:00", priority="P3")
    c = r.clocks[0]
    assert c.state is ClockState.BREACHED and c.breached_at == la("2026-11-24T08:00")
    assert c.retargets[0].breached


def test_no_plan_no_clock_reported_but_replies_still_tracked() -> None:
    events = [ev("2026-11-23T08:00", E.AGENT_PUBLIC), ev("2026-11-23T09:00", E.CUSTOMER_COMMENT)]
    r = run("2026-11-23T07:00", events, "2026-11-23T10:00", plan=None)
    assert r.targeted == () and len(r.clocks) == 2


def test_events_after_now_are_ignored_and_same_instant_keeps_input_order() -> None:
    r = run("2026-11-23T07:00", [ev("2026-11-23T09:00", E.AGENT_PUBLIC)], "2026-11-23T08:00")
    assert r.clocks[0].state is ClockState.ACTIVE
    same = [ev("2026-11-23T09:00", E.AGENT_PUBLIC), ev("2026-11-23T09:00", E.CUSTOMER_COMMENT)]
    r = run("2026-11-23T07:00", same, "2026-11-23T09:00")
    assert [c.metric for c in r.clocks] == [Metric.FIRST_REPLY, Metric.NEXT_REPLY]
    assert r.clocks[1].activated_at == la("2026-11-23T09:00")
    assert r.clocks[1].due_at - r.clocks[1].activated_at == timedelta(hours=4)  # type: ignore[operator]
