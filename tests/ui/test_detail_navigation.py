"""Issue 20, item 9: the next and previous ticket from the detail, without going back to the
queue: the queue's view, filter and order, by ticket identity."""

from __future__ import annotations

from typing import Any

import pytest

from oncall_tui.ui.screens.detail_screen import DetailScreen
from oncall_tui.ui.widgets.ticket_detail import TicketDetail
from oncall_tui.ui.widgets.ticket_table import TicketTable

pytestmark = pytest.mark.anyio
NARROW = (100, 40)


def ids(app: Any, n: int) -> list[int]:
    table = app.screen.query_one(TicketTable)
    return [table.row_at(i).id for i in range(n)]


async def test_next_and_previous_follow_the_queue(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=NARROW) as pilot:
        await pilot.press("5")
        await pilot.pause()
        queue = app.screen
        order = ids(app, 4)
        await pilot.press("enter")
        await pilot.pause()
        detail = app.screen
        assert isinstance(detail, DetailScreen) and detail.ticket_id == order[0]
        await pilot.press("left_square_bracket")  # the first: stays, says so
        await pilot.pause()
        assert detail.ticket_id == order[0]
        for expected in (order[1], order[2], order[3]):
            await pilot.press("right_square_bracket")
            await pilot.pause()
            assert detail.ticket_id == expected
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert detail.ticket_id == order[2]
        # What the detail shows is that ticket (the key acts on the ticket you see).
        shown = detail.query_one(TicketDetail)
        assert detail.current_id() == order[2]
        assert shown.is_mounted
        await pilot.press("q")
        await pilot.pause()
        assert app.screen is queue
        assert queue.query_one(TicketTable).current.id == order[2]  # the queue followed


async def test_next_follows_the_sort_and_the_filter(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=NARROW) as pilot:
        await pilot.press("5")
        await pilot.pause()
        app.screen.set_sort(("subject", False))
        await pilot.pause()
        await pilot.press("slash", *"priority:P2", "enter")
        await pilot.pause()
        order = ids(app, 3)
        await pilot.press("enter")
        await pilot.pause()
        detail = app.screen
        assert detail.ticket_id == order[0]
        await pilot.press("right_square_bracket", "right_square_bracket")
        await pilot.pause()
        assert detail.ticket_id == order[2]
        ticket = app.ctx.store.tickets.get_ticket(order[2])
        assert str(ticket.priority) == "P2"


async def test_a_ticket_that_left_the_view_hands_over_to_the_next(make_app: Any) -> None:
    """Assigning an Unassigned ticket from the detail takes it out of the view: `]` shows
    the ticket that followed it, not the one after that."""
    app = make_app()
    async with app.run_test(size=NARROW) as pilot:
        await pilot.press("2")  # Unassigned
        await pilot.pause()
        order = ids(app, 3)
        await pilot.press("enter")
        await pilot.pause()
        detail = app.screen
        assert detail.ticket_id == order[0]
        await pilot.press("a")  # assign me: it leaves Unassigned
        await pilot.pause()
        assert app.ctx.store.tickets.get_ticket(order[0]).assignee
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert detail.ticket_id == order[1]
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert detail.ticket_id == order[2]


async def test_beside_the_queue(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("5")
        await pilot.pause()
        order = ids(app, 3)
        await pilot.press("enter")  # the detail beside, focused
        await pilot.pause(0.3)
        await pilot.press("right_square_bracket")
        await pilot.pause(0.3)
        queue = app.screen
        assert queue._detail_id == order[1]
        assert isinstance(queue.focused, TicketDetail)
        assert queue.current_id() == order[1]
