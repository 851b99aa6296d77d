"""Hostile or broken servers, over real loopback sockets: size, time, redirects, bad records.

The wire fakes are served on 127.0.0.1 (``serve_on_loopback``) and misbehave on purpose
(``Fault.ENDLESS_BODY``, ``HUGE_BODY``, ``GZIP_BOMB``, ``TRICKLE``, ``REDIRECT``): an adapter
must stop reading at its :class:`~oncall_tui.sync.base.Limits`, give up at the deadline, never
take a token or a change to another host, and apply the good records of a page that holds a
bad one. Bounds are asserted with generous margins (bytes and seconds an order of magnitude
above what a bounded client needs, far below what an unbounded one reached: 3.8 GB in 40 s).
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from oncall_tui.demo.fakes import FakeServer
from oncall_tui.demo.fakes.faults import Fault, FaultPlan
from oncall_tui.demo.fakes.github import GitHubFake
from oncall_tui.demo.fakes.loopback import serve_on_loopback
from oncall_tui.demo.fakes.slack import SlackFake
from oncall_tui.demo.fakes.zendesk import ZendeskFake
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.ops import OpKind, OpState
from oncall_tui.domain.tickets import Channel, Priority, Source, Status
from oncall_tui.store import open_store
from oncall_tui.sync.base import (
    TRUNCATED,
    BackendUnavailable,
    BadPayload,
    Limits,
    Rejected,
    RemoteTicket,
)
from oncall_tui.sync.engine import SyncEngine
from oncall_tui.sync.github import GitHubBackend
from oncall_tui.sync.github_wire import GitHubConfig
from oncall_tui.sync.http import build_client
from oncall_tui.sync.slack import SlackBackend
from oncall_tui.sync.slack_wire import SlackConfig
from oncall_tui.sync.zendesk import ZendeskBackend
from oncall_tui.sync.zendesk_config import ZendeskConfig
from tests.conftest import FROZEN_NOW
from tests.sync.conftest import op as make_op

pytestmark = pytest.mark.anyio

MiB = 1024 * 1024
TOKEN = "tok-HOSTILE-5f0c2b7d9e"
#: Small bounds, so each test needs little time and memory to prove them.
SMALL = Limits(response_bytes=1 * MiB, deadline=3.0)
EXPORT = "/api/v2/incremental/tickets/cursor"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(FROZEN_NOW)


@contextmanager
def loopback(fake: FakeServer) -> Iterator[str]:
    url, stop = serve_on_loopback(fake)
    try:
        yield url
    finally:
        stop()


def desk_ticket(clock: FrozenClock, n: int) -> RemoteTicket:
    when = clock() - timedelta(hours=n)
    return RemoteTicket(
        source=Source.HELPDESK,
        remote_id=str(n),
        subject=f"Ticket {n}",
        body=f"Body {n}",
        status=Status.OPEN,
        priority=Priority.P2,
        channel=Channel.EMAIL,
        labels=(),
        assignee=None,
        requester="dana@globex.example",
        customer_remote_id=None,
        opened_at=when,
        updated_at=when,
        url=None,
        version=None,
    )


def zendesk_fake(clock: FrozenClock, faults: FaultPlan | None = None) -> ZendeskFake:
    fake = ZendeskFake(
        tokens=[TOKEN], clock=clock, faults=faults, export_lag=0.0, export_rate_per_minute=None
    )
    for n in (1, 2, 3):
        fake.add_ticket(desk_ticket(clock, n))
    return fake


def zendesk(url: str, clock: FrozenClock, limits: Limits = SMALL) -> ZendeskBackend:
    client = build_client(url, TOKEN, limits=limits)
    # The export budget (10 a minute) would make a pass wait 6 s between its two exports.
    config = ZendeskConfig(export_requests_per_minute=60_000)
    return ZendeskBackend(client, config, clock=clock)


def streamed(plan: FaultPlan, timeout: float = 10.0) -> list[tuple[str, Fault, int]]:
    """The server's account of its streaming answers (its thread ends when we hang up)."""
    deadline = time.monotonic() + timeout
    while not plan.streamed and time.monotonic() < deadline:
        time.sleep(0.02)
    return plan.streamed


