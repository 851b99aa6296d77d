"""Business calendar: opening windows, holidays, closures, DST, arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from oncall_tui.domain.calendars import (
    DEFAULT_WEEK,
    BusinessCalendar,
    Closure,
    OpeningWindow,
    holiday_closures,
    parse_clock,
)

LA = ZoneInfo("America/Los_Angeles")
CAL = BusinessCalendar()  # Mon-Fri 07:00-16:00 America/Los_Angeles, US holidays
H = 3600


def la(text: str) -> datetime:
    """A wall-clock time in Los Angeles, e.g. ``la("2026-11-25 15:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=LA)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def week(**days: list[str]) -> tuple[tuple[OpeningWindow, ...], ...]:
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    return tuple(tuple(OpeningWindow.parse(w) for w in days.get(n, [])) for n in names)


# -- is_open ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # Edges of a plain Monday.
        (la("2026-11-23 06:59:59"), False),
        (la("2026-11-23 06:59"), False),
        (la("2026-11-23 07:00"), True),
        (la("2026-11-23 12:00"), True),
        (la("2026-11-23 15:59:59"), True),
        (la("2026-11-23 16:00"), False),
        (la("2026-11-23 23:59"), False),
        # Weekend.
        (la("2026-11-28 10:00"), False),
        (la("2026-11-29 10:00"), False),
        # Holidays and observed days.
        (la("2026-11-26 10:00"), False),  # Thanksgiving
        (la("2026-11-27 10:00"), True),  # the Friday after is a business day
        (la("2026-07-03 10:00"), False),  # Independence Day (Sat) observed Fri
        (la("2026-07-02 10:00"), True),
        (la("2026-06-19 10:00"), False),  # Juneteenth, a Friday
        (la("2027-06-18 10:00"), False),  # Juneteenth 2027 (Sat) observed Fri
        (la("2027-12-24 10:00"), False),  # Christmas 2027 (Sat) observed Fri
        (la("2027-07-05 10:00"), False),  # Independence Day 2027 (Sun) observed Mon
        (la("2021-12-31 10:00"), False),  # New Year 2022 (Sat) observed Fri 2021-12-31
        (la("2022-06-20 10:00"), False),  # Juneteenth 2022 (Sun) observed Mon
        (la("2022-12-26 10:00"), False),  # Christmas 2022 (Sun) observed Mon
        (la("2027-01-01 10:00"), False),  # New Year's Day
        (la("2026-01-19 10:00"), False),  # Martin Luther King Jr. Day
        (la("2026-11-11 10:00"), False),  # Veterans Day
        (la("2026-10-12 10:00"), False),  # Columbus Day
        # UTC date differs from the Los Angeles date.
        (utc("2026-11-24 02:00"), False),  # Mon 18:00 in LA
        (utc("2026-11-24 23:59:59"), True),  # Tue 15:59:59 in LA
        (utc("2026-11-25 00:00"), False),  # Tue 16:00 in LA
        (utc("2026-11-24 15:00"), True),  # Tue 07:00 PST
        (utc("2026-11-24 14:59:59"), False),
        # Around DST: the window keeps its wall-clock hours.
        (utc("2026-03-06 15:00"), True),  # Fri 07:00 PST
        (utc("2026-03-09 13:59:59"), False),  # Mon 06:59:59 PDT
        (utc("2026-03-09 14:00"), True),  # Mon 07:00 PDT
        (utc("2026-03-09 23:00"), False),  # Mon 16:00 PDT
        (utc("2026-10-30 22:59:59"), True),  # Fri 15:59:59 PDT
        (utc("2026-11-02 14:59:59"), False),  # Mon 06:59:59 PST
        (utc("2026-11-02 15:00"), True),  # Mon 07:00 PST
        # Another zone's offset is honoured.
        (datetime(2026, 11, 23, 16, 30, tzinfo=ZoneInfo("Europe/Berlin")), True),  # 07:30 LA
        (datetime(2026, 11, 23, 15, 59, tzinfo=ZoneInfo("Europe/Berlin")), False),  # 06:59 LA
    ],
)
def test_is_open(at: datetime, expected: bool) -> None:
    assert CAL.is_open(at) is expected


# -- next_opening -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (la("2026-11-23 06:59"), la("2026-11-23 07:00")),
        (la("2026-11-23 07:00"), la("2026-11-23 07:00")),  # open: the instant itself
        (la("2026-11-23 10:30:15"), la("2026-11-23 10:30:15")),
        (la("2026-11-23 16:00"), la("2026-11-24 07:00")),  # at the close: next opening
        (la("2026-11-25 16:00"), la("2026-11-27 07:00")),  # skips Thanksgiving
        (la("2026-11-27 16:00"), la("2026-11-30 07:00")),  # skips the weekend
        (la("2026-12-31 16:00"), la("2027-01-04 07:00")),  # New Year's Day, then weekend
        (la("2026-03-07 12:00"), la("2026-03-09 07:00")),  # across spring-forward
        (utc("2026-11-24 02:00"), utc("2026-11-24 15:00")),
    ],
)
def test_next_opening(at: datetime, expected: datetime) -> None:
    got = CAL.next_opening(at)
    assert got == expected
    assert got.tzinfo is UTC


