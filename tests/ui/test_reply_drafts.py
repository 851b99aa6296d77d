"""Issue 14: replies and notes are drafts, like bug reports; templates fill or block."""

from __future__ import annotations

from typing import Any

import pytest

from oncall_tui.domain.ops import OpKind
from oncall_tui.settings.config import Config
from oncall_tui.ui.screens.choice_screen import ChoiceScreen
from oncall_tui.ui.screens.compose_screen import ComposeScreen
from oncall_tui.ui.screens.drafting import AUTOSAVE_SECONDS
from oncall_tui.ui.screens.drafts_screen import DraftsScreen
from oncall_tui.ui.widgets.ticket_table import TicketTable

pytestmark = pytest.mark.anyio
SIZE = (120, 40)


async def helpdesk(pilot: Any) -> int:
    await pilot.press("5", "slash", *"source:helpdesk", "enter")
    await pilot.pause()
    return int(pilot.app.screen.query_one(TicketTable).current.id)


async def test_escape_keeps_the_reply_and_r_resumes_it(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        tid = await helpdesk(pilot)
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("home", "enter")  # blank
        await pilot.pause()
        await pilot.press(*"Half a thought")
        await pilot.pause(AUTOSAVE_SECONDS + 0.2)  # saved while typing, before any esc
        (draft,) = app.ctx.store.drafts.all("reply")
        assert (draft.fields["body"], draft.ticket_id) == ("Half a thought", tid)
        await pilot.press(*" and more", "escape")
        await pilot.pause()
        assert not isinstance(app.screen, ComposeScreen)
        assert any("Draft reply kept" in str(n.message) for n in app._notifications)
        (draft,) = app.ctx.store.drafts.all("reply")
        assert draft.fields["body"] == "Half a thought and more"
        await pilot.press("r")  # the same ticket: the draft, no template picker
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        assert app.screen.query_one("TextArea").text == "Half a thought and more"
        await pilot.press(*", finished", "ctrl+s")
        await pilot.pause()
        assert app.ctx.store.drafts.all("reply") == []  # queued: no longer a draft
        assert app.ctx.store.tickets.comments(tid)[-1].body == "Half a thought and more, finished"


async def test_drafts_screen_lists_every_kind_with_its_ticket(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tid = await helpdesk(pilot)
        store = app.ctx.store
        store.drafts.create_draft("reply", tid, {"body": "a reply in progress"})
        store.drafts.create_draft("note", tid, {"body": "a note in progress"})
        store.drafts.create_draft("bug_report", tid, {"title": "a bug in progress"})
        await pilot.press("D")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DraftsScreen)
        table = screen.query_one("DataTable")
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        ticket = store.tickets.get_ticket(tid)
        assert {r[0] for r in rows} == {"reply", "note", "bug report"}
        assert all(r[1].startswith(f"zendesk #{ticket.remote_id} ") for r in rows)
        assert {r[2] for r in rows} == {
            "a reply in progress",
            "a note in progress",
            "a bug in progress",
        }
        index = next(i for i, r in enumerate(rows) if r[0] == "note")
        table.move_cursor(row=index)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen) and app.screen.kind == "note"
        assert app.screen.query_one("TextArea").text == "a note in progress"


async def test_undoing_a_reply_brings_its_text_back_as_a_draft(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tid = await helpdesk(pilot)
        await pilot.press("c")
        await pilot.pause()
        await pilot.press(*"not meant to go", "ctrl+s")
        await pilot.pause()
        assert [op.kind for op in app.ctx.store.outbox.ops(ticket_id=tid)] == [OpKind.NOTE]
        await pilot.press("u")
        await pilot.pause()
        assert app.ctx.store.outbox.ops(ticket_id=tid) == []
        (draft,) = app.ctx.store.drafts.all("note")
        assert draft.fields["body"] == "not meant to go" and draft.ticket_id == tid


async def test_team_templates_merge_and_unfilled_placeholders_block(make_app: Any) -> None:
    config = Config(
        user="alex@support.example",
        sync_interval=None,
        templates={
            "oncall-ack": {"title": "Team ack", "body": "Hello {requester}, {agent} here."},
            "needs-issue": {"title": "Needs an issue", "body": "Hi {requester}: {issue_url}"},
        },
    )
    app = make_app(config=config)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        tid = await helpdesk(pilot)
        await pilot.press("r")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ChoiceScreen)
        titles = [label for _key, label in picker.options]
        assert "Team ack" in titles and "On-call acknowledgement" not in titles  # replaced
        assert "Needs an issue" in titles and "Ask for more information and logs" in titles
        ticket = app.ctx.store.tickets.get_ticket(tid)
        await pilot.press("home", *["down"] * titles.index("Team ack"), "enter")
        await pilot.pause()
        text = app.screen.query_one("TextArea").text
        assert text.startswith("Hello ") and not text.startswith(f"Hello {ticket.requester}")
        assert "@" not in text.split(",")[0]  # the display name, not the e-mail
        await pilot.press("escape")
        await pilot.pause()
        app.ctx.store.db.execute("DELETE FROM drafts")
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("home", *["down"] * titles.index("Needs an issue"), "enter")
        await pilot.pause()
        assert any("{issue_url}" in str(n.message) for n in app._notifications)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)  # refused: the placeholder is named
        assert "{issue_url}" in str(app.screen.query_one("#compose-problems").render())
        assert all(op.kind != OpKind.REPLY for op in app.ctx.store.outbox.ops(ticket_id=tid))
