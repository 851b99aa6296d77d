"""Slack adapter: threads as tickets, replies as comments, ok:false errors, against the fake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from oncall_tui.demo.fakes.faults import Fault, FaultPlan
from oncall_tui.demo.fakes.slack import BOT_USER, SlackFake
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.domain.ops import OpKind
from oncall_tui.domain.tickets import Channel, Source, Status
from oncall_tui.sync.base import (
    AuthFailed,
    Backend,
    BackendUnavailable,
    BadPayload,
    RateLimited,
    Rejected,
)
from oncall_tui.sync.slack import SlackBackend
from oncall_tui.sync.slack_wire import (
    SlackConfig,
    parse_message,
    parse_thread,
    slack_error,
    ts_to_datetime,
)
from tests.sync.conftest import NOW, TOKEN, assert_no_secret, client_for, fixture, op
from tests.sync.spec_check import problems_in_log

API = "https://slack.com/api"
CHANNEL = "C0CUSTOMER"
CUSTOMER, EMPLOYEE = "U0CUSTOMER", "U0EMPLOYEE"
pytestmark = pytest.mark.anyio


def ts(minutes_ago: float) -> str:
    return f"{(NOW - timedelta(minutes=minutes_ago)).timestamp():.6f}"


def config(**kwargs: Any) -> SlackConfig:
    values: dict[str, Any] = dict(
        channels=(CHANNEL,),
        employees=frozenset({EMPLOYEE}),
        channel_customers={CHANNEL: "9001"},
        workspace_url="https://acme.slack.com",
    )
    values.update(kwargs)
    return SlackConfig(**values)


def backend(fake: SlackFake | Any, clock: FrozenClock, **kwargs: Any) -> SlackBackend:
    return SlackBackend(client_for(fake, API), config(**kwargs), clock=clock)


def make_fake(clock: FrozenClock, **kwargs: Any) -> SlackFake:
    return SlackFake(tokens=[TOKEN], clock=clock, channels=(CHANNEL,), **kwargs)


async def drain(adapter: SlackBackend, cursor: str | None = None, limit: int = 50):
    pages = []
    for _ in range(limit):
        page = await adapter.fetch_changes(cursor)
        pages.append(page)
        cursor = page.cursor
        if page.done:
            return pages, cursor
    raise AssertionError("never done")


# -- mapping (pure)


def test_a_thread_is_one_ticket_and_its_replies_are_comments() -> None:
    messages = [parse_message(m) for m in fixture("slack", "replies")["messages"]]
    ticket, comments = parse_thread(CHANNEL, messages, config())
    assert ticket is not None
    assert ticket.remote_id == f"{CHANNEL}:1741014000.000100"
    assert (ticket.source, ticket.channel) == (Source.CHAT, Channel.CHAT)
    assert ticket.subject == "Hi team, hosts stopped checking in after the upgrade."
    assert ticket.status is Status.OPEN  # we answered, the customer spoke last
    assert ticket.requester == CUSTOMER
    assert ticket.customer_remote_id == "9001"
    assert ticket.opened_at == datetime(2025, 3, 3, 15, 0, 0, 100, tzinfo=UTC)
    assert ticket.version == "1741014600.000100"
    assert ticket.url == "https://acme.slack.com/archives/C0CUSTOMER/p1741014000000100"
    assert [(c.remote_id, c.author) for c in comments] == [
        (f"{CHANNEL}:1741014300.000100", EMPLOYEE),
        (f"{CHANNEL}:1741014600.000100", CUSTOMER),
    ]


def test_who_spoke_last_sets_the_status() -> None:
    def msg(t: str, user: str, **kw: Any) -> Any:
        return parse_message({"type": "message", "ts": t, "user": user, "text": "x", **kw})

    assert parse_thread(CHANNEL, [msg("1.1", CUSTOMER)], config())[0].status is Status.NEW
    answered = [msg("1.1", CUSTOMER), msg("1.2", EMPLOYEE, thread_ts="1.1")]
    assert parse_thread(CHANNEL, answered, config())[0].status is Status.PENDING
    bot = [
        msg("1.1", CUSTOMER),
        {
            "type": "message",
            "ts": "1.2",
            "bot_id": "B1",
            "text": "auto",
            "subtype": "bot_message",
            "thread_ts": "1.1",
        },
    ]
    thread = [bot[0], parse_message(bot[1])]
    assert parse_thread(CHANNEL, thread, config())[0].status is Status.PENDING
    ours = [msg("1.1", EMPLOYEE), msg("1.2", EMPLOYEE, thread_ts="1.1")]
    assert parse_thread(CHANNEL, ours, config()) == (None, ())


def test_timestamps_and_errors() -> None:
    assert ts_to_datetime("1741014000.000100") == datetime(2025, 3, 3, 15, 0, 0, 100, tzinfo=UTC)
    with pytest.raises(BadPayload):
        ts_to_datetime("soon")
    with pytest.raises(BadPayload):
        parse_message({"ts": 12})
    with pytest.raises(AuthFailed):
        slack_error(fixture("slack", "error_invalid_auth"), "slack", 0.0, None)
    with pytest.raises(RateLimited) as caught:
        slack_error({"ok": False, "error": "ratelimited"}, "slack", 0.0, "9")
    assert caught.value.retry_after == 9
    with pytest.raises(BackendUnavailable):
        slack_error({"ok": False, "error": "internal_error"}, "slack", 0.0, None)
    with pytest.raises(Rejected, match="channel_not_found"):
        slack_error({"ok": False, "error": "channel_not_found"}, "slack", 0.0, None)
    slack_error({"ok": True}, "slack", 0.0, None)


# -- pull against the fake


async def test_threads_and_messages_become_tickets_and_comments(clock: FrozenClock) -> None:
    fake = make_fake(clock)
    parent = ts(60)
    fake.add_message({"channel": CHANNEL, "ts": parent, "user": CUSTOMER, "text": "Hosts offline!"})
    fake.add_message(
        {"channel": CHANNEL, "ts": ts(50), "user": EMPLOYEE, "text": "Looking", "thread_ts": parent}
    )
    fake.add_message({"channel": CHANNEL, "ts": ts(40), "user": EMPLOYEE, "text": "Maintenance"})
    question = ts(30)
    fake.add_message(
        {"channel": CHANNEL, "ts": question, "user": CUSTOMER, "text": "Quick question"}
    )
    fake.add_message(
        {
            "channel": CHANNEL,
            "ts": ts(20),
            "subtype": "channel_join",
            "user": "U9",
            "text": "joined",
        }
    )
    adapter = backend(fake, clock)
    assert isinstance(adapter, Backend)
    pages, cursor = await drain(adapter)
    tickets = {t.remote_id: t for p in pages for t in p.tickets}
    assert sorted(tickets) == [f"{CHANNEL}:{parent}", f"{CHANNEL}:{question}"]
    assert tickets[f"{CHANNEL}:{parent}"].status is Status.PENDING
    assert tickets[f"{CHANNEL}:{question}"].status is Status.NEW
    assert [c.body for p in pages for c in p.comments] == ["Looking"]

    # nothing new: nothing comes back, and the next pass is one history request
    before = len(fake.log)
    pages, cursor = await drain(adapter, cursor)
    assert [t for p in pages for t in p.tickets] == []
    assert len(fake.log) == before + 1

    # the customer follows up in the thread, and answers under the unthreaded question
    clock.advance(60)
    fake.add_message(
        {"channel": CHANNEL, "user": CUSTOMER, "text": "Still down", "thread_ts": parent}
    )
    fake.add_message({"channel": CHANNEL, "user": EMPLOYEE, "text": "Yes", "thread_ts": question})
    pages, cursor = await drain(adapter, cursor)
    changed = {t.remote_id: t for p in pages for t in p.tickets}
    assert changed[f"{CHANNEL}:{parent}"].status is Status.OPEN
    comments = [c for p in pages for c in p.comments]
    assert sorted(c.body for c in comments) == ["Looking", "Still down", "Yes"]
    assert len({c.remote_id for c in comments}) == 3  # stable ids: the store deduplicates
    assert not problems_in_log("slack", fake.log)


async def test_history_pages_through_cursors(clock: FrozenClock) -> None:
    fake = make_fake(clock)
    for n in range(7):
        fake.add_message(
            {"channel": CHANNEL, "ts": ts(100 - n), "user": CUSTOMER, "text": f"Question {n}"}
        )
    adapter = backend(fake, clock, page_limit=3)
    pages, _ = await drain(adapter)
    assert len([t for p in pages for t in p.tickets]) == 7
    cursors = [dict(e.params).get("cursor") for e in fake.log]
    assert cursors[0] is None and all(cursors[1:]) and len(cursors) == 3


async def test_old_threads_leave_the_watch_window(clock: FrozenClock) -> None:
    fake = make_fake(clock)
    fake.add_message({"channel": CHANNEL, "ts": ts(60), "user": CUSTOMER, "text": "Help"})
    adapter = backend(fake, clock, watch_days=1)
    pages, cursor = await drain(adapter)
    assert len(pages[0].tickets) == 1
    clock.advance(timedelta(days=2))
    pages, cursor = await drain(adapter, cursor)
    assert [t for p in pages for t in p.tickets] == []
    assert '"threads":{}' in (cursor or "")


@pytest.mark.parametrize(
    ("fake_kwargs", "error"),
    [
        ({"faults": FaultPlan(script=[Fault.SERVER_ERROR])}, BackendUnavailable),
        ({"faults": FaultPlan(script=[Fault.DROP])}, BackendUnavailable),
        ({"faults": FaultPlan(script=[Fault.MALFORMED])}, BadPayload),
    ],
)
async def test_errors(clock: FrozenClock, fake_kwargs: dict[str, Any], error: type) -> None:
    fake = make_fake(clock, **fake_kwargs)
    with pytest.raises(error) as caught:
        await backend(fake, clock).fetch_changes(None)
    assert_no_secret(caught.value)


async def test_ratelimited_adapts_the_plan_instead_of_failing(clock: FrozenClock) -> None:
    """Slack's 2025 limits for apps outside the Marketplace: a request a minute, 15 messages
    for history and replies. A ``ratelimited`` answer switches to that plan and keeps the
    channel's task; the pass goes on at that pace."""
    fake = make_fake(
        clock,
        faults=FaultPlan(script=[Fault.RATE_LIMIT], retry_after=12),
        method_limits={"conversations.history": 1, "conversations.replies": 1},
        message_limit=15,
    )
    for n in range(20):
        fake.add_message({"channel": CHANNEL, "ts": ts(600 - n), "user": CUSTOMER, "text": f"m{n}"})
    parent = ts(700)
    fake.add_message({"channel": CHANNEL, "ts": parent, "user": CUSTOMER, "text": "Thread"})
    for n in range(17):
        fake.add_message(
            {
                "channel": CHANNEL,
                "ts": ts(690 - n),
                "thread_ts": parent,
                "user": CUSTOMER,
                "text": f"r{n}",
            }
        )
    adapter = backend(fake, clock)
    page = await adapter.fetch_changes(None)
    assert page.wait_hint == 12 and not page.done and page.tickets == ()
    assert any("ratelimited" in n and "Marketplace" in n for n in page.notes)
    pages = [page]
    cursor = page.cursor
    for _ in range(30):
        clock.advance(page.wait_hint or 0)
        page = await adapter.fetch_changes(cursor)
        pages.append(page)
        cursor = page.cursor
        if page.done:
            break
    assert page.done
    served = [e for e in fake.log if e.fault is None]
    assert all(e.status == 200 for e in served)  # never over the minute's one request
    assert all(int(dict(e.params)["limit"]) <= 15 for e in served)
    tickets = [t for p in pages for t in p.tickets]
    assert len(tickets) == 21  # twenty messages and the thread, over several pages
    thread = next(t for t in tickets if t.remote_id.endswith(parent))
    replies = [c for p in pages for c in p.comments if c.ticket_remote_id == thread.remote_id]
    assert len(replies) == 17  # the thread read page by page, whole