# -- add_business_seconds -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "seconds", "expected"),
    [
        (la("2026-11-23 07:00"), 9 * H, la("2026-11-23 16:00")),  # exactly at close
        (la("2026-11-23 15:00"), 1 * H, la("2026-11-23 16:00")),  # due at close, not next day
        (la("2026-11-23 15:59:59"), 1, la("2026-11-23 16:00")),
        (la("2026-11-23 15:00"), 1 * H + 1, la("2026-11-24 07:00:01")),
        (la("2026-11-23 16:00"), 1, la("2026-11-24 07:00:01")),  # opened at close
        (la("2026-11-23 16:00"), 1 * H, la("2026-11-24 08:00")),
        (la("2026-11-23 06:59"), 1 * H, la("2026-11-23 08:00")),  # before opening
        (la("2026-11-23 15:00"), 2 * H, la("2026-11-24 08:00")),
        (la("2026-11-20 15:00"), 2 * H, la("2026-11-23 08:00")),  # over the weekend
        (la("2026-11-21 10:00"), 1 * H, la("2026-11-23 08:00")),  # opened on Saturday
        (la("2026-11-25 15:00"), 4 * H, utc("2026-11-27 18:00")),  # over Thanksgiving
        (la("2026-07-02 15:00"), 2 * H, la("2026-07-06 08:00")),  # observed Fri + weekend
        (la("2027-12-23 15:00"), 2 * H, la("2027-12-27 08:00")),  # Christmas observed Fri
        (la("2026-12-31 15:00"), 2 * H, la("2027-01-04 08:00")),  # New Year (Fri) + weekend
        (la("2021-12-30 15:30"), 1 * H, la("2022-01-03 07:30")),  # NY 2022 observed in 2021
        (la("2026-03-06 15:00"), 2 * H, utc("2026-03-09 15:00")),  # spring forward: 08:00 PDT
        (la("2026-10-30 15:00"), 2 * H, utc("2026-11-02 16:00")),  # fall back: 08:00 PST
        (utc("2026-11-24 02:00"), 1 * H, utc("2026-11-24 16:00")),  # Mon 18:00 LA -> Tue 08:00
        (la("2026-11-23 07:00"), 900, la("2026-11-23 07:15")),  # 0.25 h
        (la("2026-11-23 07:00"), 0, la("2026-11-23 07:00")),
        (la("2026-11-21 10:00"), 0, la("2026-11-21 10:00")),  # zero: start itself, even closed
        (la("2026-01-05 07:00"), 10 * 9 * H, la("2026-01-16 16:00")),  # ten business days
        (la("2026-11-23 10:00:00.900"), 1, la("2026-11-23 10:00:01")),  # sub-second floored
    ],
)
def test_add_business_seconds(start: datetime, seconds: int, expected: datetime) -> None:
    got = CAL.add_business_seconds(start, seconds)
    assert got == expected
    assert got.tzinfo is UTC


def test_add_across_many_years_matches_measure() -> None:
    start = la("2026-02-03 09:00")
    end = CAL.add_business_seconds(start, 5000 * H)  # a little over two years
    assert end.year == 2028
    assert CAL.business_seconds_between(start, end) == 5000 * H


# -- business_seconds_between ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (utc("2026-11-25 15:00"), utc("2026-11-30 18:00"), 21 * H),  # 9 Wed + 9 Fri + 3 Mon
        (utc("2026-11-30 18:00"), utc("2026-11-25 15:00"), -21 * H),
        (la("2026-11-23 10:00"), la("2026-11-23 10:00"), 0),
        (la("2026-11-23 16:00"), la("2026-11-24 07:00"), 0),  # overnight counts nothing
        (la("2026-11-23 15:59:59"), la("2026-11-24 07:00:01"), 2),
        (la("2026-11-20 12:00"), la("2026-11-23 12:00"), 9 * H),  # a weekend
        (la("2026-03-06 12:00"), la("2026-03-09 12:00"), 9 * H),  # ...with spring-forward
        (la("2026-10-30 12:00"), la("2026-11-02 12:00"), 9 * H),  # ...with fall-back
        (la("2026-12-31 07:00"), la("2027-01-05 07:00"), 18 * H),  # New Year's Day closed
        (la("2026-01-01 00:00"), la("2027-01-01 00:00"), 250 * 9 * H),  # 261 weekdays - 11
    ],
)
def test_business_seconds_between(start: datetime, end: datetime, expected: int) -> None:
    assert CAL.business_seconds_between(start, end) == expected


