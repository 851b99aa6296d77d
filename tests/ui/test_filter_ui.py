"""The `/` filter as a user meets it: problems shown under the box, enter on a ticket number,
every empty result explained, the first run's instructions, and keys typed in one burst."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.widgets import Input

from oncall_tui.domain.query import parse_query
from oncall_tui.settings.config import Config, ViewSpec
from oncall_tui.ui.screens.detail_screen import DetailScreen
from oncall_tui.ui.widgets.empty_state import (
    BackendSync,
    EmptyContext,
    EmptyState,
    ViewCount,
    explain_empty,
)
from oncall_tui.ui.widgets.ticket_detail import TicketDetail
from oncall_tui.ui.widgets.ticket_table import TicketTable
from tests.fakes import FakeBackend

pytestmark = pytest.mark.anyio
ME = "alex@support.example"


def empty_text(app: Any) -> str | None:
    """What the empty state says, or None while it is hidden."""
    widget = app.screen.query_one(EmptyState)
    return str(widget.render()) if widget.display else None


def hint(app: Any) -> str:
    widget = app.screen.query_one("#filter-hint")
    return str(widget.render()) if widget.display else ""


async def type_filter(pilot: Any, text: str) -> None:
    await pilot.press("slash", *text)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_unknown_field_is_reported_under_the_box(make_app: Any) -> None:
    async with make_app().run_test(size=(120, 40)) as pilot:
        await type_filter(pilot, "priorty:P0")
        assert hint(pilot.app) == "priorty: unknown field — did you mean priority?"
        # nothing is searched for it: the view's rows stay
        assert pilot.app.screen.query_one(TicketTable).total > 0


async def test_burst_after_slash_goes_into_the_filter(make_app: Any) -> None:
    """`/pr` arriving in one read: the keys after `/` were already routed to the table."""
    async with make_app().run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for key, char in [("slash", "/"), ("p", "p"), ("r", "r"), ("i", "i")]:
            pilot.app.post_message(events.Key(key, char))
        await pilot.pause(0.3)
        assert pilot.app.screen.query_one("#filter", Input).value == "pri"
        assert pilot.app.screen is pilot.app.screen_stack[0]  # no priority dialog


@pytest.mark.parametrize("typed", ["#41001", "41001"])
async def test_enter_on_a_ticket_number_opens_it_in_any_view(make_app: Any, typed: str) -> None:
    app = make_app()
    ticket = app.ctx.store.tickets.get_ticket(app.ctx.store.queue.numbered("41001")[0])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("6")  # Bugs under investigation: a help-desk ticket is not there
        await type_filter(pilot, typed)
        assert "enter opens #41001" in hint(pilot.app)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(pilot.app.screen, DetailScreen)
        assert pilot.app.screen.ticket_id == ticket.id


async def test_enter_opens_the_number_beside_the_queue_when_wide(make_app: Any) -> None:
    app = make_app()
    (tid,) = app.ctx.store.queue.numbered("41002")
    async with app.run_test(size=(160, 40)) as pilot:
        await type_filter(pilot, "#41002")
        await pilot.press("enter")
        await pilot.pause()
        detail = pilot.app.screen.query_one(TicketDetail)
        assert pilot.app.screen.focused is detail
        assert detail.data is not None and detail.data.ticket.id == tid
        assert pilot.app.screen.current_id() == tid  # the keys act on the ticket shown


async def test_a_number_on_two_backends_asks_which(make_app: Any) -> None:
    from oncall_tui.ui.screens.choice_screen import ChoiceScreen

    app = make_app()
    store = app.ctx.store
    tracker = store.queue.open_queue(parse_query("source:tracker"), limit=1)[0]
    number = store.tickets.get_ticket(tracker.id).remote_id.rpartition("#")[2]
    store.db.execute("UPDATE tickets SET remote_id = ? WHERE remote_id = '41003'", [number])
    async with app.run_test(size=(120, 40)) as pilot:
        await type_filter(pilot, number)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(pilot.app.screen, ChoiceScreen)
        assert len(pilot.app.screen.options) == 2


async def test_empty_filter_result_says_why_and_where_it_matches(make_app: Any) -> None:
    async with make_app().run_test(size=(120, 40)) as pilot:
        await pilot.press("6")  # Bugs under investigation
        await type_filter(pilot, "acme")
        text = empty_text(pilot.app)
        assert text is not None, "a blank table"
        assert "No ticket in 6 Bugs under investigation matches “acme”." in text
        assert "It matches in other views:" in text and "5 All open (" in text
        assert "esc clears the filter." in text
        await pilot.press("escape")
        await pilot.pause()
        assert empty_text(pilot.app) is None or "is empty" in empty_text(pilot.app)


async def test_a_word_nothing_has(make_app: Any) -> None:
    async with make_app().run_test(size=(120, 40)) as pilot:
        await type_filter(pilot, "zzyzx")
        text = empty_text(pilot.app)
        assert text is not None and "matches nothing in the cache" in text
        await pilot.press(*["backspace"] * 5)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert empty_text(pilot.app) is None  # rows again: the explanation goes away


async def test_an_empty_view_names_the_views_that_have_tickets(make_app: Any) -> None:
    config = Config(
        user=ME,
        sync_interval=None,
        views=(ViewSpec("Mine, P0", "is:open assignee:me priority:P0 status:solved"),)
        + Config().views[1:],
    )
    async with make_app(config=config).run_test(size=(120, 40)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        text = empty_text(pilot.app)
        assert text is not None
        assert text.startswith("1 Mine, P0 is empty (its query: is:open assignee:me")
        assert f"No ticket of this view is assigned to {ME}." in text
        assert "Other views: 2 Unassigned (" in text


async def test_first_run_without_a_backend_says_what_to_do(make_app: Any, tmp_path: Path) -> None:
    app = make_app(seed=None)
    app.ctx.demo = False
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = empty_text(pilot.app)
        assert text is not None
        assert text.startswith("No tickets yet: no backend is configured")
        assert str(tmp_path / "config.toml") in text
        assert "oncall-tui auth login zendesk" in text
        assert "oncall-tui --demo" in text


async def test_first_run_with_a_backend_that_fails(make_app: Any) -> None:
    backend = FakeBackend([])
    backend.pull_faults = ["503"]
    app = make_app(seed=None, backend=backend)
    app.ctx.demo = False
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        text = empty_text(pilot.app)
        assert text is not None
        assert text.startswith(f"No tickets yet: the last sync of {backend.name} failed.")
        assert "fake: fake: 503" not in text and "fake: 503" in text
        assert f"oncall-tui auth login {backend.name}" in text


# ---- the explanations, as a table ------------------------------------------------------------

VIEWS = (ViewCount(1, "My queue", 0), ViewCount(2, "Unassigned", 4), ViewCount(5, "All open", 9))
BASE = EmptyContext(has_tickets=True, view=ViewCount(1, "My queue", 0), view_query="is:open")


@pytest.mark.parametrize(
    ("changes", "why", "tips"),
    [
        (
            dict(view_query="is:open assignee:me", views=VIEWS),
            "1 My queue is empty (its query: is:open assignee:me).",
            [
                "assignee:me means the user in your config, and none is set: add "
                'user = "you@example.com" (your help-desk e-mail).',
                "Other views: 2 Unassigned (4) · 5 All open (9)",
            ],
        ),
        (
            dict(filter_text="vesta", elsewhere=(ViewCount(5, "All open", 3),), anywhere=3),
            "No ticket in 1 My queue matches “vesta”.",
            [
                "It matches in other views: 5 All open (3); press the view's number.",
                "esc clears the filter.",
            ],
        ),
        (
            dict(filter_text="vesta", elsewhere=(ViewCount(5, "All open", 0),), anywhere=2),
            "No ticket in 1 My queue matches “vesta”.",
            [
                "It matches 2 tickets in no view (solved or closed ones): add is:closed to see "
                "them.",
                "esc clears the filter.",
            ],
        ),
        (
            dict(filter_text="vesta"),
            "No ticket in 1 My queue matches “vesta”.",
            ["Looking in the other views…", "esc clears the filter."],
        ),
        (
            dict(filter_text="#77", number="77", elsewhere=(), anywhere=0),
            "No ticket in 1 My queue matches “#77”.",
            [
                "No ticket numbered 77 is in the cache (not synced yet, or closed).",
                "esc clears the filter.",
            ],
        ),
        (
            dict(filter_text="priorty:P0 x", problems=("priorty: unknown field",), elsewhere=()),
            "No ticket in 1 My queue matches “priorty:P0 x”.",
            [
                "Part of the filter is not understood (see above): fix it, or esc.",
                "It matches nothing in the cache: check the spelling, or use fewer or shorter "
                "words (each word matches as the start of a word).",
                "esc clears the filter.",
            ],
        ),
        (
            dict(has_tickets=False, backends=(BackendSync("zendesk", synced=False),)),
            "No tickets yet: the first sync is under way.",
            ["The status line shows its progress; L opens the sync log."],
        ),
        (
            dict(has_tickets=False, backends=(BackendSync("zendesk", synced=True),)),
            "No tickets: every backend synced, with nothing for you in the last 90 days.",
            ["history_days in the config file reaches further back; L opens the sync log."],
        ),
    ],
)
def test_explanations(changes: dict[str, Any], why: str, tips: list[str]) -> None:
    from dataclasses import replace

    assert explain_empty(replace(BASE, **changes)) == (why, tips)
