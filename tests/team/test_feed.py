"""The member's stream reader (``TeamFeed``) against a real nats-server: every message of a
filter arrives once and in order, also when some of its consumer's deliveries never reach
the member, arrive after the pull that asked for them, or the server dropped the consumer."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from oncall_tui.settings.team import TeamConfig
from oncall_tui.team.connect import Connection
from oncall_tui.team.member import TeamFeed

pytestmark = pytest.mark.anyio

STREAM = "ONCALL"
FILTER = "oncall.helpdesk.>"
COUNT = 40


@pytest.fixture
async def stream(nats_server: Any) -> AsyncIterator[tuple[Any, Any, list[bytes]]]:
    """A stream holding COUNT help-desk messages with chat messages between them (so the
    filter's stream sequences have gaps), and the helpdesk payloads in stream order."""
    import nats
    from nats.js import api

    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await js.add_stream(
        api.StreamConfig(name=STREAM, subjects=["oncall.>"], max_msgs_per_subject=1)
    )
    expected = []
    for i in range(COUNT):
        payload = f"ticket {i}".encode()
        await js.publish(f"oncall.helpdesk.g.ticket.{i}", payload)
        expected.append(payload)
        if i % 3 == 0:
            await js.publish(f"oncall.chat.g.message.{i}", b"chat")
    yield nc, js, expected
    await nc.close()


def feed_for(url: str) -> TeamFeed:
    return TeamFeed(Connection(TeamConfig(urls=(url,), stream=STREAM), None, name="t"), batch=7)


async def read(feed: TeamFeed, after: int, until: int | None = None) -> tuple[list[bytes], int]:
    """Fetch as the engine does (each batch after the last one's position) until nothing is
    left, or ``until`` messages were read. Returns the payloads and the position."""
    out: list[bytes] = []
    for _ in range(50):
        found, left = await feed.fetch(FILTER, after)
        out += [payload for _subject, payload, _seq in found]
        if found:
            after = found[-1][2]
        if (until is not None and len(out) >= until) or (not found and not left):
            return out, after
    raise AssertionError("the feed never finished")


async def only_consumer(js: Any) -> str:
    infos = await js.consumers_info(STREAM)
    assert len(infos) == 1
    return str(infos[0].name)


async def pull(nc: Any, consumer: str, inbox: str, count: int) -> None:
    """Ask the consumer for ``count`` deliveries to ``inbox``."""
    request = json.dumps({"batch": count, "no_wait": True}).encode()
    await nc.publish(f"$JS.API.CONSUMER.MSG.NEXT.{STREAM}.{consumer}", request, reply=inbox)


async def until(condition: Any) -> None:
    deadline = time.monotonic() + 5
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


async def steal(nc: Any, consumer: str, count: int) -> list[Any]:
    """Another reader takes ``count`` deliveries of the consumer (as a reconnect loses them)."""
    got: list[Any] = []

    async def take(msg: Any) -> None:
        got.append(msg)

    sub = await nc.subscribe(nc.new_inbox(), cb=take)
    await pull(nc, consumer, sub.subject, count)
    await until(lambda: len(got) >= count)
    await sub.unsubscribe()
    return got


async def test_every_message_of_the_filter_once_in_order(nats_server, stream) -> None:  # type: ignore[no-untyped-def]
    nc, js, expected = stream
    feed = feed_for(nats_server.url)
    try:
        got, _ = await read(feed, 0)
        assert got == expected
    finally:
        await feed.aclose()


async def test_deliveries_that_never_reached_the_member_are_read_again(nats_server, stream) -> None:  # type: ignore[no-untyped-def]
    """Messages the consumer delivered elsewhere (lost in a reconnect; here another reader
    takes them) are not skipped: the member sees the gap in the consumer's sequence and reads
    again from the position it stored."""
    nc, js, expected = stream
    feed = feed_for(nats_server.url)
    try:
        first, after = await read(feed, 0, until=7)
        stolen = await steal(nc, await only_consumer(js), 3)
        assert len(stolen) == 3
        rest, _ = await read(feed, after)
        assert first + rest == expected
    finally:
        await feed.aclose()


async def test_late_deliveries_come_first_in_the_next_pull(nats_server, stream) -> None:  # type: ignore[no-untyped-def]
    """A pull that gave up before its deliveries arrived: they reach the member's inbox
    later and are handed over first, in order, by the same consumer (not a new one)."""
    nc, js, expected = stream
    feed = feed_for(nats_server.url)
    try:
        first, after = await read(feed, 0, until=7)
        name = await only_consumer(js)
        inbox = feed._consumers[FILTER].sub.subject
        await pull(nc, name, inbox, 4)
        await until(lambda: len(feed._consumers[FILTER].arrived) >= 4)
        assert len(feed._consumers[FILTER].arrived) == 4
        rest, _ = await read(feed, after)
        assert first + rest == expected
        assert await only_consumer(js) == name
    finally:
        await feed.aclose()


async def test_a_consumer_the_server_dropped_is_made_again(nats_server, stream) -> None:  # type: ignore[no-untyped-def]
    """The server deletes a consumer idle past its threshold (a laptop asleep mid-replay):
    the member makes a new one at its position and goes on, without a gap or a repeat."""
    nc, js, expected = stream
    feed = feed_for(nats_server.url)
    try:
        first, after = await read(feed, 0, until=7)
        name = await only_consumer(js)
        await js.delete_consumer(STREAM, name)
        started = time.monotonic()
        rest, _ = await read(feed, after)
        assert first + rest == expected
        assert await only_consumer(js) != name
        assert time.monotonic() - started < 12  # at most one unanswered pull's wait
    finally:
        await feed.aclose()
