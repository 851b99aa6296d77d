"""The ``[sla]`` table of the config file, read into :class:`SlaSettings`.

The keys and their defaults are in :mod:`oncall_tui.domain.sla`'s docstring.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from typing import Any

from oncall_tui.domain.calendars import (
    DEFAULT_HOLIDAYS,
    DEFAULT_TIMEZONE,
    DEFAULT_WEEK,
    WEEKDAYS,
    BusinessCalendar,
    Closure,
    OpeningWindow,
    check_holiday_country,
    load_zone,
    parse_clock,
    validate_day,
)
from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.domain.sla_policy import (
    DEFAULT_WAIT_END,
    MAX_CRITICAL_MINUTES,
    PRIORITIES,
    WAIT_END_KEYS,
    PlanTargets,
    SlaSettings,
    TargetRule,
    TargetSpan,
    TicketKind,
    WaitEnd,
    default_channels,
    default_plans,
)
from oncall_tui.domain.tickets import Priority

_TOP_KEYS = (
    "timezone",
    "holidays",
    "warning_fraction",
    "critical_minutes",
    "business_day_hours",
    "hours",
    "closures",
    "targets",
    "channels",
    "next_reply",
    "customer_reply",
)
_CLOSURE_KEYS = ("name", "date", "from", "to", "start", "end")
_SPAN_EXPECTED = 'a duration like "4h", "4bh" or "1bd" (at most a year), or "none"'


def _fail(key: str, expected: str, got: object = None) -> ConfigValueError:
    return ConfigValueError(key, expected, got)


def _table(value: object, key: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(key, "a table", value)
    return value


def _check_keys(table: Mapping[str, Any], key: str, known: Sequence[str]) -> None:
    for k in table:
        if k not in known:
            raise _fail(f"{key}.{k}", "one of the known keys: " + ", ".join(known))


def _number(value: object, key: str, *, lo: float, hi: float | None = None) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(key, "a number", value)
    if isinstance(value, float) and not math.isfinite(value):
        raise _fail(key, "a finite number", value)
    n = Fraction(str(value)) if isinstance(value, float) else Fraction(value)
    if n < lo or (hi is not None and n >= hi):
        rng = f"a number >= {lo}" if hi is None else f"a number from {lo} up to (not incl.) {hi}"
        raise _fail(key, rng, value)
    return n


def _parse_rule(value: object, key: str) -> TargetRule | None:
    if isinstance(value, str):
        if value.strip().lower() == "none":
            return None
        try:
            return TargetRule.fixed(TargetSpan.parse(value))
        except ValueError:
            raise _fail(key, _SPAN_EXPECTED, value) from None
    if isinstance(value, Mapping):
        _check_keys(value, key, ("in_hours", "out_of_hours"))
        spans: list[TargetSpan | None] = []
        for part in ("in_hours", "out_of_hours"):
            if part not in value:
                raise _fail(f"{key}.{part}", _SPAN_EXPECTED + " (both in_hours and out_of_hours)")
            spans.append(_parse_rule_span(value[part], f"{key}.{part}"))
        return TargetRule(spans[0], spans[1])
    raise _fail(key, _SPAN_EXPECTED + ", or a table {in_hours, out_of_hours}", value)


def _parse_rule_span(value: object, key: str) -> TargetSpan | None:
    if isinstance(value, str):
        if value.strip().lower() == "none":
            return None
        try:
            return TargetSpan.parse(value)
        except ValueError:
            pass
    raise _fail(key, _SPAN_EXPECTED, value)


def _parse_plans(value: object, key: str) -> tuple[PlanTargets, ...]:
    table = _table(value, key)
    plans = {p.name: p for p in default_plans()}
    for name, spec in table.items():
        pkey = f"{key}.{name}"
        if not isinstance(name, str) or not name.strip():
            raise _fail(pkey, "a plan name")
        base = plans.get(name.lower())
        rules: list[TargetRule | None] = [None, None, None, None]
        if base is not None:
            rules = list(base.rules)
        if isinstance(spec, str) and spec.strip().lower() == "none":
            rules = [None, None, None, None]
        elif isinstance(spec, Mapping):
            for prio_key, rule in spec.items():
                try:
                    prio = Priority(str(prio_key).upper())
                except ValueError:
                    raise _fail(f"{pkey}.{prio_key}", "a priority: P0, P1, P2 or P3") from None
                rules[PRIORITIES.index(prio)] = _parse_rule(rule, f"{pkey}.{prio_key}")
        else:
            raise _fail(pkey, 'a table of priorities (P0 = "4h", ...) or "none"', spec)
        plans[name.lower()] = PlanTargets(name.lower(), (rules[0], rules[1], rules[2], rules[3]))
    return tuple(plans.values())


def _parse_next_reply(
    value: object, key: str
) -> tuple[tuple[str, Priority, TargetRule | None], ...]:
    """``[sla.next_reply.<plan>]`` priorities that differ from the first-reply targets."""
    table = _table(value, key)
    out: list[tuple[str, Priority, TargetRule | None]] = []
    for name, spec in table.items():
        pkey = f"{key}.{name}"
        if not isinstance(name, str) or not name.strip():
            raise _fail(pkey, "a plan name")
        if isinstance(spec, str) and spec.strip().lower() == "none":
            out.extend((name.lower(), prio, None) for prio in PRIORITIES)
            continue
        if not isinstance(spec, Mapping):
            raise _fail(pkey, 'a table of priorities (P1 = "8bh", ...) or "none"', spec)
        for prio_key, rule in spec.items():
            try:
                prio = Priority(str(prio_key).upper())
            except ValueError:
                raise _fail(f"{pkey}.{prio_key}", "a priority: P0, P1, P2 or P3") from None
            out.append((name.lower(), prio, _parse_rule(rule, f"{pkey}.{prio_key}")))
    return tuple(out)


def _parse_customer_reply(value: object, key: str) -> tuple[tuple[str, WaitEnd], ...]:
    """``[sla.customer_reply.<backend>]`` over the defaults, key by key."""
    table = _table(value, key)
    known = [name for name, _ in DEFAULT_WAIT_END]
    _check_keys(table, key, known)
    out = dict(DEFAULT_WAIT_END)
    for name, spec in table.items():
        bkey = f"{key}.{name}"
        spec = _table(spec, bkey)
        _check_keys(spec, bkey, WAIT_END_KEYS)
        for flag, flag_value in spec.items():
            if not isinstance(flag_value, bool):
                raise _fail(f"{bkey}.{flag}", "true or false", flag_value)
        out[name] = replace(out[name], **spec)
    return tuple(out.items())


def _parse_channels(value: object, key: str) -> tuple[tuple[TicketKind, TargetRule | None], ...]:
    table = _table(value, key)
    _check_keys(table, key, [k.value for k in TicketKind])
    channels: dict[TicketKind, TargetRule | None] = dict(default_channels())
    for name, spec in table.items():
        kind = TicketKind(name)
        if isinstance(spec, str) and spec.strip().lower() == "plan":
            channels.pop(kind, None)
        else:
            channels[kind] = _parse_rule(spec, f"{key}.{name}")
    return tuple(channels.items())


def _parse_hours(value: object, key: str) -> tuple[tuple[OpeningWindow, ...], ...]:
    table = _table(value, key)
    _check_keys(table, key, WEEKDAYS)
    week: list[tuple[OpeningWindow, ...]] = []
    for day in WEEKDAYS:
        spec = table.get(day, [])
        dkey = f"{key}.{day}"
        if isinstance(spec, str):
            spec = [spec]
        if not isinstance(spec, list):
            raise _fail(dkey, 'a list of windows like ["07:00-16:00"]', spec)
        windows: list[OpeningWindow] = []
        for i, text in enumerate(spec):
            if not isinstance(text, str):
                raise _fail(f"{dkey}[{i}]", 'a window like "07:00-16:00"', text)
            try:
                windows.append(OpeningWindow.parse(text))
            except ValueError:
                raise _fail(f"{dkey}[{i}]", 'a window like "07:00-16:00"', text) from None
        windows.sort()
        try:
            validate_day(tuple(windows))
        except ValueError:
            raise _fail(dkey, "windows that do not overlap", spec) from None
        week.append(tuple(windows))
    if not any(week):
        raise _fail(key, "at least one opening window in the week")
    return tuple(week)


def _as_date(value: object, key: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _fail(key, "a date like 2026-12-24", value)


def _as_time(value: object, key: str) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            secs = parse_clock(value)
            return time(secs // 3600, secs // 60 % 60, secs % 60)
        except ValueError:
            pass
    raise _fail(key, 'a time like "12:00"', value)


def _as_local(value: object, key: str, tz_name: str) -> datetime:
    """A date (midnight) or datetime; aware datetimes are converted to the calendar's zone."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        return datetime.combine(value, time())
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            raise _fail(key, "a date or date-time like 2026-12-24T12:00", value) from None
    else:
        raise _fail(key, "a date or date-time like 2026-12-24T12:00", value)
    if dt.tzinfo is not None:
        dt = dt.astimezone(load_zone(tz_name)).replace(tzinfo=None)
    return dt


