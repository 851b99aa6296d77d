"""First-response SLA: targets, due instants, countdown states and the ``[sla]`` config.

Two speeds, on purpose:

1. :func:`compute_due` walks the business calendar. Call it when a ticket changes and store
   the result on the ticket (``sla_due``, ``sla_warn_at``, ``sla_target``), so sorting by
   urgency is an index scan.
2. :func:`state_at` and :func:`countdown_text` are O(1) on those stored instants: the queue's
   once-a-second tick uses only them. :func:`evaluate` does the full job for one ticket (detail
   views, tests, the CLI).

Which target applies (first match wins):

* A ticket with a first response, or solved/closed, has no countdown (``evaluate`` reports
  ``met``).
* Channel rules: chat threads (``Source.CHAT`` or ``Channel.CHAT``) 24 calendar hours; tracker
  issues (``Source.TRACKER`` or ``Channel.TRACKER``) none; contact form (``Channel.FORM``)
  4 business hours; on-call alerts (``Channel.ALERT``) 1 hour if opened in business hours,
  else 4 hours. A channel rule wins over the customer's plan.
* Otherwise the plan x priority table (plan names are case-insensitive; unknown plan or no
  plan: no target). Rules with two values pick by whether the ticket was *opened* in business
  hours (opened exactly at the close counts as outside).

Targets are written ``<number><unit>``: ``m``/``h``/``d`` are calendar minutes, hours and
24-hour days; ``bm``/``bh``/``bd`` are business minutes, hours and days. One business day is
``business_day_hours`` if set, else the calendar's longest weekday (9 h by default), so "1bd"
is one full day's window. Fractions are allowed ("0.25h"); amounts round to whole seconds.

Pauses: a ticket is paused while its status is pending/hold or it carries a label starting
with "+". :func:`update_pauses` records those spans in ``Ticket.pauses``; they are excluded
from consumed time (for business targets only their business seconds count), so on resume
the remaining time carries on. While a ticket is paused its stored due is what it would be
if it resumed at the pause's start; the state is ``paused`` until it resumes and the due is
recomputed.

States: ``breached`` from the due instant on (nothing left; the countdown goes negative);
``critical`` while at most ``critical_minutes`` are left; ``warning`` from ``warn_at``, the
instant 1 - ``warning_fraction`` of the target (in the target's own units) is consumed; else
``ok``. ``paused`` and ``none`` (no target) win over all of them.

The ``[sla]`` table of the config file (every key optional; the values shown are the
defaults, except the closures and Wednesday's split day, which are examples)::

    [sla]
    timezone = "America/Los_Angeles"  # IANA zone of the hours and closures
    holidays = "US"               # public holidays on observed days; a country code or false
    warning_fraction = 0.25       # warning once at most this share of the target is left
    critical_minutes = 15         # critical once at most this many minutes are left
    business_day_hours = 9        # length of "1bd"; default: the longest weekday's hours

    [sla.hours]                   # replaces the whole week; a day left out is closed
    monday = ["07:00-16:00"]
    tuesday = ["07:00-16:00"]
    wednesday = ["09:00-12:00", "13:00-17:00"]  # several windows a day are fine
    thursday = ["07:00-16:00"]
    friday = ["07:00-16:00"]

    [[sla.closures]]              # whole day
    date = 2026-12-24             # TOML date or "2026-12-24"
    name = "Company day"

    [[sla.closures]]              # half day: closes at 12:00 (`to` alone: opens late)
    date = 2026-12-31
    from = "12:00"
    name = "New Year's Eve"

    [[sla.closures]]              # several whole days, both ends included
    start = 2027-08-02
    end = 2027-08-06
    name = "Offsite"

    [[sla.closures]]              # one-off span; local wall time, or with an offset
    start = 2027-03-10T13:00:00
    end = 2027-03-11T10:30:00
    name = "Office move"

    [sla.targets]                 # plan -> priority -> target; "none" = no target
    free = "none"

    [sla.targets.premium]
    P0 = "4h"
    P1 = "4bh"
    P2 = "1bd"
    P3 = "2bd"

    [sla.targets.ultimate]
    P0 = { in_hours = "1h", out_of_hours = "2h" }
    P1 = { in_hours = "2h", out_of_hours = "4h" }
    P2 = "1bd"
    P3 = "1bd"

    [sla.next_reply.premium]      # example; by default next replies use the first-reply targets
    P3 = "3bd"

    [sla.customer_reply.zendesk]  # who ends the waiting when a customer writes (below)
    reopens = true                # Zendesk itself turns pending (and solved) into open
    removes_waiting_labels = false  # true if a trigger or bot takes "+" tags off itself

    [sla.customer_reply.github]
    removes_waiting_labels = false  # true if a workflow takes "+" labels off itself

    [sla.channels]                # "plan" = no channel rule, use the plan table
    chat = "24h"
    form = "4bh"
    alert = { in_hours = "1h", out_of_hours = "4h" }
    tracker = "none"

A customer's public message ends the waiting at once: pending (and solved) becomes open,
``+`` labels come off, on hold stays on hold. The cached ticket shows it at once; what the
backend does not do by itself is queued to it (one outbox entry per triggering message).
``[sla.customer_reply.<backend>]`` says what the backend does by itself: by default Zendesk
reopens (its own rule for a requester's reply) and nothing removes ``+`` labels, so their
removal is queued (removing a label already gone is harmless, a label left on is not).

Merging with the defaults: top-level keys, channels and each plan's priorities override
one by one (a priority left out of a built-in plan keeps its default; of a new plan, none);
``[sla.hours]`` and ``[[sla.closures]]`` replace the defaults as a whole.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
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
    from_epoch,
    load_zone,
    parse_clock,
    to_epoch,
    validate_day,
)
from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.domain.tickets import (
    DONE_STATUSES,
    Channel,
    PauseInterval,
    Priority,
    Source,
    Ticket,
)

#: What a countdown shows when there is nothing to count.
NO_COUNTDOWN = "—"
_ZERO = timedelta(0)
_PRIORITIES = (Priority.P0, Priority.P1, Priority.P2, Priority.P3)


class SlaStateName(StrEnum):
    """Where a ticket stands against its target; the UI maps these to theme variables."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    BREACHED = "breached"
    PAUSED = "paused"
    NONE = "none"


