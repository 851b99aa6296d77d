"""The escalation loop from the keyboard: stand-up (S, a, d), the investigation time-box (I),
a suspected outage (O) and link-back, each checked against the store and its outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from textual.widgets import DataTable, Label
from textual.widgets.data_table import ColumnKey

from oncall_tui.domain.ops import OpKind
from oncall_tui.domain.tickets import Customer, Priority, Source, Status, Ticket
from oncall_tui.settings.config import Config
from oncall_tui.ui.screens.choice_screen import ChoiceScreen
from oncall_tui.ui.screens.compose_screen import ComposeScreen
from oncall_tui.ui.screens.escalation_bar import EscalationBar
from oncall_tui.ui.screens.outage_screen import OutageScreen
from oncall_tui.ui.screens.standup_screen import StandupScreen

pytestmark = pytest.mark.anyio
SIZE = (120, 40)
ISSUE_URL = "https://github.com/acme/product/issues/1"
INVESTIGATING = ("bug", "~investigate", ":help-customers")


def seed(store: Any, clock: Any) -> dict[str, int]:
    """Two investigated bugs (one since Friday: day two), a premium customer's ticket linked
    to the old one, and a chat thread."""
    acme = store.tickets.upsert_customer(
        Customer(id=0, name="Acme Corp", plan="premium", codename="vesta")
    )
    globex = store.tickets.upsert_customer(Customer(id=0, name="Globex", plan="ultimate"))
    friday = clock() - timedelta(days=3)  # Friday 10:30 in Los Angeles
    fresh = clock() - timedelta(hours=2)
    ids = store.tickets.insert_tickets(
        [
            Ticket(
                id=0,
                source=Source.TRACKER,
                subject="Live query stalls",
                opened_at=friday,
                updated_at=friday,
                remote_id="acme/product#1",
                labels=INVESTIGATING,
                url=ISSUE_URL,
            ),
            Ticket(
                id=0,
                source=Source.TRACKER,
                subject="Enrollment fails",
                opened_at=fresh,
                updated_at=fresh,
                remote_id="acme/product#2",
                labels=(*INVESTIGATING, "customer-vesta"),
            ),
            Ticket(
                id=0,
                source=Source.HELPDESK,
                subject="Queries hang",
                opened_at=friday,
                updated_at=friday,
                remote_id="41165",
                customer_id=acme,
                priority=Priority.P1,
                requester="rita@acme.example",
                url="https://support.zendesk.com/agent/tickets/41165",
            ),
            Ticket(
                id=0,
                source=Source.HELPDESK,
                subject="Globex too",
                opened_at=friday,
                updated_at=friday,
                remote_id="41170",
                customer_id=globex,
                priority=Priority.P2,
            ),
        ]
    )
    issue, fresh_issue, ticket, other = ids
    store.tickets.link(ticket, ISSUE_URL, "Live query stalls", issue)
    return {"issue": issue, "fresh": fresh_issue, "ticket": ticket, "other": other}


async def open_standup(pilot: Any) -> StandupScreen:
    await pilot.press("S")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, StandupScreen)
    return screen


async def test_standup_lists_age_customers_and_acknowledges_once(
    make_app: Any, store: Any, clock: Any
) -> None:
    ids = seed(store, clock)
    app = make_app(store=store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_standup(pilot)
        items = screen.items
        assert [i.ticket_id for i in items] == [ids["issue"], ids["fresh"]]  # decision first
        old, new = items
        assert (old.day, old.decision_due) == (2, True)
        assert (new.day, new.decision_due) == (1, False)
        assert [(c.name, c.plan) for c in old.customers] == [("Acme Corp", "premium")]
        assert [c.name for c in new.customers] == ["Acme Corp"]  # by its codename label
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("a")  # a second press the same day posts nothing
        await pilot.pause()
        ops = store.outbox.ops(ticket_id=ids["issue"])
        assert [op.kind for op in ops] == [OpKind.REPLY]
        assert "business day 2" in ops[0].payload["body"]
        assert "2026-11-23" in ops[0].payload["body"]
        assert screen.items[0].acknowledged_today(screen.today())
        # the next day it can be acknowledged again
        clock.advance(timedelta(days=1))
        screen.reload()
        await pilot.press("a")
        await pilot.pause()
        assert len(store.outbox.ops(ticket_id=ids["issue"])) == 2


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_standup_cell_of_an_earlier_acknowledgement_on_day_two_is_whole(
    make_app: Any, store: Any, clock: Any, size: tuple[int, int]
) -> None:
    ids = seed(store, clock)
    friday = (clock() - timedelta(days=3)).astimezone(Config().tz).date()
    assert store.escalation.acknowledge(ids["issue"], friday, "Reviewed.", author="alex")
    app = make_app(store=store)
    async with app.run_test(size=size) as pilot:
        screen = await open_standup(pilot)
        table = screen.query_one(DataTable)
        cell = table.get_cell(str(ids["issue"]), "ack")
        assert cell.plain == f"last {friday:%a %d %b} · decide"
        column = table.columns[ColumnKey("ack")]
        assert column.width >= cell.cell_len
        assert sum(c.get_render_width(table) for c in table.columns.values()) <= size[0]


async def test_standup_decision_reproduced_goes_to_the_product_board(
    make_app: Any, store: Any, clock: Any
) -> None:
    ids = seed(store, clock)
    app = make_app(store=store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_standup(pilot)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        assert "day 2" in app.screen.title_text
        await pilot.press("enter")  # reproduced
        await pilot.pause()
        issue = store.tickets.get_ticket(ids["issue"])
        assert ":product" in issue.labels and "~investigate" not in issue.labels
        ops = store.outbox.ops(ticket_id=ids["issue"])
        assert [(op.kind, op.payload["labels"]) for op in ops] == [
            (OpKind.REMOVE_LABELS, ["~investigate"]),
            (OpKind.ADD_LABELS, [":product"]),
        ]
        assert [i.ticket_id for i in screen.items] == [ids["fresh"]]


async def test_standup_decision_not_reproduced_goes_back_to_qa(
    make_app: Any, store: Any, clock: Any
) -> None:
    ids = seed(store, clock)
    store.escalation.start_timebox(ids["issue"], clock() + timedelta(minutes=30))
    app = make_app(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await open_standup(pilot)
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("down", "enter")  # not reproduced
        await pilot.pause()
        issue = store.tickets.get_ticket(ids["issue"])
        assert set(issue.labels) == {"bug", ":help-customers", ":incoming", ":reproduce"}
        assert store.escalation.timebox_for(ids["issue"]) is None  # the investigation is over


async def test_timebox_is_visible_persisted_and_nudges_with_drafts(
    make_app: Any, store: Any, clock: Any
) -> None:
    ids = seed(store, clock)
    app = make_app(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")  # All open
        await pilot.pause()
        tid = app.screen.current_id()
        assert tid is not None
        await pilot.press("I")
        await pilot.pause()
        timer = store.escalation.timebox_for(tid)
        assert timer is not None and timer.due_at == clock() + timedelta(hours=1)
        bar = app.screen.query_one(EscalationBar)
        bar.tick()
        assert (
            bar.display
            and "⏱" in str(bar.render())
            and "investigating zendesk #41165: 1:00:00 left" in str(bar.render())
        )
    # a restart keeps it
    app = make_app(store=store)
    async with app.run_test(size=SIZE) as pilot:
        bar = app.screen.query_one(EscalationBar)
        clock.advance(timedelta(minutes=59))
        bar.tick()
        assert ": 1:00 left" in str(bar.render())
        clock.advance(timedelta(minutes=1))
        bar.tick()
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        assert store.escalation.timebox_for(tid) is None  # claimed: it nudges once
        keys = [k for k, _ in app.screen.options]
        assert keys[:4] == ["logs", "call", "engineer", "oncall"]
        await pilot.press("down", "down", "down", "enter")  # the developer on call
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen) and app.screen.kind == "channel"
        (draft,) = store.drafts.all("channel")
        # posted in the channel: it starts with the mention, not "@oncall in #help-engineering"
        assert draft.fields["body"].startswith("@oncall could you help with zendesk #41165")
        assert draft.fields["channel"] == "#help-engineering"
    del ids


HELP = "C0HELPENG"


def help_config(**extra: Any) -> Config:
    from oncall_tui.demo.seed import DEMO_USER
    from oncall_tui.domain.escalation import EscalationSettings

    return Config(user=DEMO_USER, sync_interval=None, escalation=EscalationSettings(**extra))


async def nudge_oncall(pilot: Any, store: Any, clock: Any) -> int:
    """From the keyboard: I on the current ticket, the hour passes, the on-call option."""
    app = pilot.app
    await pilot.press("5")  # All open
    await pilot.pause()
    tid = app.screen.current_id()
    await pilot.press("I")
    await pilot.pause()
    assert store.escalation.timebox_for(tid) is not None
    clock.advance(timedelta(hours=1))
    app.screen.query_one(EscalationBar).tick()
    await pilot.pause()
    assert isinstance(app.screen, ChoiceScreen)
    await pilot.press("down", "down", "down", "enter")  # the developer on call
    await pilot.pause()
    assert isinstance(app.screen, ComposeScreen) and app.screen.kind == "channel"
    return int(tid)


async def test_oncall_nudge_posts_in_the_help_channel_once_guarded_and_undoable(
    make_app: Any, store: Any, clock: Any
) -> None:
    from oncall_tui.domain.ops import OpState
    from oncall_tui.ui.screens.drafts_screen import DraftsScreen

    seed(store, clock)
    app = make_app(store=store, config=help_config(help_channel_id=HELP))
    async with app.run_test(size=SIZE) as pilot:
        tid = await nudge_oncall(pilot, store, clock)
        compose = app.screen
        await pilot.press(*"Globex")  # another customer's name: held back
        await pilot.pause(0.9)  # the autosave
        (draft,) = store.drafts.all("channel")
        assert draft.fields["body"].endswith("- Globex")  # typed text is saved as it is typed
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is compose
        assert not [o for o in store.outbox.ops() if o.kind is OpKind.POST_MESSAGE]
        await pilot.press(*["backspace"] * 6, *"vesta sees it")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, ComposeScreen)
        (op,) = [o for o in store.outbox.ops() if o.kind is OpKind.POST_MESSAGE]
        assert op.payload["channel"] == HELP and op.ticket_id is None
        assert op.payload["text"].startswith("@oncall could you help with ")
        assert op.payload["text"].endswith("- vesta sees it")
        (draft,) = store.drafts.all("channel")
        assert (draft.state, draft.outbox_id, draft.ticket_id) == ("submitted", op.id, tid)
        assert store.outbox.waiting_count(clock()) == 1  # the undo window, like every send
        await pilot.press("ctrl+s")  # nothing more is sent from the queue
        assert len([o for o in store.outbox.ops() if o.kind is OpKind.POST_MESSAGE]) == 1
        # u takes it back: the draft is a draft again, resumed from Drafts
        await pilot.press("u")
        await pilot.pause()
        assert store.outbox.get_op(op.id).state is OpState.CANCELLED
        (draft,) = store.drafts.all("channel")
        assert (draft.state, draft.outbox_id) == ("draft", None)
        await pilot.press("D")
        await pilot.pause()
        assert isinstance(app.screen, DraftsScreen)
        assert str(app.screen.query_one("DataTable").get_row_at(0)[0]) == "on-call"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen) and app.screen.kind == "channel"
        assert app.screen.text.endswith("- vesta sees it")
        assert app.screen.draft_id == draft.id
        await pilot.press("ctrl+s")
        await pilot.pause()
        (again,) = [o for o in store.outbox.ops() if o.kind is OpKind.POST_MESSAGE]  # live ones
        assert again.id != op.id and again.state is OpState.PENDING
        assert store.outbox.get_op(op.id).state is OpState.CANCELLED
        (draft,) = store.drafts.all("channel")
        assert (draft.state, draft.outbox_id) == ("submitted", again.id)


async def test_oncall_nudge_mentions_the_user_group_when_its_id_is_set(
    make_app: Any, store: Any, clock: Any
) -> None:
    seed(store, clock)
    config = help_config(help_channel_id=HELP, oncall_group_id="S0ONCALL")
    app = make_app(store=store, config=config)
    async with app.run_test(size=SIZE) as pilot:
        await nudge_oncall(pilot, store, clock)
        await pilot.press("ctrl+s")
        await pilot.pause()
        (op,) = [o for o in store.outbox.ops() if o.kind is OpKind.POST_MESSAGE]
        assert op.payload["text"].startswith("<!subteam^S0ONCALL> could you help with ")


async def test_oncall_nudge_without_the_channel_id_says_what_to_set_and_keeps_the_draft(
    make_app: Any, store: Any, clock: Any
) -> None:
    seed(store, clock)
    app = make_app(store=store, config=help_config())
    async with app.run_test(size=SIZE) as pilot:
        await nudge_oncall(pilot, store, clock)
        compose = app.screen
        await pilot.press(*"tried a restart", "ctrl+s")
        await pilot.pause()
        assert app.screen is compose  # not sent, still open
        assert not [o for o in store.outbox.ops() if o.kind is OpKind.POST_MESSAGE]
        message = list(app._notifications)[-1].message
        assert "help_channel_id" in message and "draft is kept" in message
        (draft,) = store.drafts.all("channel")
        assert draft.state == "draft" and draft.fields["body"].endswith("tried a restart")
        await pilot.press("escape")
        await pilot.pause()
        (draft,) = store.drafts.all("channel")
        assert draft.state == "draft"


async def test_timebox_nudge_logs_opens_a_reply_draft_on_the_ticket(
    make_app: Any, store: Any, clock: Any
) -> None:
    ids = seed(store, clock)
    store.escalation.start_timebox(ids["ticket"], clock() - timedelta(seconds=1))
    app = make_app(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()  # over already at start: the first tick nudges
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("enter")  # ask for logs
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        draft = store.drafts.draft_for_ticket("reply", ids["ticket"])
        assert draft is not None and "logs" in draft.fields["body"]
        assert "Hi rita" in draft.fields["body"]


async def test_escalate_suspect_starts_the_timebox(make_app: Any, store: Any, clock: Any) -> None:
    now = clock()
    (tid,) = store.tickets.insert_tickets(
        [
            Ticket(
                id=0,
                source=Source.TRACKER,
                subject="New bug",
                opened_at=now,
                updated_at=now,
                remote_id="acme/product#5",
                labels=("bug", ":reproduce", ":incoming"),
                priority=Priority.P0,
            )
        ]
    )
    app = make_app(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")  # All open
        await pilot.pause()
        assert app.screen.current_id() == tid
        await pilot.press("E")
        await pilot.pause()
        await pilot.press("enter")  # suspected customer impact
        await pilot.pause()
        assert "~investigate" in store.tickets.get_ticket(tid).labels
        assert store.escalation.timebox_for(tid) is not None


async def test_suspected_outage_files_links_and_reminds_until_closed(
    make_app: Any, store: Any, clock: Any
) -> None:
    ids = seed(store, clock)
    app = make_app(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")  # All open
        await pilot.pause()
        tid = app.screen.current_id()
        assert tid is not None
        await pilot.press("exclamation_mark")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, OutageScreen)
        # the current ticket first and ticked, then the open ones, most recently updated first
        assert picker.shown[0].id == tid and list(picker.ticked) == [tid]
        rest = [c.updated_at for c in picker.shown[1:]]
        assert rest == sorted(rest, reverse=True) and len(picker.shown) == 4
        other = ids["other"] if tid != ids["other"] else ids["ticket"]
        number = store.tickets.get_ticket(other).remote_id
        await pilot.press(*number)  # typing filters: one ticket left
        await pilot.pause()
        assert [c.id for c in picker.shown] == [other]
        await pilot.press("space")
        await pilot.pause()
        assert "2 tickets ticked (1 hidden by the filter)" in str(
            picker.query_one("#outage-count", Label).render()
        )
        await pilot.press("escape")  # clears the filter, stays
        await pilot.pause()
        assert app.screen is picker and len(picker.shown) == 4
        assert set(picker.choices.selected) == {tid, other}
        await pilot.press("enter")
        await pilot.pause()
        (op,) = [o for o in store.outbox.ops() if o.kind is OpKind.CREATE_ISSUE]
        assert op.payload["title"] == "Suspected outage: 2026-11-23"
        assert op.payload["labels"] == ["#outage", "#g-cx", ":release"]
        assert op.payload["linked_tickets"] == [tid, other]
        assert "Acme" not in op.payload["body"] and "Globex" not in op.payload["body"]
        (timer,) = store.escalation.timers("outage")
        assert timer.due_at == clock() + timedelta(hours=1)
        # a second ! the same day files nothing more
        await pilot.press("exclamation_mark")
        await pilot.pause()
        assert not isinstance(app.screen, OutageScreen)
        assert len([o for o in store.outbox.ops() if o.kind is OpKind.CREATE_ISSUE]) == 1
        # the reminder
        bar = app.screen.query_one(EscalationBar)
        clock.advance(timedelta(hours=1))
        bar.tick()
        await pilot.pause()
        assert any(
            "post an update" in n.message and "Next reminder in 60 min" in n.message
            for n in app._notifications
        )
        (timer,) = store.escalation.timers("outage")
        assert timer.due_at == clock() + timedelta(hours=1)
        # back the next morning, 59 minutes past the rhythm: the next one is 1 minute away,
        # and the toast says so (it said 60 min)
        clock.advance(timedelta(hours=22, minutes=59))
        bar.tick()
        await pilot.pause()
        assert "Next reminder in 1 min" in list(app._notifications)[-1].message
        (timer,) = store.escalation.timers("outage")
        assert timer.due_at == clock() + timedelta(minutes=1)
        clock.advance(timedelta(minutes=1))
        bar.tick()
        await pilot.pause()
        # the issue is closed: no more reminders
        store.tickets.insert_tickets(
            [
                Ticket(
                    id=0,
                    source=Source.TRACKER,
                    subject="Suspected outage: 2026-11-23",
                    opened_at=clock(),
                    updated_at=clock(),
                    remote_id="acme/product#9",
                    status=Status.CLOSED,
                )
            ]
        )
        clock.advance(timedelta(hours=1))
        bar.tick()
        assert store.escalation.timers("outage") == []


async def test_outage_picker_by_mouse_and_by_words(make_app: Any, store: Any, clock: Any) -> None:
    ids = seed(store, clock)
    app = make_app(store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        await pilot.pause()
        tid = app.screen.current_id()
        await pilot.press("exclamation_mark")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, OutageScreen)
        second = picker.shown[1].id
        await pilot.click("#outage-candidates", offset=(4, 1))  # the second line
        await pilot.pause()
        assert set(picker.ticked) == {tid, second}
        await pilot.click("#outage-candidates", offset=(4, 0))  # the first: unticked
        await pilot.pause()
        assert set(picker.ticked) == {second}
        # a word of the customer's name filters, as in the queue's filter
        target, word = (ids["other"], "globex") if second != ids["other"] else (tid, "acme")
        await pilot.press(*word)
        await pilot.pause()
        assert [c.id for c in picker.shown] == [target]
        await pilot.press("space", "enter")
        await pilot.pause()
        (op,) = [o for o in store.outbox.ops() if o.kind is OpKind.CREATE_ISSUE]
        assert (
            op.payload["linked_tickets"] == [target, second]
            if target == tid
            else [
                second,
                target,
            ]
        )


async def test_outage_picker_files_nothing_on_escape_or_with_nothing_ticked(
    make_app: Any, store: Any, clock: Any
) -> None:
    seed(store, clock)
    app = make_app(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5", "exclamation_mark")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, OutageScreen)
        await pilot.press("space", "enter")  # the current ticket unticked: nothing to file
        await pilot.pause()
        assert app.screen is picker
        assert any("Tick at least one" in n.message for n in app._notifications)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, OutageScreen)
        assert not [o for o in store.outbox.ops() if o.kind is OpKind.CREATE_ISSUE]


async def test_link_back_draft_then_update_offer_when_the_issue_moves(
    make_app: Any, store: Any, clock: Any
) -> None:
    ids = seed(store, clock)
    app = make_app(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        draft = store.drafts.draft_for_ticket("reply", ids["ticket"])
        assert draft is not None and ISSUE_URL in draft.fields["body"]
        # the issue is reproduced (as a sync would bring it)
        store.db.execute(
            "UPDATE tickets SET labels = ? WHERE id = ?", ['["bug", ":product"]', ids["issue"]]
        )
        app.store_revision += 1
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        assert "reproduced" in app.screen.title_text
        await pilot.press("enter")
        await pilot.pause()
        draft = store.drafts.draft_for_ticket("reply", ids["ticket"])
        assert draft is not None
        body = draft.fields["body"]
        assert ISSUE_URL in body and "reproduced the problem" in body
        app.store_revision += 1  # asked once
        await pilot.pause()
        assert not isinstance(app.screen, ChoiceScreen)


async def test_keys_are_in_the_footer_help_and_palette(
    make_app: Any, store: Any, clock: Any
) -> None:
    from oncall_tui.ui.screens.help_screen import binding_rows

    seed(store, clock)
    app = make_app(store=store)
    async with app.run_test(size=SIZE) as pilot:
        rows = dict((d, k) for k, d in binding_rows(app.screen))
        assert rows["Time-box"] == "I" and rows["Outage"] == "!" and rows["Stand-up"] == "S"
        screen = await open_standup(pilot)
        rows = dict((d, k) for k, d in binding_rows(screen))
        assert rows["Acknowledge"] == "a" and rows["Decide"] == "d"
        from oncall_tui.ui.commands import BindingCommands

        provider = BindingCommands(screen)
        names = [c[0] for c in provider._commands()]
        assert "Acknowledge" in names and "Decide" in names


async def test_outage_issue_that_would_name_a_customer_is_not_filed(
    make_app: Any, store: Any, clock: Any
) -> None:
    ids = seed(store, clock)
    store.db.execute(
        "UPDATE tickets SET url = 'https://acme-corp.zendesk.com/agent/tickets/41165' WHERE id = ?",
        [ids["ticket"]],
    )
    app = make_app(store=store)
    async with app.run_test(size=SIZE) as pilot:
        from oncall_tui.ui.screens.outage import file_outage

        assert file_outage(app.screen, [ids["ticket"]], "Suspected outage: 2026-11-23") is None
        await pilot.pause()
        assert not [o for o in store.outbox.ops() if o.kind is OpKind.CREATE_ISSUE]
        assert store.escalation.timers("outage") == []
        assert any("would name Acme Corp" in n.message for n in app._notifications)


async def test_codename_picker_proposes_free_names_and_queues_both_labels(
    make_app: Any, store: Any, clock: Any
) -> None:
    from dataclasses import replace

    from oncall_tui.demo.seed import DEMO_USER
    from oncall_tui.domain.escalation import parse_escalation_settings
    from oncall_tui.settings.config import Config

    ids = seed(store, clock)  # Acme is vesta; Globex has no codename; ceres is a label
    store.db.execute(
        "UPDATE tickets SET labels = ? WHERE id = ?",
        ['["bug", ":product", "customer-ceres"]', ids["fresh"]],
    )
    settings = parse_escalation_settings({"private_repo": "acme/customers"})
    config = replace(Config(user=DEMO_USER, sync_interval=None), escalation=settings)
    app = make_app(store=store, config=config)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"41170", "enter")
        await pilot.pause()
        assert app.screen.current_id() == ids["other"]
        await pilot.press("N")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        assert "JPL" in app.screen.title_text
        names = [k for k, _ in app.screen.options]
        assert names[:2] == ["pallas", "juno"]  # ceres is a label, vesta Acme's
        await pilot.press("enter")
        await pilot.pause()
        customer = store.tickets.get_customer(store.tickets.get_ticket(ids["other"]).customer_id)
        assert customer.codename == "pallas"
        ops = [o for o in store.outbox.ops() if o.kind is OpKind.CREATE_LABEL]
        assert [(o.payload["repo"], o.payload["name"], o.payload["description"]) for o in ops] == [
            (None, "customer-pallas", ""),
            ("acme/customers", "customer-pallas", "Globex"),
        ]
        await pilot.press("N")  # a second time: it has one already
        await pilot.pause()
        assert not isinstance(app.screen, ChoiceScreen)


async def test_resuming_the_link_back_draft_names_its_time_in_the_shown_zone(
    make_app: Any, store: Any, clock: Any
) -> None:
    ids = seed(store, clock)
    app = make_app(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"41165", "enter")
        await pilot.pause()
        assert app.screen.current_id() == ids["ticket"]
        await pilot.press("r")  # the link-back reply drafted at start
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        (told,) = [n.message for n in app._notifications if "Resuming" in n.message]
        local = clock().astimezone(app.ctx.config.tz)
        assert f"{local:%Y-%m-%d %H:%M} {local:%Z}" in told and "UTC" not in told


async def test_link_update_offer_waits_for_the_queue_and_eats_no_key_typed_elsewhere(
    make_app: Any, store: Any, clock: Any
) -> None:
    ids = seed(store, clock)
    app = make_app(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")  # All open
        await pilot.pause()
        queue = app.screen
        await pilot.press("r")  # a reply being typed on the current ticket
        await pilot.pause()
        compose = app.screen
        assert isinstance(compose, ComposeScreen)
        before = compose.text
        # meanwhile a sync brings the linked issue as reproduced
        store.db.execute(
            "UPDATE tickets SET labels = ? WHERE id = ?", ['["bug", ":product"]', ids["issue"]]
        )
        app.store_revision += 1
        await pilot.pause()
        await pilot.press("x", "enter")  # typed in the reply: neither goes to an offer
        await pilot.pause()
        queue.query_one(EscalationBar).tick()
        await pilot.pause()
        assert app.screen is compose
        assert compose.text.endswith("x\n") and len(compose.text) == len(before) + 2
        assert not any(isinstance(s, ChoiceScreen) for s in app.screen_stack)
        await pilot.press("escape")  # back on the queue: now it is offered
        await pilot.pause()
        queue.query_one(EscalationBar).tick()
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        assert "reproduced" in app.screen.title_text


async def test_timebox_nudge_waits_for_the_queue_and_eats_no_key_typed_elsewhere(
    make_app: Any, store: Any, clock: Any
) -> None:
    seed(store, clock)
    app = make_app(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")  # All open
        await pilot.pause()
        queue = app.screen
        tid = queue.current_id()
        await pilot.press("I")
        await pilot.pause()
        await pilot.press("r")  # a reply being typed when the hour ends
        await pilot.pause()
        compose = app.screen
        assert isinstance(compose, ComposeScreen)
        before = compose.text
        clock.advance(timedelta(hours=1))
        bar = queue.query_one(EscalationBar)
        bar.tick()
        bar.tick()  # said once, not every second
        await pilot.pause()
        await pilot.press("x", "enter")  # typed in the reply: neither picks an option
        await pilot.pause()
        assert app.screen is compose
        assert compose.text.endswith("x\n") and len(compose.text) == len(before) + 2
        assert not any(isinstance(s, ChoiceScreen) for s in app.screen_stack)
        assert store.escalation.timebox_for(tid) is not None  # not claimed while it waits
        assert "time is up" in str(bar.render())
        await pilot.press("escape")  # back on the queue: now the options open
        await pilot.pause()
        bar.tick()
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        assert store.escalation.timebox_for(tid) is None
