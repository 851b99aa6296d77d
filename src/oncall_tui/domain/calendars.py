"""Business calendars: opening hours, holidays, closures and business-time arithmetic.

A :class:`BusinessCalendar` says when support is open: weekly opening windows per weekday in
one IANA time zone (default Monday to Friday, 07:00-16:00 America/Los_Angeles), minus public
holidays on their observed days (from the ``holidays`` library) and minus closures from the
config (company days, half days, one-off closed spans).

How time is counted:

* Everything is integer seconds since the Unix epoch; sub-second parts of inputs are dropped
  (floored), so there is no floating-point drift. Results are timezone-aware UTC datetimes.
* Windows and closures are wall-clock times in the calendar's zone, turned into instants day
  by day with ``zoneinfo``, so a window keeps its wall-clock hours across DST changes and a
  ``00:00-24:00`` window lasts 23 or 25 hours on transition days. A wall time that does not
  exist (inside a spring-forward gap) means the transition instant; an ambiguous one
  (fall-back) means its first occurrence.
* A window is half-open: open at 07:00:00, closed at 16:00:00. Adding business time that runs
  out exactly at a window's close yields the close (16:00 that day, not the next opening);
  starting exactly at the close counts from the next opening. Overnight windows are written as
  two windows (``22:00-24:00`` on one day, ``00:00-06:00`` on the next).

Speed: open intervals are built once per local year and kept, with running totals of business
seconds, in sorted arrays. Adding, measuring and "is it open" are then two binary searches
each, whatever the amount (no walking day by day or second by second).

Kept in one module (over 500 lines): :class:`BusinessCalendar` is one index over its windows,
closures and holidays; it and those types are on the queue's first-frame import path, where a
split would only add a module to load (issue 22).
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_SECONDS = 86_400
#: Weekday names as used in the config, Monday first (``date.weekday()`` order).
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_TIMEZONE = "America/Los_Angeles"
DEFAULT_HOLIDAYS = "US"
#: Years the calendar can reason about (datetime's range, minus a margin for time zones).
MIN_YEAR = 2
MAX_YEAR = 9998

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
_ONE_DAY = timedelta(days=1)
_CLOCK_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def to_epoch(at: datetime) -> int:
    """Whole seconds since the Unix epoch (floored) of a timezone-aware datetime.

    Raises:
        ValueError: ``at`` is naive.
    """
    try:
        return (at - _EPOCH) // _SECOND
    except TypeError:
        raise ValueError(f"expected a timezone-aware datetime, got {at!r}") from None


def from_epoch(seconds: int) -> datetime:
    """The UTC datetime ``seconds`` after the Unix epoch."""
    return datetime.fromtimestamp(seconds, UTC)


def parse_clock(text: str, *, allow_24: bool = False) -> int:
    """Seconds since midnight of a wall-clock time written ``HH:MM`` or ``HH:MM:SS``.

    Args:
        text: the time, e.g. ``"07:00"``.
        allow_24: accept ``"24:00"`` (the end of the day, for window ends).

    Raises:
        ValueError: not a valid time of day.
    """
    m = _CLOCK_RE.match(text.strip())
    if not m:
        raise ValueError(f"not a time of day (HH:MM): {text!r}")
    h, mi, s = int(m[1]), int(m[2]), int(m[3] or 0)
    if mi > 59 or s > 59 or h > 24 or (h == 24 and (mi or s)):
        raise ValueError(f"not a time of day (HH:MM): {text!r}")
    if h == 24 and not allow_24:
        raise ValueError(f"24:00 is only allowed as an end time: {text!r}")
    return h * 3600 + mi * 60 + s


def format_clock(seconds: int) -> str:
    """``HH:MM`` (or ``HH:MM:SS`` when needed) for seconds since midnight; 86400 is 24:00."""
    h, rest = divmod(seconds, 3600)
    mi, s = divmod(rest, 60)
    return f"{h:02d}:{mi:02d}" + (f":{s:02d}" if s else "")


@dataclass(frozen=True, slots=True, order=True)
class OpeningWindow:
    """One opening window of a weekday, in wall-clock seconds since midnight.

    Attributes:
        start: opening time (inclusive), 0 to 86399.
        end: closing time (exclusive), up to 86400 (24:00).
    """

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= DAY_SECONDS:
            raise ValueError(f"window must satisfy 00:00 <= start < end <= 24:00: {self}")

    @classmethod
    def parse(cls, text: str) -> OpeningWindow:
        """Parse ``"07:00-16:00"``.

        Raises:
            ValueError: malformed, or the end is not after the start.
        """
        start, sep, end = text.partition("-")
        if not sep:
            raise ValueError(f'not a window like "07:00-16:00": {text!r}')
        s, e = parse_clock(start), parse_clock(end, allow_24=True)
        if e <= s:
            raise ValueError(f"window ends before it starts: {text!r}")
        return cls(s, e)

    @property
    def seconds(self) -> int:
        """Nominal length in seconds (wall clock, ignoring DST)."""
        return self.end - self.start

    def __str__(self) -> str:
        return f"{format_clock(self.start)}-{format_clock(self.end)}"


def validate_day(windows: tuple[OpeningWindow, ...]) -> None:
    """Check a weekday's windows are sorted and do not overlap.

    Raises:
        ValueError: naming the offending windows.
    """
    for a, b in zip(windows, windows[1:], strict=False):
        if b.start < a.end:
            raise ValueError(f"windows overlap or are out of order: {a} and {b}")


_SEVEN_TO_FOUR = (OpeningWindow(7 * 3600, 16 * 3600),)
#: Monday to Friday 07:00-16:00, weekend closed.
DEFAULT_WEEK: tuple[tuple[OpeningWindow, ...], ...] = (_SEVEN_TO_FOUR,) * 5 + ((), ())


@dataclass(frozen=True, slots=True)
class Closure:
    """A span when support is closed, in the calendar's local wall-clock time.

    Attributes:
        start: first closed instant, naive local time.
        end: first instant open again (exclusive), naive local time.
        name: what it is, e.g. "Thanksgiving Day" or "Office move".
    """

    start: datetime
    end: datetime
    name: str

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("closure times are naive local wall-clock times")
        if self.end <= self.start:
            raise ValueError(f"closure ends before it starts: {self.start} to {self.end}")

    @classmethod
    def on(
        cls, day: date, name: str, *, from_time: time | None = None, to_time: time | None = None
    ) -> Closure:
        """Closed on ``day``: the whole day, or from ``from_time`` and/or until ``to_time``.

        ``Closure.on(d, "Christmas Eve", from_time=time(12))`` is a half day closing at noon.
        """
        start = datetime.combine(day, from_time or time())
        end_day, end_time = (day, to_time) if to_time else (day + _ONE_DAY, time())
        end = datetime.combine(end_day, end_time)
        return cls(start, end, name)

    @classmethod
    def days(cls, first: date, last: date, name: str) -> Closure:
        """Closed for whole days from ``first`` to ``last``, both included."""
        return cls(datetime.combine(first, time()), datetime.combine(last + _ONE_DAY, time()), name)

    @property
    def first_day(self) -> date:
        """The local date the closure starts on."""
        return self.start.date()

    def describe(self) -> str:
        """One line for listings: ``2027-01-01  New Year's Day``, with times or range if partial.

        Examples: ``2026-12-24  Christmas Eve (from 12:00)``,
        ``2026-12-28  Winter break (to 2026-12-31)``.
        """
        first = self.start.date()
        starts_midnight = self.start.time() == time()
        ends_midnight = self.end.time() == time()
        last_day = self.end.date() - _ONE_DAY if ends_midnight else self.end.date()
        head = f"{first.isoformat()}  {self.name}"
        if starts_midnight and ends_midnight:
            return head if last_day == first else f"{head} (to {last_day.isoformat()})"
        if last_day == first:
            if ends_midnight:
                return f"{head} (from {self.start:%H:%M})"
            if starts_midnight:
                return f"{head} (until {self.end:%H:%M})"
            return f"{head} ({self.start:%H:%M}-{self.end:%H:%M})"
        return f"{head} ({self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M})"


HolidayTable = tuple[tuple[date, str], ...]
"""A year's public holidays: (date, name), sorted by date."""