class SpanUnit(StrEnum):
    """Unit of a target: calendar (``m``, ``h``, ``d``) or business (``bm``, ``bh``, ``bd``)."""

    MINUTES = "m"
    HOURS = "h"
    DAYS = "d"
    BUSINESS_MINUTES = "bm"
    BUSINESS_HOURS = "bh"
    BUSINESS_DAYS = "bd"


_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86_400, "bm": 60, "bh": 3600}
#: The longest target, per unit: a year of calendar time, or of business time counted as
#: if every hour were a business hour (no support plan promises more; far longer targets
#: overflow the date arithmetic).
MAX_SPAN = {"m": 366 * 1440, "h": 366 * 24, "d": 366, "bm": 366 * 1440, "bh": 366 * 24, "bd": 366}
#: The longest "critical" threshold, in minutes: a week.
MAX_CRITICAL_MINUTES = 7 * 24 * 60
_SPAN_RE = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(bd|bh|bm|d|h|m)\s*$", re.IGNORECASE)


def _amount_text(amount: Fraction) -> str:
    if amount.denominator == 1:
        return str(amount.numerator)
    return f"{float(amount):.6g}"


@dataclass(frozen=True, slots=True)
class TargetSpan:
    """An amount of time a target allows, e.g. 4 business hours.

    Attributes:
        amount: how many units (positive, possibly fractional).
        unit: calendar or business minutes, hours, days.
    """

    amount: Fraction
    unit: SpanUnit

    def __post_init__(self) -> None:
        if self.amount <= 0:
            raise ValueError(f"a target must be positive: {self.amount}")

    @classmethod
    def parse(cls, text: str) -> TargetSpan:
        """Parse ``"4h"``, ``"4bh"``, ``"1bd"``, ``"0.25h"``, ``"30bm"``...

        Raises:
            ValueError: not of that shape, zero, or longer than a year (:data:`MAX_SPAN`).
        """
        m = _SPAN_RE.match(text)
        if not m:
            raise ValueError(f"not a duration like 4h, 4bh or 1bd: {text!r}")
        amount, unit = Fraction(m[1]), m[2].lower()
        if amount > MAX_SPAN[unit]:
            raise ValueError(f"longer than a year: {text!r}")
        return cls(amount, SpanUnit(unit))

    @property
    def business(self) -> bool:
        """True when counted in business time."""
        return self.unit.startswith("b")

    def seconds(self, business_day_seconds: int) -> int:
        """Length in (business or calendar) seconds, rounded to the nearest second."""
        per_unit = _UNIT_SECONDS.get(self.unit, business_day_seconds)
        return math.floor(self.amount * per_unit + Fraction(1, 2))

    @property
    def label(self) -> str:
        """Short human label: ``4h``, ``4 business h``, ``1 business day``, ``30 business min``."""
        n = _amount_text(self.amount)
        match self.unit:
            case SpanUnit.BUSINESS_MINUTES:
                return f"{n} business min"
            case SpanUnit.BUSINESS_HOURS:
                return f"{n} business h"
            case SpanUnit.BUSINESS_DAYS:
                return f"{n} business day" + ("" if self.amount <= 1 else "s")
            case _:
                return f"{n}{self.unit.value}"

    def __str__(self) -> str:
        return f"{_amount_text(self.amount)}{self.unit.value}"


