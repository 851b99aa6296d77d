"""Property tests of business-time arithmetic, against the laws and a naive oracle."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from hypothesis import given, settings
from hypothesis import strategies as st

from oncall_tui.domain.calendars import BusinessCalendar, Closure, OpeningWindow, from_epoch
from oncall_tui.domain.sla import SlaSettings, compute_due
from oncall_tui.domain.tickets import Channel, PauseInterval, Priority, Source, Ticket

LA = ZoneInfo("America/Los_Angeles")
DEFAULT = BusinessCalendar()
_W = OpeningWindow.parse
SPLIT = BusinessCalendar(
    week=(
        (_W("00:00-03:00"), _W("07:00-16:00")),  # adjacent to Sunday's 24:00
        (_W("00:00-06:00"), _W("22:00-24:00")),
        (_W("09:00-12:00"), _W("13:00-17:00")),
        (_W("01:30-02:30"), _W("07:00-16:00")),  # touches the DST hours on some days
        (_W("07:00-12:00"),),
        (),
        (_W("00:00-24:00"),),
    ),
    closures=(
        Closure.on(date(2026, 12, 23), "Half day", from_time=time(12)),
        Closure.days(date(2027, 8, 2), date(2027, 8, 6), "Offsite"),
    ),
)
CALENDARS = st.sampled_from([DEFAULT, SPLIT])

LO = int(datetime(2025, 12, 1, tzinfo=UTC).timestamp())
HI = int(datetime(2028, 1, 31, tzinfo=UTC).timestamp())
instants = st.integers(LO, HI).map(from_epoch)
amounts = st.integers(0, 30 * 9 * 3600)  # up to 30 business days
small = st.integers(0, 3 * 9 * 3600)
FAST = settings(max_examples=150, deadline=None)
ONE = timedelta(seconds=1)


@FAST
@given(CALENDARS, instants, amounts)
def test_add_then_measure_round_trips(cal: BusinessCalendar, a: datetime, n: int) -> None:
    assert cal.business_seconds_between(a, cal.add_business_seconds(a, n)) == n


@FAST
@given(CALENDARS, instants, instants)
def test_measure_then_add_lands_on_end(cal: BusinessCalendar, a: datetime, b: datetime) -> None:
    n = cal.business_seconds_between(a, b)
    if n <= 0:
        return
    got = cal.add_business_seconds(a, n)
    assert got <= b
    if cal.is_open(b - ONE):  # b inside a window or exactly at its close
        assert got == b


@FAST
@given(CALENDARS, instants, instants, amounts)
def test_monotonic_in_start(cal: BusinessCalendar, a: datetime, b: datetime, n: int) -> None:
    a, b = min(a, b), max(a, b)
    assert cal.add_business_seconds(a, n) <= cal.add_business_seconds(b, n)


@FAST
@given(CALENDARS, instants, amounts, amounts)
def test_monotonic_in_amount(cal: BusinessCalendar, a: datetime, n: int, m: int) -> None:
    n, m = min(n, m), max(n, m)
    assert cal.add_business_seconds(a, n) <= cal.add_business_seconds(a, m)


@FAST
@given(CALENDARS, instants, amounts, amounts)
def test_add_is_additive(cal: BusinessCalendar, a: datetime, x: int, y: int) -> None:
    direct = cal.add_business_seconds(a, x + y)
    assert direct == cal.add_business_seconds(cal.add_business_seconds(a, x), y)


@FAST
@given(CALENDARS, instants, instants, instants)
def test_measure_is_additive(cal: BusinessCalendar, a: datetime, b: datetime, c: datetime) -> None:
    between = cal.business_seconds_between
    assert between(a, b) + between(b, c) == between(a, c)
    assert between(a, b) == -between(b, a)


@FAST
@given(CALENDARS, instants, st.integers(1, 30 * 9 * 3600))
def test_due_is_never_inside_a_closure(cal: BusinessCalendar, a: datetime, n: int) -> None:
    due = cal.add_business_seconds(a, n)
    # Either open at the due instant, or it is exactly the end of a window.
    assert cal.is_open(due - ONE)
    assert due > a


@FAST
@given(CALENDARS, instants)
def test_next_opening_is_open(cal: BusinessCalendar, a: datetime) -> None:
    nxt = cal.next_opening(a)
    assert nxt >= a.replace(microsecond=0)
    assert cal.is_open(nxt)
    assert cal.business_seconds_between(a, nxt) == 0


# -- an independent oracle: minute by minute, straight from zoneinfo and holidays ----------

_US = holidays.country_holidays("US", years=range(2025, 2029), observed=True)


def naive_open(at: datetime) -> bool:
    local = at.astimezone(LA)
    if local.weekday() >= 5 or local.date() in _US:
        return False
    return 7 * 60 <= local.hour * 60 + local.minute < 16 * 60


# Random minutes, and minutes near the tricky days (holidays, observed days, DST, New Year).
TRICKY = [
    datetime(2026, 3, 8, tzinfo=UTC),
    datetime(2026, 7, 3, tzinfo=UTC),
    datetime(2026, 11, 1, tzinfo=UTC),
    datetime(2026, 11, 26, tzinfo=UTC),
    datetime(2027, 1, 1, tzinfo=UTC),
    datetime(2027, 12, 24, tzinfo=UTC),
]
minutes = st.integers(LO // 60, HI // 60).map(lambda m: from_epoch(m * 60)) | st.builds(
    lambda day, offset: day + timedelta(minutes=offset),
    st.sampled_from(TRICKY),
    st.integers(-3 * 24 * 60, 2 * 24 * 60),
)


@settings(max_examples=60, deadline=None)
@given(minutes, st.integers(0, 4 * 24 * 60))
def test_matches_minute_by_minute_oracle(a: datetime, span_minutes: int) -> None:
    b = a + timedelta(minutes=span_minutes)
    expected = 60 * sum(naive_open(a + timedelta(minutes=i)) for i in range(span_minutes))
    assert DEFAULT.business_seconds_between(a, b) == expected
    assert DEFAULT.is_open(a) is naive_open(a)


# -- SLA due instants ---------------------------------------------------------------------

SLA = SlaSettings.default()
tickets = st.builds(
    lambda opened, prio, channel: Ticket(
        id=1,
        source=Source.HELPDESK,
        subject="s",
        opened_at=opened,
        updated_at=opened,
        priority=prio,
        channel=channel,
    ),
    instants,
    st.sampled_from(list(Priority)),
    st.sampled_from([Channel.EMAIL, Channel.FORM, Channel.ALERT]),
)


@FAST
@given(tickets, st.sampled_from(["premium", "ultimate"]), st.integers(0, 3 * 86_400))
def test_pauses_never_make_a_due_earlier(t: Ticket, plan: str, pause_len: int) -> None:
    before = compute_due(t, SLA, plan)
    assert before is not None
    assert t.opened_at.replace(microsecond=0) <= before.warn_at <= before.due
    start = t.opened_at + timedelta(minutes=30)
    paused = replace(t, pauses=(PauseInterval(start, start + timedelta(seconds=pause_len)),))
    after = compute_due(paused, SLA, plan)
    assert after is not None
    assert after.due >= before.due
    assert after.warn_at >= before.warn_at
    if before.due <= start:
        assert after.due == before.due
    if not before.target.business and before.due > start:
        assert after.due - before.due == timedelta(seconds=pause_len)


# -- reply clocks (issue 13): laws over random histories ----------------------------------

from oncall_tui.domain.sla_clocks import (  # noqa: E402
    ClockInputs,
    ClockState,
    EventType,
    SlaEvent,
    run_clocks,
)

_VALUES = {
    EventType.STATUS: ["new", "open", "pending", "hold", "solved", "closed"],
    EventType.LABEL_ADD: ["+more info please", "+logs", "vip"],
    EventType.LABEL_REMOVE: ["+more info please", "+logs", "vip"],
    EventType.PRIORITY: ["P0", "P1", "P2", "P3"],
}
_BASE = int(datetime(2026, 11, 20, 15, tzinfo=UTC).timestamp())  # Friday 07:00 LA


def _event(offset: int, kind: EventType, pick: int) -> SlaEvent:
    values = _VALUES.get(kind, [""])
    return SlaEvent(from_epoch(_BASE + offset), kind, values[pick % len(values)])


histories = st.lists(
    st.builds(
        _event,
        st.integers(0, 10 * 86_400),
        st.sampled_from(list(EventType)),
        st.integers(0, 10),
    ),
    max_size=14,
)
clock_inputs = st.builds(
    lambda plan, prio, offset, events: ClockInputs(
        plan, prio, from_epoch(_BASE + offset), tuple(sorted(events, key=lambda e: e.at))
    ),
    st.sampled_from(["premium", "ultimate"]),
    st.sampled_from(list(Priority)),
    st.integers(-86_400, 86_400),
    histories,
)
offsets = st.integers(0, 14 * 86_400)


@FAST
@given(clock_inputs, offsets, offsets)
def test_breaches_are_history(inputs: ClockInputs, x: int, y: int) -> None:
    early, late = from_epoch(_BASE + min(x, y)), from_epoch(_BASE + max(x, y))
    a, b = run_clocks(inputs, SLA, early), run_clocks(inputs, SLA, late)
    assert len(b.clocks) >= len(a.clocks)
    for before, after in zip(a.clocks, b.clocks, strict=False):
        assert after.activated_at == before.activated_at
        if before.breached_at is not None:
            assert after.state is ClockState.BREACHED
            assert after.breached_at == before.breached_at
        if before.fulfilled_at is not None:
            assert after.fulfilled_at == before.fulfilled_at


@FAST
@given(clock_inputs, offsets)
def test_one_clock_at_a_time_and_only_replies_or_solving_fulfil(
    inputs: ClockInputs, x: int
) -> None:
    report = run_clocks(inputs, SLA, from_epoch(_BASE + x))
    assert all(c.fulfilled_at is not None for c in report.clocks[:-1])
    stops = {
        e.at.replace(microsecond=0)
        for e in inputs.events
        if e.type is EventType.AGENT_PUBLIC
        or (e.type is EventType.STATUS and e.value in ("solved", "closed"))
    }
    for c in report.clocks:
        if c.fulfilled_at is not None:
            assert c.fulfilled_at in stops or c.fulfilled_at == inputs.opened_at
        if c.state is ClockState.ACTIVE and c.target is not None:
            assert c.due_at is not None and c.due_at > report.now


@FAST
@given(clock_inputs, offsets, st.lists(st.tuples(offsets, st.booleans()), max_size=4))
def test_notes_and_automatic_replies_change_nothing(
    inputs: ClockInputs, x: int, extra: list[tuple[int, bool]]
) -> None:
    now = from_epoch(_BASE + x)
    noise = tuple(
        SlaEvent(
            from_epoch(_BASE + o), EventType.AGENT_NOTE if note else EventType.AUTOMATION_PUBLIC
        )
        for o, note in extra
    )
    noisy = replace(inputs, events=inputs.events + noise)
    assert run_clocks(noisy, SLA, now).clocks == run_clocks(inputs, SLA, now).clocks


@FAST
@given(clock_inputs, offsets)
def test_an_active_clock_breaches_exactly_at_its_due(inputs: ClockInputs, x: int) -> None:
    now = from_epoch(_BASE + x)
    current = run_clocks(inputs, SLA, now).current
    if current is None or current.due_at is None:
        return
    due = current.due_at
    if any(now < e.at <= due for e in inputs.events):
        return  # something happens before the due: no promise
    assert run_clocks(inputs, SLA, due - ONE).current.state is not ClockState.BREACHED  # type: ignore[union-attr]
    at_due = run_clocks(inputs, SLA, due).current
    assert at_due is not None and at_due.state is ClockState.BREACHED
    assert at_due.breached_at == due


@FAST
@given(clock_inputs, offsets)
def test_the_stores_fast_path_agrees_with_the_full_replay(inputs: ClockInputs, x: int) -> None:
    from oncall_tui.domain.calendars import to_epoch
    from oncall_tui.domain.sla_clocks import EpochEvent, current_clock

    now = from_epoch(_BASE + x)
    full = run_clocks(inputs, SLA, now).current
    events = [EpochEvent(to_epoch(e.at), e.type, e.value) for e in inputs.events]
    fast = current_clock(inputs, SLA, to_epoch(now), events)
    assert fast == full


@FAST
@given(clock_inputs, offsets)
def test_the_stored_forms_skip_agrees_with_the_full_replay(inputs: ClockInputs, x: int) -> None:
    """``Store.tickets.recompute_sla`` skips the replay on the stored JSON as read (types as text),
    evaluated "later than ever": only where the full replay has no running clock either."""
    import json

    from oncall_tui.domain.calendars import to_epoch
    from oncall_tui.domain.sla_clocks import EpochEvent, answered_last
    from oncall_tui.domain.sla_history import events_to_json

    raw = json.loads(events_to_json(inputs.events))
    events = [EpochEvent(to_epoch(e.at), e.type, e.value) for e in inputs.events]
    t_open = to_epoch(inputs.opened_at)
    t_now = max([_BASE + x, t_open, *(e.t for e in events)])  # as the store evaluates
    assert answered_last(raw, t_open, t_now) == answered_last(events, t_open, t_now)
    if answered_last(raw, t_open, 2**62):
        assert run_clocks(inputs, SLA, from_epoch(t_now)).current is None