def _parse_closures(value: object, key: str, tz_name: str) -> tuple[Closure, ...]:
    if not isinstance(value, list):
        raise _fail(key, "an array of tables ([[sla.closures]])", value)
    out: list[Closure] = []
    for i, item in enumerate(value):
        ckey = f"{key}[{i}]"
        spec = _table(item, ckey)
        _check_keys(spec, ckey, _CLOSURE_KEYS)
        name = spec.get("name", "Closed")
        if not isinstance(name, str) or not name.strip():
            raise _fail(f"{ckey}.name", "a non-empty string", name)
        if "date" in spec:
            if "start" in spec or "end" in spec:
                raise _fail(ckey, "either date (with optional from/to) or start and end")
            day = _as_date(spec["date"], f"{ckey}.date")
            from_t = _as_time(spec["from"], f"{ckey}.from") if "from" in spec else None
            to_t = _as_time(spec["to"], f"{ckey}.to") if "to" in spec else None
            if from_t and to_t and to_t <= from_t:
                raise _fail(f"{ckey}.to", "a time after from", spec["to"])
            if to_t == time():
                raise _fail(f"{ckey}.to", "a time after 00:00", spec["to"])
            out.append(Closure.on(day, name, from_time=from_t, to_time=to_t))
            continue
        if "from" in spec or "to" in spec:
            raise _fail(f"{ckey}.from", "from/to only together with date")
        if "start" not in spec or "end" not in spec:
            raise _fail(ckey, "date, or both start and end")
        start_v, end_v = spec["start"], spec["end"]
        start = _as_local(start_v, f"{ckey}.start", tz_name)
        end = _as_local(end_v, f"{ckey}.end", tz_name)
        # A plain date as the end means "closed through that whole day".
        end_is_date = (isinstance(end_v, date) and not isinstance(end_v, datetime)) or (
            isinstance(end_v, str) and len(end_v.strip()) == 10
        )
        if end_is_date:
            end += timedelta(days=1)
        if end <= start:
            raise _fail(f"{ckey}.end", "an instant after start", end_v)
        out.append(Closure(start, end, name))
    return tuple(out)


