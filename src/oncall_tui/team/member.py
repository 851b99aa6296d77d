"""A member's side of team mode: the stream as the sync engine's backends.

One :class:`TeamBackend` per source stands where the direct adapter stood: its
``fetch_changes`` reads the next batch of stream messages for that source's subjects (every
group, or the groups in ``[team.groups]``), and ``push`` hands the member's outbox entries to
the member's own adapter (own token: attribution and the backend's permissions stay). A
source without a signed-in adapter reads the stream and keeps local changes queued.

The cursor is the stream position of each subject filter. The engine writes it with the
records of its batch in one transaction (``apply_page``), so a member that was offline, or
killed mid-batch, goes on after the last batch it stored: the stream still holds the newest
version of every record published meanwhile.

Each filter gets its own consumer, named by its filter subject, so the server's permissions
on ``$JS.API.CONSUMER.CREATE.<stream>.*.<filter>`` decide which groups a member may read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets as random_names
from collections.abc import Sequence
from typing import Any

from oncall_tui.domain import team as wire
from oncall_tui.domain.ops import Op
from oncall_tui.domain.remote import RemoteComment, RemoteCustomer, RemoteRemoval, RemoteTicket
from oncall_tui.domain.tickets import Source
from oncall_tui.settings.team import TeamConfig
from oncall_tui.sync.base import Backend, Page, PushResult, SyncError, decode_cursor, encode_cursor
from oncall_tui.team.connect import Connection, TeamUnavailable

#: Messages per fetch (one page, one transaction).
BATCH = 2000
FETCH_TIMEOUT = 5.0
#: Seconds an idle consumer lives on the server after its member went away.
CONSUMER_IDLE = 300.0
DEFAULT_NAMES = {Source.HELPDESK: "zendesk", Source.TRACKER: "github", Source.CHAT: "slack"}


def filters_for(team: TeamConfig, source: Source) -> tuple[str, ...]:
    """The subject filters a member reads for one source."""
    if team.groups is None:
        return (wire.source_filter(source, team.prefix),)
    return tuple(wire.group_filter(source, g, team.prefix) for g in team.groups.get(source, ()))


def sources_for(team: TeamConfig) -> tuple[Source, ...]:
    """The sources a member reads (all, or those named in ``[team.groups]``)."""
    if team.groups is None:
        return tuple(Source)
    return tuple(s for s in Source if team.groups.get(s))


class _Consumer:
    """One pull consumer and the inbox its deliveries come to.

    The inbox is a plain subscription whose callback only collects what arrives: nats-py's
    ``fetch`` waits for each message with a task, a ``uuid4`` and a ``wait_for`` (~20 us a
    message, most of a member's event-loop time in a first replay, where the store thread
    waits for the GIL it holds). Deliveries a pull asked for that arrive after it gave up
    stay in :attr:`arrived` for the next one, in order.
    """

    def __init__(self, name: str, next_seq: int, pending: int) -> None:
        self.name = name
        self.next_seq = next_seq
        """Stream sequence of the next message this consumer should deliver."""
        self.pending = pending
        self.delivered = 0
        """Consumer sequence of the last delivery taken (one more per delivery: no acks)."""
        self.arrived: list[Any] = []
        self.wanted = 0
        self.status: str | None = None
        self.signal = asyncio.Event()
        self.sub: Any = None

    async def take(self, msg: Any) -> None:
        """The inbox's callback (on the event loop: keep it short)."""
        headers = msg.headers
        status = headers.get("Status") if headers else None
        if status is None:
            if msg.reply.startswith("$JS.ACK."):  # anything else is not a delivery
                self.arrived.append(msg)
                if len(self.arrived) >= self.wanted:
                    self.signal.set()
        elif status != "100":  # 100: a heartbeat; 404/408: no more now; else an error
            self.status = f"{status} {headers.get('Description', '')}".strip()
            self.signal.set()


class MessagesLost(Exception):
    """Deliveries of a consumer did not all reach us (a reconnect, or another reader)."""