# -- several windows a day, DST days, other zones ---------------------------------------------

SPLIT = BusinessCalendar(
    week=week(
        mon=["07:00-16:00"],
        tue=["07:00-16:00"],
        wed=["09:00-12:00", "13:00-17:00"],
        thu=["07:00-16:00"],
        fri=["07:00-16:00"],
    ),
)


@pytest.mark.parametrize(
    ("start", "seconds", "expected"),
    [
        (la("2026-11-18 11:00"), 1 * H, la("2026-11-18 12:00")),  # ends at the lunch close
        (la("2026-11-18 11:30"), 1 * H, la("2026-11-18 13:30")),  # lunch skipped
        (la("2026-11-18 12:00"), 1, la("2026-11-18 13:00:01")),  # starts at the lunch close
        (la("2026-11-18 12:30"), 4 * H, la("2026-11-18 17:00")),
        (la("2026-11-18 08:00"), 7 * H + 1, la("2026-11-19 07:00:01")),
    ],
)
def test_split_window_day(start: datetime, seconds: int, expected: datetime) -> None:
    assert SPLIT.add_business_seconds(start, seconds) == expected


def test_split_window_facts() -> None:
    assert SPLIT.is_open(la("2026-11-18 11:59:59"))
    assert not SPLIT.is_open(la("2026-11-18 12:00"))
    assert not SPLIT.is_open(la("2026-11-18 12:59:59"))
    assert SPLIT.is_open(la("2026-11-18 13:00"))
    assert SPLIT.weekday_seconds(2) == 7 * H
    assert SPLIT.business_day_seconds == 9 * H  # the longest weekday
    assert SPLIT.open_intervals(date(2026, 11, 18)) == (
        (la("2026-11-18 09:00"), la("2026-11-18 12:00")),
        (la("2026-11-18 13:00"), la("2026-11-18 17:00")),
    )


SUNDAYS = BusinessCalendar(week=week(sun=["00:00-24:00"]), holidays=None)
NIGHT = BusinessCalendar(week=week(sun=["01:00-03:00"]), holidays=None)
GAP = BusinessCalendar(week=week(sun=["02:30-04:00"]), holidays=None)


@pytest.mark.parametrize(
    ("cal", "day", "expected"),
    [
        (SUNDAYS, "2026-03-01", 24 * H),
        (SUNDAYS, "2026-03-08", 23 * H),  # spring forward: a 23-hour day
        (SUNDAYS, "2026-11-01", 25 * H),  # fall back: a 25-hour day
        (NIGHT, "2026-03-08", 1 * H),  # 01:00 PST to 03:00 PDT
        (NIGHT, "2026-11-01", 3 * H),  # 01:00 PDT (first) to 03:00 PST
        (GAP, "2026-03-08", 1 * H),  # 02:30 does not exist: opens at the jump (03:00 PDT)
        (GAP, "2026-03-15", 90 * 60),
    ],
)
def test_dst_days_are_measured_exactly(cal: BusinessCalendar, day: str, expected: int) -> None:
    d = date.fromisoformat(day)
    start = datetime.combine(d, time(), LA)
    end = datetime.combine(d + timedelta(days=1), time(), LA)
    assert cal.business_seconds_between(start, end) == expected


def test_gap_window_opens_at_the_transition() -> None:
    assert GAP.open_intervals(date(2026, 3, 8)) == (
        (utc("2026-03-08 10:00"), utc("2026-03-08 11:00")),
    )


def test_other_time_zone() -> None:
    berlin = BusinessCalendar(timezone="Europe/Berlin", holidays="DE")
    assert berlin.is_open(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))  # 09:00 CET, default 07-16
    assert not berlin.is_open(datetime(2026, 12, 25, 9, 0, tzinfo=UTC))  # Christmas
    friday = datetime(2026, 3, 27, 14, 0, tzinfo=UTC)  # 15:00 CET
    # One hour on Friday, then Monday 07:00 CEST (clocks went forward on Sunday) plus one.
    assert berlin.add_business_seconds(friday, 2 * H) == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)


# -- closures -------------------------------------------------------------------------------