async def test_auth_errors_come_as_ok_false(clock: FrozenClock) -> None:
    fake = SlackFake(tokens=["another"], clock=clock, channels=(CHANNEL,))
    adapter = backend(fake, clock)
    with pytest.raises(AuthFailed, match="invalid_auth") as caught:
        await adapter.fetch_changes(None)
    assert_no_secret(caught.value, adapter, adapter.client.headers)
    anonymous = SlackBackend(client_for(fake, API, token=None), config(), clock=clock)
    with pytest.raises(AuthFailed, match="not_authed"):
        await anonymous.fetch_changes(None)


async def test_unknown_channel_is_rejected(clock: FrozenClock) -> None:
    fake = make_fake(clock)
    with pytest.raises(Rejected, match="channel_not_found"):
        await backend(fake, clock, channels=("C0GONE",)).fetch_changes(None)


# -- push against the fake


async def test_reply_in_thread_and_lookup_after_a_lost_answer(clock: FrozenClock) -> None:
    fake = make_fake(clock)
    parent = ts(60)
    fake.add_message({"channel": CHANNEL, "ts": parent, "user": CUSTOMER, "text": "Help"})
    adapter = backend(fake, clock)
    remote_id = f"{CHANNEL}:{parent}"
    reply = op(OpKind.REPLY, Source.CHAT, remote_id, key="op-slack-1", body="On it!")
    assert await adapter.lookup(reply) is None
    fake.faults.add(Fault.LOST_RESPONSE)
    with pytest.raises(BackendUnavailable):
        await adapter.push(reply)
    found = await adapter.lookup(reply)
    assert found is not None and found.comment is not None
    assert found.comment.body == "On it!" and found.comment.author == BOT_USER
    assert fake.mutations["post_message"] == 1
    posted = fake.thread(CHANNEL, parent)[-1]
    assert posted["metadata"]["event_payload"] == {"idempotency_key": "op-slack-1"}

    result = await adapter.push(op(OpKind.REPLY, Source.CHAT, remote_id, key="op-2", body="Fixed"))
    assert result.comment is not None and result.comment.remote_id.startswith(f"{CHANNEL}:")
    assert result.url and "thread_ts=" in result.url
    assert [m["text"] for m in fake.thread(CHANNEL, parent)] == ["Help", "On it!", "Fixed"]
    assert not problems_in_log("slack", fake.log)