def assert_clean(message: str) -> None:
    """A message names the method and path, never the token or a query string."""
    assert TOKEN not in message
    assert "?" not in message and "start_time" not in message and "cursor=" not in message


# -- size -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", [Fault.ENDLESS_BODY, Fault.HUGE_BODY, Fault.GZIP_BOMB])
async def test_a_body_without_end_stops_at_the_size_cap(clock: FrozenClock, fault: Fault) -> None:
    plan = FaultPlan(script=[fault], match=EXPORT)
    fake = zendesk_fake(clock, plan)
    with loopback(fake) as url:
        adapter = zendesk(url, clock)
        tracemalloc.start()
        started = time.monotonic()
        try:
            with pytest.raises(BadPayload, match="larger than the 1 MiB limit") as caught:
                await adapter.fetch_changes(None)
            elapsed = time.monotonic() - started
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert_clean(caught.value.message)
        assert "GET /api/v2/incremental/tickets/cursor.json" in caught.value.message
        assert elapsed < 20, elapsed  # unbounded: 3.8 GB in 40 s, never an answer
        assert peak < 32 * MiB, peak  # everything the read allocated, decoded bytes included
        # The fault was one answer: the next pull reads the export as usual.
        page = await adapter.fetch_changes(None)
        assert {t.remote_id for t in page.tickets} == {"1", "2", "3"}
        await adapter.client.aclose()
    [(path, seen, sent)] = streamed(plan)
    assert seen is fault and path.startswith(EXPORT)
    # What the server got us to take before we hung up (socket buffers included). For the
    # bomb it is compressed: a few kB per MB inflated, so the cap on *decoded* bytes held.
    assert sent < 64 * MiB, sent


async def test_a_declared_length_above_the_cap_is_refused_unread(clock: FrozenClock) -> None:
    plan = FaultPlan(script=[Fault.HUGE_BODY], match=EXPORT, huge_length=10**12)
    with loopback(zendesk_fake(clock, plan)) as url:
        adapter = zendesk(url, clock, Limits(response_bytes=64 * MiB, deadline=10.0))
        started = time.monotonic()
        with pytest.raises(BadPayload, match="larger than the 64 MiB limit"):
            await adapter.fetch_changes(None)
        # Refused on the header: well before 64 MiB of padding could even arrive.
        assert time.monotonic() - started < 5
        await adapter.client.aclose()
    [(_path, _fault, sent)] = streamed(plan)
    assert sent < 32 * MiB, sent


async def test_a_bomb_within_the_wire_cap_is_stopped_by_what_it_inflates_to(
    clock: FrozenClock,
) -> None:
    """A gzip bomb's wire bytes stay far below the cap: only counting decoded bytes stops it."""
    plan = FaultPlan(script=[Fault.GZIP_BOMB], match=EXPORT)
    with loopback(zendesk_fake(clock, plan)) as url:
        adapter = zendesk(url, clock, Limits(response_bytes=8 * MiB, deadline=10.0))
        with pytest.raises(BadPayload, match="larger than the 8 MiB limit"):
            await adapter.fetch_changes(None)
        await adapter.client.aclose()
    [(_path, _fault, sent)] = streamed(plan)
    assert sent < 1 * MiB, sent  # ~8 MiB inflated from a few kB


# -- time -------------------------------------------------------------------------------------


async def test_a_trickle_ends_at_the_deadline(clock: FrozenClock) -> None:
    plan = FaultPlan(script=[Fault.TRICKLE], match=EXPORT, trickle_delay=0.5)
    with loopback(zendesk_fake(clock, plan)) as url:
        adapter = zendesk(url, clock, Limits(deadline=2.0))
        started = time.monotonic()
        with pytest.raises(BackendUnavailable, match="no complete answer within 2s") as caught:
            await asyncio.wait_for(adapter.fetch_changes(None), timeout=30)
        elapsed = time.monotonic() - started
        assert_clean(caught.value.message)
        # httpx's read timeout (30 s) restarts with every byte: only the deadline ends it.
        assert 1.0 <= elapsed < 12, elapsed
        await adapter.client.aclose()


