"""SLA policy: which first-response target a ticket has, and the settings that say so.

The target spans (``4h``, ``4bh``, ``1bd``), the channel and plan x priority rules, the
wait-end rules of each backend, :class:`SlaSettings`, and :func:`resolve_target` /
:func:`clock_target` (first match wins; see :mod:`oncall_tui.domain.sla`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction

from oncall_tui.domain.calendars import BusinessCalendar
from oncall_tui.domain.tickets import (
    Channel,
    Priority,
    Source,
    Ticket,
)

#: What a countdown shows when there is nothing to count.
NO_COUNTDOWN = "—"
_ZERO = timedelta(0)
PRIORITIES = (Priority.P0, Priority.P1, Priority.P2, Priority.P3)


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
        return self.rules[PRIORITIES.index(priority)]


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


def default_plans() -> tuple[PlanTargets, ...]:
    fixed, by_hours = TargetRule.fixed, TargetRule.by_hours
    return (
        PlanTargets("free", (None, None, None, None)),
        PlanTargets("premium", (fixed("4h"), fixed("4bh"), fixed("1bd"), fixed("2bd"))),
        PlanTargets(
            "ultimate",
            (by_hours("1h", "2h"), by_hours("2h", "4h"), fixed("1bd"), fixed("1bd")),
        ),
    )


def default_channels() -> tuple[tuple[TicketKind, TargetRule | None], ...]:
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
WAIT_END_KEYS = ("reopens", "removes_waiting_labels")


def warn_amount(seconds: int, fraction: Fraction) -> int:
    """Target time consumed when the warning starts: all but ``fraction`` of it (floored)."""
    return seconds - math.floor(seconds * fraction)


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
            for prio in PRIORITIES
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
        return cls(BusinessCalendar(), default_plans(), default_channels())

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
            warn = warn_amount(seconds, self.warning_fraction)
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
    resolved = clock_rule(settings, plan, priority, source, channel, next_reply)
    if resolved is None:
        return None
    in_hours, out_of_hours, depends = resolved
    if not depends:
        return in_hours
    return in_hours if settings.calendar.is_open(at) else out_of_hours


def clock_rule(
    settings: SlaSettings,
    plan: str | None,
    priority: Priority,
    source: Source,
    channel: Channel,
    next_reply: bool,
) -> _Resolved | None:
    """The rule :func:`clock_target` picks before judging in or out of hours:
    ``(in_hours, out_of_hours, depends_on_arrival)``, or None (no target)."""
    kind = _KINDS[source, channel]
    if kind is not None and kind in settings._channel_lookup:
        return settings._channel_lookup[kind]
    if plan is None:
        return None
    key = (plan.lower(), priority)
    if next_reply and key in settings._next_lookup:
        return settings._next_lookup[key]
    return settings._plan_lookup.get(key)