CLOSED = BusinessCalendar(
    closures=(
        Closure.on(date(2026, 12, 23), "Christmas party", from_time=time(12)),
        Closure.on(date(2026, 12, 28), "Late start", to_time=time(10)),
        Closure.days(date(2027, 8, 2), date(2027, 8, 6), "Offsite"),
        Closure(datetime(2027, 3, 10, 13), datetime(2027, 3, 11, 10, 30), "Office move"),
    )
)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (la("2026-12-23 11:59:59"), True),
        (la("2026-12-23 12:00"), False),  # half day
        (la("2026-12-28 09:59"), False),
        (la("2026-12-28 10:00"), True),
        (la("2027-08-02 10:00"), False),
        (la("2027-08-06 15:00"), False),  # last day of the range included
        (la("2027-08-09 07:00"), True),
        (la("2027-03-10 12:59"), True),
        (la("2027-03-10 13:00"), False),
        (la("2027-03-11 10:29"), False),
        (la("2027-03-11 10:30"), True),
    ],
)
def test_config_closures(at: datetime, expected: bool) -> None:
    assert CLOSED.is_open(at) is expected


@pytest.mark.parametrize(
    ("start", "seconds", "expected"),
    [
        (la("2026-12-23 11:00"), 1 * H, la("2026-12-23 12:00")),  # due at the half-day close
        (la("2026-12-23 11:00"), 2 * H, la("2026-12-24 08:00")),
        (la("2026-12-24 15:00"), 2 * H, la("2026-12-28 11:00")),  # Christmas, weekend, late start
        (la("2027-03-10 12:00"), 2 * H, la("2027-03-11 11:30")),
    ],
)
def test_add_with_closures(start: datetime, seconds: int, expected: datetime) -> None:
    assert CLOSED.add_business_seconds(start, seconds) == expected


def test_closures_in_year_lists_holidays_and_config() -> None:
    lines = [c.describe() for c in CLOSED.closures_in_year(2026)]
    assert "2026-07-03  Independence Day (observed)" in lines
    assert "2026-07-04  Independence Day" in lines
    assert "2026-11-26  Thanksgiving Day" in lines
    assert "2026-06-19  Juneteenth National Independence Day" in lines
    assert "2026-12-23  Christmas party (from 12:00)" in lines
    assert "2026-12-28  Late start (until 10:00)" in lines
    assert lines == sorted(lines)
    lines_2027 = [c.describe() for c in CLOSED.closures_in_year(2027)]
    assert "2027-08-02  Offsite (to 2027-08-06)" in lines_2027
    assert "2027-03-10  Office move (2027-03-10 13:00 to 2027-03-11 10:30)" in lines_2027
    assert lines_2027[0] == "2027-01-01  New Year's Day"
    assert lines_2027[-1] == "2027-12-31  New Year's Day (observed)"


def test_holiday_closures_observed_days() -> None:
    days = dict(holiday_closures("US", 2021))
    assert days[date(2021, 12, 31)] == "New Year's Day (observed)"
    assert date(2021, 12, 31) not in dict(holiday_closures("US", 2022))
    assert dict(holiday_closures("US", 2026))[date(2026, 7, 3)] == "Independence Day (observed)"


def test_no_holidays() -> None:
    cal = BusinessCalendar(holidays=None)
    assert cal.is_open(la("2026-11-26 10:00"))
    assert cal.closures_in_year(2026) == ()


# -- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("07:00", 7 * H), ("7:05", 7 * H + 300), ("16:00:30", 16 * H + 30), ("00:00", 0)],
)
def test_parse_clock(text: str, expected: int) -> None:
    assert parse_clock(text) == expected


@pytest.mark.parametrize("text", ["7", "07:60", "25:00", "24:00", "ab:cd", "07:00-"])
def test_parse_clock_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_clock(text)


@pytest.mark.parametrize("text", ["07:00", "16:00-07:00", "07:00-07:00", "07:00-24:01", "x-y"])
def test_window_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        OpeningWindow.parse(text)


def test_window_parse_and_str() -> None:
    w = OpeningWindow.parse("22:00-24:00")
    assert (w.start, w.end, str(w)) == (22 * H, 24 * H, "22:00-24:00")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timezone": "Mars/Olympus_Mons"},
        {"week": ((),) * 7},
        {"week": DEFAULT_WEEK[:5]},
        {"week": week(mon=["07:00-12:00", "11:00-16:00"])},
    ],
)
def test_calendar_rejects(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        BusinessCalendar(**kwargs)  # type: ignore[arg-type]


def test_naive_and_negative_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.is_open(datetime(2026, 11, 23, 10))
    with pytest.raises(ValueError, match="negative"):
        CAL.add_business_seconds(la("2026-11-23 10:00"), -1)
    with pytest.raises(OverflowError):
        CAL.is_open(datetime(9999, 6, 1, tzinfo=UTC))


def test_calendars_compare_by_spec_not_cache() -> None:
    a, b = BusinessCalendar(), BusinessCalendar()
    a.is_open(la("2026-11-23 10:00"))  # builds a's cache only
    assert a == b
    assert hash(a) == hash(b)