@dataclass(frozen=True, slots=True)
class TargetRule:
    """A configured target, possibly depending on whether the ticket arrived in hours.

    Attributes:
        in_hours: target for tickets opened in business hours (None: no target).
        out_of_hours: target for tickets opened outside them (None: no target).
    """

    in_hours: TargetSpan | None
    out_of_hours: TargetSpan | None

    @classmethod
    def fixed(cls, span: TargetSpan | str) -> TargetRule:
        """The same target whenever the ticket arrived (a string is parsed)."""
        s = TargetSpan.parse(span) if isinstance(span, str) else span
        return cls(s, s)

    @classmethod
    def by_hours(cls, in_hours: str, out_of_hours: str) -> TargetRule:
        """Different targets in and out of business hours, e.g. ``by_hours("1h", "2h")``."""
        return cls(TargetSpan.parse(in_hours), TargetSpan.parse(out_of_hours))

    @property
    def depends_on_arrival(self) -> bool:
        """True when in- and out-of-hours targets differ."""
        return self.in_hours != self.out_of_hours


@dataclass(frozen=True, slots=True)
class PlanTargets:
    """A support plan's targets by priority (None: no target for that priority).

    Attributes:
        name: plan name, lower case (matched case-insensitively).
        rules: targets for P0, P1, P2, P3 in that order.
    """

    name: str
    rules: tuple[TargetRule | None, TargetRule | None, TargetRule | None, TargetRule | None]

    def rule(self, priority: Priority) -> TargetRule | None:
        """The rule for one priority."""
        return self.rules[_PRIORITIES.index(priority)]


class TicketKind(StrEnum):
    """Kinds of ticket that may carry a channel rule instead of the plan's targets."""

    CHAT = "chat"
    FORM = "form"
    ALERT = "alert"
    TRACKER = "tracker"


def _kind_of(source: Source, channel: Channel) -> TicketKind | None:
    if source is Source.CHAT or channel is Channel.CHAT:
        return TicketKind.CHAT
    if source is Source.TRACKER or channel is Channel.TRACKER:
        return TicketKind.TRACKER
    if channel is Channel.FORM:
        return TicketKind.FORM
    if channel is Channel.ALERT:
        return TicketKind.ALERT
    return None


_KINDS = {(s, c): _kind_of(s, c) for s in Source for c in Channel}


def ticket_kind(ticket: Ticket) -> TicketKind | None:
    """The channel-rule kind of a ticket, or None for plain help-desk tickets (email...).

    Chat wins over tracker, tracker over form and alert (a chat thread stays a chat thread
    whatever channel it is filed under).
    """
    return _KINDS[ticket.source, ticket.channel]


