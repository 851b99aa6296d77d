"""SLA policy: targets, due instants, pauses, states, countdown text and the [sla] config."""

from __future__ import annotations

import re
import tomllib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from oncall_tui.domain import sla
from oncall_tui.domain.calendars import BusinessCalendar, Closure, OpeningWindow
from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.domain.sla import (
    NO_COUNTDOWN,
    SlaSettings,
    SlaStateName,
    SpanUnit,
    TargetRule,
    TargetSpan,
    TicketKind,
    compute_due,
    countdown_text,
    evaluate,
    format_remaining,
    sla_settings_from_dict,
    state_at,
    update_pauses,
)
from oncall_tui.domain.tickets import Channel, PauseInterval, Priority, Source, Status, Ticket

LA = ZoneInfo("America/Los_Angeles")
DEFAULT = SlaSettings.default()
H = 3600


def la(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LA)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def ticket(
    opened: datetime,
    priority: str = "P3",
    *,
    source: Source = Source.HELPDESK,
    channel: Channel = Channel.EMAIL,
    **kwargs: Any,
) -> Ticket:
    return Ticket(
        id=1,
        source=source,
        subject="Every page returns 502",
        opened_at=opened,
        updated_at=opened,
        priority=Priority(priority),
        channel=channel,
        **kwargs,
    )


# -- every default target of DOMAIN.md ----------------------------------------------------

MON_10 = la("2026-11-23 10:00")  # a Monday in business hours
SAT_10 = la("2026-11-21 10:00")  # a Saturday
MON_16 = la("2026-11-23 16:00")  # exactly at the close: out of hours


@pytest.mark.parametrize(
    ("plan", "priority", "opened", "due", "label"),
    [
        # premium
        ("premium", "P0", SAT_10, la("2026-11-21 14:00"), "4h"),  # calendar hours
        ("premium", "P0", MON_10, la("2026-11-23 14:00"), "4h"),
        ("premium", "P1", la("2026-11-25 15:00"), utc("2026-11-27 18:00"), "4 business h"),
        ("premium", "P1", SAT_10, la("2026-11-23 11:00"), "4 business h"),
        ("premium", "P2", MON_10, la("2026-11-24 10:00"), "1 business day"),
        ("premium", "P2", la("2026-11-25 10:00"), la("2026-11-27 10:00"), "1 business day"),
        ("premium", "P3", MON_10, la("2026-11-25 10:00"), "2 business days"),
        ("Premium", "P3", la("2026-11-24 10:00"), la("2026-11-27 10:00"), "2 business days"),
        # ultimate: P0/P1 depend on arrival
        ("ultimate", "P0", MON_10, la("2026-11-23 11:00"), "1h"),
        ("ultimate", "P0", la("2026-11-23 07:00"), la("2026-11-23 08:00"), "1h"),
        ("ultimate", "P0", SAT_10, la("2026-11-21 12:00"), "2h"),
        ("ultimate", "P0", MON_16, la("2026-11-23 18:00"), "2h"),
        ("ultimate", "P0", la("2026-11-26 10:00"), la("2026-11-26 12:00"), "2h"),  # Thanksgiving
        ("ultimate", "P1", MON_10, la("2026-11-23 12:00"), "2h"),
        ("ultimate", "P1", SAT_10, la("2026-11-21 14:00"), "4h"),
        ("ultimate", "P1", la("2026-11-23 06:59"), la("2026-11-23 10:59"), "4h"),
        ("ultimate", "P2", MON_10, la("2026-11-24 10:00"), "1 business day"),
        ("ultimate", "P3", MON_16, la("2026-11-24 16:00"), "1 business day"),
    ],
)
def test_plan_targets(
    plan: str, priority: str, opened: datetime, due: datetime, label: str
) -> None:
    info = compute_due(ticket(opened, priority), DEFAULT, plan)
    assert info is not None
    assert info.due == due
    assert info.target_label == label
    assert info.due.tzinfo is UTC