def sla_settings_from_dict(d: Mapping[str, Any], key_prefix: str = "sla") -> SlaSettings:
    """Build settings from the ``[sla]`` table of the config (see the module docstring).

    Args:
        d: the parsed ``[sla]`` table (e.g. ``tomllib.load(f).get("sla", {})``).
        key_prefix: dotted path of ``d`` in the file, used in error messages.

    Raises:
        ConfigValueError: a wrong type, unknown key or bad value, named by its dotted path
            (e.g. ``sla.targets.premium.P1``).
    """
    d = _table(d, key_prefix)
    _check_keys(d, key_prefix, _TOP_KEYS)
    k = f"{key_prefix}."

    tz_name = d.get("timezone", DEFAULT_TIMEZONE)
    if not isinstance(tz_name, str):
        raise _fail(k + "timezone", 'an IANA time zone like "America/Los_Angeles"', tz_name)
    try:
        load_zone(tz_name)
    except ValueError:
        raise _fail(k + "timezone", "a known IANA time zone", tz_name) from None

    hol = d.get("holidays", DEFAULT_HOLIDAYS)
    country: str | None
    if hol is False:
        country = None
    elif isinstance(hol, str) and hol.strip():
        country = hol.strip().upper()
        try:
            check_holiday_country(country)
        except ValueError:
            expected = 'a country code known to the holidays library (e.g. "US"), or false'
            raise _fail(k + "holidays", expected, hol) from None
    else:
        raise _fail(k + "holidays", 'a country code like "US", or false', hol)

    week = _parse_hours(d["hours"], k + "hours") if "hours" in d else DEFAULT_WEEK
    closures = _parse_closures(d["closures"], k + "closures", tz_name) if "closures" in d else ()
    calendar = BusinessCalendar(timezone=tz_name, week=week, holidays=country, closures=closures)

    fraction = Fraction(1, 4)
    if "warning_fraction" in d:
        fraction = _number(d["warning_fraction"], k + "warning_fraction", lo=0, hi=1)
    critical = 15 * 60
    if "critical_minutes" in d:
        minutes = _number(d["critical_minutes"], k + "critical_minutes", lo=0)
        if minutes > MAX_CRITICAL_MINUTES:
            expected = f"a number of minutes from 0 to {MAX_CRITICAL_MINUTES} (a week)"
            raise _fail(k + "critical_minutes", expected, d["critical_minutes"])
        critical = math.floor(minutes * 60)
    day_seconds = 0  # the calendar's longest weekday
    if "business_day_hours" in d:
        hours = _number(d["business_day_hours"], k + "business_day_hours", lo=0)
        day_seconds = math.floor(hours * 3600)
        if not 0 < day_seconds <= 86_400:
            expected = "a number of hours above 0, at most 24"
            raise _fail(k + "business_day_hours", expected, d["business_day_hours"])

    plans = _parse_plans(d["targets"], k + "targets") if "targets" in d else default_plans()
    channels = (
        _parse_channels(d["channels"], k + "channels") if "channels" in d else default_channels()
    )
    next_reply = _parse_next_reply(d["next_reply"], k + "next_reply") if "next_reply" in d else ()
    customer_reply = DEFAULT_WAIT_END
    if "customer_reply" in d:
        customer_reply = _parse_customer_reply(d["customer_reply"], k + "customer_reply")
    return SlaSettings(
        calendar=calendar,
        plans=plans,
        channels=channels,
        warning_fraction=fraction,
        critical_seconds=critical,
        business_day_seconds=day_seconds,
        next_reply=next_reply,
        customer_reply=customer_reply,
    )
