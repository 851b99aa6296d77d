"""The Handoff screen: W opens it, p edits and posts through the outbox after the guard, t
exports the retro, f forecasts and its keys act on the highlighted ticket."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.demo.seed import DEMO_REPO, DEMO_USER, make_demo_data, seed_store
from oncall_tui.domain.handoff_post import HandoffSettings, parse_destination
from oncall_tui.settings.config import Config
from oncall_tui.store import open_store
from oncall_tui.ui.screens.forecast_screen import ForecastScreen
from oncall_tui.ui.screens.handoff_screen import HandoffPostScreen, HandoffScreen, RetroScreen

pytestmark = pytest.mark.anyio


def _app(tmp_path: Path, clock: Any, make_app: Any, post_to: str | None) -> Any:
    dest = parse_destination(post_to) if post_to else None
    cfg = Config(user=DEMO_USER, sync_interval=None, handoff=HandoffSettings(post_to=dest))
    store = open_store(tmp_path / "w.db", sla=cfg.sla, clock=clock)
    seed_store(store, make_demo_data(clock(), seed=1, history=True))
    return make_app(config=cfg, store=store)


async def test_post_is_a_draft_until_sent_and_the_guard_holds_names(
    tmp_path: Path, clock: Any, make_app: Any
) -> None:
    app = _app(tmp_path, clock, make_app, f"github:{DEMO_REPO}")
    store = app.ctx.store
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("W")
        await pilot.pause()
        assert isinstance(app.screen, HandoffScreen)
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, HandoffPostScreen)
        (draft,) = store.drafts.all("handoff")
        assert draft.state == "draft" and "On-call handoff" in draft.fields["body"]
        editor = app.screen.query_one("#handoff-editor")
        editor.text = editor.text + "\nAcme Logistics is still waiting.\n"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, HandoffPostScreen)  # refused: a customer's name
        assert store.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
        assert "Acme Logistics" in store.drafts.all("handoff")[0].fields["body"]  # nothing lost
        editor.text = editor.text.replace("Acme Logistics", "ceres")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, HandoffScreen)
    rows = store.db.execute("SELECT kind, source, payload FROM outbox").fetchall()
    assert len(rows) == 1 and rows[0][0] == "create_issue" and rows[0][1] == "tracker"
    assert "ceres is still waiting" in rows[0][2] and "Acme" not in rows[0][2]
    assert store.drafts.all("handoff", include_filed=True)[0].state == "submitted"
    assert store.handoff.last_handoff_at() == clock()


async def test_without_a_destination_nothing_is_sent(
    tmp_path: Path, clock: Any, make_app: Any
) -> None:
    app = _app(tmp_path, clock, make_app, None)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("W", "p")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, HandoffPostScreen)
    assert app.ctx.store.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    assert app.ctx.store.drafts.all("handoff")[0].state == "draft"


async def test_retro_exports_markdown(tmp_path: Path, clock: Any, make_app: Any) -> None:
    app = _app(tmp_path, clock, make_app, None)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("W", "t")
        await pilot.pause()
        assert isinstance(app.screen, RetroScreen)
        await pilot.press("ctrl+s")
        await pilot.pause()
        path = app.screen.export_path()
    text = path.read_text(encoding="utf-8")
    for question in ("What went well?", "What could have gone better?", "What to remember"):
        assert question in text
    assert "worst breach:" in text and "busiest day:" in text


async def test_forecast_keys_act_on_the_highlighted_ticket(
    tmp_path: Path, clock: Any, make_app: Any
) -> None:
    app = _app(tmp_path, clock, make_app, None)
    store = app.ctx.store
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("W", "f")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ForecastScreen)
        assert screen.result is not None and screen.result.items
        await pilot.press("down")
        tid = screen.current_id()
        assert tid == screen.result.items[1][0].ticket_id
        await pilot.press("g")
        await pilot.pause()
        await pilot.press(*"sam@support.example", "enter")
        await pilot.pause()
        assert store.tickets.get_ticket(tid).assignee == "sam@support.example"
        hours = screen.hours
        await pilot.press("plus")
        assert screen.hours > hours
        assert len(screen.result.items) >= 2
    ops = store.db.execute("SELECT kind, ticket_id, payload FROM outbox").fetchall()
    assert [(k, t, json.loads(p)) for k, t, p in ops] == [
        ("assign", tid, {"assignee": "sam@support.example"})
    ]


async def test_the_key_is_in_help_and_the_palette(make_app: Any) -> None:
    from oncall_tui.ui.commands import BindingCommands
    from oncall_tui.ui.screens.help_screen import binding_rows

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert ("W", "Handoff") in binding_rows(app.screen)
        provider = BindingCommands(app.screen)
        assert "Handoff" in [d for d, _k, _run in provider._commands()]
        await pilot.press("W")
        await pilot.pause()
        rows = dict((d, k) for k, d in binding_rows(app.screen))
        for name in ("Edit & post", "Retro", "Forecast", "Back"):
            assert name in rows


async def test_forecast_acknowledge_takes_the_ticket_and_queues_the_ack(
    tmp_path: Path, clock: Any, make_app: Any
) -> None:
    from oncall_tui.ui.screens.compose_screen import ComposeScreen

    app = _app(tmp_path, clock, make_app, None)
    store = app.ctx.store
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("W", "f")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ForecastScreen)
        footer_keys = {k for k, b in screen.active_bindings.items() if b.binding.show}
        assert "A" in footer_keys
        # a help-desk ticket someone else holds (or nobody): A takes it and acknowledges
        items = screen.result.items
        index, tid = next(
            (i, item.ticket_id)
            for i, (item, _due) in enumerate(items)
            if item.ref.startswith("zendesk") and item.assignee != DEMO_USER
        )
        for _ in range(index):
            await pilot.press("down")
        assert screen.current_id() == tid
        await pilot.press("A")
        await pilot.pause()
        assert store.tickets.get_ticket(tid).assignee == DEMO_USER
        # its clock is answered: it no longer breaches while we are away
        assert tid not in [i.ticket_id for i, _d in screen.result.items]
        ops = store.db.execute(
            "SELECT kind, payload FROM outbox WHERE ticket_id = ? ORDER BY id", [tid]
        ).fetchall()
        assert [k for k, _p in ops] == ["assign", "reply"]
        body = json.loads(ops[1][1])["body"]
        assert "the engineer on call this week" in body and "{" not in body
        # a public chat thread: the guard holds the requester's name, so the dialog opens
        chat = next(
            (i, item.ticket_id)
            for i, (item, _due) in enumerate(screen.result.items)
            if item.ref.startswith("slack")
        )
        options = screen.query_one("OptionList")
        options.highlighted = chat[0]
        await pilot.press("A")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        assert "the engineer on call this week" in app.screen.text
        assert store.tickets.get_ticket(chat[1]).assignee == DEMO_USER
        kinds = store.db.execute(
            "SELECT kind FROM outbox WHERE ticket_id = ?", [chat[1]]
        ).fetchall()
        # Slack threads keep their assignee locally; the reply waits for you in the dialog
        assert kinds == []


async def test_acknowledge_is_in_help_and_the_palette(
    tmp_path: Path, clock: Any, make_app: Any
) -> None:
    from oncall_tui.ui.commands import BindingCommands
    from oncall_tui.ui.screens.help_screen import binding_rows

    app = _app(tmp_path, clock, make_app, None)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("W", "f")
        await pilot.pause()
        assert ("A", "Acknowledge") in binding_rows(app.screen)
        provider = BindingCommands(app.screen)
        assert "Acknowledge" in [d for d, _k, _run in provider._commands()]