async def test_a_trickling_backend_does_not_hold_up_the_others(
    clock: FrozenClock, tmp_path: Path
) -> None:
    """One pass with a trickling help desk ends, and the tracker's issues still arrive."""
    plan = FaultPlan(probabilities={Fault.TRICKLE: 1.0}, match=EXPORT, trickle_delay=0.5)
    desk = zendesk_fake(clock, plan)
    tracker = GitHubFake(tokens=[TOKEN], clock=clock)
    tracker.add_issue({"repo": "acme/product", "title": "Crash on start", "state": "open"})
    store = open_store(tmp_path / "cache.db", clock=clock)
    with loopback(desk) as desk_url, loopback(tracker) as tracker_url:
        backends = [
            zendesk(desk_url, clock, Limits(deadline=2.0)),
            GitHubBackend(
                build_client(tracker_url, TOKEN, limits=Limits(deadline=2.0)),
                GitHubConfig(repos=("acme/product",)),
                clock=clock,
            ),
        ]
        engine = SyncEngine(store, backends, clock)
        started = time.monotonic()
        report = await asyncio.wait_for(engine.run_once(), timeout=30)
        assert time.monotonic() - started < 20
        assert "no complete answer within 2s" in (report.outcomes["zendesk"].error or "")
        assert report.outcomes["github"].error is None
        assert store.tickets.find_ticket("tracker", "acme/product#1") is not None
        for backend in backends:
            await backend.client.aclose()
    store.close()


# -- redirects --------------------------------------------------------------------------------


@pytest.fixture
def trap(clock: FrozenClock) -> Iterator[tuple[str, ZendeskFake]]:
    """Another origin that would accept our token: nothing may ever reach it."""
    fake = ZendeskFake(tokens=[TOKEN], clock=clock, export_lag=0.0, export_rate_per_minute=None)
    with loopback(fake) as url:
        yield url, fake


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_get_redirected_to_another_host_is_not_followed(
    clock: FrozenClock, trap: tuple[str, ZendeskFake], status: int
) -> None:
    trap_url, trap_fake = trap
    plan = FaultPlan(script=[Fault.REDIRECT], redirect_to=trap_url, redirect_status=status)
    with loopback(zendesk_fake(clock, plan)) as url:
        adapter = zendesk(url, clock)
        with pytest.raises(BadPayload, match="to another host") as caught:
            await adapter.fetch_changes(None)
        assert_clean(caught.value.message)
        assert trap_url.removeprefix("http://") in caught.value.message  # where, not what
        await adapter.client.aclose()
    assert trap_fake.log == []  # no request, so no token, reached the other host


@pytest.mark.parametrize("status", [302, 307, 308])
@pytest.mark.parametrize("same_host", [False, True])
async def test_a_push_is_never_redirected(
    clock: FrozenClock, tmp_path: Path, trap: tuple[str, ZendeskFake], status: int, same_host: bool
) -> None:
    """A 307 on a push re-sent an internal note to another host: now nothing is re-sent, the
    change is not applied anywhere, and the entry fails with a message the user can act on."""
    trap_url, trap_fake = trap
    plan = FaultPlan(match=r"/api/v2/tickets/", redirect_status=status)
    fake = zendesk_fake(clock, plan)
    store = open_store(tmp_path / "cache.db", clock=clock)
    with loopback(fake) as url:
        plan.redirect_to = url if same_host else trap_url
        adapter = zendesk(url, clock)
        engine = SyncEngine(store, [adapter], clock)
        assert (await engine.run_once()).ok
        tid = store.tickets.find_ticket("helpdesk", "2").id
        store.tickets.add_comment(
            tid, "Internal: the admin password is in the vault", public=False, author="alex"
        )
        plan.add(Fault.REDIRECT)
        await engine.run_once()
        (op,) = store.outbox.ops(tuple(OpState))
        assert op.state == OpState.FAILED, op
        assert "redirected a PUT" in (op.error or "") and "not followed" in (op.error or "")
        assert_clean(op.error or "")
        await adapter.client.aclose()
    assert trap_fake.log == []
    assert fake.mutations["add_comment"] == 0
    assert [c["body"] for c in fake.comments[2][1:]] == []
    store.close()