@dataclass(frozen=True, slots=True)
class SlaTarget:
    """The target that applies to one ticket.

    Attributes:
        label: short text for the UI and ``Ticket.sla_target``, e.g. ``4 business h``.
        seconds: its length, in business seconds if ``business`` else calendar seconds.
        business: counted in business time.
        reason: which rule chose it, e.g. ``ultimate P0, opened out of hours``.
        warn_after: target time consumed when the warning starts (all but the warning
            fraction, floored); defaults to ``seconds``.
    """

    label: str
    seconds: int
    business: bool
    reason: str
    warn_after: int = -1

    def __post_init__(self) -> None:
        if self.warn_after < 0:
            object.__setattr__(self, "warn_after", self.seconds)


@dataclass(frozen=True, slots=True)
class DueInfo:
    """What :func:`compute_due` stores on a ticket.

    Attributes:
        due: when the first response is due (UTC).
        warn_at: when the warning starts: 1 - warning_fraction of the target consumed.
        target: the target that applied.
    """

    due: datetime
    warn_at: datetime
    target: SlaTarget

    @property
    def target_label(self) -> str:
        """``target.label``, the value for ``Ticket.sla_target``."""
        return self.target.label


@dataclass(frozen=True, slots=True)
class SlaState:
    """Full evaluation of one ticket at one instant (see :func:`evaluate`).

    Attributes:
        target: the target, or None when no target applies.
        due: due instant (UTC) as stored by :func:`compute_due`, or None.
        warn_at: warning instant, or None.
        remaining: time left, negative once breached; wall-clock time until ``due`` while
            running, the unconsumed part of the target (in its units) while paused; None
            without a countdown.
        elapsed: target time consumed so far (business time for business targets), None
            without a target.
        paused_for: time excluded by pauses, in the target's units (zero without a target).
        state: the state name.
        met: the ticket was answered (or solved), not after its due if it had a target;
            a late first response gives False.
        text: the countdown text.
    """

    target: SlaTarget | None
    due: datetime | None
    warn_at: datetime | None
    remaining: timedelta | None
    elapsed: timedelta | None
    paused_for: timedelta
    state: SlaStateName
    met: bool
    text: str


def _default_plans() -> tuple[PlanTargets, ...]:
    fixed, by_hours = TargetRule.fixed, TargetRule.by_hours
    return (
        PlanTargets("free", (None, None, None, None)),
        PlanTargets("premium", (fixed("4h"), fixed("4bh"), fixed("1bd"), fixed("2bd"))),
        PlanTargets(
            "ultimate",
            (by_hours("1h", "2h"), by_hours("2h", "4h"), fixed("1bd"), fixed("1bd")),
        ),
    )


def _default_channels() -> tuple[tuple[TicketKind, TargetRule | None], ...]:
    return (
        (TicketKind.CHAT, TargetRule.fixed("24h")),
        (TicketKind.FORM, TargetRule.fixed("4bh")),
        (TicketKind.ALERT, TargetRule.by_hours("1h", "4h")),
        (TicketKind.TRACKER, None),
    )


# Resolved targets for a rule: (in_hours, out_of_hours, depends_on_arrival).
_Resolved = tuple[SlaTarget | None, SlaTarget | None, bool]


@dataclass(frozen=True, slots=True)
class WaitEnd:
    """What a backend does by itself when a customer's message ends the waiting.

    Attributes:
        reopens: it turns a pending (or solved) ticket into open.
        removes_waiting_labels: it takes ``+`` labels off (a trigger, a bot, a workflow).
    """

    reopens: bool = False
    removes_waiting_labels: bool = False


#: The backends' own behaviour by default: Zendesk reopens a pending or solved ticket when the
#: requester replies; nothing is known to take ``+`` labels off.
DEFAULT_WAIT_END: tuple[tuple[str, WaitEnd], ...] = (
    ("zendesk", WaitEnd(reopens=True)),
    ("github", WaitEnd()),
    ("slack", WaitEnd()),
)
_WAIT_END_KEYS = ("reopens", "removes_waiting_labels")


