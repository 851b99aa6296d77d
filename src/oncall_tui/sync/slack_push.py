"""Slack writes: a thread reply or a channel message, with the outbox key in the message's
metadata, and the look-up of an unclear send by that key.

A reply is ``chat.postMessage`` (``channel``, ``thread_ts``, ``text``) carrying message
metadata (event ``oncall_tui_reply``) with the outbox key, so :meth:`SlackWriter.lookup`
finds it in ``conversations.replies`` (a channel message: ``conversations.history``) after
an unclear outcome; an answer without the new message's ``ts`` is completed the same way.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import timedelta
from typing import Any, Protocol

from oncall_tui.domain.ops import CHANNEL_ID, Op, OpKind
from oncall_tui.domain.tickets import Source
from oncall_tui.sync.adapter import AdapterPart
from oncall_tui.sync.base import (
    BadPayload,
    Limits,
    PushResult,
    Rejected,
    RemoteComment,
    SyncError,
    Triage,
    bounded_result,
    unsupported,
)
from oncall_tui.sync.fields import Fields
from oncall_tui.sync.slack_wire import (
    SlackConfig,
    datetime_to_ts,
    parse_message,
    permalink,
    split_remote_id,
    ts_to_datetime,
)

log = logging.getLogger(__name__)

METADATA_EVENT = "oncall_tui_reply"


class SlackHost(Protocol):
    """What the writer needs of its :class:`~oncall_tui.sync.slack.SlackBackend`."""

    name: str
    config: SlackConfig
    limits: Limits
    triage: Triage

    @property
    def page_limit(self) -> int: ...

    async def call(self, method: str, **args: Any) -> Fields: ...

    def messages(
        self, method: str, *, max_pages: int, **args: Any
    ) -> AsyncGenerator[Any, None]: ...


class SlackWriter(AdapterPart[SlackHost]):
    """The push side of a :class:`~oncall_tui.sync.slack.SlackBackend`, over its Web API
    calls and options."""

    async def push(self, op: Op) -> PushResult:
        """Post a thread reply, or a new message in a channel; chat takes nothing else."""
        if op.kind is OpKind.POST_MESSAGE:
            return await self._post_to_channel(op)
        if op.kind is not OpKind.REPLY:
            raise unsupported(self.backend.name, op)
        channel, thread_ts = split_remote_id(op.remote_id)
        text = str(op.payload.get("body") or "")
        if not text.strip():
            raise Rejected(f"{self.backend.name}: a reply needs some text")
        sent = await self._post_message(op, channel, text, thread_ts=thread_ts)
        if isinstance(sent, PushResult):
            return sent
        posted, ts = sent
        return bounded_result(
            PushResult(
                remote_id=op.remote_id or "",
                version=ts,
                url=permalink(self.backend.config, channel, ts, thread_ts),
                comment=RemoteComment(
                    source=Source.CHAT,
                    ticket_remote_id=f"{channel}:{thread_ts}",
                    remote_id=f"{channel}:{ts}",
                    author=(posted.opt_text("user") if posted else None) or "me",
                    body=text,
                    public=True,
                    created_at=ts_to_datetime(ts),
                    author_role="staff",
                ),
            ),
            self.backend.limits,
        )

    async def _post_message(
        self, op: Op, channel: str, text: str, *, thread_ts: str | None = None
    ) -> PushResult | tuple[Fields | None, str]:
        """``chat.postMessage`` carrying the outbox key in its metadata: the posted message and
        its ts, or, when the answer does not name the message, what :meth:`lookup` finds."""
        args: dict[str, Any] = {"channel": channel, "text": text}
        if thread_ts is not None:
            args["thread_ts"] = thread_ts
        found = await self.backend.call(
            "chat.postMessage",
            **args,
            metadata={
                "event_type": METADATA_EVENT,
                "event_payload": {"idempotency_key": op.idempotency_key},
            },
        )
        posted = found.opt_sub("message")
        ts = found.opt_text("ts") or (posted.opt_text("ts") if posted else None)
        if ts is not None:
            return posted, ts
        try:  # posted, but the answer does not say which message it is
            looked_up = await self.lookup(op)
        except SyncError as exc:
            log.info("%s: looking up an unnamed message failed: %s", self.backend.name, exc)
            looked_up = None
        if looked_up is not None:
            return looked_up
        raise BadPayload(f"{self.backend.name}: chat.postMessage answered without a ts")

    async def _post_to_channel(self, op: Op) -> PushResult:
        """``chat.postMessage`` without ``thread_ts``: a new top-level message, carrying the
        outbox key in its metadata (so :meth:`lookup` finds it after an unclear send)."""
        channel = str(op.payload.get("channel") or "")
        text = str(op.payload.get("text") or "")
        if not CHANNEL_ID.match(channel):
            raise Rejected(f"{self.backend.name}: {channel[:40]!r} is not a channel id")
        if not text.strip():
            raise Rejected(f"{self.backend.name}: a message needs some text")
        sent = await self._post_message(op, channel, text)
        if isinstance(sent, PushResult):
            return sent
        _, ts = sent
        ts_to_datetime(ts)  # a ts we can name the message by
        return self._posted(channel, ts)

    def _posted(self, channel: str, ts: str) -> PushResult:
        return bounded_result(
            PushResult(
                remote_id=f"{channel}:{ts}",
                version=ts,
                url=permalink(self.backend.config, channel, ts),
            ),
            self.backend.limits,
        )

    async def _lookup_channel_message(self, op: Op) -> PushResult | None:
        """Find a channel message by the outbox key in its metadata: the channel's history
        since a little before the entry was queued (it cannot have been posted earlier)."""
        channel = str(op.payload.get("channel") or "")
        if not CHANNEL_ID.match(channel):
            return None
        oldest = datetime_to_ts(op.created_at - timedelta(minutes=10)) if op.created_at else None
        history = self.backend.messages(
            "conversations.history",
            max_pages=20,
            channel=channel,
            oldest=oldest,
            include_all_metadata="true",
            limit=self.backend.page_limit,
        )
        async with aclosing(history):
            async for item in history:
                meta = item.get("metadata") if isinstance(item, dict) else None
                payload = meta.get("event_payload") if isinstance(meta, dict) else None
                if (
                    isinstance(payload, dict)
                    and payload.get("idempotency_key") == op.idempotency_key
                ):
                    message = self.backend.triage.read("message", item, parse_message, ("ts",))
                    if message is not None:
                        return self._posted(channel, message.ts)
        return None

    async def lookup(self, op: Op, taken: frozenset[str] = frozenset()) -> PushResult | None:
        """Find a reply (or a channel message) by the outbox key in its message metadata."""
        if op.kind is OpKind.POST_MESSAGE:
            return await self._lookup_channel_message(op)
        if op.kind is not OpKind.REPLY or not op.remote_id:
            return None
        channel, thread_ts = split_remote_id(op.remote_id)
        oldest = datetime_to_ts(op.created_at - timedelta(minutes=10)) if op.created_at else None
        found = await self.backend.call(
            "conversations.replies",
            channel=channel,
            ts=thread_ts,
            oldest=oldest,
            include_all_metadata="true",
            limit=self.backend.page_limit,
        )
        for item in found.items("messages"):
            meta = item.get("metadata") if isinstance(item, dict) else None
            payload = meta.get("event_payload") if isinstance(meta, dict) else None
            if isinstance(payload, dict) and payload.get("idempotency_key") == op.idempotency_key:
                message = parse_message(item)
                return bounded_result(
                    PushResult(
                        remote_id=op.remote_id,
                        version=message.ts,
                        url=permalink(self.backend.config, channel, message.ts, thread_ts),
                        comment=RemoteComment(
                            source=Source.CHAT,
                            ticket_remote_id=op.remote_id,
                            remote_id=f"{channel}:{message.ts}",
                            author=message.user,
                            body=message.text,
                            public=True,
                            created_at=ts_to_datetime(message.ts),
                            author_role="staff",
                        ),
                    ),
                    self.backend.limits,
                )
        return None


__all__ = ["METADATA_EVENT", "SlackWriter"]
