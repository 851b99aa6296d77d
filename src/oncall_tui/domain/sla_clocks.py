"""Reply clocks: the SLA lifecycle of one ticket, replayed from its history.

:func:`run_clocks` is pure and clock-injected: it takes what happened to a ticket (comments by
role, status and label changes, priority changes) and an instant ``now``, and returns every
reply clock the policy starts, with its state at ``now``. The policy (DOMAIN.md, issue 13):

1. A *first reply* clock is activated when the ticket opens. After a clock has been
   fulfilled, a customer's public message starts a *next reply* clock, unless one is already
   running (one clock runs at a time). Targets come from the plan x priority x channel policy
   (``[sla.next_reply]`` may override per plan); in or out of hours is judged at the clock's
   own activation.
2. Only a public message by our staff fulfils. Internal notes, automatic replies and messages
   by anyone not known to be staff never do.
3. Solved or closed stops the running clock (fulfilled at that instant). A customer message
   on a solved ticket reopens it and starts a next-reply clock.
4. Waiting on the customer pauses the clock: status pending or on hold, or a label that
   starts with ``+``. A customer's message ends the waiting at that instant: pending becomes
   open and ``+`` labels come off; on hold stays on hold.
5. A clock breaches at its due instant unless fulfilled at or before that instant; nothing
   un-breaches it (a late answer is "answered late", a paused breached clock stays breached).
6. A priority change re-targets the current clock, measured from its activation; if it is
   already past the new target it breaches at the moment of the change.

Time is counted in the target's own kind: business seconds (the configured calendar, with
holidays, closures and DST) for business targets, wall seconds for calendar ones; paused
spans do not count.

Kept in one module (over 500 lines): the clocks' data and their replay load together with the
first ticket read (and on the demo's start path), where a split would only add a module to
load (issue 22); the data comes first (to ``ClockReport``), the replay after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from operator import itemgetter
from typing import NamedTuple

from oncall_tui.domain.calendars import from_epoch, to_epoch

# Re-exported: the clocks' inputs are named from here too (the store, the tests).
from oncall_tui.domain.sla_events import VALUED as VALUED
from oncall_tui.domain.sla_events import EventType as EventType
from oncall_tui.domain.sla_events import SlaEvent as SlaEvent
from oncall_tui.domain.sla_policy import SlaSettings, SlaTarget, clock_rule, clock_target
from oncall_tui.domain.tickets import (
    Channel,
    Priority,
    Source,
    Status,
    is_waiting_label,
)


class Metric(StrEnum):
    """Which reply a clock waits for."""

    FIRST_REPLY = "first_reply"
    NEXT_REPLY = "next_reply"


class ClockState(StrEnum):
    """Where a clock stands: running, paused, breached (also when answered late) or met."""

    ACTIVE = "active"
    PAUSED = "paused"
    BREACHED = "breached"
    FULFILLED = "fulfilled"


@dataclass(frozen=True, slots=True)
class ClockPause:
    """A span in which a clock did not run; ``end`` is None while it lasts."""

    start: datetime
    end: datetime | None
    cause: str


@dataclass(frozen=True, slots=True)
class Retarget:
    """A priority change that re-targeted a clock."""

    at: datetime
    priority: Priority
    target: SlaTarget | None
    breached: bool


@dataclass(frozen=True, slots=True)
class ReplyClock:
    """One reply clock at the evaluation instant.

    Attributes:
        metric: first or next reply.
        activated_at: when it started.
        target: the target in force (None: no target; such clocks are not reported).
        state: see :class:`ClockState`.
        paused: the clock is waiting on the customer right now (also when breached).
        due_at: when it breaches if nothing changes; only for an active clock.
        warn_at: when its warning starts (may be past); only for an active clock.
        breached_at: when it breached, or None.
        fulfilled_at: when it was fulfilled (answered, solved or closed), or None.
        fulfilled_by: ``reply``, ``solved`` or ``closed`` (empty while unfulfilled).
        consumed: target time used, in the target's kind (seconds), up to now or fulfilment.
        pauses: its pauses, with their causes.
        retargets: priority changes that re-targeted it.
        priority: the priority its current target was chosen for.
        first_target: the target it started with (before any re-target).
    """

    metric: Metric
    activated_at: datetime
    target: SlaTarget | None
    state: ClockState
    paused: bool
    due_at: datetime | None
    warn_at: datetime | None
    breached_at: datetime | None
    fulfilled_at: datetime | None
    fulfilled_by: str
    consumed: int
    pauses: tuple[ClockPause, ...]
    retargets: tuple[Retarget, ...]
    priority: Priority
    first_target: SlaTarget | None = None

    @property
    def running(self) -> bool:
        """Not fulfilled yet (active, paused, or breached and still unanswered)."""
        return self.fulfilled_at is None

    @property
    def left(self) -> int | None:
        """Target time left in the target's kind (seconds; negative once over), or None."""
        return None if self.target is None else self.target.seconds - self.consumed

    @property
    def late_by(self) -> int | None:
        """Wall seconds between the breach and the fulfilment ("answered 2d 11h late")."""
        if self.breached_at is None or self.fulfilled_at is None:
            return None
        return to_epoch(self.fulfilled_at) - to_epoch(self.breached_at)


