"""Customer text is shown literally and never executed, from the wire to the screen.

The hostile text travels the real path: a backend page (``FakeBackend``) written by the sync
engine through ``apply_page``, then the queue row, the detail (metadata and the Markdown
thread), the SLA breach toast, the bug-report form and its preview, and the sync log. On
screen, Rich/Textual markup must read as typed (``[@click=app.quit]`` stays text and clicking
it does nothing), and no rendered segment may carry ESC, BEL or another control character:
Textual writes segment text to the terminal as is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from oncall_tui.demo.seed import DEMO_USER
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.query import parse_query
from oncall_tui.settings.config import Config
from oncall_tui.sync.base import Rejected, RemoteComment, RemoteCustomer
from oncall_tui.ui.screens.bug_report_screen import BugReportScreen
from oncall_tui.ui.screens.queue_screen import QueueScreen
from oncall_tui.ui.widgets.ticket_detail import TicketDetail
from oncall_tui.ui.widgets.ticket_table import TicketTable
from tests.fakes import FakeBackend, remote_ticket
from tests.reliability.conftest import (
    ESCAPES,
    MARKUP,
    UNICODE,
    click_actions,
    has_control,
    screen_lines,
    screen_text,
)

pytestmark = pytest.mark.anyio
WIDE = (170, 50)  # the detail shows beside the queue from 150 columns
QUIT = "[@click=app.quit]quit[/]"
MARKDOWN_LINK = "[docs](https://x.example/'),app.quit(')"


class HostileBackend(FakeBackend):
    """A help desk whose every text field carries ``texts``; pushes fail with them too."""

    def __init__(self, texts: tuple[str, ...], now: Any, *, comment: bool = True) -> None:
        line = " ".join(texts)
        super().__init__(
            [
                remote_ticket(
                    1,
                    subject="Subject " + line,
                    body="Body\n\n" + "\n\n".join(texts) + "\n\n" + MARKDOWN_LINK,
                    requester="requester " + line,
                    assignee=None,
                    labels=tuple(texts[:3]),
                    url="https://fake/tickets/1" + texts[0],
                    opened_at=now - timedelta(minutes=5),
                    updated_at=now - timedelta(minutes=5),
                )
            ]
        )
        self.customers = [
            RemoteCustomer(
                "org1",
                "Customer " + line,
                "premium",
                ("globex.io",),
                ("Rita " + texts[-1],),
                "vesta" + texts[0],
            )
        ]
        # (an answer from someone else is the first response: it stops the SLA clock)
        self.comments = [
            RemoteComment(self.source, "1", "c1", "author " + line, "Comment " + line, True, now)
        ][: int(comment)]
        self.reject_with = "fake: 422 " + line

    async def push(self, op: Any) -> Any:
        raise Rejected(self.reject_with, status=422)


async def hostile_app(
    make_app: Callable[..., Any], clock: FrozenClock, texts: tuple[str, ...], comment: bool = True
) -> tuple[Any, HostileBackend]:
    backend = HostileBackend(texts, clock(), comment=comment)
    app = make_app(seed=None, backend=backend, config=Config(user=DEMO_USER, sync_interval=None))
    return app, backend


async def show_all_open(pilot: Any) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.press("5")  # "All open"
    # The side detail follows the cursor once it rests: wait for it (a fixed pause is too
    # short on a loaded machine), then for the frame that paints it.
    detail = pilot.app.screen.query_one(TicketDetail)
    for _ in range(200):
        if detail.data is not None:
            break
        await pilot.pause(0.05)
    await pilot.pause()
    assert isinstance(pilot.app.screen, QueueScreen)
    assert pilot.app.screen.query_one(TicketTable).total == 1


def assert_inert(app: Any, where: str) -> None:
    text = screen_text(app)
    bad = sorted({f"U+{ord(c):04X}" for c in text if has_control(c)})
    assert not bad, f"{where}: control characters reach the terminal: {bad}"
    # The app's own key bar and Markdown's link(...) carry @click actions; customer text
    # asks for app.quit, which must never become one.
    live = [a for a in click_actions(app) if "quit" in a and not a.startswith("link(")]
    assert not live, f"{where}: customer markup became live actions: {live}"


def assert_literal(app: Any, where: str, *fragments: str) -> None:
    text = screen_text(app)
    for fragment in fragments:
        assert fragment in text, f"{where}: {fragment!r} is not shown as typed"


async def click_every(pilot: Any, needle: str) -> int:
    """Click wherever ``needle`` is shown; returns how many places were clicked."""
    clicks = 0
    for y, strip in enumerate(screen_lines(pilot.app)):
        line = "".join(seg.text for seg in strip)
        x = line.find(needle)
        if x >= 0:
            await pilot.click(offset=(x + 2, y))
            await pilot.pause()
            clicks += 1
    return clicks


# -- markup: passes today ----------------------------------------------------------------------


async def test_markup_is_shown_literally_everywhere(
    make_app: Any, clock: FrozenClock, quit_calls: list[str]
) -> None:
    texts = MARKUP + UNICODE
    app, _ = await hostile_app(make_app, clock, texts)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await show_all_open(pilot)
        assert_literal(app, "queue row and detail", "Subject [bold red]loud[/]", QUIT)
        assert_literal(app, "detail metadata", "requester [bold red]loud[/]", "Customer [bold red]")
        assert_literal(app, "thread", "Comment [bold red]loud[/]", "author [bold red]")
        assert_inert(app, "queue")
        assert await click_every(pilot, "[@click=app.quit]") >= 2
        assert app.is_running and not quit_calls


async def test_breach_toast_shows_the_subject_literally(
    make_app: Any, clock: FrozenClock, quit_calls: list[str]
) -> None:
    app, _ = await hostile_app(make_app, clock, MARKUP + ESCAPES, comment=False)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await show_all_open(pilot)
        due = app.ctx.store.tickets.get_ticket(1).sla_due
        assert due is not None and due > clock()
        clock.set(due + timedelta(seconds=1))
        app.screen.tick()
        await pilot.pause(0.2)  # the toast rack mounts its toast on a later frame
        assert_literal(app, "toast", "Ticket breached its SLA", "Subject [bold red]loud[/]")
        toast_text = " ".join(str(n.message) for n in app._notifications)
        assert "\x1b" not in toast_text and "\x07" not in toast_text
        assert await click_every(pilot, "[@click=app.quit]") >= 1
        assert app.is_running and not quit_calls


async def test_bug_report_form_and_preview_show_markup_literally(
    make_app: Any, clock: FrozenClock, quit_calls: list[str]
) -> None:
    app, _ = await hostile_app(make_app, clock, MARKUP + UNICODE)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await show_all_open(pilot)
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, BugReportScreen)
        assert app.screen.values["title"].startswith("Subject [bold red]loud[/]")
        assert_inert(app, "bug-report form")
        await pilot.press("f2")
        await pilot.pause()
        assert_literal(app, "preview", "loud")
        assert_inert(app, "bug-report preview")
        await click_every(pilot, "[@click=app.quit]")
        assert app.is_running and not quit_calls


# -- terminal escapes: every field from the wire, every place it shows -----------------------


@pytest.mark.product_bug("B12: requester/assignee/url/ids/codename/plan reach widgets with ESC")
async def test_escapes_never_reach_the_terminal(make_app: Any, clock: FrozenClock) -> None:
    app, _ = await hostile_app(make_app, clock, ESCAPES + MARKUP)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await show_all_open(pilot)
        assert_literal(app, "queue", "␛[2J")  # shown as a picture, not obeyed
        assert_inert(app, "queue row and detail")
        await pilot.press("b")
        await pilot.pause()
        assert_inert(app, "bug-report form")
        await pilot.press("f2")
        await pilot.pause()
        assert_inert(app, "bug-report preview")


@pytest.mark.product_bug("B12: backend error text is stored and shown with its escapes")
async def test_backend_error_text_is_inert_in_detail_and_sync_log(
    make_app: Any, clock: FrozenClock
) -> None:
    from oncall_tui.ui.screens.sync_log_screen import SyncLogScreen

    app, backend = await hostile_app(make_app, clock, MARKUP)
    backend.reject_with = "fake: 422 " + " ".join(ESCAPES)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await show_all_open(pilot)
        await pilot.press("a")  # assign me: queued, then refused with the hostile message
        await pilot.press("ctrl+r")
        await pilot.pause()
        await pilot.press("enter")  # send what waits out its undo window now
        await app.workers.wait_for_complete()
        await pilot.pause()
        failed = app.ctx.store.outbox.ops(("failed",))  # type: ignore[arg-type]
        assert failed, app.sync_status
        assert_inert(app, "detail with a failed change")
        app.push_screen(SyncLogScreen(app.ctx.store, app.ctx.config.sla))
        await pilot.pause()
        assert_inert(app, "sync log")
        assert app.ctx.store.queue.queue_count(parse_query("is:failed")) == 1