async def test_a_creation_is_never_redirected(
    clock: FrozenClock, trap: tuple[str, ZendeskFake]
) -> None:
    trap_url, trap_fake = trap
    plan = FaultPlan(
        script=[Fault.REDIRECT], match=r"/api/v2/tickets", redirect_to=trap_url, redirect_status=307
    )
    fake = zendesk_fake(clock, plan)
    with loopback(fake) as url:
        adapter = zendesk(url, clock)
        new = make_op(
            OpKind.CREATE_TICKET, Source.HELPDESK, subject="Printer on fire", body="Smoke"
        )
        with pytest.raises(Rejected, match="redirected a POST"):
            await adapter.push(new)
        await adapter.client.aclose()
    assert trap_fake.log == [] and fake.mutations["create_ticket"] == 0


async def test_a_same_origin_redirect_is_followed_for_a_get(clock: FrozenClock) -> None:
    plan = FaultPlan(script=[Fault.REDIRECT, Fault.REDIRECT], match=EXPORT, redirect_status=302)
    fake = zendesk_fake(clock, plan)
    with loopback(fake) as url:
        adapter = zendesk(url, clock)
        page = await adapter.fetch_changes(None)
        assert {t.remote_id for t in page.tickets} == {"1", "2", "3"}
        exports = [e for e in fake.log if e.path.startswith(EXPORT)]
        assert [e.status for e in exports] == [302, 302, 200]
        # The query went along and the token too (same origin), so the answer is the export's.
        assert all(dict(e.params).get("start_time") for e in exports)
        assert exports[-1].headers["authorization"] == "[redacted]"  # it was sent, and logged
        await adapter.client.aclose()


async def test_a_redirect_loop_ends(clock: FrozenClock) -> None:
    plan = FaultPlan(probabilities={Fault.REDIRECT: 1.0}, match=EXPORT)
    fake = zendesk_fake(clock, plan)
    with loopback(fake) as url:
        adapter = zendesk(url, clock, Limits(redirects=3))
        with pytest.raises(BadPayload, match="more than 3 redirects"):
            await adapter.fetch_changes(None)
        await adapter.client.aclose()
    assert len([e for e in fake.log if e.path.startswith(EXPORT)]) == 4


# -- bad records ------------------------------------------------------------------------------