@dataclass(frozen=True, slots=True)
class ClockInputs:
    """What the engine needs about a ticket.

    Attributes:
        plan: the customer's plan (None: no plan, no plan target).
        priority: the priority when it opened (later changes are events).
        opened_at: when it opened: the first-reply clock's activation.
        events: its history, in any order (sorted stably by ``at``).
        source: where it lives (chat threads carry their own target).
        channel: how it arrived.
        status: its status when it opened.
        labels: its labels when it opened.
    """

    plan: str | None
    priority: Priority
    opened_at: datetime
    events: tuple[SlaEvent, ...] = ()
    source: Source = Source.HELPDESK
    channel: Channel = Channel.EMAIL
    status: Status = Status.NEW
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ClockReport:
    """Every clock of a ticket at one instant, and the ticket's replayed state.

    Attributes:
        clocks: all clocks in order of activation, targetless ones included.
        status: the status after replaying (pending turned open by a customer message...).
        labels: the labels after replaying (``+`` labels taken off by a customer message).
        priority: the priority after replaying.
        now: the evaluation instant.
    """

    clocks: tuple[ReplyClock, ...]
    status: Status
    labels: tuple[str, ...]
    priority: Priority
    now: datetime

    @property
    def targeted(self) -> tuple[ReplyClock, ...]:
        """The clocks that have a target (what ``sla explain`` lists)."""
        return tuple(c for c in self.clocks if c.target is not None)

    @property
    def current(self) -> ReplyClock | None:
        """The unfulfilled clock with a target, if any (at most one runs at a time)."""
        for c in reversed(self.clocks):
            if c.fulfilled_at is None:
                return c if c.target is not None else None
        return None

    @property
    def breached(self) -> bool:
        """The current clock has breached and is still unanswered."""
        c = self.current
        return c is not None and c.state is ClockState.BREACHED


_DONE = (Status.SOLVED, Status.CLOSED)
_WAITING = (Status.PENDING, Status.HOLD)
_STATUS = {s.value: s for s in Status}
_OPENING_STATE = frozenset(
    {EventType.STATUS, EventType.PRIORITY, EventType.LABEL_ADD, EventType.LABEL_REMOVE}
)
_PRIORITY = {p.value: p for p in Priority}


def waiting_causes(status: Status, labels: Iterable[str]) -> list[str]:
    """Why a ticket waits on the customer: ``pending``, ``on hold``, ``label +x``."""
    causes = []
    if status is Status.PENDING:
        causes.append("pending")
    elif status is Status.HOLD:
        causes.append("on hold")
    causes.extend(f"label {x}" for x in labels if is_waiting_label(x))
    return causes


def end_of_waiting(status: Status, labels: Sequence[str]) -> tuple[Status, tuple[str, ...]]:
    """What a customer's message changes: pending becomes open, ``+`` labels come off.

    On hold stays on hold; a solved ticket reopens; other statuses are unchanged.
    """
    new_status = Status.OPEN if status in (Status.PENDING, Status.SOLVED) else status
    return new_status, tuple(x for x in labels if not is_waiting_label(x))


