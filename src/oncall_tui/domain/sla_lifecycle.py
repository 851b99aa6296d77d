"""The SLA clock's life: its state at an instant, the countdown text, pauses and resumes.

:func:`state_at` and :func:`countdown_text` are O(1) on the stored instants (the queue's
once-a-second tick); :func:`evaluate` does the full job for one ticket;
:func:`update_pauses` records the spans a ticket waits on the customer.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta

from oncall_tui.domain.calendars import to_epoch
from oncall_tui.domain.sla_due import compute_due, due_for_target, pause_spans
from oncall_tui.domain.sla_policy import (
    NO_COUNTDOWN,
    SlaSettings,
    SlaState,
    SlaStateName,
    resolve_target,
)
from oncall_tui.domain.tickets import (
    DONE_STATUSES,
    PauseInterval,
    Ticket,
)

_ZERO = timedelta(0)


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


_SECOND = timedelta(seconds=1)
_MICROSECOND = timedelta(microseconds=1)


def _unit(magnitude: int) -> int:
    """The seconds one step of :func:`format_remaining` spans at ``magnitude`` seconds."""
    if magnitude < 60:
        return 1
    return 60 if magnitude < 86_400 else 3600


def remaining_text_steps(seconds: int) -> int:
    """The next value, going down from ``seconds``, whose :func:`format_remaining` differs.

    ``format_remaining`` shows seconds below a minute, minutes below a day, hours beyond:
    ``3h 12m`` reads the same from 11,520 down to 11,460 seconds, ``-3h 12m`` the same from
    -11,520 down to -11,579 (the magnitude grows past zero).
    """
    if seconds >= 0:
        step = _unit(seconds)
        return seconds // step * step - 1
    magnitude = -seconds
    step = _unit(magnitude)
    return -(magnitude // step + 1) * step


def countdown_changes_at(due: datetime, now: datetime) -> datetime:
    """The first instant after ``now`` at which :func:`countdown_text` of a running clock
    (``due``) reads differently: it reads the same at every instant before it.

    The countdown shows ``floor(due - t)`` seconds, so it keeps its text while that stays
    above :func:`remaining_text_steps`; it changes just past ``due - (next + 1) s`` (the
    instant itself still floors to the old value: one microsecond, the datetime's grain,
    later).
    """
    shown = (due - now) // _SECOND
    after = remaining_text_steps(shown)
    return due - (after + 1) * _SECOND + _MICROSECOND


def state_changes_at(
    due: datetime, warn_at: datetime | None, now: datetime, critical_seconds: int = 15 * 60
) -> datetime | None:
    """The first instant after ``now`` at which :func:`state_at` of a running clock changes
    (warning from ``warn_at``, critical at ``critical_seconds`` left, breached at ``due``), or
    None when it never will (breached already)."""
    edges = (warn_at, due - timedelta(seconds=critical_seconds), due)
    state = state_at(due, warn_at, False, now, critical_seconds)
    for edge in sorted(edge for edge in edges if edge is not None and edge > now):
        if state_at(due, warn_at, False, edge, critical_seconds) != state:
            return edge  # (a warning that starts once critical changes nothing)
    return None


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
    for ps, pe in pause_spans(ticket.pauses, t0):
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
