"""SLA calendar arithmetic: a target's due and warning instants over the business calendar.

Consumed time leaves out the ticket's pauses (for business targets only their business
seconds count). The slow path (see :mod:`oncall_tui.domain.sla`): run when a ticket
changes, its result stored on the ticket.
"""

from __future__ import annotations

from collections.abc import Sequence

from oncall_tui.domain.calendars import (
    BusinessCalendar,
    from_epoch,
    to_epoch,
)
from oncall_tui.domain.sla_policy import DueInfo, SlaSettings, SlaTarget, resolve_target
from oncall_tui.domain.tickets import (
    DONE_STATUSES,
    PauseInterval,
    Ticket,
)


def pause_spans(pauses: Sequence[PauseInterval], start: int) -> list[tuple[int, int | None]]:
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
        spans = pause_spans(ticket.pauses, t0)
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