class _Clock:
    """A clock being replayed (mutable; turned into a :class:`ReplyClock` at the end)."""

    __slots__ = (
        "metric",
        "t0",
        "target",
        "priority",
        "cur",
        "c",
        "paused",
        "pauses",
        "hit",
        "warn_hit",
        "done_at",
        "done_by",
        "retargets",
        "due_next",
        "warn_next",
        "first_target",
    )

    def __init__(self, metric: Metric, t0: int, target: SlaTarget | None, prio: Priority) -> None:
        self.metric = metric
        self.t0 = t0
        self.target = target
        self.first_target = target
        self.priority = prio
        self.cur = t0
        self.c = 0  # consumed target time up to cur, in the target's kind
        self.paused = False
        self.pauses: list[list[object]] = []  # [start, end | None, cause]
        self.hit: int | None = None  # instant the target was used up (breach unless met then)
        self.warn_hit: int | None = None
        self.done_at: int | None = None
        self.done_by = ""
        self.retargets: list[Retarget] = []
        # While it runs, when the target and the warning run out (None: not computed since
        # the clock last started running or was re-targeted).
        self.due_next: int | None = None
        self.warn_next: int | None = None


@dataclass(slots=True)
class _Replay:
    settings: SlaSettings
    inputs: ClockInputs
    status: Status
    labels: list[str]
    priority: Priority
    clocks: list[_Clock] = field(default_factory=list)

    # -- time -------------------------------------------------------------------------

    def _measure(self, target: SlaTarget | None, a: int, b: int) -> int:
        if target is not None and target.business:
            return self.settings.calendar.between_epoch(a, b)
        return b - a

    def _add(self, target: SlaTarget, t: int, amount: int) -> int:
        if target.business:
            return self.settings.calendar.add_epoch(t, amount)
        return t + amount

    def advance(self, clk: _Clock, t: int) -> None:
        """Run ``clk`` up to ``t``, noting when its warning and its target were reached."""
        if t <= clk.cur:
            return
        tgt = clk.target
        if not clk.paused and tgt is not None:
            if clk.warn_hit is None and clk.c < tgt.warn_after:
                if clk.warn_next is None:
                    clk.warn_next = self._add(tgt, clk.cur, tgt.warn_after - clk.c)
                if clk.warn_next <= t:
                    clk.warn_hit = clk.warn_next
            if clk.hit is None and clk.c < tgt.seconds:
                if clk.due_next is None:
                    clk.due_next = self._add(tgt, clk.cur, tgt.seconds - clk.c)
                if clk.due_next <= t:
                    clk.hit = clk.due_next
        if not clk.paused:
            clk.c += self._measure(tgt, clk.cur, t)
        clk.cur = t

    def consumed_since_activation(self, clk: _Clock, target: SlaTarget | None) -> int:
        """Time used from activation to ``clk.cur`` in ``target``'s kind, pauses excluded."""
        used = self._measure(target, clk.t0, clk.cur)
        for start, end, _ in clk.pauses:
            assert isinstance(start, int)
            stop = clk.cur if end is None else end
            assert isinstance(stop, int)
            used -= self._measure(target, start, stop)
        return used

    # -- the policy -------------------------------------------------------------------

    def current(self) -> _Clock | None:
        if self.clocks and self.clocks[-1].done_at is None:
            return self.clocks[-1]
        return None

    def target_for(self, metric: Metric, prio: Priority, at: int) -> SlaTarget | None:
        i = self.inputs
        return clock_target(
            self.settings,
            plan=i.plan,
            priority=prio,
            source=i.source,
            channel=i.channel,
            at=from_epoch(at),
            next_reply=metric is Metric.NEXT_REPLY,
        )

    def start(self, metric: Metric, t: int) -> None:
        clk = _Clock(metric, t, self.target_for(metric, self.priority, t), self.priority)
        self.clocks.append(clk)
        self.sync_pause(t)

    def sync_pause(self, t: int) -> None:
        """Pause or resume the current clock to match the ticket's waiting state at ``t``."""
        clk = self.current()
        if clk is None:
            return
        waiting = self.status in _WAITING or any(x.startswith("+") for x in self.labels)
        if waiting == clk.paused:
            return
        causes = waiting_causes(self.status, self.labels)
        clk.due_next = clk.warn_next = None
        if causes and not clk.paused:
            clk.paused = True
            clk.pauses.append([t, None, ", ".join(causes)])
        elif not causes and clk.paused:
            clk.paused = False
            clk.pauses[-1][1] = t

    def fulfil(self, clk: _Clock, t: int, by: str) -> None:
        clk.done_at = t
        clk.done_by = by
        if clk.paused:
            clk.pauses[-1][1] = t
            clk.paused = False

    def retarget(self, clk: _Clock, prio: Priority, t: int) -> None:
        new = self.target_for(clk.metric, prio, clk.t0)
        if clk.hit is not None:  # a breach is history: the clock keeps its target
            clk.retargets.append(Retarget(from_epoch(t), prio, clk.target, True))
            return
        clk.target = new
        clk.priority = prio
        clk.due_next = clk.warn_next = None
        clk.c = self.consumed_since_activation(clk, new)
        clk.warn_hit = None
        breached = False
        if new is not None:
            if clk.c >= new.seconds:
                clk.hit = clk.warn_hit = t
                breached = True
            elif clk.c >= new.warn_after:
                clk.warn_hit = t
        if t > clk.t0:  # the priority it opened with is no change
            clk.retargets.append(Retarget(from_epoch(t), prio, new, breached))

    def apply(self, ev: SlaEvent, t: int) -> None:
        clk = self.current()
        match ev.type:
            case EventType.CUSTOMER_COMMENT:
                if self.status is not Status.CLOSED:
                    self.status, labels = end_of_waiting(self.status, self.labels)
                    self.labels = list(labels)
                    self.sync_pause(t)
                    if clk is None:
                        self.start(Metric.NEXT_REPLY, t)
            case EventType.AGENT_PUBLIC:
                if clk is not None:
                    self.fulfil(clk, t, "reply")
            case EventType.STATUS:
                self.status = _STATUS[ev.value]
                if self.status in _DONE and clk is not None:
                    self.fulfil(clk, t, self.status.value)
                self.sync_pause(t)
            case EventType.LABEL_ADD:
                if ev.value not in self.labels:
                    self.labels.append(ev.value)
                self.sync_pause(t)
            case EventType.LABEL_REMOVE:
                if ev.value in self.labels:
                    self.labels.remove(ev.value)
                self.sync_pause(t)
            case EventType.PRIORITY:
                self.priority = _PRIORITY[ev.value]
                if clk is not None:
                    self.retarget(clk, self.priority, t)
            case _:  # internal notes and automatic replies never fulfil
                pass

    # -- the result -------------------------------------------------------------------

    def freeze(self, clk: _Clock, now: int) -> ReplyClock:
        tgt = clk.target
        done = clk.done_at
        end = now if done is None else done
        breached_at = clk.hit if clk.hit is not None and clk.hit <= end else None
        if done is not None and breached_at is not None and done <= breached_at:
            breached_at = None  # fulfilled at (or before) the due instant: met
        due = warn = None
        if tgt is None:
            state = ClockState.FULFILLED if done is not None else ClockState.ACTIVE
        elif breached_at is not None:
            state = ClockState.BREACHED
        elif done is not None:
            state = ClockState.FULFILLED
        elif clk.paused:
            state = ClockState.PAUSED
        else:
            state = ClockState.ACTIVE
            due = clk.due_next
            if due is None:
                due = self._add(tgt, now, tgt.seconds - clk.c)
            warn = clk.warn_hit if clk.warn_hit is not None else clk.warn_next
            if warn is None:
                warn = self._add(tgt, now, tgt.warn_after - clk.c)
        pauses = tuple(
            ClockPause(from_epoch(s), None if e is None else from_epoch(e), str(cause))  # type: ignore[arg-type]
            for s, e, cause in clk.pauses
        )
        return ReplyClock(
            metric=clk.metric,
            activated_at=from_epoch(clk.t0),
            target=tgt,
            state=state,
            paused=clk.paused and done is None,
            due_at=None if due is None else from_epoch(due),
            warn_at=None if warn is None else from_epoch(warn),
            breached_at=None if breached_at is None else from_epoch(breached_at),
            fulfilled_at=None if done is None else from_epoch(done),
            fulfilled_by=clk.done_by,
            consumed=clk.c,
            pauses=pauses,
            retargets=tuple(clk.retargets),
            priority=clk.priority,
            first_target=clk.first_target,
        )


