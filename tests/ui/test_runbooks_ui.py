"""The runbook screen: suggestions, search, the per-ticket checklist, copying, bad files.

The app's wiring (the `R` binding, the palette command, ``runbook.tcss``) is applied here by
subclassing, exactly as the patches in the hand-over propose, so no shared file is edited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from rich.console import Console
from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.command import CommandList
from textual.screen import Screen
from textual.widgets import Input, Markdown, Static

from oncall_tui.demo.seed import DEMO_USER
from oncall_tui.domain.runbook_parse import parse_runbook
from oncall_tui.domain.runbooks import RunbookError, StepKind
from oncall_tui.domain.tickets import Customer, Priority, Source, Status, Ticket
from oncall_tui.settings.config import Config
from oncall_tui.settings.paths import styles_dir
from oncall_tui.store import open_store
from oncall_tui.ui import app as app_module
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.screens.help_screen import HelpScreen
from oncall_tui.ui.screens.queue_screen import QueueScreen
from oncall_tui.ui.screens.runbook_cache import problems_message, progress_lines, runbook_cache
from oncall_tui.ui.screens.runbook_screen import RunbookScreen
from oncall_tui.ui.widgets.runbook_list import RunbookList
from tests.conftest import FROZEN_NOW

ESCALATE = "escalate-suspected-bug"
TICKET_URL = "https://demo.zendesk.example/agent/tickets/4242"


# --- the wiring patches, applied by subclassing ---------------------------------------------


class PatchedQueueScreen(QueueScreen):
    """QueueScreen with the proposed `R` binding and ``action_runbooks`` (TicketActions)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("R", "runbooks", "Runbooks", id="runbooks")]

    def action_runbooks(self) -> None:
        tid = self.current_id()
        if tid is not None:
            self.app.push_screen(RunbookScreen.from_context(self.app.ctx, tid))


class PatchedApp(OncallApp):
    """OncallApp with ``runbook.tcss`` and the "Browse runbooks" palette command (no ticket).

    Each is added only when missing, so these tests keep passing once the patches land.
    """

    CSS_PATH: ClassVar = [
        *OncallApp.CSS_PATH,
        *([] if "runbook.tcss" in app_module.STYLE_FILES else [styles_dir() / "runbook.tcss"]),
    ]

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        commands = list(super().get_system_commands(screen))
        yield from commands
        if not any(command.title == "Browse runbooks" for command in commands):
            yield SystemCommand(
                "Browse runbooks", "Every runbook, without a ticket", self.action_runbooks
            )

    def action_runbooks(self) -> None:
        if not isinstance(self.screen, RunbookScreen):
            self.push_screen(RunbookScreen.from_context(self.ctx, None))


# --- fixtures -------------------------------------------------------------------------------


def bug_ticket(customer_id: int | None) -> Ticket:
    return Ticket(
        id=0,
        source=Source.HELPDESK,
        remote_id="4242",
        subject="Agent crashes after upgrading to 4.60",
        body="Since the upgrade fleetd crashes on start.",
        opened_at=FROZEN_NOW - timedelta(hours=1),
        updated_at=FROZEN_NOW - timedelta(minutes=30),
        status=Status.OPEN,
        priority=Priority.P1,
        labels=("bug", "~investigate"),
        assignee=DEMO_USER,
        requester="rita@globexhealth.io",
        customer_id=customer_id,
        url=TICKET_URL,
    )


@pytest.fixture
def rb_app(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[Any, int]]:
    """A patched app on an empty store holding one bug ticket (assigned to the demo user)."""
    monkeypatch.setattr(app_module, "QueueScreen", PatchedQueueScreen)

    def factory(
        *, team_dir: Path | None = None, customer: str = "Globex Health"
    ) -> tuple[PatchedApp, int]:
        config = Config(user=DEMO_USER, sync_interval=None, runbooks_dir=team_dir)
        ctx = make_app(config=config, seed=None).ctx
        customer_id = ctx.store.tickets.upsert_customer(Customer(0, customer, "premium", "vesta"))
        [ticket_id] = ctx.store.tickets.insert_tickets([bug_ticket(customer_id)])
        return PatchedApp(ctx), ticket_id

    return factory


