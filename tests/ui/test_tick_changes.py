"""The per-second tick does nothing until something shown can change (issue 22), and the SLA
clock shown is still right at every second.

Every visible row knows the next instant its text can change (:meth:`TicketTable.changes_at`);
the status bar and the detail's SLA breakdown know theirs. These tests check the predictions
against brute force (the text rendered at every second), and the screen itself (what the
terminal would be sent) across a warning, a critical and a breach boundary.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.geometry import Region

from oncall_tui.domain import sla as sla_rules
from oncall_tui.domain.tickets import Priority, Source, Status
from oncall_tui.store.queue import QueueRow
from oncall_tui.ui.widgets.ticket_table import NEVER, TicketTable, age_changes_at, age_text

NOW = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)
SECOND = timedelta(seconds=1)
DAY = 86_400


def _row(
    *,
    now: datetime,
    due: int | None,
    warn_before: int | None,
    age: int,
    micro: int,
    is_open: bool,
    targeted: bool,
    paused: bool,
    pending: bool,
) -> QueueRow:
    sla_due = None if due is None else now + timedelta(seconds=due, microseconds=micro)
    warn = (
        None if sla_due is None or warn_before is None else sla_due - timedelta(seconds=warn_before)
    )
    return QueueRow(
        id=7,
        source=Source.HELPDESK,
        subject="Login fails",
        status=Status.OPEN,
        priority=Priority.P1,
        assignee="alex@example.com",
        updated_at=now - timedelta(seconds=age, microseconds=micro),
        sla_due=sla_due,
        sla_warn_at=warn,
        sla_target="4h" if targeted else None,
        paused=paused,
        is_open=is_open,
        pending_ops=1 if pending else 0,
        conflict=False,
        customer_name="Acme",
        codename="ACME",
        plan="premium",
        labels="[]",
    )


# Mostly running clocks; dues near now cross warning, critical and breach within the walk,
# far ones step by hours.
mostly = st.sampled_from([True, True, True, False])
offsets = st.one_of(
    st.integers(-400, 2400), st.integers(-400, 2400), st.integers(-6 * DAY, 6 * DAY)
)
rows = st.builds(
    _row,
    now=st.just(NOW),
    due=st.one_of(offsets, offsets, offsets, st.none()),
    warn_before=st.one_of(st.integers(0, 2400), st.integers(0, 4 * 3600), st.none()),
    age=st.one_of(st.integers(-90, 4000), st.integers(0, 40 * DAY)),
    micro=st.one_of(st.just(0), st.integers(0, 999_999)),
    is_open=mostly,
    targeted=mostly,
    paused=st.booleans(),
    pending=st.booleans(),
)
critical = st.sampled_from([0, 60, 900])
waits = st.one_of(st.none(), st.integers(-5, 700))


def _table(critical_seconds: int, row: QueueRow, wait: int | None) -> TicketTable:
    table = TicketTable(critical_seconds=critical_seconds)
    if wait is not None:
        table.waiting = {row.id: NOW + timedelta(seconds=wait)}
    return table


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows, critical, waits, st.integers(0, 999_999))
def test_a_row_reads_the_same_until_its_predicted_instant_and_differently_at_it(
    row: QueueRow, critical_seconds: int, wait: int | None, micro: int
) -> None:
    table = _table(critical_seconds, row, wait)
    now = NOW + timedelta(microseconds=micro)
    shown = table._shown_at(row, now)
    until = table.changes_at(row, now)
    assert until > now
    if until is NEVER:
        probes = [now + k * SECOND for k in (1, 59, 3600, 7 * DAY)]
    else:
        span = until - now
        probes = [now + span * f for f in (0.25, 0.5, 0.75)] + [until - timedelta(microseconds=1)]
        probes += [now + k * SECOND for k in range(1, 120)]
        probes = [t for t in probes if t < until]
        assert table._shown_at(row, until) != shown, (now, until)  # exact: a real change
    for t in probes:
        assert table._shown_at(row, t) == shown, (now, t, until)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows, critical, waits)
def test_rendered_every_second_a_row_changes_exactly_when_predicted(
    row: QueueRow, critical_seconds: int, wait: int | None
) -> None:
    """Brute force: the row's text at every second of 40 minutes; it changes at a second
    exactly when that second is at or past the instant predicted at the last change."""
    table = _table(critical_seconds, row, wait)
    now = NOW
    shown = table._shown_at(row, now)
    predicted = table.changes_at(row, now)
    for _ in range(2400):
        now += SECOND
        text = table._shown_at(row, now)
        assert (text != shown) == (now >= predicted), (now, predicted, shown, text)
        if text != shown:
            shown, predicted = text, table.changes_at(row, now)


def test_a_row_that_may_gain_the_investigation_flag_is_looked_at_every_tick() -> None:
    row = _row(
        now=NOW, due=None, warn_before=None, age=10 * DAY, micro=0,
        is_open=True, targeted=False, paused=False, pending=False,
    )  # fmt: skip
    from dataclasses import replace

    row = replace(row, investigating_since=NOW - timedelta(days=2))
    table = TicketTable(needs_review=lambda r, now: True)
    assert table.changes_at(row, NOW) == NOW + timedelta(microseconds=1)
    assert TicketTable().changes_at(row, NOW) == age_changes_at(row.updated_at, NOW)


@given(st.integers(-10 * DAY, 10 * DAY))
def test_the_countdown_steps_are_those_of_its_text(seconds: int) -> None:
    after = sla_rules.remaining_text_steps(seconds)
    assert after < seconds
    text = sla_rules.format_remaining(seconds)
    assert all(sla_rules.format_remaining(s) == text for s in range(after + 1, seconds + 1))
    assert sla_rules.format_remaining(after) != text


@given(st.integers(-200, 3 * DAY), st.integers(0, 999_999))
def test_the_age_reads_the_same_until_its_predicted_instant(age: int, micro: int) -> None:
    then = NOW - timedelta(seconds=age, microseconds=micro)
    until = age_changes_at(then, NOW)
    assert until > NOW
    assert age_text(then, until - timedelta(microseconds=1)) == age_text(then, NOW)
    assert age_text(then, until) != age_text(then, NOW)


# ---- on screen -----------------------------------------------------------------------------


def _on_screen(table: TicketTable, index: int) -> str:
    """The row's line as the screen has it (the widget's rendered-line cache: a line not
    repainted keeps its old text)."""
    y = index - int(table.scroll_y)
    return table.render_lines(Region(0, y, table.line_width, 1))[0].text


def _state_on_screen(table: TicketTable, index: int) -> Any:
    y = index - int(table.scroll_y)
    strip = table.render_lines(Region(0, y, table.line_width, 1))[0]
    return next(iter(strip)).style  # the SLA cell comes first


@pytest.mark.anyio
@pytest.mark.parametrize("edge", ["warning", "critical", "breached"])
async def test_the_row_shows_the_new_state_at_the_exact_second_it_crosses(
    make_app: Any, clock: Any, edge: str
) -> None:
    from oncall_tui.ui.screens.queue_screen import QueueScreen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5")  # All open
        await pilot.pause()
        screen: QueueScreen = app.screen
        table = screen.table
        critical_seconds = table.critical_seconds
        index, row = next(
            (i, r)
            for i in range(table.total)
            if (r := table.row_at(i)) is not None
            and r.sla_due is not None
            and r.sla_warn_at is not None
            and r.sla_warn_at < r.sla_due - timedelta(seconds=critical_seconds)
            and table.state_of(r, clock()) == "ok"
        )
        for _ in range(2):  # the table knows when its first screenful next changes...
            clock.advance(1)
            screen.tick()
        assert not table.scroll_y <= index < table.scroll_y + table.size.height
        table.cursor = index  # ...and this row scrolls into sight
        await pilot.pause()
        assert row.sla_due is not None and row.sla_warn_at is not None
        instant = {
            "warning": row.sla_warn_at,
            "critical": row.sla_due - timedelta(seconds=critical_seconds),
            "breached": row.sla_due,
        }[edge]
        # Stay on the view across the minutes (its rows do not depend on time).
        clock.set(instant - 3 * SECOND)
        screen.tick()
        await pilot.pause()
        for step in (-2, -1, 0, 1):
            clock.advance(1)
            screen.tick()
            await pilot.pause()
            now = clock()
            assert now == instant + step * SECOND
            assert table.row_at(index) == row  # the same ticket on the same line
            expected_state = table.state_of(row, now)
            assert (expected_state == edge) == (step >= 0), (step, expected_state)
            assert _on_screen(table, index) == table.render_line(index - int(table.scroll_y)).text
            style = table._component_style(f"ticket-table--{expected_state}")
            assert _state_on_screen(table, index).color == style.color, (step, expected_state)
            countdown = sla_rules.countdown_text(row.sla_due, False, now)
            assert _on_screen(table, index).startswith(countdown), (step, countdown)


# ---- the detail's SLA breakdown and the status bar ---------------------------------------------


def _walk_never_late(shown: Any, start: datetime, steps: int, step: int) -> int:
    """Sample ``shown`` (an instant's (text, predicted instant)) every ``step`` seconds:
    wherever the text changed between two samples, the instant predicted at the first came
    no later than the second (a prediction may come early, never late), and the text just
    before a predicted instant is still the old one. Returns how many changes were seen."""
    changes = 0
    t = start
    text, until = shown(t)
    for _ in range(steps):
        later = t + timedelta(seconds=step)
        new, new_until = shown(later)
        if new != text:
            changes += 1
            assert until is not None and until <= later, (t, later, until, text, new)
        if until is not None and t < until - SECOND <= later:
            assert shown(until - SECOND)[0] == text, (t, until)
        t, text, until = later, new, new_until
    return changes


def test_the_detail_breakdown_is_never_looked_at_too_late(demo_store: Any, clock: Any) -> None:
    """Brute force on the demo's tickets (running clocks in and out of business hours,
    breached ones, paused ones, answered ones): every second of 15 minutes, then every
    five minutes of four days."""
    from oncall_tui.domain.query import parse_query
    from oncall_tui.ui.screens.detail_loader import load_detail
    from oncall_tui.ui.widgets.ticket_detail import TicketDetail

    rows = demo_store.queue.open_queue(parse_query(""), limit=400, me="x")
    assert len(rows) > 20
    tz = demo_store.sla.calendar.tz
    changes = 0
    for row in rows[:: max(len(rows) // 8, 1)]:
        data = load_detail(demo_store, row.id)
        detail = TicketDetail()
        detail.settings = demo_store.sla

        def shown(t: datetime, data: Any = data, detail: Any = detail) -> Any:
            return detail._sla_lines(data, t, tz)

        changes += _walk_never_late(shown, clock(), 900, 1)
        changes += _walk_never_late(shown, clock(), 4 * 288, 300)
    assert changes > 50  # the walks did cross changes


def test_the_status_bar_is_never_looked_at_too_late(demo_store: Any, clock: Any) -> None:
    """The business-hours words, every minute of a week, in the calendar's zone and another
    (its midnights differ), and every second around each opening and closing."""
    from zoneinfo import ZoneInfo

    from oncall_tui.ui.widgets.status_bar import hours_status, hours_status_until

    settings = demo_store.sla
    for tz in (None, ZoneInfo("Asia/Tokyo")):

        def shown(t: datetime, tz: Any = tz) -> Any:
            is_open, text, until = hours_status_until(settings, t, tz)
            assert (is_open, text) == hours_status(settings, t, tz)
            return text, until

        assert _walk_never_late(shown, clock(), 7 * 1440, 60) >= 5
        edge = shown(clock())[1]
        assert edge is not None
        assert _walk_never_late(shown, edge - 300 * SECOND, 600, 1) >= 1


@pytest.mark.anyio
async def test_a_tick_before_any_visible_row_can_change_looks_at_no_row(
    make_app: Any, clock: Any
) -> None:
    """The O(1) tick: until the earliest instant a visible row can change, a tick looks at
    no row at all; at that instant, only at the rows whose instant it is."""
    from oncall_tui.ui.screens.queue_screen import QueueScreen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5")  # All open: its rows do not depend on the time
        await pilot.pause()
        screen: QueueScreen = app.screen
        table = screen.table
        looked: list[int] = []
        real = table._shown_at

        def spy(row: QueueRow, now: datetime) -> Any:
            looked.append(row.id)
            return real(row, now)

        table._shown_at = spy  # type: ignore[method-assign]
        for _ in range(300):  # to a second whose next change is at least 3 s away
            clock.advance(1)
            screen.tick()
            if table._due and table._due[0][0] - clock() > 3 * SECOND:
                break
        next_change = table._due[0][0]
        assert next_change - clock() > 3 * SECOND
        looked.clear()
        while clock() + SECOND < next_change:
            clock.advance(1)
            screen.tick()
        assert looked == []
        coming = {index for when, index in table._due if when <= clock() + SECOND}
        clock.advance(1)
        screen.tick()
        await pilot.pause()
        assert looked and set(looked) <= {table.row_at(i).id for i in coming}  # type: ignore[union-attr]