@dataclass(frozen=True, slots=True)
class SlaSettings:
    """Everything the SLA engine is configured with (see the module docstring for TOML).

    Attributes:
        calendar: business hours, holidays and closures.
        plans: per-plan targets.
        channels: channel rules; a kind listed with None has no target, a kind not listed
            falls back to the plan's targets.
        customer_reply: by backend name, what it does by itself when a customer's message
            ends the waiting (the rest is queued to it).
        warning_fraction: warning once at most this share of the target is left.
        critical_seconds: critical once at most this is left.
        business_day_seconds: the length of one business day ("1bd"); 0 (the default)
            means the calendar's longest weekday (see ``BusinessCalendar.business_day_seconds``).
    """

    calendar: BusinessCalendar
    plans: tuple[PlanTargets, ...]
    channels: tuple[tuple[TicketKind, TargetRule | None], ...]
    warning_fraction: Fraction = Fraction(1, 4)
    critical_seconds: int = 15 * 60
    business_day_seconds: int = 0
    next_reply: tuple[tuple[str, Priority, TargetRule | None], ...] = ()
    customer_reply: tuple[tuple[str, WaitEnd], ...] = DEFAULT_WAIT_END
    _plan_lookup: dict[tuple[str, Priority], _Resolved | None] = field(
        init=False, repr=False, compare=False, hash=False
    )
    _channel_lookup: dict[TicketKind, _Resolved | None] = field(
        init=False, repr=False, compare=False, hash=False
    )
    _next_lookup: dict[tuple[str, Priority], _Resolved | None] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        if not 0 <= self.warning_fraction < 1:
            raise ValueError("warning_fraction must be in [0, 1)")
        if self.critical_seconds < 0 or self.business_day_seconds < 0:
            raise ValueError("critical_seconds and business_day_seconds must be >= 0")
        if self.business_day_seconds == 0:
            object.__setattr__(self, "business_day_seconds", self.calendar.business_day_seconds)
        plans = {
            (p.name.lower(), prio): self._resolve(p.rule(prio), f"{p.name} {prio}")
            for p in self.plans
            for prio in _PRIORITIES
        }
        channels = {kind: self._resolve(rule, _KIND_REASON[kind]) for kind, rule in self.channels}
        object.__setattr__(self, "_plan_lookup", plans)
        nexts = {
            (name.lower(), prio): self._resolve(rule, f"{name.lower()} {prio} next reply")
            for name, prio, rule in self.next_reply
        }
        object.__setattr__(self, "_next_lookup", nexts)
        object.__setattr__(self, "_channel_lookup", channels)

    @classmethod
    def default(cls) -> SlaSettings:
        """The targets and calendar of DOMAIN.md."""
        return cls(BusinessCalendar(), _default_plans(), _default_channels())

    def wait_end(self, backend: str) -> WaitEnd:
        """What ``backend`` (``zendesk``, ``github``...) does by itself when a customer's
        message ends the waiting; an unknown backend does nothing by itself."""
        return next((w for name, w in self.customer_reply if name == backend), WaitEnd())

    def plan(self, name: str) -> PlanTargets | None:
        """The plan called ``name`` (case-insensitive), or None."""
        key = name.lower()
        return next((p for p in self.plans if p.name.lower() == key), None)

    def _resolve(self, rule: TargetRule | None, reason: str) -> _Resolved | None:
        if rule is None:
            return None

        def one(span: TargetSpan | None, when: str) -> SlaTarget | None:
            if span is None:
                return None
            seconds = span.seconds(self.business_day_seconds)
            warn = _warn_amount(seconds, self.warning_fraction)
            return SlaTarget(span.label, seconds, span.business, reason + when, warn)

        if not rule.depends_on_arrival:
            same = one(rule.in_hours, "")
            return (same, same, False)
        return (
            one(rule.in_hours, ", opened in hours"),
            one(rule.out_of_hours, ", opened out of hours"),
            True,
        )


_KIND_REASON = {
    TicketKind.CHAT: "chat thread",
    TicketKind.FORM: "contact form",
    TicketKind.ALERT: "on-call alert",
    TicketKind.TRACKER: "tracker issue",
}