async def settle(pilot: Any) -> None:
    """Let the loader thread, its message and the Markdown render finish."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def wait_until(pilot: Any, condition: Callable[[], bool], tries: int = 100) -> None:
    """Pause until ``condition()`` holds (the palette searches in its own tasks)."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("condition not met")


async def open_runbooks(pilot: Any) -> RunbookScreen:
    await pilot.press("R")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, RunbookScreen)
    return screen


def plain(widget: Static) -> str:
    """What a Static shows, as plain text."""
    console = Console(width=200, record=True)
    console.print(widget.render())
    return console.export_text()


def option_texts(runbook_list: RunbookList) -> list[str]:
    console = Console(width=200, record=True)
    out = []
    for option in runbook_list.options:
        console.print(option.prompt)
        out.append(" ".join(console.export_text().split()))
    return out


# --- pure helpers ----------------------------------------------------------------------------


def test_progress_lines_by_title_and_slug_fallback() -> None:
    runbook = parse_runbook("a", "---\ntitle: Zeta\n---\n- [ ] one\n- [ ] two\n- [ ] three\n")
    other = parse_runbook("b", "---\ntitle: alpha\n---\n- [ ] only\n")
    lines = progress_lines(
        {"a": {0, 2}, "b": {0}, "gone": {1, 4}, "empty": set()}, {"a": runbook, "b": other}
    )
    assert lines == ["alpha 1/1", "gone: 2 ticked", "Zeta 2/3"]


def test_problems_message_names_files_and_caps_the_list() -> None:
    problems = [RunbookError(f"/team/r{i}.md", "missing 'title'") for i in range(7)]
    message = problems_message(problems)
    assert message.splitlines()[0] == "/team/r0.md: missing 'title'"
    assert message.splitlines()[-1] == "and 2 more"
    assert len(message.splitlines()) == 6


def test_every_binding_has_an_id_and_a_description() -> None:
    for binding in RunbookScreen.BINDINGS:
        assert isinstance(binding, Binding)
        assert binding.id and binding.description


# --- pilot tests -------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_R_opens_the_ticket_with_suggestions_first(rb_app: Any) -> None:
    app, ticket_id = rb_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_runbooks(pilot)
        assert screen.ticket is not None and screen.ticket.id == ticket_id
        assert "#4242 Agent crashes after upgrading" in plain(
            screen.query_one("#runbook-header", Static)
        )
        runbook_list = screen.runbook_list
        ids = [option.id for option in runbook_list.options]
        texts = option_texts(runbook_list)
        assert texts[0] == "Suggested for this ticket"
        assert ids[1] == ESCALATE
        assert 'suggested: label "bug", label "~investigate"' in texts[1]
        heading = texts.index("All runbooks")
        suggested = {s.runbook.slug for s in screen.suggestions}
        assert set(ids[1:heading]) == suggested
        assert not suggested & set(ids[heading + 1 :])  # listed once
        # The first suggestion is highlighted and shown.
        assert runbook_list.current is not None and runbook_list.current.slug == ESCALATE
        assert screen.viewer.document.source.startswith("# Escalate a suspected bug")
        assert screen.steps and screen.step_list.option_count == len(screen.steps)
        await pilot.press("escape")
        assert isinstance(app.screen, QueueScreen)


@pytest.mark.anyio
async def test_search_filters_and_escape_leaves_the_field_first(rb_app: Any) -> None:
    app, _ = rb_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_runbooks(pilot)
        await pilot.press("slash")
        assert isinstance(screen.focused, Input)
        await pilot.press(*"credit")
        await settle(pilot)
        ids = [option.id for option in screen.runbook_list.options]
        assert ids == ["change-credit-card"]
        assert screen.runbook is not None and screen.runbook.slug == "change-credit-card"
        assert "credit card" in screen.viewer.document.source
        await pilot.press("escape")  # leaves the field, keeps the filter
        assert app.screen is screen and isinstance(screen.focused, RunbookList)
        await pilot.press("slash", *"zzzq")
        await pilot.pause()
        assert option_texts(screen.runbook_list) == ["No runbook matches the search."]
        assert screen.runbook is not None  # the last runbook stays on screen
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, QueueScreen)