@pytest.mark.parametrize("priority", ["P0", "P1", "P2", "P3"])
def test_free_plan_has_no_target(priority: str) -> None:
    assert compute_due(ticket(MON_10, priority), DEFAULT, "free") is None
    state = evaluate(ticket(MON_10, priority), MON_10, DEFAULT, "free")
    assert (state.state, state.text, state.due) == (SlaStateName.NONE, NO_COUNTDOWN, None)


@pytest.mark.parametrize(
    ("kwargs", "plan", "opened", "due", "label"),
    [
        ({"source": Source.CHAT}, None, MON_10, la("2026-11-24 10:00"), "24h"),
        ({"channel": Channel.CHAT}, "premium", SAT_10, la("2026-11-22 10:00"), "24h"),
        (
            {"source": Source.CHAT, "priority": "P0"},
            "ultimate",
            MON_10,
            la("2026-11-24 10:00"),
            "24h",
        ),
        (
            {"channel": Channel.FORM},
            None,
            la("2026-11-23 14:00"),
            la("2026-11-24 09:00"),
            "4 business h",
        ),
        ({"channel": Channel.ALERT}, None, MON_10, la("2026-11-23 11:00"), "1h"),
        ({"channel": Channel.ALERT}, "free", la("2026-11-23 20:00"), la("2026-11-24 00:00"), "4h"),
    ],
)
def test_channel_targets(
    kwargs: dict[str, Any], plan: str | None, opened: datetime, due: datetime, label: str
) -> None:
    priority = kwargs.pop("priority", "P3")
    info = compute_due(ticket(opened, priority, **kwargs), DEFAULT, plan)
    assert info is not None
    assert (info.due, info.target_label) == (due, label)


@pytest.mark.parametrize(
    ("kwargs", "plan"),
    [
        ({"source": Source.TRACKER}, "premium"),  # tracker issues: none by default
        ({"channel": Channel.TRACKER}, "ultimate"),
        ({}, "enterprise-plus"),  # unknown plan
        ({}, None),  # no plan known
    ],
)
def test_no_target(kwargs: dict[str, Any], plan: str | None) -> None:
    assert compute_due(ticket(MON_10, "P0", **kwargs), DEFAULT, plan) is None


def test_plan_from_ticket_extra() -> None:
    t = replace(ticket(MON_10, "P1"), extra={"plan": "premium"})
    info = compute_due(t, DEFAULT)
    assert info is not None and info.due == la("2026-11-23 14:00")


def test_target_reason() -> None:
    target = sla.resolve_target(ticket(SAT_10, "P0"), DEFAULT, "ultimate")
    assert target is not None
    assert target.reason == "ultimate P0, opened out of hours"
    assert (target.seconds, target.business, target.warn_after) == (2 * H, False, 90 * 60)


# -- warning instant ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plan", "priority", "opened", "warn_at"),
    [
        ("premium", "P1", la("2026-11-23 07:00"), la("2026-11-23 10:00")),  # 3 of 4 bh
        ("premium", "P1", la("2026-11-23 14:00"), la("2026-11-24 08:00")),  # over the night
        ("premium", "P0", SAT_10, la("2026-11-21 13:00")),  # 3 of 4 calendar hours
        ("premium", "P2", la("2026-11-23 07:00"), la("2026-11-23 13:45")),  # 6h45 of 9 bh
        ("ultimate", "P0", MON_10, la("2026-11-23 10:45")),
    ],
)
def test_warn_at(plan: str, priority: str, opened: datetime, warn_at: datetime) -> None:
    info = compute_due(ticket(opened, priority), DEFAULT, plan)
    assert info is not None and info.warn_at == warn_at


# -- answered or done ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "met"),
    [
        ({"first_response_at": la("2026-11-23 12:00")}, True),
        ({"first_response_at": la("2026-11-23 14:00")}, True),  # exactly at due
        ({"first_response_at": la("2026-11-23 14:00:01")}, False),  # late
        ({"status": Status.SOLVED}, True),
        ({"status": Status.CLOSED}, True),
    ],
)
def test_answered_or_done_has_no_countdown(kwargs: dict[str, Any], met: bool) -> None:
    t = ticket(MON_10, "P1", **kwargs)
    assert compute_due(t, DEFAULT, "premium") is None
    state = evaluate(t, la("2026-11-24 10:00"), DEFAULT, "premium")
    assert (state.state, state.text, state.met) == (SlaStateName.NONE, NO_COUNTDOWN, met)
    assert state.due == la("2026-11-23 14:00")


