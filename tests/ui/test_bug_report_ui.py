"""The bug-report form, the drafts screen and the escalation keys, through the Pilot.

Demo seed 1 at the frozen "now": the first row of "My queue" is a help-desk ticket from Acme
Logistics (codename ceres), "Live query hangs at 95% and never finishes"; the tracker holds
"Live query stalls at 95% on large host counts" (a NEW bug) among others.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Collapsible, Input, Markdown, Select, TextArea

from oncall_tui.demo.seed import DEMO_USER
from oncall_tui.domain.ops import OpKind, OpState
from oncall_tui.domain.query import parse_query
from oncall_tui.domain.tickets import Source
from oncall_tui.settings.config import BackendConfig, Config
from oncall_tui.ui.screens.bug_report_data import DRAFT_KIND
from oncall_tui.ui.screens.bug_report_screen import REFRESH_SECONDS, BugReportScreen
from oncall_tui.ui.screens.choice_screen import ChoiceScreen
from oncall_tui.ui.screens.drafting import AUTOSAVE_SECONDS
from oncall_tui.ui.screens.drafts_screen import DraftsScreen
from oncall_tui.ui.screens.prompt_screen import PromptScreen
from oncall_tui.ui.screens.queue_screen import QueueScreen
from oncall_tui.ui.widgets.similar_issues import SimilarIssues
from tests.conftest import FROZEN_NOW, settle_factory

pytestmark = pytest.mark.anyio
SIZE = (120, 40)
REQUIRED_TEXT = {
    "expected": "The live query completes for every targeted host.",
    "actual": "It stays at 95% responded forever.",
    "steps": "1. Target 2,000 hosts\n2. Run a live query\n3. Watch the progress bar",
}


# --- helpers -------------------------------------------------------------------------------------


def ticket_named(app: Any, subject: str, source: str = "helpdesk") -> int:
    """The id of the first open ticket of ``source`` with this subject."""
    rows = app.ctx.store.queue.open_queue(parse_query(f"source:{source}"), limit=500)
    return next(r.id for r in rows if r.subject == subject)


async def select_ticket(pilot: Any, ticket_id: int) -> None:
    """Show "All open" and put the queue's cursor on ``ticket_id``."""
    await pilot.press("5")
    await pilot.pause()
    screen: QueueScreen = pilot.app.screen
    position = pilot.app.ctx.store.queue.queue_position(screen.query_now(), ticket_id, me=DEMO_USER)
    assert position is not None
    screen.table.cursor = position
    await pilot.pause()


async def open_form(pilot: Any) -> BugReportScreen:
    """`b` on Acme Logistics' live-query ticket in My queue (the cursor is put on it: what
    sorts first depends on the demo's reply clocks)."""
    from oncall_tui.ui.widgets.ticket_table import TicketTable

    await pilot.pause()
    table = pilot.app.screen.query_one(TicketTable)
    for i in range(table.total):
        row = table.row_at(i)
        if row and row.subject.startswith("Live query hangs") and row.codename == "ceres":
            table.cursor = i
            break
    await pilot.pause()
    await pilot.press("b")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, BugReportScreen)
    return screen


def field(screen: BugReportScreen, field_id: str) -> Any:
    return screen.query_one(f"#field-{field_id}")


async def fill(pilot: Any, screen: BugReportScreen, values: dict[str, str]) -> None:
    """Type values as a person would: focus the field, select all, type."""
    for field_id, text in values.items():
        widget = field(screen, field_id)
        widget.focus()
        await pilot.pause()
        if isinstance(widget, TextArea):
            widget.clear()
            widget.insert(text)
        else:
            widget.value = ""
            await pilot.press(*text)
        await pilot.pause()


async def checks_done(pilot: Any) -> None:
    """Let the debounce fire and the background guard check and search finish."""
    await pilot.pause(REFRESH_SECONDS + 0.1)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def bug_ops(app: Any) -> list[Any]:
    states = list(OpState)
    return [op for op in app.ctx.store.outbox.ops(states) if op.kind is OpKind.CREATE_ISSUE]


def notifications(app: Any) -> list[str]:
    return [n.message for n in app._notifications]


# --- opening and the form ----------------------------------------------------------------------