@pytest.mark.anyio
async def test_ticking_persists_across_screens_and_stores(rb_app: Any, clock: Any) -> None:
    app, ticket_id = rb_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_runbooks(pilot)
        await pilot.press("enter")  # into the steps
        assert screen.step_list.has_focus
        first = screen.current_step
        assert first is not None and first.kind is StepKind.CHECK
        revision = app.store_revision
        await pilot.press("space")
        await settle(pilot)
        assert app.ctx.store.tickets.runbook_progress(ticket_id) == {ESCALATE: {0}}
        assert app.store_revision == revision + 1  # the detail re-queries its progress lines
        assert "- [x] Find or file the issue" in screen.viewer.document.source
        await pilot.press("down", "x")  # x ticks too
        await settle(pilot)
        assert app.ctx.store.tickets.runbook_progress(ticket_id, ESCALATE) == {ESCALATE: {0, 1}}
        assert "2/10" in option_texts(screen.runbook_list)[1]
        # What the detail's "Runbooks" section shows (the load_detail patch).
        lines = progress_lines(
            app.ctx.store.tickets.runbook_progress(ticket_id), runbook_cache(app.ctx).by_slug()
        )
        assert lines == ["Escalate a suspected bug 2/10"]
        await pilot.press("x")  # and unticks
        await pilot.press("space")
        await settle(pilot)
        assert app.ctx.store.tickets.runbook_progress(ticket_id) == {ESCALATE: {0, 1}}

        await pilot.press("escape")
        screen = await open_runbooks(pilot)
        assert screen.done == {0, 1}
        assert screen.viewer.document.source.count("- [x]") == 2
        step_prompt = screen.step_list.get_option_at_index(0).prompt
        console = Console(width=200, record=True)
        console.print(step_prompt)
        assert console.export_text().startswith("[x] Find or file the issue")

    again = open_store(app.ctx.store.path, clock=clock)
    try:
        assert again.tickets.runbook_progress(ticket_id) == {ESCALATE: {0, 1}}
    finally:
        again.close()


@pytest.mark.anyio
async def test_y_copies_the_selected_step_with_placeholders(rb_app: Any) -> None:
    app, _ = rb_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_runbooks(pilot)
        await pilot.press("y")
        assert app.clipboard.startswith("Find or file the issue")
        assert TICKET_URL in app.clipboard
        code = next(s for s in screen.steps if s.kind is StepKind.CODE)
        await pilot.press("enter", *["down"] * code.index, "y")
        await pilot.pause()
        assert app.clipboard.startswith("gh issue edit ISSUE")
        assert "customer-vesta" in app.clipboard and "{codename}" not in app.clipboard
        assert "```" not in app.clipboard
        await pilot.press("space")  # a code block is not a checklist item
        assert app.ctx.store.tickets.runbook_progress(screen.ticket.id) == {}


@pytest.mark.anyio
async def test_placeholders_are_filled_and_customer_text_stays_data(rb_app: Any) -> None:
    app, _ = rb_app(customer="[bold]Evil[/bold] *Corp* <b>")
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_runbooks(pilot)
        source = screen.viewer.document.source
        assert TICKET_URL in source
        assert "customer-vesta" in source and "{codename}" not in source
        meta = plain(screen.query_one("#runbook-ticket-meta", Static))
        assert "[bold]Evil[/bold] *Corp* <b> · vesta · premium" in meta
        # {customer} in Markdown is escaped: the name cannot add emphasis, links or HTML.
        context_md = screen.runbook_markdown(
            parse_runbook("x", "---\ntitle: X\n---\nHello {customer}.\n")
        )
        assert r"\[bold\]Evil\[/bold\] \*Corp\* \<b\>" in context_md