def test_answered_without_target_is_met() -> None:
    t = ticket(MON_10, "P1", first_response_at=la("2026-11-23 12:00"))
    assert evaluate(t, MON_10, DEFAULT, "free").met


# -- pauses -------------------------------------------------------------------------------


def paused_ticket(
    opened: datetime, priority: str, *spans: tuple[datetime, datetime | None]
) -> Ticket:
    return ticket(opened, priority, pauses=tuple(PauseInterval(s, e) for s, e in spans))


@pytest.mark.parametrize(
    ("t", "due"),
    [
        # premium P0, 4 calendar hours from 10:00, paused 11:00-13:00: due two hours later.
        (
            paused_ticket(MON_10, "P0", (la("2026-11-23 11:00"), la("2026-11-23 13:00"))),
            la("2026-11-23 16:00"),
        ),
        # Two pauses, overlapping ones merged.
        (
            paused_ticket(
                MON_10,
                "P0",
                (la("2026-11-23 11:00"), la("2026-11-23 12:00")),
                (la("2026-11-23 11:30"), la("2026-11-23 12:30")),
                (la("2026-11-23 13:00"), la("2026-11-23 13:15")),
            ),
            la("2026-11-23 15:45"),
        ),
        # A pause inside a longer one changes nothing: the longer one's end stands.
        (
            paused_ticket(
                MON_10,
                "P0",
                (la("2026-11-23 11:00"), la("2026-11-23 13:00")),
                (la("2026-11-23 11:30"), la("2026-11-23 12:00")),
            ),
            la("2026-11-23 16:00"),
        ),
        # A pause still ongoing that began inside an ended one: the clock has stood since 11:00
        # (one span); while paused the due is counted as on resuming at once, 3 h left.
        (
            paused_ticket(
                MON_10,
                "P0",
                (la("2026-11-23 11:00"), la("2026-11-23 13:00")),
                (la("2026-11-23 12:00"), None),
            ),
            la("2026-11-23 14:00"),
        ),
        # A pause that started before the ticket opened only counts from the opening.
        (
            paused_ticket(MON_10, "P0", (la("2026-11-23 09:00"), la("2026-11-23 11:00"))),
            la("2026-11-23 15:00"),
        ),
        # A pause after the due instant changes nothing.
        (
            paused_ticket(MON_10, "P0", (la("2026-11-23 14:00"), la("2026-11-23 18:00"))),
            la("2026-11-23 14:00"),
        ),
        # Business target: only the paused business seconds count. Opened Mon 14:00, paused
        # Mon 15:00 to Tue 09:00 (1 h Mon + 2 h Tue of business time), 3 h left from 09:00.
        (
            paused_ticket(
                la("2026-11-23 14:00"), "P1", (la("2026-11-23 15:00"), la("2026-11-24 09:00"))
            ),
            la("2026-11-24 12:00"),
        ),
        # Paused entirely outside business hours: no effect on a business target.
        (
            paused_ticket(
                la("2026-11-23 14:00"), "P1", (la("2026-11-23 17:00"), la("2026-11-24 06:00"))
            ),
            la("2026-11-24 09:00"),
        ),
        # Ongoing pause: the due is as if it resumed at the pause's start.
        (paused_ticket(MON_10, "P0", (la("2026-11-23 11:00"), None)), la("2026-11-23 14:00")),
    ],
)
def test_pauses_shift_due(t: Ticket, due: datetime) -> None:
    info = compute_due(t, DEFAULT, "premium")
    assert info is not None and info.due == due


