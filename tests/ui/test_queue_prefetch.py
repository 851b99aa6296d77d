"""Page keys find their rows already fetched (issue 22), and what the screen shows is still the
database and the ticket the keys act on.

After a frame that moved, the table fetches the rows a page up and a page down from the
screen (:meth:`TicketTable._prefetch`), so no page key queries the database inside its own
frame. The rows come from the database as it is then: a line whose row changed is repainted,
and the detail follows the ticket now under the cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import pytest
from textual.geometry import Region

from oncall_tui.domain.tickets import Customer, Priority, Source, Ticket
from oncall_tui.store.queue import QueueRow
from oncall_tui.ui.widgets.ticket_table import TicketTable

pytestmark = pytest.mark.anyio

SIZE = (120, 40)


def _tickets(
    clock: Any, count: int, prefix: str, *, age_hours: float = 0.0, customer_id: int | None = None
) -> list[Ticket]:
    opened = clock() - timedelta(hours=age_hours)
    return [
        Ticket(
            id=0,
            source=Source.HELPDESK,
            subject=f"{prefix} {i:04d}",
            opened_at=opened - timedelta(minutes=i),
            updated_at=clock() - timedelta(minutes=1),
            priority=Priority.P2,
            customer_id=customer_id,
        )
        for i in range(count)
    ]


def _on_screen(table: TicketTable) -> list[str]:
    """The table's lines as the screen has them (a line not repainted keeps its old text)."""
    return [
        table.render_lines(Region(0, y, table.line_width, 1))[0].text
        for y in range(table.size.height)
    ]


def _subjects(rows: Sequence[QueueRow]) -> list[str]:
    return [row.subject for row in rows]


class _Watch:
    """Counts the table's fetches, noting those made while a key is handled or a frame drawn
    (where a fetch holds up what the user waits for)."""

    def __init__(self, table: TicketTable) -> None:
        self.table = table
        self.busy = False
        self.fetches: list[tuple[int, int, bool]] = []
        self.real: Callable[[int, int], Sequence[QueueRow]] = table._fetch
        table._fetch = self._fetch
        for name in ("render_lines", "action_page_down", "action_page_up", "action_cursor_down"):
            setattr(table, name, self._busy(getattr(table, name)))

    def _fetch(self, offset: int, limit: int) -> Sequence[QueueRow]:
        self.fetches.append((offset, limit, self.busy))
        return self.real(offset, limit)

    def _busy(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any) -> Any:
            before, self.busy = self.busy, True
            try:
                return method(*args)
            finally:
                self.busy = before

        return wrapped


async def test_page_keys_find_their_rows_fetched_and_show_the_database(
    make_app: Any, store: Any, clock: Any
) -> None:
    store.tickets.insert_tickets(_tickets(clock, 700, "Login fails"))
    app = make_app(store=store, seed=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")  # All open
        await pilot.pause()
        table = app.screen.query_one(TicketTable)
        assert table.total == 700
        watch = _Watch(table)
        height = table.size.height
        for key in ["pagedown"] * 12 + ["pageup"] * 4 + ["down"] * 60:
            await pilot.press(key)
            await pilot.pause()
            top = int(table.scroll_y)
            expected = _subjects(watch.real(top, height))
            shown = _on_screen(table)
            assert len(expected) == height
            for line, subject in zip(shown, expected, strict=True):
                assert subject in line, (key, top)
        assert len(watch.fetches) >= 5  # the window moved on ahead of the keys...
        assert not [f for f in watch.fetches if f[2]]  # ...never inside a key or its frame


async def test_rows_that_changed_before_a_prefetch_are_repainted_and_the_detail_follows(
    make_app: Any, store: Any, clock: Any
) -> None:
    store.tickets.insert_tickets(_tickets(clock, 700, "Login fails"))
    app = make_app(store=store, seed=None)
    async with app.run_test(size=(160, 48)) as pilot:  # wide: the detail beside the queue
        await pilot.press("5")
        await pilot.pause()
        screen: Any = app.screen
        table = screen.query_one(TicketTable)
        watch = _Watch(table)
        for _ in range(3):
            await pilot.press("pagedown")
            await pilot.pause()
        # Another process (a sync) adds tickets more urgent than all of these (a plan's SLA,
        # breached): every row of the queue moves down; the app has not reloaded yet.
        cid = store.tickets.upsert_customer(Customer(id=0, name="Acme", plan="premium"))
        store.tickets.insert_tickets(_tickets(clock, 25, "Outage", age_hours=200, customer_id=cid))
        prefetched = len(watch.fetches)
        for _ in range(3):
            await pilot.press("pagedown")
            await pilot.pause()
            assert _on_screen(table) == [
                table.render_line(y).text for y in range(table.size.height)
            ]  # the screen is the cache: no line left showing a row that moved
            assert screen._detail_id == table.current.id  # the detail is the cursor's ticket
        assert len(watch.fetches) > prefetched  # the moved rows were fetched...
        assert table.current.subject == f"Login fails {table.cursor - 25:04d}"  # ...and shown
        top = int(table.scroll_y)
        assert _subjects(table.visible_rows()) == _subjects(watch.real(top, table.size.height))
        assert not [f for f in watch.fetches if f[2]]


async def test_the_selected_ticket_stays_selected_when_a_prefetch_finds_the_rows_moved(
    make_app: Any, store: Any, clock: Any
) -> None:
    """Rows re-sorted by another process between two fetches: the cursor follows its ticket
    (as a reload does), it does not stay on a line that now holds another one."""
    store.tickets.insert_tickets(_tickets(clock, 700, "Login fails"))
    app = make_app(store=store, seed=None)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("5")
        await pilot.pause()
        screen: Any = app.screen
        table = screen.query_one(TicketTable)
        watch = _Watch(table)
        selected_at_fetch: list[int] = []
        real = watch.real

        def fetch(offset: int, limit: int) -> Any:
            assert table._highlighted is not None
            selected_at_fetch.append(table._highlighted.id)
            return real(offset, limit)

        watch.real = fetch
        await pilot.press("pagedown")
        await pilot.pause()
        cid = store.tickets.upsert_customer(Customer(id=0, name="Acme", plan="premium"))
        store.tickets.insert_tickets(_tickets(clock, 25, "Outage", age_hours=200, customer_id=cid))
        for _ in range(4):
            selected_at_fetch.clear()
            await pilot.press("pagedown")
            await pilot.pause()
            if selected_at_fetch:  # the window was fetched again after this key's frame
                assert table.current.id == selected_at_fetch[-1]  # still the selected ticket
                assert screen._detail_id == table.current.id
                assert _on_screen(table) == [
                    table.render_line(y).text for y in range(table.size.height)
                ]
        assert table.current.subject == f"Login fails {table.cursor - 25:04d}"
        assert not [f for f in watch.fetches if f[2]]