class TeamFeed:
    """The member's connection and its consumers (one per subject filter)."""

    def __init__(self, connection: Connection, batch: int = BATCH) -> None:
        self.connection = connection
        self.team = connection.team
        self.batch = batch
        self._consumers: dict[str, _Consumer] = {}

    async def fetch(self, subject: str, after: int) -> tuple[list[tuple[str, bytes, int]], int]:
        """Up to one batch of (subject, payload, sequence) after stream sequence ``after``,
        and how many more are waiting.

        Only the last message's sequence is read (the metadata of every message costs
        ~9 us); the first's and the last's consumer sequences show that none was lost in
        between. When some were, the consumer is made again at ``after`` and read once more.

        Raises:
            SyncError: the servers cannot be reached, or refuse this filter.
        """
        for attempt in (1, 2):
            try:
                return await self._fetch(subject, after)
            except MessagesLost as lost:
                await self._drop(subject, on_server=True)
                if attempt == 2:
                    raise TeamUnavailable(f"team: reading {subject}: {lost}") from None
            except SyncError:
                raise
            except Exception as exc:
                await self._drop(subject, on_server=False)
                raise self.connection.error(exc, f"reading {subject}") from None
        raise AssertionError("unreachable")

    async def _drop(self, subject: str, *, on_server: bool) -> None:
        """Forget a consumer: its inbox always, the consumer itself when the link is sound
        (on a broken one the delete would wait its timeout; the server drops it when idle)."""
        consumer = self._consumers.pop(subject, None)
        if consumer is None:
            return
        if on_server and self.connection.js is not None:
            await _quietly_delete(self.connection.js, self.team.stream, consumer)
        else:
            with contextlib.suppress(Exception):
                await consumer.sub.unsubscribe()

    async def _fetch(self, subject: str, after: int) -> tuple[list[tuple[str, bytes, int]], int]:
        js = await self.connection.open()
        consumer = self._consumers.get(subject)
        if consumer is None or consumer.next_seq != after + 1:
            consumer = await self._consumer(js, subject, after)
        elif consumer.pending == 0 and not consumer.arrived:
            info = await js.consumer_info(self.team.stream, consumer.name)
            consumer.pending = int(info.num_pending or 0)
        if consumer.pending == 0 and not consumer.arrived:
            return [], 0
        want = min(self.batch, max(consumer.pending, len(consumer.arrived)))
        msgs = await self._pull(consumer, want)
        if not msgs:
            return [], consumer.pending
        first, last = msgs[0].metadata, msgs[-1].metadata
        if (
            first.sequence.consumer != consumer.delivered + 1
            or last.sequence.consumer - first.sequence.consumer + 1 != len(msgs)
        ):
            raise MessagesLost(
                f"deliveries {consumer.delivered + 1}-{last.sequence.consumer} arrived as "
                f"{len(msgs)} messages"
            )
        consumer.delivered = int(last.sequence.consumer)
        consumer.next_seq = int(last.sequence.stream) + 1
        consumer.pending = int(last.num_pending)
        seq = int(last.sequence.stream)
        return [(msg.subject, msg.data, seq) for msg in msgs], consumer.pending

    async def _pull(self, consumer: _Consumer, want: int) -> list[Any]:
        """Up to ``want`` deliveries: those that arrived already, then one pull request for
        the rest (``no_wait``: the server ends it at once with a 404 when it has fewer)."""
        if len(consumer.arrived) < want:
            consumer.wanted = want
            consumer.status = None
            consumer.signal.clear()
            request = json.dumps({"batch": want - len(consumer.arrived), "no_wait": True})
            nc = self.connection.nc
            await nc.publish(
                f"$JS.API.CONSUMER.MSG.NEXT.{self.team.stream}.{consumer.name}",
                request.encode(),
                reply=consumer.sub.subject,
            )
            waiting = asyncio.wait_for(consumer.signal.wait(), FETCH_TIMEOUT)
            with contextlib.suppress(TimeoutError):
                await self.connection.request(waiting, f"reading {consumer.name}")
            status = consumer.status or ""
            if status and not status.startswith(("404", "408")):
                raise MessagesLost(f"the server answered {status}")
            if not status and not consumer.arrived:  # a no_wait pull is answered at once
                raise MessagesLost("no answer to a pull")
        msgs, consumer.arrived = consumer.arrived[:want], consumer.arrived[want:]
        return msgs

    async def _consumer(self, js: Any, subject: str, after: int) -> _Consumer:
        from nats.js import api

        old = self._consumers.pop(subject, None)
        if old is not None:
            await _quietly_delete(js, self.team.stream, old)
        name = f"m-{random_names.token_hex(8)}"
        config = api.ConsumerConfig(
            name=name,
            filter_subject=subject,
            ack_policy=api.AckPolicy.NONE,
            deliver_policy=(
                api.DeliverPolicy.BY_START_SEQUENCE if after else api.DeliverPolicy.ALL
            ),
            opt_start_seq=after + 1 if after else None,
            inactive_threshold=CONSUMER_IDLE,
            mem_storage=True,
            max_waiting=4,
        )
        info = await self.connection.request(
            js.add_consumer(self.team.stream, config), f"reading {subject}"
        )
        consumer = _Consumer(name, after + 1, int(info.num_pending or 0))
        nc = self.connection.nc
        consumer.sub = await nc.subscribe(nc.new_inbox(), cb=consumer.take)
        self._consumers[subject] = consumer
        return consumer

    async def aclose(self) -> None:
        """Remove this member's consumers and close the connection."""
        js = self.connection.js
        for consumer in self._consumers.values():
            if js is not None:
                await _quietly_delete(js, self.team.stream, consumer)
        self._consumers.clear()
        await self.connection.close()