def _validate(events: Iterable[SlaEvent]) -> None:
    for ev in events:
        if ev.type is EventType.STATUS:
            if ev.value not in _STATUS:
                raise ValueError(f"not a status: {ev.value!r}")
        elif ev.type is EventType.PRIORITY:
            if ev.value not in _PRIORITY:
                raise ValueError(f"not a priority: {ev.value!r}")
        elif ev.type in (EventType.LABEL_ADD, EventType.LABEL_REMOVE) and not ev.value:
            raise ValueError(f"{ev.type.value} needs a label")


class EpochEvent(NamedTuple):
    """:class:`SlaEvent` on epoch seconds (the store's fast path)."""

    t: int
    type: EventType
    value: str


def _replay(
    inputs: ClockInputs, settings: SlaSettings, t_now: int, events: Iterable[EpochEvent]
) -> _Replay:
    """Replay ``events`` (sorted by instant, none before the opening) up to ``t_now``."""
    t_open = to_epoch(inputs.opened_at)
    rp = _Replay(settings, inputs, inputs.status, list(inputs.labels), inputs.priority)
    # Status, label and priority changes at the very opening are how it opened: applied
    # before the first clock starts (the same result, without re-targeting it at once).
    it = iter(events)
    ev: EpochEvent | None = next(it, None)
    while (
        ev is not None
        and ev.t == t_open
        and ev.type in _OPENING_STATE
        and ev.value not in ("solved", "closed")  # those stop the clock: applied after it
        and t_open <= t_now
    ):
        match ev.type:
            case EventType.STATUS:
                rp.status = _STATUS[ev.value]
            case EventType.PRIORITY:
                rp.priority = _PRIORITY[ev.value]
            case EventType.LABEL_ADD:
                if ev.value not in rp.labels:
                    rp.labels.append(ev.value)
            case _:
                if ev.value in rp.labels:
                    rp.labels.remove(ev.value)
        ev = next(it, None)
    rp.start(Metric.FIRST_REPLY, t_open)
    if rp.status in _DONE:
        rp.fulfil(rp.clocks[-1], t_open, rp.status.value)
    while ev is not None:
        t = ev.t
        if t > t_now:
            break
        clk = rp.current()
        if clk is not None:
            rp.advance(clk, t)
        rp.apply(ev, t)  # type: ignore[arg-type]
        ev = next(it, None)
    clk = rp.current()
    if clk is not None:
        rp.advance(clk, t_now)
    return rp


