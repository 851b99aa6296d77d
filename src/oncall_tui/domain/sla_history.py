"""A cached ticket's SLA history: the events its reply clocks replay, kept on the ticket.

The store keeps ``Ticket.sla_events`` (status, label and priority changes as observed, and
each message by its author's role) and recomputes the clocks from them on every change
(:func:`clocks_of`). This module turns snapshots and comments into those events and back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from oncall_tui.domain.calendars import from_epoch, to_epoch
from oncall_tui.domain.sla import SlaSettings
from oncall_tui.domain.sla_clocks import (
    ClockInputs,
    ClockReport,
    EpochEvent,
    EventType,
    SlaEvent,
    run_clocks,
)
from oncall_tui.domain.tickets import DONE_STATUSES, PAUSED_STATUSES, Priority, Status, Ticket

STAFF = "staff"
CUSTOMER = "customer"
AUTOMATION = "automation"
ROLES = (STAFF, CUSTOMER, AUTOMATION)


def comment_event(role: str, public: bool, at: datetime) -> SlaEvent | None:
    """The clock event of a message: a public one by staff answers; by automation it is an
    automatic reply; by anyone else (a customer, an author nobody could resolve) it is the
    customer speaking. A private message by staff is a note; by anyone else, nothing."""
    if role == AUTOMATION:
        return SlaEvent(at, EventType.AUTOMATION_PUBLIC if public else EventType.AGENT_NOTE)
    if role == STAFF:
        return SlaEvent(at, EventType.AGENT_PUBLIC if public else EventType.AGENT_NOTE)
    return SlaEvent(at, EventType.CUSTOMER_COMMENT) if public else None


def changes(old: Ticket, new: Ticket, at: datetime) -> tuple[SlaEvent, ...]:
    """Status, priority and label changes from ``old`` to ``new``, observed at ``at``."""
    out: list[SlaEvent] = []
    if new.status != old.status:
        out.append(SlaEvent(at, EventType.STATUS, str(new.status)))
    if new.priority != old.priority:
        out.append(SlaEvent(at, EventType.PRIORITY, str(new.priority)))
    out.extend(SlaEvent(at, EventType.LABEL_ADD, x) for x in new.labels if x not in old.labels)
    out.extend(SlaEvent(at, EventType.LABEL_REMOVE, x) for x in old.labels if x not in new.labels)
    return tuple(out)


def ordered(events: Iterable[SlaEvent]) -> tuple[SlaEvent, ...]:
    """``events`` by instant; at one instant a solve or close comes after the messages (a
    reply submitted as solved answers first: the clock is met by the reply, not the solve)."""
    done = {str(x) for x in DONE_STATUSES}
    return tuple(
        sorted(
            events,
            key=lambda e: (to_epoch(e.at), e.type is EventType.STATUS and e.value in done),
        )
    )


def initial_events(ticket: Ticket) -> tuple[SlaEvent, ...]:
    """A ticket first seen: its priority, labels and status as of its opening (a solved or
    closed one as of its last update, since when it was solved is not known; waiting on
    the customer since its ongoing pause began, if it has one)."""
    t0 = ticket.opened_at
    # Waiting since an ongoing pause began, if the ticket says (else since it opened).
    ongoing = ticket.pauses[-1].start if ticket.pauses and ticket.pauses[-1].end is None else None
    since = max(ongoing, t0) if ongoing is not None else t0
    out = [SlaEvent(t0, EventType.PRIORITY, str(ticket.priority))]
    for x in ticket.labels:
        out.append(SlaEvent(since if x.startswith("+") else t0, EventType.LABEL_ADD, x))
    if ticket.status in DONE_STATUSES:
        out.append(SlaEvent(max(ticket.updated_at, t0), EventType.STATUS, str(ticket.status)))
    elif ticket.status in PAUSED_STATUSES:
        out.append(SlaEvent(since, EventType.STATUS, str(ticket.status)))
    elif ticket.status is not Status.NEW:
        out.append(SlaEvent(t0, EventType.STATUS, str(ticket.status)))
    return tuple(sorted(out, key=lambda e: to_epoch(e.at)))


def migrated_events(
    ticket: Ticket, comments: Iterable[tuple[datetime, str, bool]]
) -> tuple[SlaEvent, ...]:
    """Events for a ticket cached before the clocks were kept (schema 0015).

    The stored pause spans are replayed as "on hold" (they ended when they ended, not at a
    customer message); the current status and labels as of the last update; ``comments`` are
    (created_at, role, public) with the best role known.
    """
    t0 = ticket.opened_at
    out = [SlaEvent(t0, EventType.PRIORITY, str(ticket.priority))]
    plain = [x for x in ticket.labels if not x.startswith("+")]
    out.extend(SlaEvent(t0, EventType.LABEL_ADD, x) for x in plain)
    for p in ticket.pauses:
        if p.end is None:
            continue
        out.append(SlaEvent(p.start, EventType.STATUS, str(Status.HOLD)))
        out.append(SlaEvent(p.end, EventType.STATUS, str(Status.OPEN)))
    ongoing = ticket.pauses[-1].start if ticket.pauses and ticket.pauses[-1].end is None else None
    for at, role, public in comments:
        ev = comment_event(role, public, at)
        if ev is not None:
            out.append(ev)
    last = max(ticket.updated_at, t0)
    since = ongoing or last
    if ticket.status in PAUSED_STATUSES:
        out.append(SlaEvent(since, EventType.STATUS, str(ticket.status)))
    elif ticket.status in DONE_STATUSES:
        out.append(SlaEvent(last, EventType.STATUS, str(ticket.status)))
    elif ticket.status is not Status.NEW:
        out.append(SlaEvent(last, EventType.STATUS, str(ticket.status)))
    out.extend(SlaEvent(since, EventType.LABEL_ADD, x) for x in ticket.labels if x.startswith("+"))
    return tuple(sorted(out, key=lambda e: to_epoch(e.at)))


def inputs_of(ticket: Ticket, plan: str | None) -> ClockInputs:
    """What the engine replays for a cached ticket: it opens new, P3, unlabelled; its
    events set the rest (the first ones are at its opening)."""
    return ClockInputs(
        plan=plan,
        priority=Priority.P3,
        opened_at=ticket.opened_at,
        events=ticket.sla_events,
        source=ticket.source,
        channel=ticket.channel,
    )


def clocks_of(
    ticket: Ticket, plan: str | None, settings: SlaSettings, now: datetime
) -> ClockReport:
    """Every reply clock of a cached ticket at ``now``."""
    return run_clocks(inputs_of(ticket, plan), settings, now)


def events_to_json(events: Sequence[SlaEvent]) -> str:
    """Compact storage: ``[[epoch, type, value], ...]``."""
    return _encode([[to_epoch(e.at), e.type.value, e.value] for e in events])


# json.dumps with options builds an encoder per call (this runs for every ticket written)
_encode = json.JSONEncoder(separators=(",", ":")).encode


def events_from_json(text: str | None) -> tuple[SlaEvent, ...]:
    """Read :func:`events_to_json` back (unknown types are skipped).

    Raises:
        ValueError: not that shape.
    """
    if not text or text == "[]":
        return ()
    out = []
    types = _TYPES
    for at, kind, value in json.loads(text):
        event_type = types.get(kind)
        if event_type is None or not isinstance(at, int):
            continue
        out.append(SlaEvent(from_epoch(at), event_type, str(value)))
    return tuple(out)


_TYPES = {t.value: t for t in EventType}
#: Stored type text → :class:`EventType`.
EVENT_TYPES: dict[str, EventType] = _TYPES


def epoch_events_from_json(text: str | None) -> list[EpochEvent]:
    """:func:`events_from_json` without making datetimes (the store's fast path)."""
    if not text or text == "[]":
        return []
    types = _TYPES
    out = []
    for at, kind, value in json.loads(text):
        event_type = types.get(kind)
        if event_type is not None and isinstance(at, int):
            out.append(EpochEvent(at, event_type, str(value)))
    return out


def epoch_events(events: Iterable[SlaEvent]) -> list[EpochEvent]:
    """``events`` on epoch seconds."""
    return [EpochEvent(to_epoch(e.at), e.type, e.value) for e in events]