def test_evaluate_while_paused_freezes_remaining() -> None:
    t = replace(
        paused_ticket(MON_10, "P1", (la("2026-11-23 11:00"), None)),
        labels=("+more info please",),
    )
    for now in (la("2026-11-23 12:00"), la("2026-11-25 12:00")):
        state = evaluate(t, now, DEFAULT, "premium")
        assert state.state is SlaStateName.PAUSED
        assert state.text == "paused"
        assert state.remaining == timedelta(hours=3)  # 1 of 4 business hours used
        assert state.elapsed == timedelta(hours=1)
    assert evaluate(t, la("2026-11-23 12:00"), DEFAULT, "premium").paused_for == timedelta(hours=1)
    assert evaluate(t, la("2026-11-25 12:00"), DEFAULT, "premium").paused_for == timedelta(
        hours=5 + 9 + 5
    )


def test_pause_and_resume_round_trip() -> None:
    """Pause at 11:00 via a "+" label, resume at 13:00: due moves by two business hours."""
    old = ticket(MON_10, "P1", status=Status.OPEN)
    waiting = replace(old, labels=("+more info please",))
    pauses = update_pauses(old, waiting, la("2026-11-23 11:00"))
    assert pauses == (PauseInterval(la("2026-11-23 11:00"), None),)
    waiting = replace(waiting, pauses=pauses)
    assert state_at(None, None, waiting.is_paused, MON_10) is SlaStateName.NONE
    resumed = replace(waiting, labels=())
    pauses = update_pauses(waiting, resumed, la("2026-11-23 13:00"))
    assert pauses == (PauseInterval(la("2026-11-23 11:00"), la("2026-11-23 13:00")),)
    info = compute_due(replace(resumed, pauses=pauses), DEFAULT, "premium")
    assert info is not None and info.due == la("2026-11-23 16:00")
    state = evaluate(replace(resumed, pauses=pauses), la("2026-11-23 15:00"), DEFAULT, "premium")
    assert state.state is SlaStateName.WARNING  # 3 of 4 bh used at 15:00 exactly
    assert state.remaining == timedelta(hours=1)
    assert state.paused_for == timedelta(hours=2)


T0 = la("2026-11-23 11:00")
T1 = la("2026-11-23 12:00")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (None, ticket(MON_10), ()),
        (None, ticket(MON_10, status=Status.PENDING), (PauseInterval(T1),)),
        (ticket(MON_10), ticket(MON_10, status=Status.HOLD), (PauseInterval(T1),)),
        (ticket(MON_10), ticket(MON_10, labels=("+waiting",)), (PauseInterval(T1),)),
        (ticket(MON_10), ticket(MON_10, labels=("bug",)), ()),
        (
            ticket(MON_10, status=Status.PENDING, pauses=(PauseInterval(T0),)),
            ticket(MON_10, status=Status.OPEN),
            (PauseInterval(T0, T1),),
        ),
        (  # still paused: unchanged
            ticket(MON_10, status=Status.PENDING, pauses=(PauseInterval(T0),)),
            ticket(MON_10, labels=("+waiting",)),
            (PauseInterval(T0),),
        ),
        (  # solved while paused: the interval closes
            ticket(MON_10, status=Status.PENDING, pauses=(PauseInterval(T0),)),
            ticket(MON_10, status=Status.SOLVED),
            (PauseInterval(T0, T1),),
        ),
        (  # pauses are carried over from the stored row, not the incoming one
            ticket(MON_10, pauses=(PauseInterval(MON_10, T0),)),
            ticket(MON_10, status=Status.PENDING),
            (PauseInterval(MON_10, T0), PauseInterval(T1)),
        ),
    ],
)
def test_update_pauses(
    old: Ticket | None, new: Ticket, expected: tuple[PauseInterval, ...]
) -> None:
    assert update_pauses(old, new, T1) == expected


# -- O(1) state and countdown ----------------------------------------------------------------

DUE = utc("2026-11-23 20:00")
WARN = utc("2026-11-23 19:00")