async def _quietly_delete(js: Any, stream: str, consumer: _Consumer) -> None:
    """Unsubscribe and delete a consumer; the server drops an idle one by itself anyway."""
    from nats import errors as nerr

    try:
        await consumer.sub.unsubscribe()
        await js.delete_consumer(stream, consumer.name)
    except (nerr.Error, OSError, TimeoutError):
        return


def page_of(messages: Sequence[tuple[str, bytes, int]]) -> tuple[Page, int]:
    """The records of a batch as a page (cursor and ``done`` are set by the caller), and how
    many messages could not be read."""
    tickets: list[RemoteTicket] = []
    comments: list[RemoteComment] = []
    customers: list[RemoteCustomer] = []
    removed: list[RemoteRemoval] = []
    unreadable = 0
    for _subject, payload, _seq in messages:
        try:
            record = wire.decode(payload).record
        except wire.WireError:
            unreadable += 1
            continue
        if isinstance(record, RemoteTicket):
            tickets.append(record)
        elif isinstance(record, RemoteComment):
            comments.append(record)
        elif isinstance(record, RemoteCustomer):
            customers.append(record)
        else:
            removed.append(record)
    page = Page(
        tickets=tuple(tickets),
        comments=tuple(comments),
        customers=tuple(customers),
        removed=tuple(removed),
    )
    return page, unreadable


class TeamBackend:
    """One source read from the team's stream, pushed with the member's own adapter.

    Args:
        feed: the member's stream connection.
        source: which records it reads.
        filters: the subject filters (see :func:`filters_for`).
        push: the member's own adapter for this source, or None (changes stay queued).
        name: the backend's name in ``sync_state`` (the adapter's, so the status line keeps
            its words).
    """

    def __init__(
        self,
        feed: TeamFeed,
        source: Source,
        filters: Sequence[str],
        push: Backend | None = None,
        name: str | None = None,
    ) -> None:
        self.feed = feed
        self.source = source
        self.filters = tuple(filters)
        self.inner = push
        self.name = name or (push.name if push is not None else DEFAULT_NAMES[source])
        self.supported_ops = push.supported_ops if push is not None else frozenset()
        self.can_push = push is not None
        """False: no signed-in adapter; the engine leaves this source's changes queued."""
        self.unreadable = 0
        search = getattr(push, "search_issues", None)
        if search is not None:
            self.search_issues = search

    def __repr__(self) -> str:
        return f"TeamBackend(name={self.name!r}, filters={self.filters!r})"

    async def fetch_changes(self, cursor: str | None) -> Page:
        """The next batch of the first filter that has messages waiting."""
        state = decode_cursor(cursor, "team")
        saved = state.data.get("positions")
        positions: dict[str, int] = {
            f: int(saved.get(f, 0)) if isinstance(saved, dict) else 0 for f in self.filters
        }
        stream = state.data.get("stream")
        if stream not in (None, self.feed.team.stream):  # another stream: read it from the start
            positions = dict.fromkeys(self.filters, 0)
        messages: list[tuple[str, bytes, int]] = []
        waiting: dict[str, int] = {}
        for subject in self.filters:
            if messages:
                waiting[subject] = 1  # not asked this round: look again next page
                continue
            found, left = await self.feed.fetch(subject, positions[subject])
            if found:
                messages = found
                positions[subject] = found[-1][2]
            waiting[subject] = left
        page, unreadable = page_of(messages)
        self.unreadable += unreadable
        return Page(
            tickets=page.tickets,
            comments=page.comments,
            customers=page.customers,
            removed=page.removed,
            cursor=encode_cursor({"positions": positions, "stream": self.feed.team.stream}, "team"),
            done=not any(waiting.values()),
            relayed=True,  # the relay acts on what its records say (a customer's reply...)
        )

    async def push(self, op: Op) -> PushResult:
        """The member's own adapter sends it (never the relay)."""
        if self.inner is None:
            from oncall_tui.sync.base import unsupported

            raise unsupported(self.name, op)
        return await self.inner.push(op)

    async def lookup(self, op: Op, taken: frozenset[str] = frozenset()) -> PushResult | None:
        """Asked of the member's own adapter."""
        if self.inner is None:
            return None
        return await self.inner.lookup(op, taken)
