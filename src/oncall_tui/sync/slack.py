"""Slack: shared customer channels, where one thread is one ticket.

Pull
    Each pass reads ``conversations.history`` of every configured channel back to the watch
    window (``oldest``, ``cursor`` pagination through ``response_metadata.next_cursor``). A
    top-level message from a customer (anyone not in ``employees``; bots count as ours) opens a
    ticket with ``Channel.CHAT`` (the 24-hour target). A thread whose ``latest_reply`` moved
    since the last pass is read whole with ``conversations.replies``: it becomes one ticket
    (``remote_id = "{channel}:{thread_ts}"``) if a customer spoke in it, and its replies become
    comments (``remote_id = "{channel}:{ts}"``, so re-reading deduplicates). Status follows who
    spoke last: no employee answer yet is NEW, the customer spoke last is OPEN, we did is
    PENDING (the ball is in their court).

Push
    A reply is ``chat.postMessage`` carrying message metadata with the outbox key, so
    ``lookup`` finds it after an unclear outcome (:mod:`oncall_tui.sync.slack_push`). Threads
    have no status, labels or assignee at Slack. The wire format, the options and the
    ``ok: false`` errors are read in :mod:`oncall_tui.sync.slack_wire`.

Hostile or partial answers
    Messages are read one by one: one that cannot be read (a bad ``ts``, wrong types) is set
    aside (``Page.quarantined``, shown in the sync log) and the rest of the page applies. A
    ``chat.postMessage`` answer without the new message's ``ts`` is completed by looking the
    reply up by its metadata.

Errors
    Slack answers HTTP 200 with ``ok: false`` and an ``error`` string: ``invalid_auth`` and
    friends are :class:`AuthFailed`, ``ratelimited`` (or HTTP 429 with ``Retry-After``)
    :class:`RateLimited`, server-side trouble :class:`BackendUnavailable`, anything else
    :class:`Rejected`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime, timedelta
from typing import Any

import httpx

from oncall_tui.domain.ops import OpKind
from oncall_tui.domain.tickets import Source
from oncall_tui.sync.adapter import HttpAdapter, paginate
from oncall_tui.sync.base import (
    Page,
    RateLimited,
    Rejected,
    RemoteComment,
    RemoteTicket,
    bounded_page,
    decode_cursor,
    encode_cursor,
)
from oncall_tui.sync.fields import Fields
from oncall_tui.sync.http import parse_retry_after, response_json
from oncall_tui.sync.slack_push import SlackWriter
from oncall_tui.sync.slack_wire import (
    MESSAGE_KEYS,
    SKIPPED_SUBTYPES,
    Message,
    SlackConfig,
    datetime_to_ts,
    parse_message,
    parse_thread,
    slack_error,
    ts_key,
)

#: The 2025 limits of commercially distributed apps outside the Slack Marketplace, for
#: ``conversations.history`` and ``conversations.replies``: a request a minute, 15 messages.
LIMITED_INTERVAL = 60.0
LIMITED_MESSAGES = 15


class SlackBackend(HttpAdapter[SlackConfig]):
    """Customer chat threads, over Slack's Web API.

    Args:
        client: from :func:`oncall_tui.sync.http.build_client` with ``https://slack.com/api``
            and a bot token (scopes: ``channels:history``, ``groups:history``,
            ``chat:write``).
        config: channels, employees and options; see :class:`SlackConfig`.
        clock: the wall clock (watch window).
        name: the backend's name in ``sync_state``.
    """

    source = Source.CHAT
    supported_ops = frozenset({OpKind.REPLY, OpKind.POST_MESSAGE})

    default_name = "slack"

    def _setup(self) -> None:
        #: The 2025 plan of apps outside the Marketplace (configured, or after ratelimited).
        self._limited = self.config.limited
        self.writer = SlackWriter(self)

    def _shown(self) -> str:
        return f"channels={self.config.channels!r}"

    async def call(self, method: str, **args: Any) -> Fields:
        """Call one Web API method; reads go as GET, writes as POST with a JSON body."""
        what = f"{self.name}: {method}"

        def rate_limited(response: httpx.Response, _what: str) -> None:
            if response.status_code == 429:
                retry = parse_retry_after(
                    response.headers.get("retry-after"), self._now_ts(), default=30.0
                )
                raise RateLimited(f"{what}: rate limited, retry in {retry:.0f}s", retry)

        if method.startswith("chat."):
            response = await self._call("POST", method, json=args, on_error=rate_limited)
        else:
            params = {k: v for k, v in args.items() if v is not None}
            response = await self._call("GET", method, params=params, on_error=rate_limited)
        payload = response_json(response, self.name)
        slack_error(payload, what, self._now_ts(), response.headers.get("retry-after"))
        return Fields(payload, what)

    async def messages(
        self, method: str, *, max_pages: int, **args: Any
    ) -> AsyncGenerator[Any, None]:
        """The ``messages`` of every page of a history or replies call, ``cursor`` followed
        (at most ``max_pages``: a safety bound); each page goes through :meth:`call`."""

        async def fetch(page_cursor: str | None) -> tuple[list[Any], str | None]:
            found = await self.call(method, **args, cursor=page_cursor)
            return found.items("messages"), _next_cursor(found)

        async for item in paginate(fetch, max_pages=max_pages):
            yield item

    # -- pull

    async def fetch_changes(self, cursor: str | None) -> Page:
        """One step of a pass: one history page of a channel, or one changed thread.

        Cursor state: per channel the threads and messages already made tickets within the
        watch window (``ts -> latest message seen``), and the tasks left in this pass.
        """
        state = decode_cursor(cursor, "slack").data
        saved_plan = state.get("plan")
        plan: dict[str, Any] = saved_plan if isinstance(saved_plan, dict) else {}
        self._limited = self.config.limited or plan.get("limited") is True
        saved_due = plan.get("next")
        due: dict[str, float] = {
            k: float(v)
            for k, v in (saved_due if isinstance(saved_due, dict) else {}).items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        }
        saved_partial = state.get("partial")
        partial: dict[str, Any] = saved_partial if isinstance(saved_partial, dict) else {}
        saved = state.get("channels")
        channels: dict[str, Any] = {
            c: {"threads": _threads((saved or {}).get(c) if isinstance(saved, dict) else None)}
            for c in self.config.channels
        }
        todo = [t for t in state.get("todo", []) if _is_task(t) and t[1] in channels]
        if not todo:  # a new pass: forget threads that left the watch window
            horizon = ts_key(datetime_to_ts(self._horizon()))
            for entry in channels.values():
                entry["threads"] = {
                    ts: seen for ts, seen in entry["threads"].items() if ts_key(ts) >= horizon
                }
            todo = [["history", c, None] for c in self.config.channels]
        if not todo:  # no channels configured
            return self._page(cursor=encode_cursor({"channels": channels, "todo": []}, "slack"))

        def saved_state() -> str:
            plan_out = {"limited": self._limited, "next": due}
            out = {"channels": channels, "todo": todo, "plan": plan_out, "partial": partial}
            return encode_cursor(out, "slack")

        kind, channel, arg = todo[0]
        method = "conversations.history" if kind == "history" else "conversations.replies"
        now = self.clock().timestamp()
        if self._limited and due.get(method, 0.0) > now:  # one request a minute per method
            return self._page(cursor=saved_state(), done=False, wait_hint=due[method] - now)
        todo.pop(0)
        entry = channels[channel]
        tickets: list[RemoteTicket] = []
        comments: list[RemoteComment] = []
        notes: tuple[str, ...] = ()
        try:
            if kind == "history":
                tickets, more, next_cursor = await self._history(channel, entry, arg)
                todo[:0] = [["thread", channel, ts] for ts in more]
                if next_cursor:
                    todo.insert(0, ["history", channel, next_cursor])
            elif self._limited:
                key = f"{channel}:{arg}"
                ticket, found, left = await self._thread_step(channel, arg, entry, partial.get(key))
                partial.pop(key, None)
                if left is not None:  # more pages next minute
                    partial[key] = left
                    todo.insert(0, [kind, channel, arg])
                if ticket is not None:
                    tickets.append(ticket)
                    comments.extend(found)
            else:
                ticket, found = await self._thread(channel, arg, entry)
                if ticket is not None:
                    tickets.append(ticket)
                    comments.extend(found)
        except RateLimited as exc:
            # Slack's 2025 limits for apps outside the Marketplace: poll at their pace
            # (this channel's task comes first next time) instead of failing the pull.
            todo.insert(0, [kind, channel, arg])
            due[method] = now + exc.retry_after
            if not self._limited:
                self._limited = True
                notes = (
                    f"{method} answered ratelimited: polling as an app outside the Slack "
                    "Marketplace (1 request a minute, 15 messages); an internal app keeps "
                    "Tier 3 (see docs/slack-app.md)",
                )
            return self._page(
                cursor=saved_state(), done=False, wait_hint=exc.retry_after, notes=notes
            )
        if self._limited:
            due[method] = now + LIMITED_INTERVAL
        return self._page(
            tickets=tuple(tickets),
            comments=tuple(comments),
            cursor=saved_state(),
            done=not todo,
        )

    @property
    def page_limit(self) -> int:
        """Messages a history or replies request asks for (15 under the 2025 limits)."""
        if self._limited:
            return min(self.config.page_limit, LIMITED_MESSAGES)
        return self.config.page_limit

    async def _thread_step(
        self, channel: str, thread_ts: str, entry: dict[str, Any], left: object
    ) -> tuple[RemoteTicket | None, tuple[RemoteComment, ...], dict[str, Any] | None]:
        """One page of a thread (the limited plan): the ticket once its last page is read,
        else what to carry on with (the messages so far, the next cursor)."""
        carried = left if isinstance(left, dict) else {}
        page_cursor = carried.get("cursor") if isinstance(carried.get("cursor"), str) else None
        raw = [m for m in carried.get("messages") or [] if isinstance(m, dict)]
        try:
            found = await self.call(
                "conversations.replies",
                channel=channel,
                ts=thread_ts,
                limit=self.page_limit,
                cursor=page_cursor,
            )
        except Rejected as exc:
            if "thread_not_found" not in str(exc):
                raise
            entry.setdefault("threads", {}).pop(thread_ts, None)
            return None, (), None
        for item in found.items("messages"):
            if self.triage.read("message", item, parse_message, ("ts",)) is not None:
                raw.append({k: v for k, v in item.items() if k in MESSAGE_KEYS})
        next_cursor = _next_cursor(found)
        if next_cursor:
            return None, (), {"cursor": next_cursor, "messages": raw}
        messages = [parse_message(m) for m in raw]
        if messages:
            latest = max((m.ts for m in messages), key=ts_key)
            entry.setdefault("threads", {})[thread_ts] = latest
        ticket, comments = parse_thread(channel, messages, self.config)
        return ticket, comments, None

    def _page(self, **parts: Any) -> Page:
        """A page carrying the messages set aside since the last one, its text bounded."""
        aside, self.triage.bad = self.triage.bad, []
        return bounded_page(Page(**parts, quarantined=tuple(aside)), self.limits)

    def _horizon(self) -> datetime:
        return self.clock() - timedelta(days=self.config.watch_days)

    async def _history(
        self, channel: str, entry: dict[str, Any], page_cursor: str | None
    ) -> tuple[list[RemoteTicket], list[str], str | None]:
        """One history page: new unthreaded customer messages, and threads with news."""
        found = await self.call(
            "conversations.history",
            channel=channel,
            oldest=datetime_to_ts(self._horizon()),
            limit=self.page_limit,
            cursor=page_cursor,
        )
        threads: dict[str, str] = entry.setdefault("threads", {})
        tickets: list[RemoteTicket] = []
        changed: list[str] = []
        for item in found.items("messages"):
            message = self.triage.read("message", item, parse_message, ("ts",))
            if message is None:
                continue
            if not message.is_parent or message.subtype in SKIPPED_SUBTYPES:
                continue  # thread broadcasts come again with their thread
            seen = threads.get(message.ts)
            if message.reply_count > 0:
                latest = message.latest_reply or message.ts
                if seen is None or ts_key(latest) > ts_key(seen):
                    changed.append(message.ts)
            elif seen is None:  # a new message nobody answered yet
                ticket, _ = parse_thread(channel, [message], self.config)
                if ticket is not None:
                    tickets.append(ticket)
                    threads[message.ts] = message.ts
        return tickets, changed, _next_cursor(found)

    async def _thread(
        self, channel: str, thread_ts: str, entry: dict[str, Any]
    ) -> tuple[RemoteTicket | None, tuple[RemoteComment, ...]]:
        """Read a whole thread and remember its latest message; a deleted one is forgotten."""
        try:
            messages = await self.replies(channel, thread_ts)
        except Rejected as exc:
            if "thread_not_found" not in str(exc):
                raise
            entry.setdefault("threads", {}).pop(thread_ts, None)
            return None, ()
        if messages:
            latest = max((m.ts for m in messages), key=ts_key)
            entry.setdefault("threads", {})[thread_ts] = latest
        return parse_thread(channel, messages, self.config)

    async def replies(
        self, channel: str, thread_ts: str, oldest: str | None = None, metadata: bool = False
    ) -> list[Message]:
        """All messages of a thread (parent first unless ``oldest`` cuts it)."""
        messages: list[Message] = []
        async for item in self.messages(
            "conversations.replies",
            max_pages=50,
            channel=channel,
            ts=thread_ts,
            limit=self.page_limit,
            oldest=oldest,
            include_all_metadata="true" if metadata else None,
        ):
            message = self.triage.read("message", item, parse_message, ("ts",))
            if message is not None:
                messages.append(message)
        return messages

    # -- push


def _next_cursor(found: Fields) -> str | None:
    """The cursor of the next page of a history or replies answer; none after the last."""
    meta = found.opt_sub("response_metadata")
    return (meta.opt_text("next_cursor") if meta else None) or None


def _threads(entry: object) -> dict[str, str]:
    """The watched threads of a saved channel entry, keeping only well-formed ones."""
    threads = entry.get("threads") if isinstance(entry, dict) else None
    if not isinstance(threads, dict):
        return {}
    return {
        ts: seen
        for ts, seen in threads.items()
        if isinstance(seen, str) and _is_ts(ts) and _is_ts(seen)
    }


def _is_ts(value: str) -> bool:
    seconds, _, fraction = value.partition(".")
    return seconds.isdigit() and (not fraction or fraction.isdigit())


def _is_task(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 3
        and value[0] in ("history", "thread")
        and isinstance(value[1], str)
        and (value[2] is None or isinstance(value[2], str))
        and (value[0] == "history" or value[2] is not None)
    )


__all__ = ["SlackBackend"]