async def test_b_opens_form_prefilled_from_the_ticket(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        assert screen.ticket is not None and screen.ticket.source is Source.HELPDESK
        assert field(screen, "title").value == "Live query hangs at 95% and never finishes"
        assert field(screen, "codename").value == "ceres"
        assert screen.values["ticket_url"].startswith("https://demo.zendesk.example/")
        # One widget per field type; help text under the input.
        assert isinstance(field(screen, "server_version"), Input)
        assert isinstance(field(screen, "steps"), TextArea)
        assert isinstance(field(screen, "agent_kind"), Select)
        assert "Mandatory" in str(screen.box("steps").query_one(".form-field--help").render())
        # The nice-to-have section starts folded; the title has the focus.
        details = screen.query_one("#section-details", Collapsible)
        assert details.collapsed
        assert screen.focused is field(screen, "title")
        # Nothing is stored until something is typed.
        assert app.ctx.store.drafts.all() == []


async def test_integer_fields_accept_digits_only(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        screen.query_one("#section-details", Collapsible).collapsed = False
        await pilot.pause()
        field(screen, "total_hosts").focus()
        await pilot.press(*"12a-3.4")
        assert field(screen, "total_hosts").value == "1234"
        assert screen.values["total_hosts"] == "1234"


async def test_tab_moves_between_fields(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        await pilot.press("tab")
        assert screen.focused is field(screen, "codename")
        await pilot.press("tab")
        assert screen.focused is field(screen, "summary")
        await pilot.press("shift+tab", "shift+tab")
        assert screen.focused is field(screen, "title")


async def test_field_is_validated_inline_when_left(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        version = field(screen, "server_version")
        version.focus()
        version.value = ""
        await pilot.press(*"latest", "tab")
        await pilot.pause()
        box = screen.box("server_version")
        assert box.has_class("-invalid")
        assert "Not a version number" in str(box.query_one(".form-field--error").render())
        # Fixing it clears the message as you type.
        version.focus()
        version.value = ""
        await pilot.press(*"4.57.1")
        await pilot.pause()
        assert not box.has_class("-invalid")


async def test_submit_refused_lists_problems_and_focuses_first(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, BugReportScreen)
        problems = str(screen.query_one("#submit-problems").render())
        for label in ("Expected behaviour", "Actual behaviour", "Steps to reproduce"):
            assert f"{label}: Required." in problems
        assert screen.box("steps").has_class("-invalid")  # reproduction steps are mandatory
        assert screen.focused is field(screen, "expected")
        assert bug_ops(app) == []
        # ctrl+enter is the same action (for terminals that can send it).
        await pilot.press("ctrl+enter")
        await pilot.pause()
        assert bug_ops(app) == []


async def test_ctrl_s_saves_the_draft(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        await pilot.press(*" (large fleets)", "ctrl+s")
        drafts = app.ctx.store.drafts.all(DRAFT_KIND)
        assert len(drafts) == 1
        assert drafts[0].fields["title"].endswith("never finishes (large fleets)")
        assert drafts[0].ticket_id == screen.ticket_id
        assert drafts[0].meta["codename"] == "ceres"
        assert "draft saved" in str(screen.query_one("#bug-report-header").render())


async def test_autosave_within_a_second(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        await pilot.press("!")
        assert app.ctx.store.drafts.all() == []  # not at once: keystrokes are batched
        await pilot.pause(AUTOSAVE_SECONDS + 0.2)  # within a second
        (draft,) = app.ctx.store.drafts.all()
        assert draft.fields["title"].endswith("finishes!")
        await pilot.press(*" again")  # later edits reach the same draft
        await pilot.pause(AUTOSAVE_SECONDS + 0.2)
        (draft,) = app.ctx.store.drafts.all()
        assert draft.fields["title"].endswith("finishes! again")
        assert draft.id == screen.draft_id
        assert AUTOSAVE_SECONDS < 1.0


async def test_esc_keeps_the_draft_and_b_resumes_it(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        await fill(pilot, screen, {"actual": "Stuck at 95%."})
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        (draft,) = app.ctx.store.drafts.all()
        assert draft.fields["actual"] == "Stuck at 95%."
        resumed = await open_form(pilot)
        assert resumed.draft_id == draft.id
        assert field(resumed, "actual").text == "Stuck at 95%."


async def test_resume_and_discard_from_drafts_screen(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        await fill(pilot, screen, {"summary": "Affects the whole fleet."})
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("D")
        await pilot.pause()
        assert isinstance(app.screen, DraftsScreen)
        table = app.screen.query_one("DataTable")
        assert table.row_count == 1
        row = [str(cell) for cell in table.get_row_at(0)]
        assert row[0] == "bug report"
        assert row[2] == "Live query hangs at 95% and never finishes"
        assert row[1].startswith("zendesk #41") and row[3] == "draft"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, BugReportScreen)
        assert field(app.screen, "summary").text == "Affects the whole fleet."
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DraftsScreen)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("escape")  # changed my mind
        await pilot.pause()
        assert len(app.ctx.store.drafts.all()) == 1
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("down", "enter")  # "Discard the draft"
        await pilot.pause()
        assert app.ctx.store.drafts.all() == []
        assert "No drafts" in str(app.screen.query_one("#drafts-empty").render())


# --- the confidentiality guard --------------------------------------------------------------------


async def test_guard_blocks_then_override_is_recorded(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        text = dict(REQUIRED_TEXT, actual="Dana at Acme Logistics sees it stay at 95%.")
        await fill(pilot, screen, text)
        await checks_done(pilot)
        panel = str(screen.query_one("#guard-panel").render())
        assert '"Acme Logistics" in Actual behaviour' in panel
        assert '"Dana" (Acme Logistics) in Actual behaviour' in panel
        assert screen.box("actual").has_class("-guard")

        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, BugReportScreen) and bug_ops(app) == []
        assert '"Acme Logistics" is a customer\'s name' in str(
            screen.query_one("#submit-problems").render()
        )
        assert screen.focused is field(screen, "actual")

        await pilot.press("f4")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"customer agreed to be named", "enter")
        await pilot.pause()
        (draft,) = app.ctx.store.drafts.all()
        override = draft.meta["override"]
        assert override["reason"] == "customer agreed to be named"
        assert override["at"] == "2026-11-23T18:30:00Z"
        assert set(override["terms"]) == {"Dana", "Acme Logistics"}
        assert not screen.box("actual").has_class("-guard")

        await pilot.press("f5")
        await pilot.pause()
        if isinstance(app.screen, ChoiceScreen):  # search first: file anyway
            await pilot.press("end", "enter")
            await pilot.pause()
        (op,) = bug_ops(app)
        assert op.payload["guard_override"]["reason"] == "customer agreed to be named"
        assert op.payload["guard_override"]["at"] == FROZEN_NOW.isoformat()


async def test_guard_and_search_run_off_the_ui_thread(make_app: Any, monkeypatch: Any) -> None:
    """A pasted log makes them slow; typing must not wait for them."""
    import threading

    from oncall_tui.ui.screens import bug_report_screen

    threads: list[int] = []
    real_check = bug_report_screen.guard.check_public

    def spy(text: Any, customers: Any, **kw: Any) -> Any:
        threads.append(threading.get_ident())
        return real_check(text, customers, **kw)

    monkeypatch.setattr(bug_report_screen.guard, "check_public", spy)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        await checks_done(pilot)
        await fill(pilot, screen, {"actual": "error: request failed with code 500\n" * 2000})
        await checks_done(pilot)
        assert threads and threading.get_ident() not in threads
        assert screen.hits == []  # and the results did arrive


# --- submit, search first, preview --------------------------------------------------------------


async def test_submit_queues_one_create_issue_and_marks_draft_submitted(make_app: Any) -> None:
    github = BackendConfig(name="github", url="https://api.github.com", repos=("acme/product",))
    app = make_app(config=Config(user=DEMO_USER, sync_interval=None, backends={"github": github}))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        ticket_id = screen.ticket_id
        await fill(pilot, screen, REQUIRED_TEXT)
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)  # a similar issue is offered first
        await pilot.press("end", "enter")  # "None of these: file a new issue"
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)

        (op,) = bug_ops(app)
        assert op.source is Source.TRACKER and op.state is OpState.PENDING
        assert op.ticket_id == ticket_id and op.idempotency_key
        payload = op.payload
        assert set(payload) == {
            "repo",
            "title",
            "body",
            "labels",
            "ticket_id",
            "ticket_url",
            "guard_override",
        }
        assert payload["repo"] == "acme/product"
        assert payload["title"] == "Live query hangs at 95% and never finishes"
        assert payload["labels"] == ["bug", ":reproduce", ":incoming", "customer-ceres"]
        assert "### Steps to reproduce\n\n1. Target 2,000 hosts" in payload["body"]
        assert "zendesk" not in payload["body"]  # the private ticket link stays out
        assert payload["ticket_url"].startswith("https://demo.zendesk.example/")
        assert payload["guard_override"] is None

        (draft,) = app.ctx.store.drafts.all(DRAFT_KIND)
        assert (draft.state, draft.outbox_id) == ("submitted", op.id)
        # `b` again starts a new report (with a warning), it does not reopen the queued one.
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, BugReportScreen) and app.screen.draft_id is None
        assert any("already queued" in m for m in notifications(app))


async def test_submit_without_a_tracker_goes_to_local(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        await fill(pilot, screen, {**REQUIRED_TEXT, "title": "Progress bar frozen"})
        await checks_done(pilot)
        assert not [m for m in screen.matches if m.score >= 0.34]
        await pilot.press("f5")  # nothing similar enough: filed at once
        await pilot.pause()
        (op,) = bug_ops(app)
        assert op.payload["repo"] == "local"
        assert any("no tracker is configured" in m for m in notifications(app))


async def test_search_first_links_the_ticket_instead_of_filing(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        ticket_id = screen.ticket_id
        await pilot.press("ctrl+s")  # a saved draft, to see it discarded
        await checks_done(pilot)
        similar = screen.query_one(SimilarIssues)
        assert similar.matches[0].title == "Live query stalls at 95% on large host counts"
        issue = similar.matches[0]
        await pilot.press("f3")
        assert screen.focused is similar
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("home", "enter")  # "Link ... and discard this draft"
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        assert app.ctx.store.tickets.links(ticket_id) == [(issue.url, issue.title)]
        assert app.ctx.store.drafts.all(DRAFT_KIND) == [] and bug_ops(app) == []
        # the link-back: a reply with the issue's link, drafted for the customer's thread
        await pilot.pause()
        (reply,) = app.ctx.store.drafts.all("reply")
        assert reply.ticket_id == ticket_id and issue.url in reply.fields["body"]


async def test_search_first_is_offered_again_on_submit(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        await fill(pilot, screen, REQUIRED_TEXT)
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("home", "enter")  # the first match: link instead
        await pilot.pause()
        assert app.ctx.store.tickets.links(screen.ticket_id)
        assert bug_ops(app) == []


async def test_preview_shows_the_issue_as_filed(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        await fill(pilot, screen, REQUIRED_TEXT)
        await pilot.press("f2")
        await pilot.pause()
        assert screen.has_class("-preview")
        markdown = screen.query_one("#preview-markdown", Markdown)
        source = markdown.source
        assert source.startswith("# Live query hangs at 95% and never finishes")
        assert "`customer-ceres`" in source and "## Behaviour" in source
        await pilot.press("f2")
        await pilot.pause()
        assert not screen.has_class("-preview")
        assert isinstance(screen.focused, TextArea)  # back where the engineer was
        await pilot.press("f2", "f3")  # the similar issues, from the preview too
        await pilot.pause()
        assert not screen.has_class("-preview")
        assert screen.focused is screen.query_one(SimilarIssues)


# --- blank reports and config ------------------------------------------------------------------


async def test_blank_report_guard_finds_customer_by_codename(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("B")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, BugReportScreen) and screen.ticket is None
        assert field(screen, "title").value == ""
        await fill(pilot, screen, {"title": "Globex dashboard broken", "codename": "vesta"})
        await checks_done(pilot)
        assert [h.term for h in screen.hits] == ["Globex"]


async def test_bug_actions_are_in_the_command_palette(make_app: Any) -> None:
    from oncall_tui.ui.commands import BindingCommands

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        names = {name for name, _, _ in BindingCommands(app.screen)._commands()}
        assert {"New bug", "Drafts", "Bug report", "Escalate"} <= names


async def test_bad_config_falls_back_to_defaults_with_a_notice(make_app: Any) -> None:
    config = Config(
        user=DEMO_USER,
        sync_interval=None,
        bug_report={"sections": [{"id": "x", "title": "X", "fields": []}], "labels": {"bug": 1}},
    )
    app = make_app(config=config)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        assert screen.schema.field("steps").required  # the default form
        shown = notifications(app)
        assert any("bug_report.sections[0].fields" in m for m in shown)
        assert any("bug_report.labels.bug" in m for m in shown)


async def test_config_form_and_labels_are_used(make_app: Any) -> None:
    config = Config(
        user=DEMO_USER,
        sync_interval=None,
        bug_report={
            "sections": [
                {
                    "id": "only",
                    "title": "Only",
                    "fields": [
                        {
                            "id": "headline",
                            "label": "Headline",
                            "type": "line",
                            "role": "title",
                            "required": True,
                        },
                        {"id": "codename", "label": "Codename", "type": "line", "role": "codename"},
                    ],
                }
            ],
            "labels": {"bug": "type:bug"},
        },
    )
    app = make_app(config=config)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        assert [f.id for f in screen.schema.fields] == ["headline", "codename"]
        assert field(screen, "headline").value.startswith("Live query hangs")
        assert screen.preview().labels[0] == "type:bug"


# --- escalation --------------------------------------------------------------------------------


async def test_escalation_queues_label_changes(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        store = app.ctx.store
        tid = ticket_named(app, "Live query stalls at 95% on large host counts", "tracker")
        await select_ticket(pilot, tid)
        await pilot.press("E")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        assert "(now: new)" in app.screen.title_text
        await pilot.press("home", "enter")  # suspected customer impact
        await pilot.pause()
        ops = store.outbox.ops(ticket_id=tid)
        assert [(op.kind, op.payload["labels"]) for op in ops] == [
            (OpKind.REMOVE_LABELS, [":reproduce", ":incoming"]),
            (OpKind.ADD_LABELS, ["~investigate", ":help-customers"]),
        ]
        assert set(store.tickets.get_ticket(tid).labels) == {
            "bug",
            "customer-ceres",
            "~investigate",
            ":help-customers",
        }
        await pilot.press("E")
        await pilot.pause()
        await pilot.press("end", "enter")  # not reproduced: back to QA
        await pilot.pause()
        assert set(store.tickets.get_ticket(tid).labels) >= {
            ":incoming",
            ":reproduce",
            ":help-customers",
        }
        assert "~investigate" not in store.tickets.get_ticket(tid).labels


async def test_refused_escalation_shows_why(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tid = ticket_named(app, "Live query stalls at 95% on large host counts", "tracker")
        await select_ticket(pilot, tid)
        await pilot.press("E")
        await pilot.pause()
        await pilot.press("home", "down", "enter")  # reproduced, straight from NEW
        await pilot.pause()
        assert app.ctx.store.outbox.ops(ticket_id=tid) == []
        assert any("Cannot mark reproduced" in m for m in notifications(app))


async def test_escalation_and_bug_report_refuse_the_wrong_kind_of_ticket(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("E")  # a help-desk ticket
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        assert any("Escalation labels go on tracker issues" in m for m in notifications(app))
        tid = ticket_named(app, "Live query stalls at 95% on large host counts", "tracker")
        await select_ticket(pilot, tid)
        await pilot.press("b")  # a tracker issue
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        assert any("already a tracker issue" in m for m in notifications(app))


# --- snapshots ---------------------------------------------------------------------------------

settle = settle_factory()


def _no_blink(app: Any) -> None:
    for widget in app.screen.query("Input, TextArea"):
        widget.cursor_blink = False


async def _blank_form(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("B")
    await checks_done(pilot)
    _no_blink(pilot.app)


async def _ticket_form(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("b")
    await checks_done(pilot)
    _no_blink(pilot.app)


def test_snapshot_empty_form(snap_compare: Any, make_app: Any) -> None:
    """`B`: the blank form, title focused, "Environment details" folded, nothing similar yet."""
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_blank_form)


def test_snapshot_form_with_errors(snap_compare: Any, make_app: Any) -> None:
    """`b` then F5: the three empty behaviour fields flagged, the list beside, first focused."""
    assert snap_compare(make_app(), press=["f5"], terminal_size=SIZE, run_before=_ticket_form)


def test_snapshot_preview(snap_compare: Any, make_app: Any) -> None:
    """`b` then F2: the Markdown preview of the pre-filled ticket (title, labels, sections)."""
    assert snap_compare(make_app(), press=["f2"], terminal_size=SIZE, run_before=_ticket_form)


def test_snapshot_form_at_80x24_stacks(snap_compare: Any, make_app: Any) -> None:
    """80×24: labels over full-width inputs, the help under them, the similar issues and
    the guard under the form (beside it, the inputs were four characters wide)."""
    assert snap_compare(make_app(), press=["f5"], terminal_size=(80, 24), run_before=_ticket_form)


@pytest.mark.anyio
async def test_form_inputs_are_wide_at_80_columns(make_app: Any) -> None:
    from textual.widgets import Input

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("B")
        await pilot.pause()
        assert app.screen.has_class("-narrow")
        # (the inputs of the folded "Environment details" have no size until unfolded)
        widths = [w.size.width for w in app.screen.query(Input) if w.size.height]
        assert len(widths) >= 2 and min(widths) >= 60, widths
        await pilot.resize_terminal(160, 40)
        await pilot.pause()
        assert not app.screen.has_class("-narrow")