@pytest.mark.parametrize(
    ("due", "warn_at", "paused", "now", "expected"),
    [
        (None, None, False, DUE, SlaStateName.NONE),
        (None, None, True, DUE, SlaStateName.NONE),
        (DUE, WARN, True, DUE + timedelta(days=3), SlaStateName.PAUSED),
        (DUE, WARN, False, utc("2026-11-23 18:59:59"), SlaStateName.OK),
        (DUE, WARN, False, WARN, SlaStateName.WARNING),
        (DUE, WARN, False, utc("2026-11-23 19:44:59"), SlaStateName.WARNING),
        (DUE, WARN, False, utc("2026-11-23 19:45"), SlaStateName.CRITICAL),  # 15 min left
        (DUE, WARN, False, utc("2026-11-23 19:59:59"), SlaStateName.CRITICAL),
        (DUE, WARN, False, DUE, SlaStateName.BREACHED),
        (DUE, WARN, False, DUE + timedelta(hours=5), SlaStateName.BREACHED),
        (DUE, None, False, utc("2026-11-23 10:00"), SlaStateName.OK),
    ],
)
def test_state_at(
    due: datetime | None,
    warn_at: datetime | None,
    paused: bool,
    now: datetime,
    expected: SlaStateName,
) -> None:
    assert state_at(due, warn_at, paused, now, 15 * 60) is expected


def test_state_at_custom_critical() -> None:
    now = DUE - timedelta(minutes=20)
    assert state_at(DUE, WARN, False, now, critical_seconds=30 * 60) is SlaStateName.CRITICAL
    assert state_at(DUE, WARN, False, now, critical_seconds=0) is SlaStateName.WARNING


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (42, "42s"),
        (59, "59s"),
        (60, "1m"),
        (47 * 60 + 59, "47m"),
        (3599, "59m"),
        (3600, "1h 00m"),
        (3 * H + 12 * 60 + 30, "3h 12m"),
        (23 * H + 59 * 60 + 59, "23h 59m"),
        (24 * H, "1d 00h"),
        (2 * 86_400 + 4 * H + 59 * 60, "2d 04h"),
        (12 * 86_400, "12d 00h"),
        (-1, "-1s"),
        (-42, "-42s"),
        (-(47 * 60), "-47m"),
        (-(H + 5 * 60), "-1h 05m"),
        (-(3 * 86_400 + 2 * H), "-3d 02h"),
    ],
)
def test_format_remaining(seconds: int, text: str) -> None:
    assert format_remaining(seconds) == text


@pytest.mark.parametrize(
    ("due", "paused", "now", "text"),
    [
        (None, False, DUE, "—"),
        (None, True, DUE, "—"),
        (DUE, True, DUE, "paused"),
        (DUE, False, DUE - timedelta(hours=3, minutes=12), "3h 12m"),
        (DUE, False, DUE - timedelta(seconds=42.5), "42s"),
        (DUE, False, DUE + timedelta(hours=1, minutes=5), "-1h 05m"),
        (DUE, False, DUE + timedelta(seconds=0.5), "-1s"),
    ],
)
def test_countdown_text(due: datetime | None, paused: bool, now: datetime, text: str) -> None:
    assert countdown_text(due, paused, now) == text


@pytest.mark.parametrize(
    ("now", "state", "text"),
    [
        (la("2026-11-23 10:00"), SlaStateName.OK, "4h 00m"),
        (la("2026-11-23 13:00"), SlaStateName.WARNING, "1h 00m"),
        (la("2026-11-23 13:50"), SlaStateName.CRITICAL, "10m"),
        (la("2026-11-23 15:05"), SlaStateName.BREACHED, "-1h 05m"),
    ],
)
def test_evaluate_running(now: datetime, state: SlaStateName, text: str) -> None:
    s = evaluate(ticket(MON_10, "P0"), now, DEFAULT, "premium")
    assert (s.state, s.text) == (state, text)
    assert s.remaining == la("2026-11-23 14:00") - now
    assert s.elapsed == now - MON_10
    assert not s.met


def test_ticket_helpers_use_stored_columns() -> None:
    t = sla.with_due(ticket(MON_10, "P1"), DEFAULT, "premium")
    assert (t.sla_due, t.sla_warn_at, t.sla_target) == (
        la("2026-11-23 14:00"),
        la("2026-11-23 13:00"),
        "4 business h",
    )
    assert sla.time_left(t, la("2026-11-23 15:00")) == timedelta(hours=-1)
    assert sla.ticket_state(t, la("2026-11-23 13:30"), DEFAULT) is SlaStateName.WARNING
    cleared = sla.with_due(replace(t, status=Status.SOLVED), DEFAULT, "premium")
    assert (cleared.sla_due, cleared.sla_warn_at, cleared.sla_target) == (None, None, None)
    assert sla.time_left(cleared, MON_10) is None


