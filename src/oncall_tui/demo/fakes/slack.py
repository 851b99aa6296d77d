"""An in-memory Slack workspace that speaks the Web API methods oncall-tui uses.

Methods (``/api/<method>``; arguments as query string, form or JSON body)::

    conversations.history   channel, cursor, limit, oldest, latest, inclusive
    conversations.replies   channel, ts, cursor, limit, oldest, latest, inclusive,
                            include_all_metadata
    chat.postMessage        channel, text, thread_ts, metadata

Like Slack, errors are HTTP 200 with ``{"ok": false, "error": "..."}`` (``not_authed``,
``invalid_auth``, ``channel_not_found``, ``thread_not_found``, ``no_text``, ``invalid_cursor``),
and rate limits are HTTP 429 with ``Retry-After`` and ``"error": "ratelimited"``.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Iterable, Mapping
from datetime import UTC
from typing import Any

import httpx

from oncall_tui.demo.fakes import DEFAULT_TOKEN, Call, FakeServer, json_response
from oncall_tui.demo.fakes.faults import FaultPlan
from oncall_tui.domain.clock import Clock
from oncall_tui.sync.base import RemoteComment, RemoteTicket

BOT_USER = "U0BOT"
BOT_ID = "B0BOT"
DEMO_MESSAGES = (
    "Hi team, our hosts stopped reporting since last night's upgrade. Can someone look?",
    "Quick question: is there a way to export query results to S3?",
    "We're seeing 502s on the dashboard right now.",
    "Is the new agent release safe to roll out to macOS 15?",
)
DEMO_FOLLOWUPS = (
    "Any news on this?",
    "Here are the logs: https://example.com/logs.txt",
    "Thanks! That worked.",
)


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, fraction = ts.partition(".")
    return int(seconds or 0), int((fraction + "000000")[:6] or 0)


def _ok(data: Mapping[str, Any], status: int = 200, **headers: str) -> httpx.Response:
    return json_response(status, {"ok": True, **data}, dict(headers))


def _fail(error: str, status: int = 200, **headers: str) -> httpx.Response:
    return json_response(status, {"ok": False, "error": error}, dict(headers))


class SlackFake(FakeServer):
    """In-memory channels with threads.

    Args:
        channels: channel ids that exist (messages may add more).
        messages: wire message dicts with a ``channel`` key (``ts``, ``user``, ``text``,
            optional ``thread_ts``, ``bot_id``, ``subtype``); replies update their parent's
            ``reply_count`` and ``latest_reply``. Records work too: a ticket
            (``remote_id = "C…:ts"``) is a thread's first message, a comment a reply in it.
        customers: user ids the demo activity posts as.
        quiet_channels: channels among ``channels`` where the demo activity never posts (an
            internal channel like the engineering help channel: only we write there).
        method_limits: requests per minute and token per method (e.g. Slack's tier 3 is 50);
            None: unlimited.
        message_limit: the most messages one history or replies page holds whatever
            ``limit`` asks (Slack's 15 for apps outside the Marketplace since 2025); None: 999.
    """

    name = "slack"

    def __init__(
        self,
        *,
        channels: Iterable[str] = ("C0CUSTOMER",),
        messages: Iterable[Mapping[str, Any] | RemoteTicket | RemoteComment] = (),
        customers: Iterable[str] = ("U0CUSTOMER",),
        tokens: Iterable[str] = (DEFAULT_TOKEN,),
        faults: FaultPlan | None = None,
        clock: Clock | None = None,
        method_limits: Mapping[str, int] | None = None,
        message_limit: int | None = None,
        seed: int = 0,
        quiet_channels: Iterable[str] = (),
    ) -> None:
        super().__init__(tokens=tuple(tokens), faults=faults, clock=clock)
        self.channels: dict[str, list[dict[str, Any]]] = {c: [] for c in channels}
        self.customers = tuple(customers)
        self.quiet_channels = frozenset(quiet_channels)
        self.method_limits = dict(method_limits or {})
        self.message_limit = message_limit or 999
        self.random = random.Random(seed)
        self._last_ts = (0, 0)
        self._calls: dict[tuple[str, str], list[float]] = {}
        for message in messages:
            self.add_message(message)
        self.route("GET", r"/api/(?P<method>[\w.]+)", self._dispatch, list_key="messages")
        self.route("POST", r"/api/(?P<method>[\w.]+)", self._dispatch, list_key="messages")

    # -- data

    def new_ts(self) -> str:
        """A fresh message ts from the clock, strictly after every earlier one."""
        now = self.clock().astimezone(UTC)
        key = (int(now.timestamp()), now.microsecond)
        if key <= self._last_ts:
            seconds, micros = self._last_ts
            micros += 1
            key = (seconds + micros // 1_000_000, micros % 1_000_000)
        self._last_ts = key
        return f"{key[0]}.{key[1]:06d}"

    def add_message(
        self, message: Mapping[str, Any] | RemoteTicket | RemoteComment
    ) -> dict[str, Any]:
        """Add a message (``channel`` key required; ``ts`` made up if missing)."""
        if isinstance(message, RemoteTicket):
            where, _, first_ts = message.remote_id.partition(":")
            message = {
                "channel": where,
                "ts": first_ts,
                "user": message.requester or "U0CUSTOMER",
                "text": message.body,
            }
        elif isinstance(message, RemoteComment):
            where, _, parent_ts = message.ticket_remote_id.partition(":")
            message = {
                "channel": where,
                "ts": message.remote_id.partition(":")[2],
                "user": message.author,
                "text": message.body,
                "thread_ts": parent_ts,
            }
        data = dict(message)
        channel = str(data.pop("channel"))
        ts = str(data.get("ts") or self.new_ts())
        self._last_ts = max(self._last_ts, _ts_key(ts))
        record: dict[str, Any] = {"type": "message", "text": "", **data, "ts": ts}
        if record.get("bot_id") and "user" not in record:
            record["subtype"] = record.get("subtype", "bot_message")
        messages = self.channels.setdefault(channel, [])
        thread_ts = record.get("thread_ts")
        if thread_ts and thread_ts != ts:
            parent = self._message(channel, thread_ts)
            if parent is None:
                raise KeyError(f"no parent {thread_ts} in {channel}")
            record.setdefault("parent_user_id", parent.get("user"))
            parent["thread_ts"] = thread_ts
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            users = parent.setdefault("reply_users", [])
            if record.get("user") and record["user"] not in users:
                users.append(record["user"])
            parent["reply_users_count"] = len(users)
            parent["latest_reply"] = ts
            parent.setdefault("is_locked", False)
            parent.setdefault("subscribed", False)
        messages.append(record)
        messages.sort(key=lambda m: _ts_key(m["ts"]))
        return record

    def _message(self, channel: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self.channels.get(channel, []) if m["ts"] == ts), None)

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """A thread's messages, parent first."""
        return [
            m
            for m in self.channels.get(channel, [])
            if m["ts"] == thread_ts or m.get("thread_ts") == thread_ts
        ]

    # -- demo activity

    def add_activity(self) -> str:
        """A customer posts a new question or follows up in a thread; returns channel:ts."""
        with self.lock:
            channel = self.random.choice(
                sorted(set(self.channels) - self.quiet_channels) or sorted(self.channels)
            )
            user = self.random.choice(self.customers)
            parents = [m for m in self.channels[channel] if m.get("thread_ts") in (None, m["ts"])]
            if parents and self.random.random() < 0.4:
                parent = self.random.choice(parents[-10:])
                message = self.add_message(
                    {
                        "channel": channel,
                        "user": user,
                        "text": self.random.choice(DEMO_FOLLOWUPS),
                        "thread_ts": parent["ts"],
                    }
                )
            else:
                message = self.add_message(
                    {"channel": channel, "user": user, "text": self.random.choice(DEMO_MESSAGES)}
                )
            self.count("customer_message")
            return f"{channel}:{message.get('thread_ts') or message['ts']}"

    # -- answers

    def unauthorized(self, call: Call) -> httpx.Response:
        return _fail("not_authed" if call.token is None else "invalid_auth")

    def rate_limited(self, call: Call, retry_after: float) -> httpx.Response:
        return _fail("ratelimited", 429, **{"Retry-After": str(max(1, round(retry_after)))})

    def server_error(self, call: Call, status: int) -> httpx.Response:
        headers = {"Retry-After": str(round(self.faults.retry_after))} if status == 503 else {}
        return _fail(
            "internal_error" if status == 500 else "service_unavailable", status, **headers
        )

    def not_found(self, call: Call) -> httpx.Response:
        return _fail("unknown_method", 404)

    def bad_request(self, call: Call, message: str) -> httpx.Response:
        return _fail("invalid_json")

    def _dispatch(self, call: Call) -> httpx.Response:
        method = call.args["method"]
        handler = {
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "chat.postMessage": self._post,
        }.get(method)
        if handler is None:
            return self.not_found(call)
        limit = self.method_limits.get(method)
        if limit is not None:
            now = self.clock().timestamp()
            key = (call.token or "", method)
            recent = [t for t in self._calls.get(key, []) if now - t < 60]
            if len(recent) >= limit:
                return self.rate_limited(call, 60 - (now - recent[0]) if recent else 60)
            self._calls[key] = [*recent, now]
        return handler(call)

    def _window(
        self, call: Call, messages: list[dict[str, Any]]
    ) -> list[dict[str, Any]] | httpx.Response:
        oldest = _ts_key(call.param("oldest") or "0")
        latest_arg = call.param("latest")
        latest = _ts_key(latest_arg) if latest_arg else (2**62, 0)
        inclusive = (call.param("inclusive") or "").lower() in ("1", "true")

        def inside(m: dict[str, Any]) -> bool:
            key = _ts_key(m["ts"])
            if inclusive:
                return oldest <= key <= latest
            return oldest < key < latest

        return [m for m in messages if inside(m)]

    def _limit(self, call: Call, default: int) -> int:
        try:
            return min(self.message_limit, max(1, int(call.param("limit") or default)))
        except ValueError:
            return default

    def _cursor(self, call: Call) -> int | None:
        cursor = call.param("cursor")
        if not cursor:
            return 0
        try:
            kind, _, value = base64.b64decode(cursor.encode()).decode().partition(":")
            return int(value) if kind == "offset" else None
        except (ValueError, UnicodeDecodeError):
            return None

    def _paged(
        self, call: Call, items: list[dict[str, Any]], default: int
    ) -> tuple[list[dict[str, Any]], str] | httpx.Response:
        offset = self._cursor(call)
        if offset is None:
            return _fail("invalid_cursor")
        limit = self._limit(call, default)
        chunk = items[offset : offset + limit]
        more = offset + limit < len(items)
        cursor = base64.b64encode(f"offset:{offset + limit}".encode()).decode() if more else ""
        return chunk, cursor

    def _shown(self, message: dict[str, Any], metadata: bool) -> dict[str, Any]:
        shown = dict(message)
        if not metadata:
            shown.pop("metadata", None)
        return shown

    def _history(self, call: Call) -> httpx.Response:
        channel = call.param("channel") or ""
        if channel not in self.channels:
            return _fail("channel_not_found")
        top = [
            m
            for m in self.channels[channel]
            if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"
        ]
        window = self._window(call, top)
        assert isinstance(window, list)
        window.reverse()  # newest first
        return self._messages(
            call,
            window,
            100,
            pin_count=0,
            channel_actions_ts=None,
            channel_actions_count=0,
        )

    def _replies(self, call: Call) -> httpx.Response:
        channel = call.param("channel") or ""
        ts = call.param("ts") or ""
        if channel not in self.channels:
            return _fail("channel_not_found")
        parent = self._message(channel, ts)
        if parent is None:
            return _fail("thread_not_found")
        thread_ts = parent.get("thread_ts") or parent["ts"]
        thread = self.thread(channel, thread_ts)
        head, replies = thread[0], thread[1:]
        window = self._window(call, replies)
        assert isinstance(window, list)
        return self._messages(call, [head, *window], 1000)

    def _messages(
        self, call: Call, messages: list[dict[str, Any]], default_limit: int, **extra: Any
    ) -> httpx.Response:
        """One page of ``messages`` as ``conversations.history`` and ``.replies`` answer it;
        ``extra``: the keys only one of them has."""
        paged = self._paged(call, messages, default_limit)
        if isinstance(paged, httpx.Response):
            return paged
        chunk, cursor = paged
        metadata = (call.param("include_all_metadata") or "").lower() in ("1", "true")
        return _ok(
            {
                "messages": [self._shown(m, metadata) for m in chunk],
                "has_more": bool(cursor),
                **extra,
                "response_metadata": {"next_cursor": cursor},
            }
        )

    def _post(self, call: Call) -> httpx.Response:
        channel = call.param("channel") or ""
        text = call.param("text") or ""
        if channel not in self.channels:
            return _fail("channel_not_found")
        if not text.strip():
            return _fail("no_text")
        thread_ts = call.param("thread_ts")
        if thread_ts and self._message(channel, thread_ts) is None:
            return _fail("thread_not_found")
        message: dict[str, Any] = {
            "channel": channel,
            "user": BOT_USER,
            "bot_id": BOT_ID,
            "app_id": "A0ONCALL",
            "text": text,
            "team": "T0DEMO",
        }
        if thread_ts:
            message["thread_ts"] = thread_ts
        raw_meta = call.body.get("metadata") if isinstance(call.body, dict) else None
        if isinstance(raw_meta, str):
            try:
                raw_meta = json.loads(raw_meta)
            except ValueError:
                return _fail("invalid_metadata_format")
        if raw_meta is not None:
            if not isinstance(raw_meta, dict) or "event_type" not in raw_meta:
                return _fail("invalid_metadata_format")
            message["metadata"] = raw_meta
        record = self.add_message(message)
        self.count("post_message")
        shown = {k: v for k, v in record.items() if k != "metadata"}
        return _ok({"channel": channel, "ts": record["ts"], "message": shown})


__all__ = ["BOT_USER", "SlackFake"]