def _plan_of(ticket: Ticket, plan: str | None) -> str | None:
    return plan if plan is not None else ticket.extra.get("plan")


def resolve_target(
    ticket: Ticket, settings: SlaSettings, plan: str | None = None
) -> SlaTarget | None:
    """The target that applies to ``ticket``, ignoring whether it was answered.

    Args:
        ticket: the ticket.
        settings: SLA settings.
        plan: the customer's plan; None falls back to ``ticket.extra["plan"]``.
    """
    kind = ticket_kind(ticket)
    resolved: _Resolved | None
    if kind is not None and kind in settings._channel_lookup:
        resolved = settings._channel_lookup[kind]
    else:
        name = _plan_of(ticket, plan)
        if name is None:
            return None
        resolved = settings._plan_lookup.get((name.lower(), ticket.priority))
    if resolved is None:
        return None
    in_hours, out_of_hours, depends = resolved
    if not depends:
        return in_hours
    return in_hours if settings.calendar.is_open(ticket.opened_at) else out_of_hours


def clock_target(
    settings: SlaSettings,
    *,
    plan: str | None,
    priority: Priority,
    source: Source,
    channel: Channel,
    at: datetime,
    next_reply: bool = False,
) -> SlaTarget | None:
    """The target of a reply clock activated at ``at`` (in or out of hours is judged then).

    A channel rule wins; then, for a next-reply clock, the ``[sla.next_reply]`` override of
    the plan and priority if there is one; else the plan x priority table.
    """
    kind = _KINDS[source, channel]
    resolved: _Resolved | None
    if kind is not None and kind in settings._channel_lookup:
        resolved = settings._channel_lookup[kind]
    elif plan is None:
        return None
    else:
        key = (plan.lower(), priority)
        if next_reply and key in settings._next_lookup:
            resolved = settings._next_lookup[key]
        else:
            resolved = settings._plan_lookup.get(key)
    if resolved is None:
        return None
    in_hours, out_of_hours, depends = resolved
    if not depends:
        return in_hours
    return in_hours if settings.calendar.is_open(at) else out_of_hours


def _pause_spans(pauses: Sequence[PauseInterval], start: int) -> list[tuple[int, int | None]]:
    """Pauses as sorted, merged epoch spans clipped to begin at ``start`` (end None: ongoing)."""
    spans = sorted(
        (max(to_epoch(p.start), start), None if p.end is None else to_epoch(p.end))
        for p in pauses
        if p.end is None or to_epoch(p.end) > start
    )
    out: list[tuple[int, int | None]] = []
    for s, e in spans:
        if e is not None and e <= s:
            continue
        if out:
            ps, pe = out[-1]
            if pe is None:
                break  # an ongoing pause swallows everything after it
            if s <= pe:
                out[-1] = (ps, None if e is None else max(pe, e))
                continue
        out.append((s, e))
    return out


def _deadline(
    calendar: BusinessCalendar,
    start: int,
    amount: int,
    business: bool,
    spans: list[tuple[int, int | None]],
) -> int:
    """Epoch instant at which ``amount`` of target time is consumed, skipping pause spans.

    An ongoing pause counts as if it ended at its start (the due while paused is the due
    on immediate resumption; it is recomputed when the ticket really resumes).
    """
    cursor, left = start, amount
    for ps, pe in spans:
        candidate = calendar.add_epoch(cursor, left) if business else cursor + left
        if candidate <= ps or pe is None:
            return candidate
        left -= calendar.between_epoch(cursor, ps) if business else ps - cursor
        cursor = pe
    return calendar.add_epoch(cursor, left) if business else cursor + left


def _warn_amount(seconds: int, fraction: Fraction) -> int:
    """Target time consumed when the warning starts: all but ``fraction`` of it (floored)."""
    return seconds - math.floor(seconds * fraction)