# -- target spans -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "unit", "seconds", "label"),
    [
        ("4h", SpanUnit.HOURS, 4 * H, "4h"),
        ("0.25h", SpanUnit.HOURS, 900, "0.25h"),
        ("30m", SpanUnit.MINUTES, 1800, "30m"),
        ("1d", SpanUnit.DAYS, 86_400, "1d"),
        ("4bh", SpanUnit.BUSINESS_HOURS, 4 * H, "4 business h"),
        ("1.5BH", SpanUnit.BUSINESS_HOURS, 90 * 60, "1.5 business h"),
        ("90bm", SpanUnit.BUSINESS_MINUTES, 90 * 60, "90 business min"),
        ("1bd", SpanUnit.BUSINESS_DAYS, 9 * H, "1 business day"),
        ("0.5bd", SpanUnit.BUSINESS_DAYS, 9 * H // 2, "0.5 business day"),
        (" 2 bd ", SpanUnit.BUSINESS_DAYS, 18 * H, "2 business days"),
        ("0.0001h", SpanUnit.HOURS, 0, "0.0001h"),  # 0.36 s rounds to 0
    ],
)
def test_target_span(text: str, unit: SpanUnit, seconds: int, label: str) -> None:
    span = TargetSpan.parse(text)
    assert span.unit is unit
    assert span.seconds(9 * H) == seconds
    assert span.label == label


@pytest.mark.parametrize("text", ["", "4", "h", "4x", "-1h", "0h", "4 hours", "1e3h", "inf h"])
def test_target_span_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        TargetSpan.parse(text)


# -- config ---------------------------------------------------------------------------------


def documented_toml() -> dict[str, Any]:
    """The example in the module docstring, parsed: the docs must stay valid."""
    doc = sla.__doc__ or ""
    block = doc.split(
        "defaults, except the closures and Wednesday's split day, which are examples)::"
    )[1]
    lines = []
    for line in block.splitlines()[1:]:
        if line and not line.startswith("    "):
            break
        lines.append(line[4:])
    return tomllib.loads("\n".join(lines))


def test_documented_example_parses() -> None:
    data = documented_toml()
    settings = sla_settings_from_dict(data["sla"])
    cal = settings.calendar
    assert cal.is_open(la("2026-11-18 11:59"))
    assert not cal.is_open(la("2026-11-18 12:30"))  # Wednesday's lunch break
    assert not cal.is_open(la("2026-12-24 10:00"))  # company day
    assert not cal.is_open(la("2026-12-31 12:00"))  # half day
    assert cal.is_open(la("2026-12-31 11:59"))
    assert not cal.is_open(la("2027-08-04 10:00"))  # offsite
    assert not cal.is_open(la("2027-03-10 13:30"))  # office move
    assert settings.plans == DEFAULT.plans
    assert settings.channels == DEFAULT.channels
    assert settings.business_day_seconds == 9 * H


def test_empty_table_is_the_default() -> None:
    assert sla_settings_from_dict({}) == DEFAULT