def library_holidays(country: str, year: int) -> HolidayTable:
    """Public holidays of ``country`` in ``year``, observed days included, sorted by date.

    Uses ``holidays.country_holidays(country, years=year, observed=True)``: for "US" that is
    the federal holidays, with a Saturday holiday observed the Friday before and a Sunday one
    the Monday after (listed as e.g. "Independence Day (observed)"). An observed day falling in
    the previous year (New Year's Day on a Saturday) belongs to that year's list. Holidays on
    the same date are joined with "; " by the library.

    Raises:
        ValueError: the library does not know ``country``.
    """
    import holidays  # deferred: importing the library costs ~0.1 s at startup

    try:
        table = holidays.country_holidays(country, years=year, observed=True)
    except NotImplementedError:
        raise ValueError(f"unknown holiday country code: {country!r}") from None
    return tuple(sorted((d, str(name)) for d, name in table.items() if d.year == year))


#: Where :func:`holiday_closures` reads a year's holidays: the library, unless the app put a
#: cache in front of it (:func:`read_holidays_through`): importing the library costs ~0.25 s
#: of CPU, at every start, for the same few dates.
_holiday_source: Callable[[str, int], HolidayTable] = library_holidays


def read_holidays_through(source: Callable[[str, int], HolidayTable]) -> None:
    """Read the holidays through ``source`` from now on (it raises ValueError for a country
    the library does not know, as :func:`library_holidays` does)."""
    global _holiday_source
    _holiday_source = source
    holiday_closures.cache_clear()


