"""Every queue key action, through the Pilot, checked against the store."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from oncall_tui.domain.ops import OpKind
from oncall_tui.domain.query import parse_query
from oncall_tui.store.queue import QueueCounter
from oncall_tui.ui.screens.choice_screen import ChoiceScreen
from oncall_tui.ui.screens.compose_screen import ComposeScreen
from oncall_tui.ui.screens.detail_screen import DetailScreen
from oncall_tui.ui.screens.prompt_screen import PromptScreen
from oncall_tui.ui.screens.queue_screen import QueueScreen
from oncall_tui.ui.widgets.ticket_table import TicketTable

pytestmark = pytest.mark.anyio
SIZE = (120, 40)


def table(app: Any) -> TicketTable:
    return app.screen.query_one(TicketTable)


async def all_open(pilot: Any) -> TicketTable:
    await pilot.press("5")
    await pilot.pause()
    return table(pilot.app)


async def test_cursor_keys(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        t = await all_open(pilot)
        assert t.cursor == 0
        await pilot.press("j", "j", "down")
        assert t.cursor == 3
        await pilot.press("k", "up")
        assert t.cursor == 1
        await pilot.press("G")
        assert t.cursor == t.total - 1
        await pilot.press("g")
        assert t.cursor == 0
        await pilot.press("pagedown")
        assert t.cursor > 10


async def test_views_switch_with_number_keys_and_show_counts(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen: QueueScreen = app.screen
        store = app.ctx.store
        for n, view in enumerate(app.ctx.config.views, start=1):
            await pilot.press(str(n))
            await pilot.pause()
            expected = store.queue.queue_count(parse_query(view.query), me="alex@support.example")
            assert screen.view_index == n - 1
            assert table(app).total == expected == screen.counts[n - 1]
        bar = str(screen.query_one("#view-bar").render())
        assert "Waiting on customer" in bar


async def test_filter_as_you_type_and_escape_clears(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        t = await all_open(pilot)
        everything = t.total
        await pilot.press("slash")
        await pilot.press(*"priority:P0")
        await pilot.pause()
        assert 0 < t.total < everything
        for i in range(t.total):
            assert t.row_at(i).priority == "P0"
        await pilot.press("space", *"vesta")
        await pilot.pause()
        assert all(t.row_at(i).codename == "vesta" for i in range(t.total))
        await pilot.press("escape")
        await pilot.pause()
        assert t.total == everything
        assert app.screen.filter_text == ""


async def test_bad_filter_term_is_explained_not_fatal(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"priority:P9")
        await pilot.pause()
        hint = app.screen.query_one("#filter-hint")
        assert "priority:P9 is not valid" in str(hint.render())


async def test_assign_to_me(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")  # Unassigned
        await pilot.pause()
        tid = table(app).current.id
        await pilot.press("a")
        await pilot.pause()
        ticket = app.ctx.store.tickets.get_ticket(tid)
        assert ticket.assignee == "alex@support.example" and ticket.pending_ops == 1
        assert [op.kind for op in app.ctx.store.outbox.ops(ticket_id=tid)] == [OpKind.ASSIGN]


async def test_set_priority_and_status_through_pickers(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        t = await all_open(pilot)
        tid = t.current.id
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("home", "enter")  # P0
        await pilot.pause()
        assert str(app.ctx.store.tickets.get_ticket(tid).priority) == "P0"
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("home", "down", "down", "enter")  # pending
        await pilot.pause()
        ticket = app.ctx.store.tickets.get_ticket(tid)
        assert str(ticket.status) == "pending" and ticket.is_paused


async def test_label_toggle_pauses_sla(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5", "slash", *"is:open sla:ok")
        await pilot.pause()
        await pilot.press("enter")  # leave the filter field
        tid = table(app).current.id
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"+more info please", "enter")
        await pilot.pause()
        assert app.ctx.store.tickets.get_ticket(tid).is_paused
        await pilot.press("escape")  # clear the filter: the paused ticket left "sla:ok"
        await pilot.pause()
        me = app.ctx.config.user
        app.screen.table.cursor = (
            app.ctx.store.queue.queue_position(app.screen.query_now(), tid, me=me) or 0
        )
        await pilot.press("l")
        await pilot.pause()
        await pilot.press(*"+more info please", "enter")
        await pilot.pause()
        assert not app.ctx.store.tickets.get_ticket(tid).is_paused


async def test_reply_with_template_is_editable_then_queued(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        t = await all_open(pilot)
        tid = t.current.id
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("down", "enter")  # the first template
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        area = app.screen.query_one("TextArea")
        assert area.text.strip()
        assert "{customer}" not in area.text  # placeholders filled from the ticket
        area.cursor_location = area.document.end
        await pilot.press(*" PS", "ctrl+s")
        await pilot.pause()
        comments = app.ctx.store.tickets.comments(tid)
        assert comments[-1].body.endswith(" PS") and comments[-1].public
        assert comments[-1].pending


async def test_internal_note(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5", "slash", *"source:helpdesk")
        await pilot.pause()
        await pilot.press("enter")
        tid = table(app).current.id
        await pilot.press("c")
        await pilot.pause()
        await pilot.press(*"checked logs", "ctrl+s")
        await pilot.pause()
        last = app.ctx.store.tickets.comments(tid)[-1]
        assert (last.body, last.public) == ("checked logs", False)


async def test_copy_link_and_open_in_browser(make_app: Any, monkeypatch: Any) -> None:
    from oncall_tui.ui import browser

    app = make_app()
    opened: list[str] = []
    monkeypatch.setattr(app, "open_url", lambda url, **kw: opened.append(url))
    monkeypatch.setattr(browser, "graphical_browser", lambda: True)
    async with app.run_test(size=SIZE) as pilot:
        t = await all_open(pilot)
        url = app.ctx.store.tickets.get_ticket(t.current.id).url
        await pilot.press("y")
        assert app.clipboard == url
        await pilot.press("o")
        assert opened == [url]


async def test_without_a_browser_o_shows_the_link(make_app: Any, monkeypatch: Any) -> None:
    """Over SSH (no display) a browser would start in this very terminal, or nothing would
    happen at all: the toast says the link, and y copies it."""
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    app = make_app()
    opened: list[str] = []
    monkeypatch.setattr(app, "open_url", lambda url, **kw: opened.append(url))
    async with app.run_test(size=SIZE) as pilot:
        t = await all_open(pilot)
        url = app.ctx.store.tickets.get_ticket(t.current.id).url
        await pilot.press("o")
        await pilot.pause()
        assert opened == []
        notes = [n.message for n in app._notifications]
        assert f"No graphical browser here (no display): the link is {url} (y copies it)" in notes


def test_console_browsers_do_not_count(monkeypatch: Any) -> None:
    import webbrowser

    from oncall_tui.ui.browser import graphical_browser

    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(webbrowser, "get", lambda: webbrowser.GenericBrowser("w3m"))
    assert not graphical_browser()
    monkeypatch.setattr(webbrowser, "get", lambda: webbrowser.BackgroundBrowser("firefox"))
    assert graphical_browser()

    def none() -> None:
        raise webbrowser.Error("could not locate runnable browser")

    monkeypatch.setattr(webbrowser, "get", none)
    assert not graphical_browser()


async def test_undo_last_unsent_change(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await pilot.pause()
        tid = table(app).current.id
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("u")
        await pilot.pause()
        ticket = app.ctx.store.tickets.get_ticket(tid)
        assert ticket.assignee is None and ticket.pending_ops == 0


async def test_enter_opens_detail_full_screen_when_narrow(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        t = await all_open(pilot)
        tid = t.current.id
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen) and app.screen.ticket_id == tid
        await pilot.press("a")  # actions work from the detail too
        await pilot.pause()
        assert app.ctx.store.tickets.get_ticket(tid).assignee == "alex@support.example"
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)


async def test_detail_beside_queue_when_wide(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        t = await all_open(pilot)
        await pilot.press("j")
        await pilot.pause(0.3)
        detail = app.screen.query_one("TicketDetail")
        assert detail.display and detail.data.ticket.id == t.current.id


async def test_breach_notification_when_a_ticket_crosses(make_app: Any, clock: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        store = app.ctx.store
        row = store.queue.open_queue(parse_query("sla:ok,warning"), limit=1)[0]
        clock.set(row.sla_due - timedelta(seconds=1))
        app.screen.tick()
        clock.advance(2)
        app.screen.tick()
        await pilot.pause()
        titles = [n.title for n in app._notifications]
        assert "Ticket breached its SLA" in titles


async def test_investigation_still_there_on_second_business_day_is_flagged(
    make_app: Any, store: Any, clock: Any
) -> None:
    from oncall_tui.domain.tickets import Priority, Source, Ticket

    friday = clock() - timedelta(days=3)  # Friday 10:30 in Los Angeles
    store.tickets.insert_tickets(
        [
            Ticket(
                id=0,
                source=Source.TRACKER,
                subject="Old investigation",
                opened_at=friday,
                updated_at=friday,
                priority=Priority.P2,
                remote_id="acme/product#1",
                labels=("bug", "~investigate", ":help-customers"),
            ),
            Ticket(
                id=0,
                source=Source.TRACKER,
                subject="Fresh investigation",
                opened_at=clock() - timedelta(hours=2),
                updated_at=clock() - timedelta(hours=2),
                priority=Priority.P2,
                remote_id="acme/product#2",
                labels=("bug", "~investigate", ":help-customers"),
            ),
        ]
    )
    app = make_app(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("6")  # Bugs under investigation
        await pilot.pause()
        t = table(app)
        assert t.total == 2
        lines = {t.row_at(i).subject: t.render_line(i).text for i in range(2)}
        assert "⚑Old investigation" in lines["Old investigation"]
        assert "⚑" not in lines["Fresh investigation"]


async def test_view_counts_follow_a_change_without_holding_up_the_screen(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an edit the views are recounted on their own connection, off the UI thread."""
    threads: set[int] = set()
    real = QueueCounter.count

    def count(counter: QueueCounter, query: Any, **kw: Any) -> int | None:
        threads.add(threading.get_ident())
        return real(counter, query, **kw)

    monkeypatch.setattr(QueueCounter, "count", count)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen: QueueScreen = app.screen
        names = [v.name for v in app.ctx.config.views]
        unassigned = names.index("Unassigned")
        before = list(screen.counts)
        await pilot.press(str(unassigned + 1))
        await pilot.pause()
        generation = screen._views_generation
        await pilot.press("a")  # assign the first unassigned ticket to me
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen._views_generation > generation
        assert threads and threading.get_ident() not in threads  # counted in a worker
        assert screen.counts[unassigned] == before[unassigned] - 1
        assert screen.counts[names.index("My queue")] == before[names.index("My queue")] + 1
        bar = str(screen.query_one("#view-bar").render())
        assert f"Unassigned ({before[unassigned] - 1})" in bar
        # an answer for older data (a count overtaken by another change) is dropped
        screen.post_message(QueueScreen.ViewsCounted(generation, [0] * len(names)))
        await pilot.pause()
        assert screen.counts[unassigned] == before[unassigned] - 1
