"""The tickets' stored SLA columns: each ticket's reply clocks replayed from its SLA
history, computed once per change and indexed (``sla_bucket``, ``sla_due``, ...).

A sub-part of :class:`~oncall_tui.store.tickets.Tickets`, which builds it (handing it its
customers' plans) and asks it for a written ticket's columns or a recompute after a calendar,
policy, plan or history change.
"""

from __future__ import annotations

import json
import json.scanner
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from oncall_tui.domain.calendars import to_epoch
from oncall_tui.domain.tickets import (
    DONE_STATUSES,
    PAUSED_STATUSES,
    Channel,
    Priority,
    Source,
    Ticket,
)
from oncall_tui.store.base import Part, Shared
from oncall_tui.store.db import iso, parse_iso

if TYPE_CHECKING:  # the SLA clocks load with the first ticket read, not at start
    from oncall_tui.domain.sla_clocks import EpochEvent

#: Later than any event (epoch seconds).
_NEVER = 2**62
_DONE = frozenset(str(x) for x in DONE_STATUSES)
_WAITING = frozenset(str(x) for x in PAUSED_STATUSES)
_SOURCES = {x.value: x for x in Source}
_CHANNELS = {x.value: x for x in Channel}

_fromtimestamp = datetime.fromtimestamp


def _iso_epoch(t: int | None) -> str | None:
    """``iso(from_epoch(t))`` (from_epoch is UTC already)."""
    if t is None:
        return None
    return _fromtimestamp(t, UTC).isoformat(timespec="seconds")[:19] + "Z"


# (the scanner takes the decoder whose settings it follows, as JSONDecoder itself passes it;
# typeshed names the argument's type wrongly)
_scan = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


def _loads(text: str) -> Any:
    """``json.loads(text)``, skipping its checks for text the store wrote (compact, no
    surrounding whitespace); anything else goes through ``json.loads`` itself."""
    if type(text) is not str:
        return json.loads(text)
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        return json.loads(text)  # raises as it would
    if end != len(text):
        return json.loads(text)
    return value


def _at(text: str) -> datetime:
    when = parse_iso(text)
    assert when is not None
    return when


