"""Issue 14: every key acts on the ticket you see.

The queue re-sorts under the cursor three ways (your own label, a background sync page, the
minute tick) and the next key still lands on the ticket that was shown; a ticket that leaves
the view hands the cursor to its neighbour and the notice line says where it went.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from oncall_tui.domain.query import parse_query
from oncall_tui.domain.tickets import Priority, ticket_ref
from oncall_tui.store.queue import Queue
from oncall_tui.ui.screens.detail_screen import DetailScreen
from oncall_tui.ui.screens.prompt_screen import PromptScreen
from oncall_tui.ui.screens.queue_screen import QueueScreen
from oncall_tui.ui.widgets.ticket_table import TicketTable
from tests.fakes import T0, FakeBackend, remote_ticket

pytestmark = pytest.mark.anyio
SIZE = (120, 40)
ALL_OPEN, BREACHING = "5", "3"


def table(app: Any) -> TicketTable:
    return app.screen.query_one(TicketTable)


def shown(app: Any) -> int:
    """The ticket highlighted on screen: the row the cursor is painted on."""
    t = table(app)
    top = int(t.scroll_y)
    assert top <= t.cursor < top + t.size.height, "the cursor row is not on screen"
    row = t._cached(t.cursor)
    assert row is not None
    return int(row.id)


async def open_with_enter(pilot: Any) -> int:
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(pilot.app.screen, DetailScreen)
    opened = int(pilot.app.screen.ticket_id)
    await pilot.press("q")
    await pilot.pause()
    return opened


async def add_label(pilot: Any, label: str) -> None:
    await pilot.press("l")
    await pilot.pause()
    assert isinstance(pilot.app.screen, PromptScreen)
    await pilot.press(*label, "enter")
    await pilot.pause()


async def test_own_label_moves_the_ticket_and_the_cursor_goes_with_it(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(ALL_OPEN)
        await pilot.pause()
        t = table(app)
        now = app.ctx.store.clock()
        for _ in range(30):  # a ticket whose clock runs, not breached (the label pauses it)
            row = t.current
            if not row.paused and row.sla_due is not None and row.sla_due > now:
                break
            await pilot.press("j")
        row_before = t.cursor
        seen = shown(app)
        assert not app.ctx.store.tickets.get_ticket(seen).is_paused
        await add_label(pilot, "+more info please")
        assert app.ctx.store.tickets.get_ticket(seen).is_paused  # paused: it sorts among the paused
        assert t.cursor != row_before  # it moved...
        assert shown(app) == seen  # ...and the highlight with it
        assert await open_with_enter(pilot) == seen  # Enter opens the ticket that was shown
        await add_label(pilot, "checked")  # and l labels it
        assert "checked" in app.ctx.store.tickets.get_ticket(seen).labels


async def test_a_ticket_that_leaves_the_view_hands_over_to_its_neighbour(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(BREACHING)
        await pilot.pause()
        t = table(app)
        await pilot.press("j")
        seen = shown(app)
        below = t._cached(t.cursor + 1).id
        await add_label(pilot, "+more info please")  # paused: no longer "breaching soon"
        screen: QueueScreen = app.screen
        assert not app.ctx.store.queue.in_queue(screen.query_now(), seen, me=app.ctx.config.user)
        assert shown(app) == below  # the row that was below it
        notice = str(screen.query_one("#queue-notice").render())
        ticket = app.ctx.store.tickets.get_ticket(seen)
        assert f"{ticket_ref(ticket.source, ticket.remote_id)} “" in notice
        assert "left Breaching soon (now in" in notice and "Waiting on customer" in notice
        other = app.ctx.store.tickets.get_ticket(below)
        assert f"cursor on {ticket_ref(other.source, other.remote_id)}" in notice
        assert screen.query_one("#queue-notice").has_class("-shown")
        assert await open_with_enter(pilot) == below


async def test_a_background_sync_page_resorts_under_the_cursor(make_app: Any) -> None:
    backend = FakeBackend([])
    app = make_app(backend=backend)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()  # the engine starts after the first frame
        await app.workers.wait_for_complete()
        await pilot.press(ALL_OPEN)
        await pilot.pause()
        t = table(app)
        await pilot.press("j", "j", "j", "j", "j")
        seen, row_before = shown(app), t.cursor
        # Meanwhile at the help desk: two urgent tickets that sort above the cursor.
        for n in (1, 2):
            backend.touch(remote_ticket(n, priority=Priority.P0, opened_at=T0 - timedelta(days=9)))
        app.run_sync()  # the background loop's next pass (no key pressed)
        await app.workers.wait_for_complete()
        await pilot.pause()
        store = app.ctx.store
        assert store.tickets.find_ticket("helpdesk", "1") is not None
        assert t.cursor == row_before + 2  # both landed above it
        assert shown(app) == seen
        await add_label(pilot, "checked")  # `l` lands on the ticket that was shown
        assert "checked" in store.tickets.get_ticket(seen).labels
        for n in ("1", "2"):
            assert "checked" not in store.tickets.find_ticket("helpdesk", n).labels
        assert await open_with_enter(pilot) == seen


async def test_the_minute_tick_adds_rows_above_the_cursor(make_app: Any, clock: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(BREACHING)
        await pilot.pause()
        store = app.ctx.store
        screen: QueueScreen = app.screen
        query = screen.query_now()
        me = app.ctx.config.user
        # The next ticket to enter "Breaching soon" as time passes, and one already in the
        # view that it will sort above.
        coming = min(
            (r for r in store.queue.open_queue(parse_query("is:open sla:ok"), limit=1000, me=me)),
            key=lambda r: r.sla_warn_at,
        )
        rows = store.queue.open_queue(query, limit=1000, me=me)
        target = next(i for i, r in enumerate(rows) if r.sla_due > coming.sla_due)
        t = table(app)
        t.cursor = target
        await pilot.pause()
        seen = shown(app)
        assert seen == rows[target].id
        when = coming.sla_warn_at + timedelta(seconds=1)
        clock.set(when + timedelta(seconds=60 - when.second))  # past the next whole minute
        screen.tick()
        await pilot.pause()
        assert store.queue.in_queue(query, coming.id, me=me)
        visible = [r.id for r in t.visible_rows()]
        assert coming.id in visible  # the tick shows the rows time brought in...
        after = [r.id for r in store.queue.open_queue(query, limit=1000, me=me)]
        # (and drops those that breached meanwhile: they have their own view)
        assert t.cursor == after.index(seen)
        assert shown(app) == seen  # ...around a cursor that stayed on its ticket
        assert await open_with_enter(pilot) == seen


async def test_a_plain_tick_costs_no_query(make_app: Any, clock: Any, monkeypatch: Any) -> None:
    """Countdowns repaint from the rows held; finding the cursor's ticket again is for
    reloads, never for the per-second tick (nor the minute of a view that time cannot
    change)."""
    calls: list[str] = []
    for name in ("open_queue", "queue_position", "queue_count", "in_queue"):
        real = getattr(Queue, name)

        def spy(self: Any, *a: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            calls.append(_name)
            return _real(self, *a, **kw)

        monkeypatch.setattr(Queue, name, spy)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(ALL_OPEN)
        await pilot.pause()
        screen: QueueScreen = app.screen
        screen.tick()
        calls.clear()
        for _ in range(5):
            clock.advance(1)
            screen.tick()
        clock.advance(60)  # a new minute: "All open" does not depend on time
        screen.tick()
        await pilot.pause()
        assert calls == []


async def test_the_cursor_follows_its_ticket_beyond_the_rows_held(
    make_app: Any, demo_store: Any, clock: Any
) -> None:
    """Paused, the ticket sorts hundreds of rows further: it is found by position (a count
    on the urgency index), not by the window the table holds."""
    from oncall_tui.domain.tickets import Source, Status, Ticket

    customer = next(c for c in demo_store.tickets.customers() if c.plan == "premium")
    demo_store.tickets.insert_tickets(
        [
            Ticket(
                id=0,
                source=Source.HELPDESK,
                remote_id=str(90_000 + n),
                subject=f"Filler {n}",
                status=Status.OPEN,
                priority=Priority.P3,
                customer_id=customer.id,
                opened_at=clock() - timedelta(minutes=1),
                updated_at=clock(),
            )
            for n in range(500)
        ]
    )
    app = make_app(store=demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(ALL_OPEN)
        await pilot.pause()
        t = table(app)
        await pilot.press("j")
        while t.current.sla_due is None or t.current.sla_due <= clock():  # not breached:
            await pilot.press("j")  # a breached ticket stays breached (and first) when paused
        seen = shown(app)
        assert not t.current.paused
        await add_label(pilot, "+more info please")
        assert t.cursor > 500  # far beyond the ~120 rows the table holds
        assert shown(app) == seen
        assert await open_with_enter(pilot) == seen


async def test_the_selection_survives_the_table_holding_another_window(make_app: Any) -> None:
    """The rows the table holds may move away from the cursor (a scroll, the detail's next and
    previous, a look-up): a refresh then must still keep the ticket that was highlighted, not
    whatever sits at the cursor's index in the new result."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")  # All open: more rows than one window
        await pilot.pause()
        t = table(app)
        for _ in range(130):
            t.action_cursor_down()
        await pilot.pause()
        before = shown(app)
        t.row_at(0)  # the table now holds the window at the top, not the cursor's
        assert t._cached(t.cursor) is None or t._cached(t.cursor).id == before
        app.screen.set_sort(("subject", False))  # a full refresh, the rows re-sorted
        await pilot.pause()
        assert shown(app) == before
        app.store_revision += 1  # and a data change
        await pilot.pause()
        assert shown(app) == before