@pytest.mark.anyio
async def test_links_open_in_the_browser_not_as_files(rb_app: Any, monkeypatch: Any) -> None:
    from oncall_tui.ui import browser

    monkeypatch.setattr(browser, "graphical_browser", lambda: True)
    app, _ = rb_app()
    opened: list[str] = []
    app.open_url = lambda url, **_: opened.append(url)  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_runbooks(pilot)
        document = screen.viewer.document
        source = document.source
        for href in (TICKET_URL, "other-runbook.md"):
            document.post_message(Markdown.LinkClicked(document, href))
            await pilot.pause()
        assert opened == [TICKET_URL]
        assert any("Not a web link: other-runbook.md" in n.message for n in app._notifications)
        assert document.source == source and app.screen is screen  # nothing was loaded


@pytest.mark.anyio
async def test_a_bad_team_runbook_is_reported_once_and_the_rest_listed(
    rb_app: Any, tmp_path: Path
) -> None:
    team = tmp_path / "team"
    team.mkdir()
    (team / "broken.md").write_text("---\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    (team / "restart-vpn.md").write_text(
        "---\ntitle: Restart the VPN\ntags: [network]\n---\n- [ ] Restart it for {customer}.\n",
        encoding="utf-8",
    )
    app, _ = rb_app(team_dir=team)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_runbooks(pilot)
        warnings = [n for n in app._notifications if n.severity == "warning"]
        assert len(warnings) == 1
        assert str(team / "broken.md") in warnings[0].message
        assert warnings[0].title == "Some runbooks were skipped"
        ids = [option.id for option in screen.runbook_list.options]
        assert "restart-vpn" in ids and ESCALATE in ids
        assert "Restart the VPN team" in option_texts(screen.runbook_list)
        await pilot.press("escape")
        screen = await open_runbooks(pilot)  # cached: no second load, no second warning
        assert len([n for n in app._notifications if n.severity == "warning"]) == 1

        (team / "broken.md").write_text("---\ntitle: Fixed now\n---\n- [ ] a\n", "utf-8")
        await pilot.press("f5")  # read the files again
        await settle(pilot)
        assert "broken" in [option.id for option in screen.runbook_list.options]
        assert len([n for n in app._notifications if n.severity == "warning"]) == 1


@pytest.mark.anyio
async def test_palette_opens_runbooks_without_a_ticket(rb_app: Any) -> None:
    app, _ = rb_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"browse run")

        def offered() -> bool:  # the palette searches in its own tasks, not app workers
            found = app.screen.query(CommandList)
            options = found.first().options if found else []
            return len(options) == 1 and "Browse runbooks" in str(options[0].prompt)

        await wait_until(pilot, offered)
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RunbookScreen))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunbookScreen) and screen.ticket is None
        assert option_texts(screen.runbook_list)[0] == "A customer missed a call"
        assert "{customer}" in screen.viewer.document.source  # nothing to fill in
        await pilot.press("enter", "space")
        await pilot.pause()
        assert any("Open runbooks from a ticket" in n.message for n in app._notifications)


@pytest.mark.anyio
async def test_help_lists_the_runbook_keys(rb_app: Any) -> None:
    app, _ = rb_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_runbooks(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = dict((d, k) for k, d in app.screen.rows)
        assert rows["Tick step"] == "space / x"
        for description in ("Search", "Copy step", "Back", "Reload runbooks"):
            assert description in rows


# --- snapshots -------------------------------------------------------------------------------


def _open_and_tick(keys: list[str]) -> Callable[[Any], Any]:
    async def run_before(pilot: Any) -> None:
        await pilot.press("R")
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)

    return run_before


def test_snapshot_wide_beside_the_ticket(snap_compare: Any, rb_app: Any) -> None:
    """160 cols: ticket summary and SLA above the list (suggestions first), the runbook with
    its table of contents, the first item ticked ([x] in both) and highlighted in the text."""
    app, _ = rb_app()
    assert snap_compare(app, terminal_size=(160, 40), run_before=_open_and_tick(["enter", "space"]))


def test_snapshot_narrow_full_screen(snap_compare: Any, rb_app: Any) -> None:
    """120 cols: a one-line ticket header, the list and the runbook without a table of
    contents; nothing ticked yet."""
    app, _ = rb_app()
    assert snap_compare(app, terminal_size=(120, 40), run_before=_open_and_tick([]))