async def test_chat_takes_replies_only(clock: FrozenClock) -> None:
    adapter = backend(make_fake(clock), clock)
    with pytest.raises(Rejected):
        await adapter.push(op(OpKind.SET_STATUS, Source.CHAT, f"{CHANNEL}:1.1", status="solved"))
    with pytest.raises(Rejected, match="thread_not_found"):
        await adapter.push(op(OpKind.REPLY, Source.CHAT, f"{CHANNEL}:1.1", body="hi"))
    with pytest.raises(Rejected):
        await adapter.push(op(OpKind.REPLY, Source.CHAT, "no-thread", body="hi"))


async def test_http_429_with_retry_after(clock: FrozenClock) -> None:
    def limited(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            429, headers={"Retry-After": "30"}, json={"ok": False, "error": "ratelimited"}
        )

    adapter = backend(limited, clock)
    with pytest.raises(RateLimited) as caught:
        await adapter.call("conversations.history", channel=CHANNEL)
    assert caught.value.retry_after == 30
    page = await adapter.fetch_changes(None)  # a pull waits it out instead of failing
    assert page.wait_hint == 30 and not page.done


async def test_a_thread_deleted_mid_pass_is_skipped(clock: FrozenClock) -> None:
    fake = make_fake(clock)
    parent = ts(60)
    fake.add_message({"channel": CHANNEL, "ts": parent, "user": CUSTOMER, "text": "Help"})
    fake.add_message({"channel": CHANNEL, "user": EMPLOYEE, "text": "Hi", "thread_ts": parent})
    adapter = backend(fake, clock)
    page = await adapter.fetch_changes(None)  # history: the thread is due
    assert not page.done
    fake.channels[CHANNEL].clear()  # deleted before we read it
    page = await adapter.fetch_changes(page.cursor)
    assert page.done and page.tickets == ()
    empty = await backend(fake, clock, channels=()).fetch_changes(None)
    assert empty.done and empty.tickets == ()


def test_options_from_the_config_file() -> None:
    config = SlackConfig.from_options(
        ["C1"],
        ["U1"],
        {
            "channel_customers": {"C1": "9001"},
            "watch_days": 3,
            "workspace_url": "https://acme.slack.com/",
        },
    )
    assert config.employees == frozenset({"U1"}) and config.watch_days == 3
    assert config.workspace_url == "https://acme.slack.com"
    for bad in (
        {"watch_days": 0},
        {"workspace_url": "acme"},
        {"bots_are_employees": "yes"},
        {"x": 1},
    ):
        with pytest.raises(ConfigValueError):
            SlackConfig.from_options(["C1"], [], bad)


async def test_the_fake_takes_records_and_gives_them_back(clock: FrozenClock) -> None:
    messages = [parse_message(m) for m in fixture("slack", "replies")["messages"]]
    ticket, comments = parse_thread(CHANNEL, messages, config())
    assert ticket is not None
    fake = make_fake(clock, messages=[ticket, *comments])
    clock.set(ticket.updated_at + timedelta(days=1))
    pages, _ = await drain(backend(fake, clock))
    assert [t for p in pages for t in p.tickets] == [ticket]
    assert tuple(c for p in pages for c in p.comments) == comments