def due_for_target(ticket: Ticket, target: SlaTarget, settings: SlaSettings) -> DueInfo:
    """Due and warning instants of ``ticket`` for a given target, honouring its pauses."""
    cal = settings.calendar
    t0 = to_epoch(ticket.opened_at)
    total = target.seconds
    warn = target.warn_after
    if not ticket.pauses:
        if target.business:
            due, warn_at = cal.add_epoch(t0, total), cal.add_epoch(t0, warn)
        else:
            due, warn_at = t0 + total, t0 + warn
    else:
        spans = _pause_spans(ticket.pauses, t0)
        due = _deadline(cal, t0, total, target.business, spans)
        warn_at = _deadline(cal, t0, warn, target.business, spans)
    return DueInfo(from_epoch(due), from_epoch(warn_at), target)


def compute_due(ticket: Ticket, settings: SlaSettings, plan: str | None = None) -> DueInfo | None:
    """Due and warning instants for a ticket: call on change and store the result.

    Args:
        ticket: the ticket, with its ``pauses``.
        settings: SLA settings.
        plan: the customer's plan; None falls back to ``ticket.extra["plan"]``.

    Returns:
        None when there is no countdown: answered, solved/closed, or no target applies.
    """
    if ticket.first_response_at is not None or ticket.status in DONE_STATUSES:
        return None
    target = resolve_target(ticket, settings, plan)
    if target is None:
        return None
    return due_for_target(ticket, target, settings)


def state_at(
    due: datetime | None,
    warn_at: datetime | None,
    paused: bool,
    now: datetime,
    critical_seconds: int = 15 * 60,
) -> SlaStateName:
    """The state from stored instants, in O(1): this is what the per-second tick calls.

    The boundaries match the store's ``sla:`` query filters: ``breached`` from ``due`` on
    (nothing left), ``critical`` while at most ``critical_seconds`` are left, ``warning``
    from ``warn_at`` on, else ``ok``; ``none`` without a due, ``paused`` while paused.
    """
    if due is None:
        return SlaStateName.NONE
    if paused:
        return SlaStateName.PAUSED
    left = due - now
    if left <= _ZERO:
        return SlaStateName.BREACHED
    if left <= timedelta(seconds=critical_seconds):
        return SlaStateName.CRITICAL
    if warn_at is not None and now >= warn_at:
        return SlaStateName.WARNING
    return SlaStateName.OK


def format_remaining(seconds: int) -> str:
    """Compact signed duration: ``42s``, ``47m``, ``3h 12m``, ``2d 04h``, ``-1h 05m``.

    The magnitude is truncated to the unit shown (47 min 59 s shows ``47m``).
    """
    sign = "-" if seconds < 0 else ""
    a = abs(seconds)
    if a < 60:
        return f"{sign}{a}s"
    if a < 3600:
        return f"{sign}{a // 60}m"
    if a < 86_400:
        return f"{sign}{a // 3600}h {a % 3600 // 60:02d}m"
    return f"{sign}{a // 86_400}d {a % 86_400 // 3600:02d}h"


def countdown_text(due: datetime | None, paused: bool, now: datetime) -> str:
    """Countdown for a stored due, in O(1): ``—`` without a target, ``paused``, else time left."""
    if due is None:
        return NO_COUNTDOWN
    if paused:
        return "paused"
    return format_remaining(math.floor((due - now).total_seconds()))


def time_left(ticket: Ticket, now: datetime) -> timedelta | None:
    """Wall-clock time until the ticket's stored ``sla_due``; negative once breached."""
    return None if ticket.sla_due is None else ticket.sla_due - now


def ticket_state(ticket: Ticket, now: datetime, settings: SlaSettings) -> SlaStateName:
    """:func:`state_at` on the ticket's stored ``sla_due``/``sla_warn_at``."""
    return state_at(
        ticket.sla_due, ticket.sla_warn_at, ticket.is_paused, now, settings.critical_seconds
    )


def with_due(ticket: Ticket, settings: SlaSettings, plan: str | None = None) -> Ticket:
    """``ticket`` with ``sla_due``, ``sla_warn_at`` and ``sla_target`` recomputed."""
    info = compute_due(ticket, settings, plan)
    if info is None:
        return replace(ticket, sla_due=None, sla_warn_at=None, sla_target=None)
    return replace(ticket, sla_due=info.due, sla_warn_at=info.warn_at, sla_target=info.target_label)