def test_config_overrides() -> None:
    settings = sla_settings_from_dict(
        {
            "timezone": "Europe/Berlin",
            "holidays": False,
            "warning_fraction": 0.5,
            "critical_minutes": 30,
            "business_day_hours": 8,
            "hours": {"monday": ["09:00-17:00"], "tuesday": "09:00-17:00"},
            "targets": {
                "premium": {"p1": "2bh"},
                "ultimate": "none",
                "gold": {"P0": {"in_hours": "30m", "out_of_hours": "none"}},
            },
            "channels": {"chat": "plan", "tracker": "3bd"},
        }
    )
    cal = settings.calendar
    assert cal.timezone == "Europe/Berlin" and cal.holidays is None
    assert cal.week[0] == (OpeningWindow(9 * H, 17 * H),)
    assert cal.week[2] == ()
    assert settings.warning_fraction == Fraction(1, 2)
    assert settings.critical_seconds == 30 * 60
    assert settings.business_day_seconds == 8 * H
    premium = settings.plan("PREMIUM")
    assert premium is not None
    assert premium.rule(Priority.P1) == TargetRule.fixed("2bh")
    assert premium.rule(Priority.P0) == TargetRule.fixed("4h")  # kept from the default
    ultimate = settings.plan("ultimate")
    assert ultimate is not None and ultimate.rules == (None, None, None, None)
    gold = settings.plan("gold")
    assert gold is not None
    assert gold.rules[0] == TargetRule(TargetSpan.parse("30m"), None)
    assert gold.rules[1:] == (None, None, None)
    assert dict(settings.channels) == {
        TicketKind.FORM: TargetRule.fixed("4bh"),
        TicketKind.ALERT: TargetRule.by_hours("1h", "4h"),
        TicketKind.TRACKER: TargetRule.fixed("3bd"),
    }
    # Effects: Monday 09:00 Berlin, gold P0 in hours -> 30 calendar minutes.
    opened = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    info = compute_due(ticket(opened, "P0"), settings, "gold")
    assert info is not None and info.due == opened + timedelta(minutes=30)
    assert info.warn_at == opened + timedelta(minutes=15)
    # Out of hours: no target.
    assert compute_due(ticket(opened - timedelta(hours=1), "P0"), settings, "gold") is None
    # Chat falls back to the plan; tracker gets 3 business days of 8 h.
    chat = compute_due(ticket(opened, "P1", source=Source.CHAT), settings, "premium")
    assert chat is not None and chat.target_label == "2 business h"
    issue = compute_due(ticket(opened, "P1", source=Source.TRACKER), settings, "premium")
    assert issue is not None
    # Mon 09:00 + 24 business hours of Mon/Tue 8 h windows -> Mon of the next week, 17:00.
    assert issue.due == datetime(2026, 11, 30, 17, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def test_config_closures_from_strings() -> None:
    settings = sla_settings_from_dict(
        {
            "closures": [
                {"date": "2026-12-23", "to": "10:00", "name": "Late start"},
                {"start": "2027-01-04", "end": "2027-01-05"},
                {"start": "2027-02-01T12:00:00-08:00", "end": "2027-02-01T14:00:00-08:00"},
            ]
        }
    )
    assert settings.calendar.closures == (
        Closure(datetime(2026, 12, 23), datetime(2026, 12, 23, 10), "Late start"),
        Closure.days(date(2027, 1, 4), date(2027, 1, 5), "Closed"),
        Closure(datetime(2027, 2, 1, 12), datetime(2027, 2, 1, 14), "Closed"),
    )


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ([], "sla"),
        ({"colour": "red"}, "sla.colour"),
        ({"timezone": "Mars/Base"}, "sla.timezone"),
        ({"timezone": 5}, "sla.timezone"),
        ({"holidays": "XX"}, "sla.holidays"),
        ({"holidays": True}, "sla.holidays"),
        ({"warning_fraction": 1.0}, "sla.warning_fraction"),
        ({"warning_fraction": -0.1}, "sla.warning_fraction"),
        ({"warning_fraction": "25%"}, "sla.warning_fraction"),
        ({"warning_fraction": True}, "sla.warning_fraction"),
        ({"critical_minutes": -1}, "sla.critical_minutes"),
        ({"critical_minutes": float("nan")}, "sla.critical_minutes"),
        ({"business_day_hours": 0}, "sla.business_day_hours"),
        ({"business_day_hours": 25}, "sla.business_day_hours"),
        ({"hours": "07:00-16:00"}, "sla.hours"),
        ({"hours": {"mondays": ["07:00-16:00"]}}, "sla.hours.mondays"),
        ({"hours": {"monday": ["07:00-16:00", "7am-9am"]}}, "sla.hours.monday[1]"),
        ({"hours": {"monday": [7]}}, "sla.hours.monday[0]"),
        ({"hours": {"monday": 7}}, "sla.hours.monday"),
        ({"hours": {"monday": ["16:00-07:00"]}}, "sla.hours.monday[0]"),
        ({"hours": {"friday": ["07:00-12:00", "11:00-16:00"]}}, "sla.hours.friday"),
        ({"hours": {}}, "sla.hours"),
        ({"closures": {"date": "2026-12-24"}}, "sla.closures"),
        ({"closures": ["2026-12-24"]}, "sla.closures[0]"),
        ({"closures": [{"date": "2026-12-24"}, {"date": "24.12.2026"}]}, "sla.closures[1].date"),
        ({"closures": [{"date": "2026-12-24", "when": "x"}]}, "sla.closures[0].when"),
        ({"closures": [{"date": "2026-12-24", "from": "noon"}]}, "sla.closures[0].from"),
        (
            {"closures": [{"date": "2026-12-24", "from": "12:00", "to": "11:00"}]},
            "sla.closures[0].to",
        ),
        ({"closures": [{"date": "2026-12-24", "name": ""}]}, "sla.closures[0].name"),
        ({"closures": [{"start": "2026-12-24"}]}, "sla.closures[0]"),
        ({"closures": [{"start": "2026-12-24", "end": "2026-12-20"}]}, "sla.closures[0].end"),
        ({"closures": [{"start": "2026-12-24", "end": "soon"}]}, "sla.closures[0].end"),
        (
            {"closures": [{"start": "2026-12-24", "end": "2026-12-25", "from": "10:00"}]},
            "sla.closures[0].from",
        ),
        ({"targets": []}, "sla.targets"),
        ({"targets": {"premium": {"P1": "4 hours"}}}, "sla.targets.premium.P1"),
        ({"targets": {"premium": {"P1": 4}}}, "sla.targets.premium.P1"),
        ({"targets": {"premium": {"P4": "4h"}}}, "sla.targets.premium.P4"),
        ({"targets": {"premium": "4h"}}, "sla.targets.premium"),
        (
            {"targets": {"ultimate": {"P0": {"in_hours": "1h"}}}},
            "sla.targets.ultimate.P0.out_of_hours",
        ),
        (
            {"targets": {"ultimate": {"P0": {"in_hours": "1h", "out_of_hours": "2x"}}}},
            "sla.targets.ultimate.P0.out_of_hours",
        ),
        (
            {"targets": {"ultimate": {"P0": {"in_hours": "1h", "out_of_hours": "2h", "x": 1}}}},
            "sla.targets.ultimate.P0.x",
        ),
        ({"channels": {"email": "4h"}}, "sla.channels.email"),
        ({"channels": {"chat": "soon"}}, "sla.channels.chat"),
    ],
)
def test_config_errors_name_the_key(data: Any, key: str) -> None:
    with pytest.raises(ConfigValueError) as info:
        sla_settings_from_dict(data)
    assert info.value.key == key
    assert str(info.value).startswith(key + ": expected ")


