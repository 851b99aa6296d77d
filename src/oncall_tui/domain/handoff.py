"""The on-call week: the handoff summary, its SLA numbers and the breach forecast.

Pure functions over plain records (:class:`TicketRecord`: a ticket, its customer's plan and its
thread); the store gathers the records (``Store.handoff_records``), the CLI and the Handoff
screen render what :func:`build_handoff` returns.

Every SLA number goes through ONE function, :func:`ticket_clocks`, which turns a ticket into
its response clocks (the first reply, then one per customer follow-up) using the domain SLA
engine (:func:`oncall_tui.domain.sla.resolve_target` / :func:`due_for_target`: business hours,
holidays and pauses counted there, never here). When the SLA lifecycle stores a per-ticket list
of clocks, only that function changes.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from oncall_tui.domain.sla import SlaSettings, due_for_target, format_remaining, resolve_target
from oncall_tui.domain.tickets import Channel, Comment, Priority, Source, Ticket, ticket_ref

#: Labels that mean end users are hit (the escalation label state machine of DOMAIN.md).
IMPACT_LABELS = frozenset({"~investigate", ":help-customers"})
#: Priorities that mean end users are hit.
IMPACT_PRIORITIES = frozenset({Priority.P0, Priority.P1})
#: The plan key for tickets without a known plan.
NO_PLAN = "none"


class ClockKind(StrEnum):
    """Which response a clock waits for."""

    FIRST = "first"
    NEXT = "next"


@dataclass(frozen=True, slots=True)
class TicketRecord:
    """What the report needs about one ticket.

    Attributes:
        ticket: the cached ticket (with its pauses and first response).
        plan: the customer's plan, or None.
        comments: its thread, in any order.
    """

    ticket: Ticket
    plan: str | None = None
    comments: tuple[Comment, ...] = ()


@dataclass(frozen=True, slots=True)
class ReportClock:
    """One response clock of a ticket, as the report sees it.

    Attributes:
        kind: first reply or next reply.
        started: when the clock started (ticket opened, or the customer's follow-up).
        due: when the response was due (pauses, business hours and holidays counted).
        stopped: when our public answer (or the solve, for a first clock) stopped it; None
            while it runs.
        target: the target's label, e.g. ``4 business h``.
    """

    kind: ClockKind
    started: datetime
    due: datetime
    stopped: datetime | None
    target: str

    def breached(self, now: datetime) -> bool:
        """Missed: answered after its due, or still running at or after its due."""
        if self.stopped is not None:
            return self.stopped > self.due
        return now >= self.due


def ticket_clocks(record: TicketRecord, settings: SlaSettings) -> list[ReportClock]:
    """The response clocks of one ticket, from its SLA fields and its thread.

    This is the single place the report derives clocks from; swap its body for the stored
    per-ticket clocks once the SLA lifecycle keeps them.

    The first clock runs from ``opened_at`` to ``first_response_at`` (or to the solve, taken
    as ``updated_at``, when a ticket was solved unanswered). After the first response, each
    public comment by the requester while no clock runs starts a next-reply clock with the
    same policy (the target resolved as if the ticket opened then), stopped by the next public
    comment of someone else. Internal notes neither start nor stop a clock.
    """
    ticket = record.ticket
    target = resolve_target(ticket, settings, record.plan)
    if target is None:
        return []
    first_due = due_for_target(ticket, target, settings).due
    stopped = ticket.first_response_at
    if stopped is None and ticket.is_done:
        stopped = ticket.updated_at
    clocks = [ReportClock(ClockKind.FIRST, ticket.opened_at, first_due, stopped, target.label)]
    if ticket.first_response_at is None:
        return clocks
    running: datetime | None = None
    for c in sorted(record.comments, key=lambda c: (c.created_at, c.id)):
        if not c.public or c.created_at <= ticket.first_response_at:
            continue
        by_customer = ticket.requester is not None and c.author == ticket.requester
        if by_customer and running is None:
            running = c.created_at
        elif not by_customer and running is not None:
            clocks.append(_next_clock(record, settings, running, c.created_at))
            running = None
    if running is not None:
        clocks.append(_next_clock(record, settings, running, None))
    return clocks


def _next_clock(
    record: TicketRecord, settings: SlaSettings, start: datetime, stopped: datetime | None
) -> ReportClock:
    as_if = replace(record.ticket, opened_at=start)
    target = resolve_target(as_if, settings, record.plan)
    assert target is not None  # the same policy resolved for the first clock
    return ReportClock(
        ClockKind.NEXT, start, due_for_target(as_if, target, settings).due, stopped, target.label
    )


# -- the summary ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """The report's span ``[start, end)``."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Alarm:
    """An on-call alert of the window and how long acknowledging it took."""

    ref: str
    subject: str
    opened_at: datetime
    acknowledged_at: datetime | None
    due: datetime
    target: str
    breached: bool

    @property
    def seconds_to_ack(self) -> int | None:
        """Seconds from alert to acknowledgement, None while unacknowledged."""
        if self.acknowledged_at is None:
            return None
        return int((self.acknowledged_at - self.opened_at).total_seconds())


@dataclass(frozen=True, slots=True)
class Item:
    """A ticket named in a list of the summary, with why it is there."""

    ticket_id: int
    ref: str
    subject: str
    why: str
    assignee: str | None = None


@dataclass(frozen=True, slots=True)
class Attainment:
    """Clocks decided in the window for one plan and priority: met and total."""

    plan: str
    priority: str
    kind: ClockKind
    met: int
    total: int

    @property
    def percent(self) -> float:
        """Share met, 0..100 (100 with nothing to decide)."""
        return 100.0 if self.total == 0 else 100.0 * self.met / self.total


@dataclass(frozen=True, slots=True)
class Breach:
    """A clock that breached in the window."""

    ticket_id: int
    ref: str
    kind: ClockKind
    due: datetime
    late_seconds: int
    holder: str


@dataclass(frozen=True, slots=True)
class Sla:
    """The week's SLA numbers."""

    attainment: tuple[Attainment, ...]
    first_reply_seconds: tuple[int, ...]
    first_reply_median: int | None
    first_reply_p90: int | None
    breaches: tuple[Breach, ...]
    breaches_per_day: tuple[tuple[date, int], ...]
    breaches_by_holder: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class Handoff:
    """Everything the handoff summary shows."""

    window: Window
    alarms: tuple[Alarm, ...]
    impact: tuple[Item, ...]
    no_impact: tuple[Item, ...]
    watch: tuple[Item, ...]
    sla: Sla
    longest_investigation: tuple[Item, datetime] | None = None
    """The open ``~investigate`` issue flagged longest ago, and since when."""


def nearest_rank(values: list[int] | tuple[int, ...], pct: int) -> int | None:
    """The ``pct``-th percentile by nearest rank (the smallest value with at least ``pct``%
    of the values at or below it); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(pct * len(ordered) / 100)) - 1]


def has_impact(ticket: Ticket) -> bool:
    """End users are hit: a customer-linked tracker bug, an investigation label, P0/P1."""
    if IMPACT_LABELS.intersection(ticket.labels):
        return True
    if ticket.source is Source.TRACKER:
        return any(x.startswith("customer-") for x in ticket.labels)
    return ticket.priority in IMPACT_PRIORITIES


def _impact_why(ticket: Ticket) -> str:
    reasons = sorted(IMPACT_LABELS.intersection(ticket.labels))
    if ticket.source is Source.TRACKER:
        reasons += sorted(x for x in ticket.labels if x.startswith("customer-"))
    elif ticket.priority in IMPACT_PRIORITIES:
        reasons.append(str(ticket.priority))
    return ", ".join(reasons)


def _item(ticket: Ticket, why: str) -> Item:
    return Item(
        ticket.id, ticket_ref(ticket.source, ticket.remote_id), ticket.subject, why, ticket.assignee
    )


def _second_business_day(since: datetime, now: datetime, settings: SlaSettings) -> bool:
    """``now`` is on a business day after the one ``since`` falls on (the calendar decides)."""
    cal = settings.calendar
    local = since.astimezone(cal.tz)
    next_midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), cal.tz)
    return cal.next_opening(next_midnight) <= now


def build_handoff(
    records: list[TicketRecord],
    window: Window,
    settings: SlaSettings,
    *,
    failed_ticket_ids: frozenset[int] = frozenset(),
    next_shift_hours: int = 4,
) -> Handoff:
    """The summary of ``window`` from the cached records.

    Args:
        records: tickets with their plans and threads (at least: those open at the end, and
            those opened or changed in the window).
        window: the span; its end is "now".
        settings: SLA settings.
        failed_ticket_ids: tickets with an outbox change the backend refused.
        next_shift_hours: a running clock due within this many hours after the window is on
            the watch list.
    """
    now = window.end
    tz = settings.calendar.tz
    alarms: list[Alarm] = []
    impact: list[Item] = []
    no_impact: list[Item] = []
    watch: list[Item] = []
    decided: Counter[tuple[str, str, ClockKind]] = Counter()
    met: Counter[tuple[str, str, ClockKind]] = Counter()
    first_reply: list[int] = []
    breaches: list[Breach] = []
    soon = now + timedelta(hours=next_shift_hours)
    longest: tuple[Item, datetime] | None = None
    for rec in sorted(records, key=lambda r: r.ticket.id):
        t = rec.ticket
        ref = ticket_ref(t.source, t.remote_id)
        clocks = ticket_clocks(rec, settings)
        for c in clocks:
            key = (rec.plan or NO_PLAN, str(t.priority), c.kind)
            late = c.breached(now)
            if late and window.start <= c.due < now:
                decided[key] += 1
                end = c.stopped if c.stopped is not None else now
                holder = t.assignee or "unassigned"
                breaches.append(
                    Breach(t.id, ref, c.kind, c.due, int((end - c.due).total_seconds()), holder)
                )
            elif not late and c.stopped is not None and window.start <= c.stopped < now:
                decided[key] += 1
                met[key] += 1
            if (
                c.kind is ClockKind.FIRST
                and t.first_response_at is not None
                and window.start <= t.first_response_at < now
            ):
                first_reply.append(int((t.first_response_at - t.opened_at).total_seconds()))
        if t.channel is Channel.ALERT and window.start <= t.opened_at < now and clocks:
            first = clocks[0]
            alarms.append(
                Alarm(
                    ref,
                    t.subject,
                    t.opened_at,
                    t.first_response_at,
                    first.due,
                    first.target,
                    first.breached(now),
                )
            )
        if t.is_done or t.opened_at >= now:
            continue
        if has_impact(t):
            impact.append(_item(t, _impact_why(t)))
        elif t.source is Source.TRACKER:
            no_impact.append(_item(t, ", ".join(x for x in t.labels if x.startswith(":"))))
        reasons: list[str] = []
        if t.is_paused:
            reasons.append("waiting on the customer")
        since = t.label_since.get("~investigate")
        if since is not None and "~investigate" in t.labels:
            if longest is None or since < longest[1]:
                longest = (_item(t, "~investigate"), since)
            if _second_business_day(since, now, settings):
                reasons.append("~investigate on a second business day")
        running = [c for c in clocks if c.stopped is None and now <= c.due < soon]
        if running and not t.is_paused:
            due_in = int((min(c.due for c in running) - now).total_seconds())
            reasons.append(f"due in {format_remaining(due_in)}")
        if t.conflict:
            reasons.append("conflict with the backend")
        if t.id in failed_ticket_ids:
            reasons.append("a change failed to send")
        if reasons:
            watch.append(_item(t, "; ".join(reasons)))
    attainment = tuple(
        Attainment(plan, prio, kind, met[(plan, prio, kind)], n)
        for (plan, prio, kind), n in sorted(decided.items())
    )
    per_day: Counter[date] = Counter(b.due.astimezone(tz).date() for b in breaches)
    first_day = window.start.astimezone(tz).date()
    last_day = (now - timedelta(microseconds=1)).astimezone(tz).date()
    days = [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    holders = Counter(b.holder for b in breaches)
    sla = Sla(
        attainment,
        tuple(sorted(first_reply)),
        nearest_rank(first_reply, 50),
        nearest_rank(first_reply, 90),
        tuple(sorted(breaches, key=lambda b: (b.due, b.ticket_id))),
        tuple((d, per_day[d]) for d in days),
        tuple(sorted(holders.items(), key=lambda kv: (-kv[1], kv[0]))),
    )
    return Handoff(
        window,
        tuple(sorted(alarms, key=lambda a: a.opened_at)),
        tuple(impact),
        tuple(no_impact),
        tuple(watch),
        sla,
        longest,
    )


def attainment_by_plan(sla: Sla) -> list[tuple[str, float, int]]:
    """Attainment per plan over priorities and both clock kinds: (plan, percent, total)."""
    totals: dict[str, list[int]] = {}
    for a in sla.attainment:
        pair = totals.setdefault(a.plan, [0, 0])
        pair[0] += a.met
        pair[1] += a.total
    return [(p, 100.0 * m / n if n else 100.0, n) for p, (m, n) in sorted(totals.items())]


# -- the breach forecast ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Forecast:
    """The clocks that breach while the on-call is offline.

    Attributes:
        start: going offline at.
        end: back at.
        items: the tickets whose clock breaches in ``(start, end]``, soonest first.
        threshold: more than this many projected breaches calls for a replacement.
        already: running clocks breached before ``start`` (not projected: they are late now).
    """

    start: datetime
    end: datetime
    items: tuple[tuple[Item, datetime], ...]
    threshold: int
    already: int = 0

    @property
    def needs_replacement(self) -> bool:
        """More breaches are projected than the team's threshold allows."""
        return len(self.items) > self.threshold


def forecast(
    records: list[TicketRecord],
    now: datetime,
    hours: float,
    settings: SlaSettings,
    threshold: int,
) -> Forecast:
    """Tickets whose running clock is due before ``now + hours`` (paused ones excluded: their
    clock does not run until the customer answers)."""
    end = now + timedelta(seconds=round(hours * 3600))
    out: list[tuple[Item, datetime]] = []
    already = 0
    for rec in records:
        t = rec.ticket
        if t.is_done or t.is_paused:
            continue
        running = [c.due for c in ticket_clocks(rec, settings) if c.stopped is None]
        if any(d <= now for d in running):
            already += 1
            continue
        due = min((d for d in running if d <= end), default=None)
        if due is not None:
            left = int((due - now).total_seconds())
            out.append((_item(t, f"breaches in {format_remaining(left)}"), due))
    out.sort(key=lambda x: (x[1], x[0].ticket_id))
    return Forecast(now, end, tuple(out), threshold, already)


# -- JSON ---------------------------------------------------------------------------------------


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _item_json(item: Item) -> dict[str, Any]:
    return {"ref": item.ref, "subject": item.subject, "why": item.why, "assignee": item.assignee}


def handoff_json(h: Handoff) -> dict[str, Any]:
    """The summary as one JSON-ready object (keys documented in the README)."""
    return {
        "window": {"start": _iso(h.window.start), "end": _iso(h.window.end)},
        "alarms": [
            {
                "ref": a.ref,
                "subject": a.subject,
                "opened_at": _iso(a.opened_at),
                "acknowledged_at": _iso(a.acknowledged_at),
                "seconds_to_ack": a.seconds_to_ack,
                "due": _iso(a.due),
                "target": a.target,
                "breached": a.breached,
            }
            for a in h.alarms
        ],
        "impact": [_item_json(i) for i in h.impact],
        "no_impact": [_item_json(i) for i in h.no_impact],
        "watch": [_item_json(i) for i in h.watch],
        "sla": {
            "attainment": [
                {
                    "plan": a.plan,
                    "priority": a.priority,
                    "clock": str(a.kind),
                    "met": a.met,
                    "total": a.total,
                    "percent": round(a.percent, 1),
                }
                for a in h.sla.attainment
            ],
            "first_reply_median_seconds": h.sla.first_reply_median,
            "first_reply_p90_seconds": h.sla.first_reply_p90,
            "first_replies": len(h.sla.first_reply_seconds),
            "breaches_per_day": {d.isoformat(): n for d, n in h.sla.breaches_per_day},
            "breaches_by_holder": dict(h.sla.breaches_by_holder),
            "breaches": [
                {
                    "ref": b.ref,
                    "clock": str(b.kind),
                    "due": _iso(b.due),
                    "late_seconds": b.late_seconds,
                    "holder": b.holder,
                }
                for b in h.sla.breaches
            ],
        },
    }
