"""Issue 14: the confidentiality guard on every public write path, through the keys.

Each row writes text (or a label) on one kind of ticket and says whether it must be held
back. The false positive ("the load balancer health check fails" for Globex Health) goes
out; the false negative ("Acme Logistics sees it too" on another customer's ticket) is
caught. A private help-desk reply to the customer themselves is not guarded.
"""

from __future__ import annotations

from typing import Any

import pytest

from oncall_tui.domain.ops import OpKind
from oncall_tui.domain.tickets import Source
from oncall_tui.store import Store
from oncall_tui.ui.screens.bug_report_screen import BugReportScreen
from oncall_tui.ui.screens.choice_screen import ChoiceScreen
from oncall_tui.ui.screens.compose_screen import ComposeScreen
from oncall_tui.ui.screens.detail_screen import DetailScreen
from oncall_tui.ui.screens.prompt_screen import PromptScreen

pytestmark = pytest.mark.anyio
SIZE = (120, 40)


def ticket_of(store: Store, source: Source, customer: str) -> int:
    for c in store.tickets.customers():
        if c.name == customer:
            row = store.db.execute(
                "SELECT id FROM tickets WHERE source = ? AND customer_id = ? AND is_open = 1 "
                "ORDER BY id LIMIT 1",
                [str(source), c.id],
            ).fetchone()
            assert row, (source, customer)
            return int(row[0])
    raise AssertionError(customer)


async def on_ticket(pilot: Any, tid: int) -> None:
    """The ticket full-screen (its actions act on it)."""
    queue = pilot.app.screen
    pilot.app.push_screen(DetailScreen(queue, tid))
    await pilot.pause()


async def write(pilot: Any, key: str, text: str) -> ComposeScreen:
    await pilot.press(key)
    await pilot.pause()
    if isinstance(pilot.app.screen, ChoiceScreen):  # the template picker: a blank reply
        await pilot.press("home", "enter")
        await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, ComposeScreen)
    screen.query_one("TextArea").load_text(text)
    await pilot.press("ctrl+s")
    await pilot.pause()
    return screen


def queued(store: Store, tid: int, kind: OpKind) -> list[str]:
    return [
        str(op.payload.get("body") or op.payload.get("labels"))
        for op in store.outbox.ops(ticket_id=tid)
        if op.kind == kind
    ]


@pytest.mark.parametrize(
    ("source", "customer", "key", "text", "held"),
    [
        # a comment on a public tracker issue
        (Source.TRACKER, "Globex Health", "r", "the load balancer health check fails", False),
        (Source.TRACKER, "Globex Health", "r", "Acme Logistics sees it too", True),
        (Source.TRACKER, "Globex Health", "r", "Globex Health is affected", True),
        (Source.TRACKER, "Acme Logistics", "r", "mail rita@globexhealth.io for logs", True),
        # a message into a shared chat channel: other customers are held back...
        (Source.CHAT, "Acme Logistics", "r", "Globex Health hit this last week", True),
        (Source.CHAT, "Acme Logistics", "r", "Wonka Confections too", True),
        # ...the channel's own customer is the audience
        (Source.CHAT, "Acme Logistics", "r", "Hi Acme Logistics team, a fix is coming", False),
        # a private help-desk reply to the customer themselves, and an internal note
        (Source.HELPDESK, "Oscorp Labs", "r", "Hi Oscorp Labs, Acme Logistics too", False),
        (Source.HELPDESK, "Oscorp Labs", "c", "Acme Logistics saw it as well", False),
    ],
)
async def test_replies(
    make_app: Any, source: Source, customer: str, key: str, text: str, held: bool
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        store = app.ctx.store
        tid = ticket_of(store, source, customer)
        await on_ticket(pilot, tid)
        screen = await write(pilot, key, text)
        kind = OpKind.NOTE if key == "c" else OpKind.REPLY
        if held:
            assert isinstance(app.screen, ComposeScreen)  # still open, nothing queued
            assert queued(store, tid, kind) == []
            problems = str(screen.query_one("#compose-problems").render())
            assert "names a customer" in problems
            await pilot.press("escape")  # left: the text is a draft, not lost
            await pilot.pause()
            (draft,) = store.drafts.all("reply")
            assert draft.fields["body"] == text and draft.ticket_id == tid
        else:
            assert not isinstance(app.screen, ComposeScreen)
            assert queued(store, tid, kind) == [text]


async def test_override_with_a_reason_sends_and_is_recorded(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        store = app.ctx.store
        tid = ticket_of(store, Source.TRACKER, "Globex Health")
        await on_ticket(pilot, tid)
        await write(pilot, "r", "Globex Health agreed to be named")
        await pilot.press("f4")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"customer asked us to", "enter")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert queued(store, tid, OpKind.REPLY) == ["Globex Health agreed to be named"]
        log = [message for _at, _b, _l, message in store.sync_state.log_entries(10)]
        assert any("customer asked us to" in m and "Globex Health" in m for m in log)


async def test_mentions_in_public_text_are_inert_unless_kept(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        store = app.ctx.store
        tid = ticket_of(store, Source.TRACKER, "Acme Logistics")
        await on_ticket(pilot, tid)
        await write(pilot, "r", "@alice see #123")
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("home", "enter")  # as plain text
        await pilot.pause()
        await write(pilot, "r", "@bob see #9")
        await pilot.press("end", "enter")  # kept live on purpose
        await pilot.pause()
        assert queued(store, tid, OpKind.REPLY) == ["`@alice` see `#123`", "@bob see #9"]


@pytest.mark.parametrize(
    ("label", "held"),
    [("acme-logistics", True), ("Globex Health", True), ("customer-vesta", False), ("perf", False)],
)
async def test_labels_on_public_issues(make_app: Any, label: str, held: bool) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        store = app.ctx.store
        tid = ticket_of(store, Source.TRACKER, "Acme Logistics")
        await on_ticket(pilot, tid)
        await pilot.press("l")
        await pilot.pause()
        await pilot.press(*label, "enter")
        await pilot.pause()
        if held:
            assert isinstance(app.screen, ChoiceScreen)  # don't / anyway with a reason
            await pilot.press("home", "enter")
            await pilot.pause()
            assert label not in store.tickets.get_ticket(tid).labels
            assert queued(store, tid, OpKind.ADD_LABELS) == []
        else:
            assert label in store.tickets.get_ticket(tid).labels


async def test_a_label_on_a_help_desk_ticket_is_not_public(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        store = app.ctx.store
        tid = ticket_of(store, Source.HELPDESK, "Oscorp Labs")
        await on_ticket(pilot, tid)
        await pilot.press("l")
        await pilot.pause()
        await pilot.press(*"oscorp-vip", "enter")
        await pilot.pause()
        assert "oscorp-vip" in store.tickets.get_ticket(tid).labels


async def test_a_bug_report_naming_another_customer_is_held(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        store = app.ctx.store
        tid = ticket_of(store, Source.HELPDESK, "Oscorp Labs")
        await on_ticket(pilot, tid)
        await pilot.press("b")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, BugReportScreen)
        screen.values["actual"] = "Acme Logistics sees it too"
        hits = screen.check_guard()
        assert [(h.term, h.customer) for h in hits] == [("Acme Logistics", "Acme Logistics")]
        screen.values["actual"] = "the load balancer health check fails"
        assert all(h.customer != "Globex Health" for h in screen.check_guard())