def run_clocks(inputs: ClockInputs, settings: SlaSettings, now: datetime) -> ClockReport:
    """Replay a ticket's history and report every reply clock at ``now``.

    Events after ``now`` are ignored; events before ``opened_at`` count as at ``opened_at``.
    Events at the same instant apply in the order given.

    Raises:
        ValueError: an event's value is not a status/priority (for those types), or a
            label event has no label.
    """
    _validate(inputs.events)
    t_open = to_epoch(inputs.opened_at)
    t_now = max(to_epoch(now), t_open)
    timed = sorted(
        (EpochEvent(max(to_epoch(ev.at), t_open), ev.type, ev.value) for ev in inputs.events),
        key=itemgetter(0),
    )
    rp = _replay(inputs, settings, t_now, timed)
    return ClockReport(
        clocks=tuple(rp.freeze(c, t_now) for c in rp.clocks),
        status=rp.status,
        labels=tuple(rp.labels),
        priority=rp.priority,
        now=from_epoch(t_now),
    )


def answered_last(events: Iterable[Sequence[object]], t_open: int, t_now: int) -> bool:
    """True when the last reply-or-request event up to ``t_now`` is a staff answer or a
    solve/close: then no clock runs, whatever came before (only a customer's message starts
    one), and the replay can be skipped.

    ``events`` are ``(epoch, type, value)`` triples: :class:`EpochEvent`, or the stored JSON
    as read (types as text; an entry whose instant is not an integer is skipped, as the
    store's reading skips it).
    """
    last: object = None
    last_t = -1
    for t, kind, value in events:  # the last in (instant, order given), as the replay sorts
        if not isinstance(t, int):
            continue
        if t < t_open:
            t = t_open
        if t > t_now or t < last_t:
            continue
        if (
            kind == "agent_public"
            or kind == "customer_comment"
            or (kind == "status" and (value == "solved" or value == "closed"))
        ):
            last, last_t = kind, t
    return last is not None and last != "customer_comment"


