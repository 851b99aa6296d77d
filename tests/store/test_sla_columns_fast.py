"""The store's fast SLA columns (issue 22: ``recompute`` replays only the current clock, in
local variables) give exactly what the full replay (``current_clock``) gives, on random
stored histories: statuses, priorities, labels (``+`` waiting labels, a label called
``solved``), customer, agent and automation messages, notes, unknown kinds and unreadable
instants, at instants around business-hour edges, DST changes, holidays and weekends."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from fractions import Fraction
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from oncall_tui.domain.calendars import BusinessCalendar, Closure, OpeningWindow, from_epoch
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.sla_policy import (
    SlaSettings,
    TargetRule,
    default_channels,
    default_plans,
)
from oncall_tui.domain.tickets import Channel, Priority, Source
from oncall_tui.store.base import Shared
from oncall_tui.store.db import iso
from oncall_tui.store.sla_columns import SlaColumns

_W = OpeningWindow.parse
SPLIT = BusinessCalendar(
    week=(
        (_W("00:00-03:00"), _W("07:00-16:00")),
        (_W("00:00-06:00"), _W("22:00-24:00")),
        (_W("09:00-12:00"), _W("13:00-17:00")),
        (_W("01:30-02:30"), _W("07:00-16:00")),  # touches the DST hours on some days
        (_W("07:00-12:00"),),
        (),
        (_W("00:00-24:00"),),
    ),
    closures=(
        Closure.on(date(2026, 11, 25), "Half day", from_time=time(12)),
        Closure.days(date(2027, 3, 15), date(2027, 3, 16), "Offsite"),
    ),
)
SETTINGS = [
    SlaSettings.default(),
    SlaSettings(
        SPLIT,
        default_plans(),
        default_channels(),
        warning_fraction=Fraction(1, 3),
        next_reply=(
            ("premium", Priority.P2, TargetRule.by_hours("30bm", "2h")),
            ("ultimate", Priority.P3, None),
        ),
    ),
]


def _at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> int:
    return int(datetime(y, mo, d, h, mi, tzinfo=UTC).timestamp())


# business-hour edges (LA 07:00 = 15:00Z, 16:00 = 00:00Z in winter), a weekend, holidays
# (Thanksgiving 2026-11-26, Christmas), the DST changes of 2027 (March 14, November 7)
EDGES = [
    _at(2026, 11, 20, 15),
    _at(2026, 11, 21, 0),
    _at(2026, 11, 21, 12),  # Saturday
    _at(2026, 11, 23, 15),
    _at(2026, 11, 25, 20),  # SPLIT's half day
    _at(2026, 11, 26, 16),  # Thanksgiving
    _at(2026, 12, 24, 23, 59),
    _at(2026, 12, 25, 15),
    _at(2027, 3, 14, 9, 30),  # 01:30 LA, spring forward
    _at(2027, 3, 15, 14),
    _at(2027, 11, 7, 8, 30),  # fall back
    _at(2027, 11, 7, 9, 30),
]
instants = st.builds(
    lambda base, jitter: base + jitter,
    st.sampled_from(EDGES),
    st.one_of(
        st.integers(-2, 2),
        st.integers(-6 * 3600, 6 * 3600),
        st.integers(-3 * 86_400, 10 * 86_400),
    ),
)
KINDS = [
    "customer_comment",
    "agent_public",
    "agent_note",
    "automation_public",
    "status",
    "label_add",
    "label_remove",
    "priority",
    "not_a_kind",
]
VALUES = {
    "status": ["new", "open", "pending", "hold", "solved", "closed"],
    "label_add": ["+more info please", "+logs", "vip", "solved", "+"],
    "label_remove": ["+more info please", "+logs", "vip", "solved", "+"],
    "priority": ["P0", "P1", "P2", "P3"],
}


def _entry(at: Any, kind: str, pick: int) -> list[Any]:
    values = VALUES.get(kind, [""])
    return [at, kind, values[pick % len(values)]]


entries = st.builds(
    _entry,
    st.one_of(instants, instants, instants, st.just("x"), st.just(None)),
    st.sampled_from(KINDS),
    st.integers(0, 20),
)


# dense: few kinds, close together, so sequences like "answered, on hold, the customer
# writes" come up often
dense = st.builds(
    _entry,
    st.integers(0, 2 * 86_400),
    st.sampled_from(["customer_comment", "agent_public", "status", "label_add", "priority"]),
    st.integers(0, 20),
)


@st.composite
def histories(draw: st.DrawFn) -> tuple[int, list[list[Any]]]:
    opened = draw(instants)
    if draw(st.booleans()):
        raw = draw(st.lists(entries, max_size=16))
    else:
        raw = [[opened + e[0], e[1], e[2]] for e in draw(st.lists(dense, max_size=8))]
    # a share of the events exactly at the opening (how it opened) and at one instant
    for e in raw:
        if draw(st.integers(0, 4)) == 0:
            e[0] = opened
    if draw(st.booleans()):
        raw.sort(key=lambda e: e[0] if isinstance(e[0], int) else 0)
    return opened, raw


def _columns(sla: SlaSettings, now: int) -> SlaColumns:
    shared = Shared(None, sla=sla, clock=FrozenClock(from_epoch(now)), path=Path("x"))  # type: ignore[arg-type]
    return SlaColumns(shared, plans=dict)


def _both(cols: SlaColumns, *args: Any) -> tuple[object, object]:
    out = []
    for method in (cols.stored_columns, cols.stored_columns_replay):
        try:
            out.append(method(*args))
        except Exception as exc:  # the same failure, or none
            out.append(type(exc))
    return out[0], out[1]


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SETTINGS),
    histories(),
    instants,
    st.sampled_from(["new", "open", "pending", "hold"]),
    st.sampled_from([[], ["vip"], ["+logs"], ["vip", "+more info please"]]),
    st.sampled_from(list(Source)),
    st.sampled_from(list(Channel)),
    st.sampled_from([None, "premium", "ultimate", "free", "Premium", "unknown"]),
    st.sampled_from([0, 0, 1, 2, 3]),
)
@example(  # a next-reply clock re-targeted while paused, then resumed past its new due
    SETTINGS[0],
    (
        EDGES[0],
        [
            [EDGES[0] + 60, "agent_public", ""],
            [EDGES[0] + 120, "customer_comment", ""],
            [EDGES[0] + 180, "status", "hold"],
            [EDGES[0] + 240, "priority", "P0"],
            [EDGES[0] + 9000, "status", "open"],
            [EDGES[0] + 20000, "priority", "P2"],
        ],
    ),
    EDGES[3],
    "open",
    [],
    Source.HELPDESK,
    Channel.EMAIL,
    "ultimate",
    0,
)
@example(  # answered, put on hold, then the customer writes: a paused next-reply clock
    SETTINGS[0],
    (
        EDGES[0],
        [
            [EDGES[0] + 60, "agent_public", ""],
            [EDGES[0] + 120, "status", "hold"],
            [EDGES[0] + 180, "customer_comment", ""],
        ],
    ),
    EDGES[0] + 600,
    "hold",
    [],
    Source.HELPDESK,
    Channel.EMAIL,
    "premium",
    0,
)
@example(  # evaluated exactly at the due instant (2 business days from Friday 07:00 LA)
    SETTINGS[0],
    (EDGES[0], [[EDGES[0] + 60, "label_add", "vip"]]),
    _at(2026, 11, 24),
    "open",
    [],
    Source.HELPDESK,
    Channel.EMAIL,
    "premium",
    0,
)
@example(  # an event exactly at the due instant, evaluated later: breached at the due
    SETTINGS[0],
    (EDGES[0], [[_at(2026, 11, 24), "label_add", "vip"]]),
    _at(2026, 11, 24, 1),
    "open",
    [],
    Source.HELPDESK,
    Channel.EMAIL,
    "premium",
    0,
)
def test_fast_columns_equal_the_full_replay(
    sla: SlaSettings,
    history: tuple[int, list[list[Any]]],
    now: int,
    status: str,
    labels: list[str],
    source: Source,
    channel: Channel,
    plan: str | None,
    near: int,
) -> None:
    opened, raw = history
    if near and raw and isinstance(raw[-1][0], int):  # now at (or next to) an event
        now = raw[-1][0] + near - 2
    cols = _columns(sla, now)
    args = (
        status,
        json.dumps(labels),
        source.value,
        channel.value,
        iso(from_epoch(opened)),
        raw,
        plan,
    )
    fast, full = _both(cols, *args)
    assert fast == full
    event("bucket " + (fast.__name__ if isinstance(fast, type) else str(fast[2])))  # type: ignore[index]


def test_the_reference_sees_a_running_clock() -> None:
    """The comparison is not vacuous: both paths find a running and a breached clock."""
    sla = SETTINGS[0]
    t0 = EDGES[0]
    cols = _columns(sla, t0 + 3600)
    args = ("open", "[]", "helpdesk", "email", iso(from_epoch(t0)), [], "premium")
    assert cols.stored_columns(*args) == cols.stored_columns_replay(*args)
    # 2 business days (18 h) from Friday 07:00 LA: Monday 16:00 LA; warning with 1/4 left
    assert cols.stored_columns(*args) == [
        0,
        1,
        0,
        "2026-11-24T00:00:00Z",
        "2026-11-23T19:30:00Z",
        "2 business days",
    ]
    late = _columns(sla, t0 + 10 * 86_400)
    breached = ["2026-11-24T00:00:00Z"] * 2
    assert late.stored_columns(*args) == [0, 1, 0, *breached, "2 business days"]
    assert late.stored_columns_replay(*args) == late.stored_columns(*args)