def bad_desk(clock: FrozenClock) -> ZendeskFake:
    fake = zendesk_fake(clock)
    when = (clock() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    fake.add_ticket({"id": 4, "subject": "odd", "status": "exploded", "updated_at": when})
    fake.add_ticket({"id": 5, "subject": "dateless", "updated_at": when})
    fake.tickets[5]["created_at"] = "yesterday"  # the fake's own description keeps its date
    fake.add_ticket({"id": 6, "subject": ["not", "text"], "updated_at": when})
    return fake


async def test_one_bad_record_does_not_stop_the_page(clock: FrozenClock, tmp_path: Path) -> None:
    fake = bad_desk(clock)
    store = open_store(tmp_path / "cache.db", clock=clock)
    with loopback(fake) as url:
        adapter = zendesk(url, clock)
        engine = SyncEngine(store, [adapter], clock)
        report = await engine.run_once()
        assert report.ok, report.summary()
        assert report.outcomes["zendesk"].skipped == 3
        assert "skipped 3 unreadable" in report.summary()
        cached = {r for r in "123456" if store.tickets.find_ticket("helpdesk", r) is not None}
        assert cached == {"1", "2", "3"}
        cursor = store.sync_state.cursor("zendesk")
        assert cursor and '"export"' in cursor  # moved past the page with the bad records
        lines = [
            m for _at, backend, level, m in store.sync_state.log_entries() if level == "warning"
        ]
        assert any("ticket 4" in m and "unknown status 'exploded'" in m for m in lines), lines
        assert any("ticket 5" in m and "created_at" in m for m in lines), lines
        assert any("ticket 6" in m and "subject" in m for m in lines), lines
        # Fixed at the backend: the next change of the record arrives like any other.
        clock.advance(timedelta(minutes=5))
        fake.tickets[4]["status"] = "open"
        fake._touch(4)
        await engine.run_once()
        assert store.tickets.find_ticket("helpdesk", "4") is not None
        # A bad record read again (another change of it) is not logged twice.
        before = len(store.sync_state.log_entries())
        fake._touch(6)
        await engine.run_once()
        assert len(store.sync_state.log_entries()) == before
        await adapter.client.aclose()
    store.close()


async def test_bad_issues_and_messages_are_quarantined_too(
    clock: FrozenClock, tmp_path: Path
) -> None:
    tracker = GitHubFake(tokens=[TOKEN], clock=clock)
    tracker.add_issue({"repo": "acme/product", "title": "Crash on start"})
    tracker.add_issue({"repo": "acme/product", "title": "Weird", "state": "exploded"})
    tracker.add_issue({"repo": "acme/product", "title": "Also fine"})
    chat = SlackFake(channels=["C0ACME"], tokens=[TOKEN], clock=clock)
    base = clock().timestamp() - 3600
    chat.add_message({"channel": "C0ACME", "ts": f"{base:.6f}", "user": "U0CUST", "text": "hi"})
    chat.add_message(
        {"channel": "C0ACME", "ts": f"{base + 1:.6f}", "user": ["U0CUST"], "text": "bad"}
    )
    chat.add_message(
        {"channel": "C0ACME", "ts": f"{base + 2:.6f}", "user": "U0CUST", "text": "help"}
    )
    store = open_store(tmp_path / "cache.db", clock=clock)
    with loopback(tracker) as tracker_url, loopback(chat) as chat_url:
        backends = [
            GitHubBackend(
                build_client(tracker_url, TOKEN, limits=SMALL),
                GitHubConfig(repos=("acme/product",)),
                clock=clock,
            ),
            SlackBackend(
                build_client(chat_url + "/api", TOKEN, limits=SMALL),
                SlackConfig(channels=("C0ACME",), employees=frozenset({"U0AGENT"})),
                clock=clock,
            ),
        ]
        report = await SyncEngine(store, backends, clock).run_once()
        assert report.ok, report.summary()
        assert store.tickets.find_ticket("tracker", "acme/product#1") is not None
        assert store.tickets.find_ticket("tracker", "acme/product#3") is not None
        assert store.tickets.find_ticket("tracker", "acme/product#2") is None
        assert store.tickets.find_ticket("chat", f"C0ACME:{base:.6f}") is not None
        assert store.tickets.find_ticket("chat", f"C0ACME:{base + 2:.6f}") is not None
        lines = [m for _at, _b, level, m in store.sync_state.log_entries() if level == "warning"]
        assert any("issue 2" in m and "unknown state" in m for m in lines), lines
        assert any(f"message {base + 1:.6f}" in m and "user" in m for m in lines), lines
        for backend in backends:
            await backend.client.aclose()
    store.close()


async def test_the_sync_log_screen_shows_the_quarantined_record(
    make_app: Any, clock: FrozenClock
) -> None:
    from oncall_tui.ui.screens.sync_log_screen import SyncLogScreen

    fake = bad_desk(clock)
    with loopback(fake) as url:
        adapter = zendesk(url, clock)
        app = make_app(seed=None, backend=adapter)
        async with app.run_test(size=(160, 40)) as pilot:
            await pilot.pause()  # the engine starts after the first frame
            await app.workers.wait_for_complete()
            await pilot.pause()
            app.push_screen(SyncLogScreen(app.ctx.store, app.ctx.config.sla))
            await pilot.pause()
            lines = str(app.screen.query_one("#sync-lines").render())
            assert "skipped ticket 4" in lines and "unknown status 'exploded'" in lines
            assert "skipped ticket 5" in lines
        await adapter.client.aclose()


# -- huge fields ------------------------------------------------------------------------------


async def test_huge_fields_are_cut_at_ingestion_and_the_ui_stays_quick(
    make_app: Any, clock: FrozenClock
) -> None:
    """A 10 MB subject froze the UI for 40 s on ``b``: it is cut to ``Limits.line_chars``
    when it arrives (with a visible marker), the body and comments to ``text_chars``, and the
    queue, the ticket and its bug report open as quickly as for any ticket."""
    from oncall_tui.ui.screens.bug_report_screen import BugReportScreen
    from oncall_tui.ui.screens.detail_screen import DetailScreen

    fake = zendesk_fake(clock)
    when = (clock() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    fake.add_ticket(
        {
            "id": 7,
            "subject": "Printer on fire " + "x" * 10_000_000,
            "description": "Smoke. " * 150_000,  # the events export carries it thrice
            "tags": [f"tag{i}" for i in range(5000)],
            "created_at": when,
            "updated_at": when,
        }
    )
    fake.add_comment({"ticket_id": 7, "author_id": 1, "body": "log: " + "y" * 1_000_000})
    limits = Limits()  # the defaults: a 10 MB field fits in a 32 MiB answer, not on screen
    transport = httpx.MockTransport(fake.async_handler)
    adapter = ZendeskBackend(
        build_client("https://desk.example", TOKEN, limits=limits, transport=transport),
        ZendeskConfig(export_requests_per_minute=60_000),
        clock=clock,
    )
    app = make_app(seed=None, backend=adapter)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()  # the engine starts after the first frame
        await app.workers.wait_for_complete()
        await pilot.pause()
        store = app.ctx.store
        ticket = store.tickets.find_ticket("helpdesk", "7")
        assert ticket is not None
        assert len(ticket.subject) == limits.line_chars
        assert ticket.subject.startswith("Printer on fire x") and ticket.subject.endswith(TRUNCATED)
        assert len(ticket.body) == limits.text_chars and ticket.body.endswith(TRUNCATED)
        assert len(ticket.labels) == limits.labels
        [comment] = [c for c in store.tickets.comments(ticket.id) if c.body.startswith("log:")]
        assert len(comment.body) == limits.text_chars and comment.body.endswith(TRUNCATED)
        await pilot.press("5")  # All open
        await pilot.pause()
        for _ in range(10):  # the big one is among the first rows
            if app.screen.current_id() == ticket.id:  # type: ignore[attr-defined]
                break
            await pilot.press("down")
        started = time.monotonic()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        opened = time.monotonic() - started
        await pilot.press("escape")
        await pilot.pause()
        started = time.monotonic()
        await pilot.press("b")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, BugReportScreen)
        reported = time.monotonic() - started
    # Unbounded: 40 s for b. Bounded: about what any ticket costs (1-3 s here under pytest).
    assert opened < 15 and reported < 15, (opened, reported)
    await adapter.client.aclose()


async def test_the_relays_chat_watcher_quarantines_too(clock: FrozenClock) -> None:
    """The relay's Slack reader (after-hours replies) reads the same pages: a bad message
    there is set aside as well, and the page still carries it to the sync log."""
    from oncall_tui.team.after_hours import WatchedSlackBackend

    chat = SlackFake(channels=["C0ACME"], tokens=[TOKEN], clock=clock)
    base = clock().timestamp() - 3600
    chat.add_message({"channel": "C0ACME", "ts": f"{base:.6f}", "user": "U0CUST", "text": "hi"})
    chat.add_message({"channel": "C0ACME", "ts": f"{base + 1:.6f}", "user": 7, "text": "bad"})
    client = build_client(
        "https://slack.example/api", TOKEN, transport=httpx.MockTransport(chat.async_handler)
    )
    inner = SlackBackend(client, SlackConfig(channels=("C0ACME",)), clock=clock)
    page = await WatchedSlackBackend(inner, ("C0ACME",)).fetch_changes(None)
    assert [t.remote_id for t in page.tickets] == [f"C0ACME:{base:.6f}"]
    assert [q.remote_id for q in page.quarantined] == [f"{base + 1:.6f}"]
    await client.aclose()