class SlaColumns(Part):
    """Computing and recomputing the stored clock columns (the SLA settings and clock are the
    shared ones; ``plans`` reads each customer's plan)."""

    def __init__(self, shared: Shared, *, plans: Callable[[], dict[int | None, str]]) -> None:
        super().__init__(shared)
        self._plans = plans

    def columns(self, ticket: Ticket, plan: str | None) -> dict[str, Any]:
        """The stored SLA columns for ``ticket``: its reply clocks replayed from
        ``ticket.sla_events`` (computed once per change, then indexed).

        ``sla_bucket`` 0 is a running clock, due at ``sla_due``; a breached one (also while
        paused: a breach stays visible) has ``sla_due`` = when it breached, so it sorts
        first. 1 is a paused clock that has not breached (no due while it waits), 2 no
        running clock with a target. ``paused`` is whether the ticket waits on the
        customer (``is:paused``; for a running clock: whether it is paused).
        """
        from oncall_tui.domain import sla_history

        return self._clock_columns(
            done=ticket.is_done,
            waiting=ticket.is_paused,
            source=ticket.source,
            channel=ticket.channel,
            opened_at=ticket.opened_at,
            events=sla_history.epoch_events(ticket.sla_events),
            plan=plan,
        )

    def _clock_columns(
        self,
        *,
        done: bool,
        waiting: bool,
        source: Source,
        channel: Channel,
        opened_at: datetime,
        events: list[EpochEvent],
        plan: str | None,
        unanswered: bool = False,
    ) -> dict[str, Any]:
        from oncall_tui.domain.sla_clocks import ClockInputs, ClockState, current_clock

        values: dict[str, Any] = {
            "paused": int(waiting and not done),
            "is_open": int(not done),
            "sla_bucket": 2,
            "sla_due": None,
            "sla_warn_at": None,
            "sla_target": None,
        }
        if done:
            return values
        now = to_epoch(self.clock())
        if events:
            now = max(now, max(e.t for e in events))  # a backend's clock may run ahead
        inputs = ClockInputs(plan, Priority.P3, opened_at, source=source, channel=channel)
        clock = current_clock(inputs, self.sla, now, events, unanswered=unanswered)
        if clock is None or clock.target is None:
            return values
        values["sla_target"] = clock.target.label
        if clock.state is ClockState.BREACHED:
            at = iso(clock.breached_at)
            values.update(paused=int(clock.paused), sla_bucket=0, sla_due=at, sla_warn_at=at)
        elif clock.state is ClockState.PAUSED:
            values.update(paused=1, sla_bucket=1)
        else:
            values.update(
                paused=0, sla_bucket=0, sla_due=iso(clock.due_at), sla_warn_at=iso(clock.warn_at)
            )
        return values

    def stored_columns(
        self,
        status: str,
        labels: str,
        source: str,
        channel: str,
        opened: str,
        raw: list[Any],
        plan: str | None,
    ) -> list[Any]:
        """The clock columns of an open ticket from its stored text, without making a
        :class:`Ticket`: ``[paused, is_open, sla_bucket, sla_due, sla_warn_at, sla_target]``
        as :meth:`columns` computes them, ``raw`` being its SLA history as the stored JSON
        reads (``[[epoch, type, value], ...]``; entries the store cannot read are skipped).

        The same as :meth:`stored_columns_replay`, replaying only the current clock
        (:func:`~oncall_tui.domain.sla_clocks.current_clock_fast`; issue 22)."""
        from oncall_tui.domain import sla_history
        from oncall_tui.domain.sla_clocks import ClockState, current_clock_fast

        waiting = status in _WAITING or (
            '"+' in labels and any(x.startswith("+") for x in json.loads(labels))
        )
        t_open = to_epoch(_at(opened))
        # One pass: the events the replay reads, the latest instant, and whether the last
        # request was answered (``answered_last`` evaluated "later than ever", inlined).
        types = sla_history.EVENT_TYPES
        latest = None
        last = None
        last_t = -1
        events = []
        for at, kind, value in raw:
            if kind in types and isinstance(at, int):
                t = at if at >= t_open else t_open
                if latest is None or at > latest:
                    latest = at
                events.append((t, kind, str(value)))
                if (
                    t <= _NEVER
                    and t >= last_t
                    and (
                        kind == "agent_public"
                        or kind == "customer_comment"
                        or (kind == "status" and (value == "solved" or value == "closed"))
                    )
                ):
                    last, last_t = kind, t
        if last is not None and last != "customer_comment":
            # the last request was answered (or solved): no clock runs, no replay
            return [int(waiting), 1, 2, None, None, None]
        # Evaluated at the latest event at least (a backend's clock may run ahead, see
        # _clock_columns).
        now = to_epoch(self.clock())
        if latest is not None and latest > now:
            now = latest
        events.sort(key=itemgetter(0))  # stable: events at one instant keep their order
        clock = current_clock_fast(
            self.sla,
            plan,
            _SOURCES[source],
            _CHANNELS[channel],
            t_open,
            now if now >= t_open else t_open,
            events,
        )
        if clock is None:
            return [int(waiting), 1, 2, None, None, None]
        target, state, paused, breached_at, due_at, warn_at = clock
        if state is ClockState.BREACHED:
            at = _iso_epoch(breached_at)
            return [int(paused), 1, 0, at, at, target.label]
        if state is ClockState.PAUSED:
            return [1, 1, 1, None, None, target.label]
        return [0, 1, 0, _iso_epoch(due_at), _iso_epoch(warn_at), target.label]

    def stored_columns_replay(
        self,
        status: str,
        labels: str,
        source: str,
        channel: str,
        opened: str,
        raw: list[Any],
        plan: str | None,
    ) -> list[Any]:
        """:meth:`stored_columns` through the full replay (``current_clock``): the reference
        the fast path is tested against (tests/store/test_sla_columns_fast.py)."""
        from oncall_tui.domain import sla_history
        from oncall_tui.domain.sla_clocks import EpochEvent, answered_last

        waiting = status in _WAITING or (
            '"+' in labels and any(x.startswith("+") for x in json.loads(labels))
        )
        opened_at = _at(opened)
        # Evaluated at the latest event at least (a backend's clock may run ahead, see
        # _clock_columns): every event counts, so "no later than ever" is the same.
        if answered_last(raw, to_epoch(opened_at), _NEVER):
            # the last request was answered (or solved): no clock runs, no replay
            return [int(waiting), 1, 2, None, None, None]
        types = sla_history.EVENT_TYPES
        cols = self._clock_columns(
            done=False,
            waiting=waiting,
            source=_SOURCES[source],
            channel=_CHANNELS[channel],
            opened_at=opened_at,
            events=[
                EpochEvent(at, types[kind], str(value))
                for at, kind, value in raw
                if kind in types and isinstance(at, int)
            ],
            plan=plan,
            # answered_last was false for every event (_NEVER), so it is at any instant the
            # replay stops at
            unanswered=True,
        )
        return [
            cols["paused"],
            cols["is_open"],
            cols["sla_bucket"],
            cols["sla_due"],
            cols["sla_warn_at"],
            cols["sla_target"],
        ]

    def recompute(self, ticket_ids: Sequence[int] | None = None) -> int:
        """Recompute the stored clock columns from each ticket's SLA history (after a
        calendar, policy or plan change, or a migration).

        Solved and closed tickets have no running clock and skip the replay; only rows
        whose SLA columns change are written.

        Args:
            ticket_ids: which tickets; None means every open ticket.

        Returns:
            How many tickets were recomputed.
        """
        plans = self._plans()
        # A solved or closed ticket needs none of its history, not even a read into Python
        # (most are): for given ids SQL counts them and, in the write below, clears their
        # clock columns where they are not cleared yet (the paused column stays as it is).
        done_in = "(" + ", ".join(sorted(f"'{x}'" for x in DONE_STATUSES)) + ")"
        sql = (
            "SELECT id, source, channel, status, labels, opened_at, sla_events, "
            "customer_id, paused, is_open, sla_bucket, sla_due, "
            f"sla_warn_at, sla_target FROM tickets WHERE +status NOT IN {done_in}"
        )
        done_count = f"SELECT count(*) FROM tickets WHERE +status IN {done_in}"
        done_clear = (
            "UPDATE tickets SET is_open = 0, sla_bucket = 2, sla_due = NULL, "
            f"sla_warn_at = NULL, sla_target = NULL WHERE +status IN {done_in} "
            "AND (is_open IS NOT 0 OR sla_bucket IS NOT 2 OR sla_due IS NOT NULL "
            "OR sla_warn_at IS NOT NULL OR sla_target IS NOT NULL)"
        )
        if ticket_ids is None:
            chunks: list[list[Any]] = [[]]
        else:
            ids = list(ticket_ids)
            chunks = [ids[i : i + 10_000] for i in range(0, len(ids), 10_000)]
        updates = []
        seen = 0
        for chunk in chunks:
            if ticket_ids is None:
                # every open ticket: one read (a solved one still marked open is rare)
                query = sql.replace(f"+status NOT IN {done_in}", "is_open = 1")
            else:
                where = f" AND id IN ({','.join('?' * len(chunk))})"
                count = self._one(done_count + where, chunk)
                seen += int(count[0]) if count else 0
                query = sql + where
            for row in self.db.execute(query, chunk).fetchall():
                seen += 1
                (tid, source, channel, status, labels, opened, events, customer_id, *old) = row
                if status in _DONE:
                    new = [old[0], 0, 2, None, None, None]
                else:
                    raw = _loads(events) if events and events != "[]" else []
                    new = self.stored_columns(
                        status, labels, source, channel, opened, raw, plans.get(customer_id or -1)
                    )
                if new != list(old):
                    updates.append((*new, tid))
        with self.db.atomic():
            for chunk in chunks if ticket_ids is not None else ():
                self.db.execute(done_clear + f" AND id IN ({','.join('?' * len(chunk))})", chunk)
            self.db.conn.executemany(
                "UPDATE tickets SET paused = ?, is_open = ?, sla_bucket = ?, sla_due = ?, "
                "sla_warn_at = ?, sla_target = ? WHERE id = ?",
                updates,
            )
        return seen
