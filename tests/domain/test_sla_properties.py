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
