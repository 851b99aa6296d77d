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

import secrets as random_names
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from oncall_tui.domain import team as wire
from oncall_tui.domain.ops import Op
from oncall_tui.domain.remote import RemoteComment, RemoteCustomer, RemoteRemoval, RemoteTicket
from oncall_tui.domain.tickets import Source
from oncall_tui.settings.team import TeamConfig
from oncall_tui.sync.base import Backend, Page, PushResult, SyncError, decode_cursor, encode_cursor
from oncall_tui.team.connect import Connection

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


@dataclass
class _Consumer:
    name: str
    sub: Any
    next_seq: int
    pending: int


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

        Raises:
            SyncError: the servers cannot be reached, or refuse this filter.
        """
        from nats import errors as nerr

        try:
            js = await self.connection.open()
            consumer = self._consumers.get(subject)
            if consumer is None or consumer.next_seq != after + 1:
                consumer = await self._consumer(js, subject, after)
            elif consumer.pending == 0:
                info = await js.consumer_info(self.team.stream, consumer.name)
                consumer.pending = int(info.num_pending or 0)
            if consumer.pending == 0:
                return [], 0
            try:
                msgs = await consumer.sub.fetch(
                    min(self.batch, consumer.pending), timeout=FETCH_TIMEOUT
                )
            except nerr.TimeoutError:
                msgs = []
        except SyncError:
            raise
        except Exception as exc:
            self._consumers.pop(subject, None)
            raise self.connection.error(exc, f"reading {subject}") from None
        out: list[tuple[str, bytes, int]] = []
        for msg in msgs:
            meta = msg.metadata
            seq = int(meta.sequence.stream)
            out.append((msg.subject, msg.data, seq))
            consumer.next_seq = seq + 1
            consumer.pending = int(meta.num_pending)
        return out, consumer.pending

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
        sub = await js.pull_subscribe_bind(consumer=name, stream=self.team.stream)
        consumer = _Consumer(name, sub, after + 1, int(info.num_pending or 0))
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

    async def lookup(
        self, op: Op, taken: frozenset[str] = frozenset()
    ) -> PushResult | None:
        """Asked of the member's own adapter."""
        if self.inner is None:
            return None
        return await self.inner.lookup(op, taken)