def current_clock(
    inputs: ClockInputs,
    settings: SlaSettings,
    t_now: int,
    events: Sequence[EpochEvent],
    *,
    unanswered: bool = False,
) -> ReplyClock | None:
    """The unfulfilled clock with a target at ``t_now`` (epoch), like
    ``run_clocks(...).current`` but on trusted epoch events (e.g. read back from the store)
    and freezing only that clock. ``unanswered``: the caller has found ``answered_last``
    false for these events up to ``t_now`` already (the store's bulk path)."""
    t_open = to_epoch(inputs.opened_at)
    t_now = max(t_now, t_open)
    if not unanswered and answered_last(events, t_open, t_now):
        return None
    timed = sorted(
        (e if e.t >= t_open else e._replace(t=t_open) for e in events), key=itemgetter(0)
    )
    rp = _replay(inputs, settings, t_now, timed)
    last = rp.clocks[-1]
    if last.done_at is not None or last.target is None:
        return None
    return rp.freeze(last, t_now)


def _target_at(
    settings: SlaSettings,
    plan: str | None,
    prio: Priority,
    source: Source,
    channel: Channel,
    t: int,
    next_reply: bool,
) -> SlaTarget | None:
    """:func:`clock_target` at epoch ``t`` (in or out of hours judged on the epoch)."""
    resolved = clock_rule(settings, plan, prio, source, channel, next_reply)
    if resolved is None:
        return None
    in_hours, out_of_hours, depends = resolved
    if not depends:
        return in_hours
    return in_hours if settings.calendar.is_open_epoch(t) else out_of_hours