def evaluate(
    ticket: Ticket, now: datetime, settings: SlaSettings, plan: str | None = None
) -> SlaState:
    """Full SLA picture of one ticket at ``now`` (walks the calendar: not for the tick).

    Args:
        ticket: the ticket, with its ``pauses``.
        now: the instant to evaluate at.
        settings: SLA settings.
        plan: the customer's plan; None falls back to ``ticket.extra["plan"]``.
    """
    target = resolve_target(ticket, settings, plan)
    answered = ticket.first_response_at is not None or ticket.status in DONE_STATUSES
    if target is None:
        return SlaState(
            None, None, None, None, None, timedelta(0), SlaStateName.NONE, answered, NO_COUNTDOWN
        )
    info = due_for_target(ticket, target, settings)
    cal = settings.calendar
    t0 = to_epoch(ticket.opened_at)
    responded = ticket.first_response_at
    until = to_epoch(now) if responded is None else min(to_epoch(now), to_epoch(responded))
    until = max(until, t0)

    def measure(a: int, b: int) -> int:
        return cal.between_epoch(a, b) if target.business else b - a

    paused = 0
    for ps, pe in _pause_spans(ticket.pauses, t0):
        if ps >= until:
            break
        paused += measure(ps, until if pe is None else min(pe, until))
    elapsed = measure(t0, until) - paused

    if answered:
        met = responded is None or responded <= info.due
        return SlaState(
            target,
            info.due,
            info.warn_at,
            None,
            timedelta(seconds=elapsed),
            timedelta(seconds=paused),
            SlaStateName.NONE,
            met,
            NO_COUNTDOWN,
        )
    is_paused = ticket.is_paused
    if is_paused:
        remaining = timedelta(seconds=target.seconds - elapsed)
    else:
        remaining = info.due - now
    return SlaState(
        target,
        info.due,
        info.warn_at,
        remaining,
        timedelta(seconds=elapsed),
        timedelta(seconds=paused),
        state_at(info.due, info.warn_at, is_paused, now, settings.critical_seconds),
        False,
        countdown_text(info.due, is_paused, now),
    )


def update_pauses(old: Ticket | None, new: Ticket, at: datetime) -> tuple[PauseInterval, ...]:
    """The pause intervals ``new`` should carry after a change observed at ``at``.

    Pauses are local bookkeeping (backends do not send them), so they are carried over from
    ``old`` when there is one. An interval opens when the ticket becomes paused and closes
    when it stops being paused (or is solved/closed); otherwise nothing changes.
    """
    pauses = old.pauses if old is not None else new.pauses
    ongoing = bool(pauses) and pauses[-1].end is None
    should_pause = new.is_paused and not new.is_done
    if should_pause and not ongoing:
        last_end = pauses[-1].end if pauses else None
        start = at if last_end is None or at >= last_end else last_end
        return (*pauses, PauseInterval(start, None))
    if ongoing and not should_pause:
        last = pauses[-1]
        return (*pauses[:-1], PauseInterval(last.start, max(at, last.start)))
    return pauses


# -- config parsing ------------------------------------------------------------------------

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
    plans = {p.name: p for p in _default_plans()}
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
                rules[_PRIORITIES.index(prio)] = _parse_rule(rule, f"{pkey}.{prio_key}")
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
            out.extend((name.lower(), prio, None) for prio in _PRIORITIES)
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
        _check_keys(spec, bkey, _WAIT_END_KEYS)
        for flag, flag_value in spec.items():
            if not isinstance(flag_value, bool):
                raise _fail(f"{bkey}.{flag}", "true or false", flag_value)
        out[name] = replace(out[name], **spec)
    return tuple(out.items())


def _parse_channels(value: object, key: str) -> tuple[tuple[TicketKind, TargetRule | None], ...]:
    table = _table(value, key)
    _check_keys(table, key, [k.value for k in TicketKind])
    channels: dict[TicketKind, TargetRule | None] = dict(_default_channels())
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

    plans = _parse_plans(d["targets"], k + "targets") if "targets" in d else _default_plans()
    channels = (
        _parse_channels(d["channels"], k + "channels") if "channels" in d else _default_channels()
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