@functools.lru_cache(maxsize=256)
def holiday_closures(country: str, year: int) -> HolidayTable:
    """:func:`library_holidays`, through the source the app set (if any); cached per
    (country, year)."""
    return _holiday_source(country, year)


def check_holiday_country(country: str) -> None:
    """Raise ValueError unless the ``holidays`` library knows ``country`` (e.g. "US")."""
    holiday_closures(country, 2000)


def load_zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``.

    Raises:
        ValueError: unknown or malformed zone name.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown IANA time zone: {name!r}") from None


def _local_epoch(day: date, seconds: int, tz: tzinfo) -> int:
    """Epoch seconds of wall-clock ``seconds`` after midnight of ``day`` in ``tz``.

    Ambiguous wall times take their first occurrence; wall times inside a DST gap map to
    the transition instant (the first instant whose wall clock reads at least that time).
    """
    if seconds >= DAY_SECONDS:
        day += _ONE_DAY
        seconds -= DAY_SECONDS
    h, rest = divmod(seconds, 3600)
    naive = datetime(day.year, day.month, day.day, h, rest // 60, rest % 60)
    first = to_epoch(naive.replace(tzinfo=tz))
    if datetime.fromtimestamp(first, tz).replace(tzinfo=None) == naive:
        return first
    # In a gap: the wall clock jumps over `naive` between the two fold readings.
    other = to_epoch(naive.replace(tzinfo=tz, fold=1))
    lo, hi = min(first, other), max(first, other)  # wall(lo) < naive <= wall(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).replace(tzinfo=None) >= naive:
            hi = mid
        else:
            lo = mid
    return hi


def _subtract(ranges: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    """Sorted disjoint ``ranges`` minus ``[lo, hi)``."""
    out: list[tuple[int, int]] = []
    for s, e in ranges:
        if e <= lo or s >= hi:
            out.append((s, e))
            continue
        if s < lo:
            out.append((s, lo))
        if e > hi:
            out.append((hi, e))
    return out


class _Index(NamedTuple):
    """Open intervals of the local years ``first..last`` with running business-second totals.

    ``cum_start[i]`` is the business time before interval ``i`` counted from ``lo``;
    ``cum_end[i]`` the time up to its end. Immutable: extending builds a new one.
    """

    first: int
    last: int
    lo: int
    hi: int
    starts: list[int]
    ends: list[int]
    cum_start: list[int]
    cum_end: list[int]
    total: int


class _State:
    """Per-calendar cache (not part of equality): zone, per-year intervals, current index."""

    __slots__ = ("tz", "years", "index")

    def __init__(self) -> None:
        self.tz: ZoneInfo | None = None
        self.years: dict[int, tuple[tuple[int, int], ...]] = {}
        self.index: _Index | None = None


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """When support is open, and arithmetic on business time.

    Attributes:
        timezone: IANA zone the windows and closures are written in.
        week: opening windows for Monday..Sunday (7 tuples; empty means closed all day).
        holidays: country code for public holidays on their observed days, or None.
        closures: extra closures from the config.
    """

    timezone: str = DEFAULT_TIMEZONE
    week: tuple[tuple[OpeningWindow, ...], ...] = DEFAULT_WEEK
    holidays: str | None = DEFAULT_HOLIDAYS
    closures: tuple[Closure, ...] = ()
    _state: _State = field(
        default_factory=_State, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise ValueError("week must have 7 days, Monday first")
        for windows in self.week:
            validate_day(windows)
        if not any(self.week):
            raise ValueError("the calendar must be open at least one window a week")
        self._state.tz = load_zone(self.timezone)

    # -- plain facts --------------------------------------------------------------------

    @property
    def tz(self) -> ZoneInfo:
        """The calendar's time zone."""
        assert self._state.tz is not None
        return self._state.tz

    def weekday_seconds(self, weekday: int) -> int:
        """Nominal open seconds of a weekday (0 = Monday), ignoring holidays and DST."""
        return sum(w.seconds for w in self.week[weekday])

    @property
    def business_day_seconds(self) -> int:
        """Length of one business day: the longest weekday's nominal open time.

        With the default calendar this is 9 hours (32,400 s). Using the longest day keeps
        "1 business day" a full day's window when some days are shorter (a half-day Friday).
        """
        return max(self.weekday_seconds(d) for d in range(7))

    def closures_in_year(self, year: int) -> tuple[Closure, ...]:
        """Holidays (observed days included) and config closures touching ``year``, by start."""
        out = [
            Closure.on(d, name)
            for d, name in (holiday_closures(self.holidays, year) if self.holidays else ())
        ]
        lo, hi = datetime(year, 1, 1), datetime(year + 1, 1, 1)
        out.extend(c for c in self.closures if c.start < hi and c.end > lo)
        return tuple(sorted(out, key=lambda c: (c.start, c.end, c.name)))

    def open_intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The open spans of a local date as UTC datetimes (after holidays and closures)."""
        spans = self._day_intervals(day, self._holidays(day.year))
        return tuple((from_epoch(s), from_epoch(e)) for s, e in spans)

    # -- arithmetic on datetimes -----------------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        """True if support is open at ``at`` (open at 07:00:00, closed at 16:00:00)."""
        return self.is_open_epoch(to_epoch(at))

    def next_opening(self, at: datetime) -> datetime:
        """When the business clock runs from ``at``: ``at`` itself if open, else the next opening.

        The result is UTC and, like all results, floored to the second.
        """
        return from_epoch(self.next_opening_epoch(to_epoch(at)))

    def add_business_seconds(self, start: datetime, seconds: int) -> datetime:
        """The earliest instant with ``seconds`` of business time after ``start``.

        Time running out exactly at a close gives the close; a ``start`` outside the windows
        counts from the next opening. Zero seconds gives ``start`` (floored, in UTC).

        Raises:
            ValueError: ``seconds`` is negative or ``start`` is naive.
            OverflowError: the result would be after year 9998.
        """
        return from_epoch(self.add_epoch(to_epoch(start), seconds))

    def business_seconds_between(self, start: datetime, end: datetime) -> int:
        """Business seconds in ``[start, end)``; negative if ``end`` is before ``start``."""
        return self.between_epoch(to_epoch(start), to_epoch(end))

    # -- arithmetic on epoch seconds (the fast path used by the SLA engine) ----------------

    def is_open_epoch(self, t: int) -> bool:
        """:meth:`is_open` on epoch seconds."""
        idx = self._covering(t, t)
        i = bisect_right(idx.starts, t) - 1
        return i >= 0 and t < idx.ends[i]

    def next_opening_epoch(self, t: int) -> int:
        """:meth:`next_opening` on epoch seconds."""
        idx = self._covering(t, t)
        i = bisect_right(idx.starts, t) - 1
        if i >= 0 and t < idx.ends[i]:
            return t
        i += 1
        while i >= len(idx.starts):
            idx = self._extend_forward(idx, idx.last + 1)
        return idx.starts[i]

    def add_epoch(self, t: int, seconds: int) -> int:
        """:meth:`add_business_seconds` on epoch seconds."""
        if seconds <= 0:
            if seconds < 0:
                raise ValueError(f"cannot add negative business time: {seconds}")
            self._covering(t, t)  # range check only
            return t
        idx = self._state.index
        if idx is None or not idx.lo <= t < idx.hi:
            idx = self._covering(t, t)
        # Inlined _cum(idx, t): this is the hot path of compute_due.
        starts = idx.starts
        i = bisect_right(starts, t) - 1
        if i < 0:
            v = seconds
        else:
            end = idx.ends[i]
            v = idx.cum_start[i] + (t if t < end else end) - starts[i] + seconds
        if v > idx.total:
            # Estimate how many more years are needed from the nominal weekly hours.
            per_year = sum(self.weekday_seconds(d) for d in range(7)) * 52
            while v > idx.total:
                more = max(1, (v - idx.total) // max(per_year, 1))
                idx = self._extend_forward(idx, idx.last + more)
        i = bisect_left(idx.cum_end, v)
        return idx.starts[i] + v - idx.cum_start[i]

    def between_epoch(self, a: int, b: int) -> int:
        """:meth:`business_seconds_between` on epoch seconds."""
        if b < a:
            return -self.between_epoch(b, a)
        idx = self._covering(a, b)
        return _cum(idx, b) - _cum(idx, a)

    # -- building the index ----------------------------------------------------------------

    def _holidays(self, year: int) -> frozenset[date]:
        if not self.holidays:
            return frozenset()
        return frozenset(d for d, _ in holiday_closures(self.holidays, year))

    def _day_intervals(self, day: date, holidays: frozenset[date]) -> list[tuple[int, int]]:
        windows = self.week[day.weekday()]
        if not windows or day in holidays:
            return []
        ranges = [(w.start, w.end) for w in windows]
        day0 = datetime(day.year, day.month, day.day)
        day1 = day0 + _ONE_DAY
        for c in self.closures:
            if c.start < day1 and c.end > day0:
                lo = (max(c.start, day0) - day0) // _SECOND
                hi = -((day0 - min(c.end, day1)) // _SECOND)  # ceil: a closure's last second
                ranges = _subtract(ranges, lo, hi)
        out = []
        for s, e in ranges:
            es, ee = _local_epoch(day, s, self.tz), _local_epoch(day, e, self.tz)
            if ee > es:
                out.append((es, ee))
        return out

    def _year_intervals(self, year: int) -> tuple[tuple[int, int], ...]:
        cached = self._state.years.get(year)
        if cached is not None:
            return cached
        holidays = self._holidays(year)
        out: list[tuple[int, int]] = []
        day = date(year, 1, 1)
        while day.year == year:
            out.extend(self._day_intervals(day, holidays))
            day += _ONE_DAY
        result = tuple(out)
        self._state.years[year] = result
        return result

    def _year_of(self, t: int) -> int:
        try:
            year = datetime.fromtimestamp(t, self.tz).year
        except (OverflowError, OSError, ValueError):
            year = MAX_YEAR + 1 if t > 0 else MIN_YEAR - 1
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise OverflowError(f"instant outside the years {MIN_YEAR}-{MAX_YEAR}: {t}")
        return year

    def _covering(self, a: int, b: int) -> _Index:
        """An index whose range holds ``a`` and ``b`` (building years as needed)."""
        idx = self._state.index
        if idx is not None and idx.lo <= a and b < idx.hi:
            return idx
        first, last = self._year_of(a), self._year_of(b)
        if idx is not None:
            first, last = min(first, idx.first), max(last, idx.last)
        return self._build(first, last)

    def _extend_forward(self, idx: _Index, last: int) -> _Index:
        """Same origin as ``idx`` (so running totals stay comparable), reaching ``last``."""
        if last > MAX_YEAR:
            if idx.last >= MAX_YEAR:
                raise OverflowError(f"no business time left before the end of {MAX_YEAR}")
            last = MAX_YEAR
        return self._build(idx.first, last)

    def _build(self, first: int, last: int) -> _Index:
        starts: list[int] = []
        ends: list[int] = []
        cum_start: list[int] = []
        cum_end: list[int] = []
        acc = 0
        for year in range(first, last + 1):
            for s, e in self._year_intervals(year):
                starts.append(s)
                ends.append(e)
                cum_start.append(acc)
                acc += e - s
                cum_end.append(acc)
        lo = _local_epoch(date(first, 1, 1), 0, self.tz)
        hi = _local_epoch(date(last + 1, 1, 1), 0, self.tz)
        idx = _Index(first, last, lo, hi, starts, ends, cum_start, cum_end, acc)
        self._state.index = idx  # one atomic swap: readers keep a consistent snapshot
        return idx


def _cum(idx: _Index, t: int) -> int:
    """Business seconds from ``idx.lo`` to ``t`` (``t`` within the index's range)."""
    i = bisect_right(idx.starts, t) - 1
    if i < 0:
        return 0
    end = idx.ends[i]
    return idx.cum_start[i] + (t if t < end else end) - idx.starts[i]
