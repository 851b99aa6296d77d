"""``sla explain``: a ticket's history as JSON in, its reply clocks as JSON (or prose) out.

The input (``--ticket FILE``)::

    {"plan": "premium", "priority": "P1", "channel": "email",
     "opened_at": "2026-11-23T15:00:00Z",
     "events": [{"at": "...", "type": "customer_comment"},
                {"at": "...", "type": "status", "value": "pending"},
                {"at": "...", "type": "label_add", "label": "+more info please"},
                {"at": "...", "type": "priority", "value": "P0"}]}

The output: ``{"metrics": [...]}``, one entry per clock that has a target, in order of
activation (see :func:`clocks_json`). Instants are UTC ISO 8601 (``2026-11-23T15:00:00Z``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from oncall_tui.domain.calendars import from_epoch, to_epoch
from oncall_tui.domain.sla import SlaSettings, SlaTarget, format_remaining
from oncall_tui.domain.sla_clocks import (
    VALUED,
    ClockInputs,
    ClockReport,
    ClockState,
    EventType,
    Metric,
    ReplyClock,
    SlaEvent,
)
from oncall_tui.domain.tickets import Channel, Priority, Source


class ExplainInputError(ValueError):
    """The ticket file is not what ``sla explain`` reads; the message names the problem."""


def utc_text(at: datetime | None) -> str | None:
    """``2026-11-27T18:00:00Z`` (whole seconds, UTC), or None."""
    if at is None:
        return None
    return from_epoch(to_epoch(at)).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(value: object, where: str) -> datetime:
    """An ISO 8601 instant with an offset or ``Z``.

    Raises:
        ExplainInputError: not a string, not ISO 8601, or without an offset.
    """
    if not isinstance(value, str):
        raise ExplainInputError(f"{where}: expected an ISO 8601 instant, got {value!r}")
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ExplainInputError(f"{where}: not an ISO 8601 instant: {value!r}") from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise ExplainInputError(f"{where}: the instant {value!r} needs a UTC offset or Z")
    try:
        to_epoch(at)
    except (OverflowError, ValueError):
        raise ExplainInputError(f"{where}: instant out of range: {value!r}") from None
    return at


def _choice(value: object, allowed: list[str], where: str, upper: bool = False) -> str:
    if isinstance(value, str):
        v = value.strip().upper() if upper else value.strip().lower()
        if v in allowed:
            return v
    raise ExplainInputError(f"{where}: expected one of {', '.join(allowed)}, got {value!r}")


_PRIORITIES = [p.value for p in Priority]
_CHANNELS = [c.value for c in Channel]
_STATUSES = ["new", "open", "pending", "hold", "solved", "closed"]
_TYPES = [t.value for t in EventType]


def parse_ticket(text: str, settings: SlaSettings) -> ClockInputs:
    """Read the ``--ticket`` JSON.

    Raises:
        ExplainInputError: invalid JSON, a missing or wrong field, an unknown plan.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExplainInputError(f"not valid JSON: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(data, Mapping):
        raise ExplainInputError("expected a JSON object with plan, priority, opened_at, events")
    if "opened_at" not in data:
        raise ExplainInputError("opened_at: missing")
    opened = parse_instant(data["opened_at"], "opened_at")
    plan = data.get("plan")
    if plan is not None:
        if not isinstance(plan, str) or not plan.strip():
            raise ExplainInputError(f"plan: expected a plan name or null, got {plan!r}")
        if settings.plan(plan.strip()) is None:
            known = ", ".join(p.name for p in settings.plans)
            raise ExplainInputError(f"plan: unknown plan {plan!r} (known: {known})")
        plan = plan.strip()
    if "priority" not in data:
        raise ExplainInputError("priority: missing (P0, P1, P2 or P3)")
    priority = Priority(_choice(data["priority"], _PRIORITIES, "priority", upper=True))
    channel = Channel(_choice(data.get("channel", "email"), _CHANNELS, "channel"))
    raw_events = data.get("events", [])
    if not isinstance(raw_events, list):
        raise ExplainInputError(f"events: expected a list, got {type(raw_events).__name__}")
    events = tuple(_event(e, f"events[{i}]") for i, e in enumerate(raw_events))
    source = Source.CHAT if channel is Channel.CHAT else Source.HELPDESK
    return ClockInputs(plan, priority, opened, events, source=source, channel=channel)


def _event(raw: object, where: str) -> SlaEvent:
    if not isinstance(raw, Mapping):
        raise ExplainInputError(f"{where}: expected an object with at and type")
    if "at" not in raw:
        raise ExplainInputError(f"{where}.at: missing")
    at = parse_instant(raw["at"], f"{where}.at")
    kind = EventType(_choice(raw.get("type"), _TYPES, f"{where}.type"))
    value = ""
    if kind in VALUED:
        if kind is EventType.STATUS:
            value = _choice(raw.get("value"), _STATUSES, f"{where}.value")
        elif kind is EventType.PRIORITY:
            value = _choice(raw.get("value"), _PRIORITIES, f"{where}.value", upper=True)
        else:
            label = raw.get("label", raw.get("value"))
            if not isinstance(label, str) or not label.strip():
                raise ExplainInputError(f"{where}.label: expected a label, got {label!r}")
            value = label.strip()
    return SlaEvent(at, kind, value)


def _hours(target: SlaTarget) -> int | float:
    h = target.seconds / 3600
    return int(h) if h == int(h) else round(h, 6)


def clock_json(clock: ReplyClock) -> dict[str, Any]:
    """One clock in the ``sla explain`` contract."""
    assert clock.target is not None
    return {
        "metric": clock.metric.value,
        "activated_at": utc_text(clock.activated_at),
        "target": {
            "kind": "business" if clock.target.business else "calendar",
            "hours": _hours(clock.target),
        },
        "state": clock.state.value,
        "paused": clock.paused,
        "due_at": utc_text(clock.due_at),
        "breached_at": utc_text(clock.breached_at),
        "fulfilled_at": utc_text(clock.fulfilled_at),
    }


def clocks_json(report: ClockReport) -> dict[str, Any]:
    """``{"metrics": [...]}``: the clocks that have a target, in order of activation."""
    return {"metrics": [clock_json(c) for c in report.targeted]}


# -- the readable account ----------------------------------------------------------------

_METRIC_NAMES = {Metric.FIRST_REPLY: "First reply", Metric.NEXT_REPLY: "Next reply"}


def kind_word(target: SlaTarget) -> str:
    """``business`` or ``calendar``."""
    return "business" if target.business else "calendar"


def span_text(seconds: int) -> str:
    """A duration without sign: ``3h 52m``, ``2d 11h``, ``45m``."""
    return format_remaining(abs(seconds))


def target_text(target: SlaTarget) -> str:
    """``2 calendar hours``, ``4 business hours``, ``1 business day (9 business hours)``."""
    kind = kind_word(target)
    hours = _hours(target)
    unit = "hour" if hours == 1 else "hours"
    text = f"{hours} {kind} {unit}"
    if "day" in target.label:
        return f"{target.label} ({text})"
    return text


def clock_outcome(clock: ReplyClock, now: datetime, local: Any = None) -> str:
    """The state in words: ``met 12m early``, ``answered 2d 11h late``, ``breached · paused``,
    ``3h 52m business time left · due Wed 08:51``, ``paused · 1h 10m business time left``."""
    tgt = clock.target
    if tgt is None:
        return "no target"
    left = clock.left or 0
    kind = kind_word(tgt)
    if clock.state is ClockState.FULFILLED:
        how = "met" if clock.fulfilled_by == "reply" else f"stopped ({clock.fulfilled_by})"
        return f"{how} {span_text(left)} early" if left > 0 else f"{how} on time"
    if clock.state is ClockState.BREACHED:
        if clock.fulfilled_at is not None:
            word = "answered" if clock.fulfilled_by == "reply" else clock.fulfilled_by
            return f"{word} {span_text(clock.late_by or 0)} late"
        assert clock.breached_at is not None
        over = span_text(to_epoch(now) - to_epoch(clock.breached_at))
        return f"breached · paused ({over} ago)" if clock.paused else f"breached {over} ago"
    if clock.state is ClockState.PAUSED:
        return f"paused · {span_text(left)} {kind} time left"
    due = clock.due_at
    assert due is not None
    when = due.astimezone(local).strftime("%a %H:%M %Z") if local is not None else utc_text(due)
    return f"{span_text(left)} {kind} time left · due {when}"


def explain_text(report: ClockReport, settings: SlaSettings) -> list[str]:
    """A readable account: each clock's rule, pauses, re-targets and how its due was reached."""
    tz = settings.calendar.tz
    lines: list[str] = []

    def local(at: datetime) -> str:
        return at.astimezone(tz).strftime("%a %Y-%m-%d %H:%M %Z")

    if not report.targeted:
        return ["No reply clock has a target (no plan, or a plan without one)."]
    for clock in report.targeted:
        tgt = clock.target
        assert tgt is not None
        name = _METRIC_NAMES[clock.metric]
        lines.append(f"{name}, started {local(clock.activated_at)}")
        lines.append(f"  target: {tgt.reason}: {target_text(tgt)}")
        for p in clock.pauses:
            end = "still paused" if p.end is None else f"until {local(p.end)}"
            lines.append(f"  paused {local(p.start)} {end} ({p.cause})")
        for r in clock.retargets:
            what = "no target" if r.target is None else target_text(r.target)
            note = ", already past it: breached then" if r.breached else ""
            lines.append(f"  priority {r.priority} at {local(r.at)}: {what}{note}")
        used = span_text(clock.consumed)
        lines.append(f"  {used} of {kind_word(tgt)} time used (pauses excluded)")
        if clock.breached_at is not None:
            lines.append(f"  breached {local(clock.breached_at)}")
        if clock.due_at is not None:
            lines.append(f"  due {local(clock.due_at)}")
        if clock.fulfilled_at is not None:
            lines.append(f"  {clock.fulfilled_by} {local(clock.fulfilled_at)}")
        lines.append(f"  {clock_outcome(clock, report.now, tz)}")
    return lines