def current_clock_fast(
    settings: SlaSettings,
    plan: str | None,
    source: Source,
    channel: Channel,
    t_open: int,
    t_now: int,
    events: Sequence[tuple[int, str, str]],
) -> tuple[SlaTarget, ClockState, bool, int | None, int | None, int | None] | None:
    """What :func:`current_clock` says of the store's columns, replaying only the last clock.

    For a ticket that opened new, at P3, without labels (how the store replays), on events
    ``(epoch, type text, value)`` already sorted by instant, clamped to ``t_open`` and none
    after ``t_now``. Returns ``(target, state, paused, breached_at, due_at, warn_at)``
    (epochs) of the unfulfilled targeted clock, or None. The same replay as :func:`_replay`
    (issue 22: the store's recompute), but an earlier clock never affects a later one, so
    only the current one is kept, in local variables.
    """
    cal = settings.calendar
    add = cal.add_epoch
    between = cal.between_epoch
    status = Status.NEW
    labels: list[str] = []
    prio = Priority.P3
    # A last entry at ``t_now`` of no kind: the loop's own step advances the clock to now.
    events = [*events, (t_now, "", "")]
    n = len(events)
    i = 0
    # how it opened (see _replay)
    while i < n:
        t, kind, value = events[i]
        if t != t_open or value in ("solved", "closed"):
            break
        if kind == "status":
            status = _STATUS[value]
        elif kind == "priority":
            prio = _PRIORITY[value]
        elif kind == "label_add":
            if value not in labels:
                labels.append(value)
        elif kind == "label_remove":
            if value in labels:
                labels.remove(value)
        else:
            break
        i += 1
    # the current clock
    next_reply = False
    t0 = cur = t_open
    tgt = _target_at(settings, plan, prio, source, channel, t_open, False)
    c = 0
    paused = False
    pauses: list[list[int | None]] = []
    hit: int | None = None
    warn_hit: int | None = None
    due_next: int | None = None
    warn_next: int | None = None
    running = True
    if status in _WAITING or any(x.startswith("+") for x in labels):
        paused = True
        pauses.append([t_open, None])
    if status in _DONE:
        running = False
    while i < n:
        t, kind, value = events[i]
        i += 1
        if running and t > cur:  # advance
            if not paused and tgt is not None:
                if warn_hit is None and c < tgt.warn_after:
                    if warn_next is None:
                        amount = tgt.warn_after - c
                        warn_next = add(cur, amount) if tgt.business else cur + amount
                    if warn_next <= t:
                        warn_hit = warn_next
                if hit is None and c < tgt.seconds:
                    if due_next is None:
                        amount = tgt.seconds - c
                        due_next = add(cur, amount) if tgt.business else cur + amount
                    if due_next <= t:
                        hit = due_next
            if not paused:
                c += between(cur, t) if tgt is not None and tgt.business else t - cur
            cur = t
        if kind == "customer_comment":
            if status is Status.CLOSED:
                continue
            if status is Status.PENDING or status is Status.SOLVED:
                status = Status.OPEN
            labels = [x for x in labels if not x.startswith("+")]
            if not running:  # a next-reply clock starts
                next_reply = running = True
                t0 = cur = t
                tgt = _target_at(settings, plan, prio, source, channel, t, True)
                c = 0
                pauses = []
                hit = warn_hit = due_next = warn_next = None
                paused = status is Status.HOLD
                if paused:
                    pauses.append([t, None])
                continue
        elif kind == "agent_public":
            if running:
                running = False
            continue
        elif kind == "status":
            status = _STATUS[value]
            if status is Status.SOLVED or status is Status.CLOSED:
                running = False
                continue
        elif kind == "label_add":
            if value not in labels:
                labels.append(value)
        elif kind == "label_remove":
            if value in labels:
                labels.remove(value)
        elif kind == "priority":
            prio = _PRIORITY[value]
            if running and hit is None:  # a breach is history: the clock keeps its target
                tgt = _target_at(settings, plan, prio, source, channel, t0, next_reply)
                due_next = warn_next = None
                biz = tgt is not None and tgt.business
                used = between(t0, cur) if biz else cur - t0
                for start, end in pauses:
                    assert start is not None
                    stop = cur if end is None else end
                    used -= between(start, stop) if biz else stop - start
                c = used
                warn_hit = None
                if tgt is not None:
                    if c >= tgt.seconds:
                        hit = warn_hit = t
                    elif c >= tgt.warn_after:
                        warn_hit = t
            continue
        else:  # internal notes and automatic replies never fulfil
            continue
        # sync the pause with the waiting state
        if running:
            waiting = status in _WAITING or any(x.startswith("+") for x in labels)
            if waiting != paused:
                due_next = warn_next = None
                paused = waiting
                if waiting:
                    pauses.append([t, None])
                else:
                    pauses[-1][1] = t
    if not running or tgt is None:
        return None
    if hit is not None and hit <= t_now:
        return tgt, ClockState.BREACHED, paused, hit, None, None
    if paused:
        return tgt, ClockState.PAUSED, True, None, None, None
    due = due_next
    if due is None:
        amount = tgt.seconds - c
        due = add(t_now, amount) if tgt.business else t_now + amount
    warn = warn_hit if warn_hit is not None else warn_next
    if warn is None:
        amount = tgt.warn_after - c
        warn = add(t_now, amount) if tgt.business else t_now + amount
    return tgt, ClockState.ACTIVE, False, None, due, warn
