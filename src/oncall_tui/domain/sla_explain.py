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


_FULFILLED_BY = {
    "reply": "a public reply by our staff",
    "solved": "the ticket was solved",
    "closed": "the ticket was closed",
}
_STARTED_BY = {
    Metric.FIRST_REPLY: "the ticket opened",
    Metric.NEXT_REPLY: "the customer wrote after our answer",
}


def _paused_before(
    clock: ReplyClock, settings: SlaSettings, until: datetime
) -> tuple[int, int]:
    """(how many, how long) of the clock's pauses up to ``until``, measured in its target's
    kind (business seconds for a business target): what pushed its due later."""
    tgt = clock.target
    assert tgt is not None
    stop = to_epoch(until)
    n = total = 0
    for p in clock.pauses:
        a = to_epoch(p.start)
        b = min(stop, to_epoch(p.end) if p.end is not None else stop)
        if b <= a:
            continue
        n += 1
        total += settings.calendar.between_epoch(a, b) if tgt.business else b - a
    return n, total


def _sum_text(clock: ReplyClock, settings: SlaSettings, until: datetime, short: Any) -> str:
    """``started Mon 07:00 + 4 business hours + 1h 10m paused (business time)``."""
    tgt = clock.target
    assert tgt is not None
    kind = kind_word(tgt)
    n, paused = _paused_before(clock, settings, until)
    text = f"started {short(clock.activated_at)} + {target_text(tgt)}"
    if n:
        pauses = "1 pause" if n == 1 else f"{n} pauses"
        text += f" + {span_text(paused)} paused ({pauses}, in {kind} time)"
    else:
        text += " (no pause)"
    if tgt.business:
        text += ", counting business hours only"
    return text


def explain_text(report: ClockReport, settings: SlaSettings) -> list[str]:
    """A readable account of each clock: what started it and the rule that chose its
    target, each pause with its cause and span, how its due (or breach) instant was reached
    (activation + target + paused time, in business or calendar time), and for a fulfilled
    or breached clock when and by what."""
    tz = settings.calendar.tz
    lines: list[str] = []

    def local(at: datetime) -> str:
        return at.astimezone(tz).strftime("%a %Y-%m-%d %H:%M %Z")

    def short(at: datetime) -> str:
        return at.astimezone(tz).strftime("%a %H:%M")

    if not report.targeted:
        return ["No reply clock has a target (no plan, or a plan without one)."]
    now = report.now
    for clock in report.targeted:
        tgt = clock.target
        assert tgt is not None
        kind = kind_word(tgt)
        name = _METRIC_NAMES[clock.metric]
        lines.append(f"{name}: {clock_outcome(clock, now, tz)}")
        lines.append(f"  started {local(clock.activated_at)}: {_STARTED_BY[clock.metric]}")
        first = clock.first_target if clock.retargets else tgt
        if first is None:
            lines.append("  target: none at its start")
        else:
            when = " at its start" if first is not tgt else ""
            lines.append(f"  target{when}: {first.reason}: {target_text(first)}")
        for r in clock.retargets:
            what = "no target"
            if r.target is not None:
                what = f"{r.target.reason}: {target_text(r.target)}"
            at_change = clock.breached_at is not None and clock.breached_at == r.at
            if r.breached and not at_change:
                what = "it had breached already: the breach and its target stay"
                note = ""
            elif r.breached:
                note = ", measured from the start: already past it, breached then"
            else:
                note = ", measured from the start"
            lines.append(f"  priority {r.priority} at {local(r.at)}: {what}{note}")
        for p in clock.pauses:
            if p.end is None:
                span = span_text(to_epoch(now) - to_epoch(p.start))
                lines.append(f"  paused {local(p.start)}, still paused ({span} so far): {p.cause}")
            else:
                span = span_text(to_epoch(p.end) - to_epoch(p.start))
                if tgt.business:
                    inside = settings.calendar.between_epoch(to_epoch(p.start), to_epoch(p.end))
                    span += f"; {span_text(inside)} of business time"
                lines.append(
                    f"  paused {local(p.start)} until {local(p.end)} ({span}): {p.cause}"
                )
        if clock.breached_at is not None:
            lines.append(
                f"  breached {local(clock.breached_at)} = "
                f"{_sum_text(clock, settings, clock.breached_at, short)}"
            )
        elif clock.due_at is not None:
            lines.append(
                f"  due {local(clock.due_at)} = {_sum_text(clock, settings, clock.due_at, short)}"
            )
        elif clock.state is ClockState.PAUSED:
            left = span_text(clock.left or 0)
            lines.append(f"  no due while it waits: {left} of {kind} time left when it resumes")
        if clock.fulfilled_at is not None:
            by = _FULFILLED_BY.get(clock.fulfilled_by, clock.fulfilled_by)
            when = local(clock.fulfilled_at)
            if clock.breached_at is not None:
                late = span_text(clock.late_by or 0)
                lines.append(f"  answered {when} by {by}: {late} after the breach")
            else:
                remain = clock.left or 0
                was_due = to_epoch(clock.fulfilled_at) + remain
                if tgt.business:
                    was_due = settings.calendar.add_epoch(to_epoch(clock.fulfilled_at), remain)
                due = from_epoch(was_due)
                how = _sum_text(clock, settings, clock.fulfilled_at, short)
                lines.append(f"  was due {local(due)} = {how}")
                lines.append(
                    f"  fulfilled {when} by {by}, with {span_text(remain)} of {kind} time left"
                )
        elif clock.breached_at is not None:
            lines.append("  not answered yet: the breach stays, whatever comes next")
        lines.append(
            f"  used: {span_text(clock.consumed)} of {kind} time"
            + (" (pauses excluded)" if clock.pauses else "")
        )
    return lines
