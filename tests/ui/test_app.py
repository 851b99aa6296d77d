"""The app shell and the queue, driven through Textual's Pilot."""

from __future__ import annotations

from typing import Any

import pytest

from oncall_tui.ui.screens.help_screen import HelpScreen
from oncall_tui.ui.screens.queue_screen import QueueScreen
from oncall_tui.ui.widgets.status_bar import StatusBar
from oncall_tui.ui.widgets.ticket_table import TicketTable

pytestmark = pytest.mark.anyio


async def test_app_opens_on_the_demo_queue(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        table = app.screen.query_one(TicketTable)
        assert table.total > 0
        first = table.current
        assert first is not None
        rendered = "\n".join(line.text for line in (table.render_line(y) for y in range(5)))
        assert first.subject[:20] in rendered
        status = str(app.screen.query_one(StatusBar).render())
        assert "in business hours" in status  # Monday 10:30 in Los Angeles


async def test_help_lists_every_binding_of_the_screen(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        descriptions = {d for _, d in app.screen.rows}
        for expected in (
            "Quit",
            "Filter",
            "Assign me",
            "Priority",
            "Status",
            "Label",
            "Reply",
            "Note",
            "Browser",
            "Copy link",
            "Undo",
            "Open",
            "Help",
        ):
            assert expected in descriptions
        await pilot.press("escape")
        assert isinstance(app.screen, QueueScreen)


async def test_q_quits(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_customer_markup_and_escapes_show_literally(
    make_app: Any, store: Any, clock: Any
) -> None:
    from datetime import timedelta

    from oncall_tui.domain.tickets import Customer, Priority, Source, Ticket

    cid = store.tickets.upsert_customer(
        Customer(id=0, name="[link=http://x]Evil[/link]", plan="premium", codename="ceres")
    )
    store.tickets.insert_tickets(
        [
            Ticket(
                id=0,
                source=Source.HELPDESK,
                subject="[bold red]x[/] \x1b[31mred\x1b]8;;http://e\x07",
                opened_at=clock() - timedelta(minutes=5),
                updated_at=clock(),
                priority=Priority.P0,
                customer_id=cid,
            )
        ]
    )
    app = make_app(store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5")  # All open (the ticket is unassigned)
        await pilot.pause()
        table = app.screen.query_one(TicketTable)
        line = table.render_line(0).text
        assert "[bold red]x[/]" in line
        assert "␛[31mred" in line
        assert "\x1b" not in line
        assert "ceres [link=http://x]" in line


async def test_command_palette_offers_screen_actions(make_app: Any) -> None:
    from oncall_tui.ui.commands import BindingCommands

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        provider = BindingCommands(app.screen)
        names = {name for name, _, _ in provider._commands()}
        assert {"Assign me", "Priority", "Undo", "Filter"} <= names


def _cells(strip: Any) -> list[tuple[str, Any]]:
    return [(ch, seg.style) for seg in strip for ch in seg.text]


@pytest.mark.parametrize("width", [60, 90, 119, 158])
async def test_rows_built_from_segments_look_exactly_like_rows_built_as_text(
    make_app: Any, width: int
) -> None:
    """The fast line builder (segments) and the plain one (a rich Text) give the same cells,
    the same styles: cut subjects ("…"), wide characters, markers, the cursor row."""
    app = make_app()
    async with app.run_test(size=(width + 2, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(TicketTable)
        now = table.now
        compared = 0
        for index in range(min(table.total, 30)):
            row = table.row_at(index)
            assert row is not None
            state = table.state_of(row, now or row.updated_at)
            for subject in (row.subject, "↻ " + row.subject, "顧客のログイン問題が解決しない" * 3):
                cells = {**table.cells(row, now or row.updated_at), "subject": subject}
                fast = table._build_line(row, index, state, cells, width)
                slow = table._build_line_text(row, index, state, cells, width)
                assert fast.cell_length == slow.cell_length == width
                assert _cells(fast) == _cells(slow), (index, subject)
                compared += 1
        assert compared > 30


@pytest.mark.anyio
@pytest.mark.parametrize("second", ["s", "p", "l", "c", "D", "question_mark"])
async def test_keys_typed_after_q_in_one_burst_are_dropped(
    make_app: Any, anyio_backend: str, second: str
) -> None:
    """``q`` then ``s`` typed quickly (one read from the terminal) opened the status dialog
    on an app that was shutting down: ``NoMatches`` and a traceback instead of an exit."""
    from textual import events

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.post_message(events.Key("q", "q"))
        app.post_message(events.Key(second, None))
        await pilot.pause()
    assert app.return_code in (None, 0)