def test_config_errors_use_the_prefix() -> None:
    with pytest.raises(ConfigValueError) as info:
        sla_settings_from_dict({"targets": {"premium": {"P1": "x"}}}, key_prefix="team.sla")
    assert info.value.key == "team.sla.targets.premium.P1"


def test_settings_are_hashable_and_comparable() -> None:
    assert hash(SlaSettings.default()) == hash(DEFAULT)
    assert replace(DEFAULT, critical_seconds=60) != DEFAULT
    assert re.fullmatch(r"SlaSettings\(.*\)", repr(DEFAULT), re.S)
    assert isinstance(DEFAULT.calendar, BusinessCalendar)


def test_business_day_follows_the_calendar() -> None:
    """One business day is the longest weekday's open time unless configured."""
    short = BusinessCalendar(week=((OpeningWindow(9 * H, 17 * H),),) * 5 + ((), ()))
    settings = SlaSettings(short, DEFAULT.plans, DEFAULT.channels)
    assert settings.business_day_seconds == 8 * H
    info = compute_due(ticket(la("2026-11-23 09:00"), "P2"), settings, "premium")
    assert info is not None and info.due == la("2026-11-23 17:00")
    hours = sla_settings_from_dict({"hours": {"monday": ["09:00-12:00", "13:00-18:00"]}})
    assert hours.business_day_seconds == 8 * H
