"""The on-call week: the handoff summary, its SLA numbers and the breach forecast.

Pure functions over plain records (:class:`TicketRecord`: a ticket, its customer's plan and its
thread); the store gathers the records (``Store.handoff.handoff_records``), the CLI and the Handoff
screen render what :func:`build_handoff` returns.

Every SLA number comes from the one SLA engine (:mod:`oncall_tui.domain.sla_clocks`, issue
13): each ticket's reply clocks are replayed from its stored history (``Ticket.sla_events``,
the same events the queue's clock columns are computed from) by
:func:`oncall_tui.domain.sla_history.clocks_of`. Nothing here re-derives a clock: who counts as
staff, automatic replies, ``+`` label pauses, business hours and re-targets are the engine's.

Kept in one module (a little over 500 lines): the summary's types and the one function that
builds them (with the forecast and the JSON beside them) read as one.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from oncall_tui.domain.calendars import from_epoch, to_epoch
from oncall_tui.domain.sla import SlaSettings, format_remaining
from oncall_tui.domain.sla_clocks import ClockState, Metric, ReplyClock
from oncall_tui.domain.sla_history import clocks_of
from oncall_tui.domain.tickets import Channel, Comment, Priority, Source, Ticket, ticket_ref

#: Labels that mean end users are hit (the escalation label state machine of DOMAIN.md).
IMPACT_LABELS = frozenset({"~investigate", ":help-customers"})
#: Priorities that mean end users are hit.
IMPACT_PRIORITIES = frozenset({Priority.P0, Priority.P1})
#: The plan key for tickets without a known plan.
NO_PLAN = "none"


class ClockKind(StrEnum):
    """Which response a clock waits for (the report's names for the engine's metrics)."""

    FIRST = "first"
    NEXT = "next"


def kind_of(clock: ReplyClock) -> ClockKind:
    """The report's name of an engine clock's metric."""
    return ClockKind.FIRST if clock.metric is Metric.FIRST_REPLY else ClockKind.NEXT


@dataclass(frozen=True, slots=True)
class TicketRecord:
    """What the report needs about one ticket.

    Attributes:
        ticket: the cached ticket (with its SLA history, ``sla_events``).
        plan: the customer's plan, or None.
        comments: its thread, in any order.
        holders: who held the ticket since when (oldest first): ``(since, assignee or
            None)``; empty when no history is known (the current assignee is then taken).
    """

    ticket: Ticket
    plan: str | None = None
    comments: tuple[Comment, ...] = ()
    holders: tuple[tuple[datetime, str | None], ...] = ()

    def holder_at(self, at: datetime) -> str | None:
        """Who held the ticket at ``at``: the last assignment at or before it (the first
        known one for an instant before any), else the current assignee."""
        if not self.holders:
            return self.ticket.assignee
        held = self.holders[0][1]
        for since, who in self.holders:
            if since > at:
                break
            held = who
        return held


def record_clocks(record: TicketRecord, settings: SlaSettings, now: datetime) -> list[ReplyClock]:
    """The ticket's reply clocks at ``now`` as the engine replays them (targeted ones only:
    a clock without a target is never met nor breached)."""
    report = clocks_of(record.ticket, record.plan, settings, now)
    return list(report.targeted)


def _due_of(record: TicketRecord, clock: ReplyClock, settings: SlaSettings) -> datetime | None:
    """When ``clock`` was due: its breach, its running due, or (met) the due it had just
    before it was answered, replayed by the engine one second earlier; None while paused."""
    if clock.breached_at is not None:
        return clock.breached_at
    if clock.due_at is not None:
        return clock.due_at
    if clock.fulfilled_at is None:
        return None
    before = from_epoch(to_epoch(clock.fulfilled_at) - 1)
    if before < clock.activated_at:
        return None
    for c in clocks_of(record.ticket, record.plan, settings, before).targeted:
        if c.activated_at == clock.activated_at:
            return c.breached_at or c.due_at
    return None


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
    due: datetime | None
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
    """A clock that breached in the window.

    Attributes:
        due: the breach instant (the engine's ``breached_at``).
        late_seconds: from the breach to the answer, or to the window's end while unanswered.
        holder: who held the ticket at the breach instant.
    """

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
        clocks = record_clocks(rec, settings, now)
        for c in clocks:
            key = (rec.plan or NO_PLAN, str(t.priority), kind_of(c))
            at = c.breached_at
            if at is not None:
                if window.start <= at < now:
                    decided[key] += 1
                    end = c.fulfilled_at if c.fulfilled_at is not None else now
                    holder = rec.holder_at(at) or "unassigned"
                    breaches.append(
                        Breach(t.id, ref, kind_of(c), at, int((end - at).total_seconds()), holder)
                    )
            elif c.fulfilled_at is not None and window.start <= c.fulfilled_at < now:
                decided[key] += 1
                met[key] += 1
            if (
                c.metric is Metric.FIRST_REPLY
                and c.fulfilled_by == "reply"
                and c.fulfilled_at is not None
                and window.start <= c.fulfilled_at < now
            ):
                first_reply.append(int((c.fulfilled_at - c.activated_at).total_seconds()))
        first = next((c for c in clocks if c.metric is Metric.FIRST_REPLY), None)
        if t.channel is Channel.ALERT and window.start <= t.opened_at < now and first:
            assert first.target is not None  # targeted clocks only
            alarms.append(
                Alarm(
                    ref,
                    t.subject,
                    t.opened_at,
                    first.fulfilled_at if first.fulfilled_by == "reply" else None,
                    _due_of(rec, first, settings),
                    first.target.label,
                    first.breached_at is not None,
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
        running = [
            c.due_at
            for c in clocks
            if c.state is ClockState.ACTIVE and c.due_at is not None and now <= c.due_at < soon
        ]
        if running and not t.is_paused:
            due_in = int((min(running) - now).total_seconds())
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
    """Tickets whose running clock (the engine's current one) is due before ``now + hours``
    (paused ones excluded: their clock does not run until the customer answers)."""
    end = now + timedelta(seconds=round(hours * 3600))
    out: list[tuple[Item, datetime]] = []
    already = 0
    for rec in records:
        t = rec.ticket
        if t.is_done:
            continue
        clock = clocks_of(t, rec.plan, settings, now).current
        if clock is None:
            continue
        if clock.state is ClockState.BREACHED:
            already += 1
            continue
        due = clock.due_at  # None while paused: it does not run until the customer answers
        if due is not None and due <= end:
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
