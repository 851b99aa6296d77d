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
    A reply is ``chat.postMessage`` (``channel``, ``thread_ts``, ``text``) carrying message
    metadata with the outbox key, so `lookup` finds it in ``conversations.replies`` after an
    unclear outcome. Threads have no status, labels or assignee at Slack.

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

import logging
from collections.abc import AsyncGenerator, Iterable, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.domain.ops import CHANNEL_ID, Op, OpKind
from oncall_tui.domain.tickets import Channel, Priority, Source, Status
from oncall_tui.sync.adapter import HttpAdapter, paginate
from oncall_tui.sync.base import (
    AuthFailed,
    BackendUnavailable,
    BadPayload,
    Fields,
    Page,
    PushResult,
    RateLimited,
    Rejected,
    RemoteComment,
    RemoteTicket,
    SyncError,
    bounded_page,
    bounded_result,
    decode_cursor,
    encode_cursor,
    unsupported,
)
from oncall_tui.sync.http import parse_retry_after, response_json
from oncall_tui.sync.options import only_known, positive_number

log = logging.getLogger(__name__)

AUTH_ERRORS = frozenset(
    {
        "not_authed",
        "invalid_auth",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "missing_scope",
        "no_permission",
        "not_allowed_token_type",
        "ekm_access_denied",
    }
)
UNAVAILABLE_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "team_not_found"}
)
#: Message subtypes that are not somebody speaking.
#: The 2025 limits of commercially distributed apps outside the Slack Marketplace, for
#: ``conversations.history`` and ``conversations.replies``: a request a minute, 15 messages.
LIMITED_INTERVAL = 60.0
LIMITED_MESSAGES = 15
#: What a thread read page by page keeps of each message between steps.
MESSAGE_KEYS = frozenset(
    {
        "ts",
        "user",
        "text",
        "thread_ts",
        "reply_count",
        "latest_reply",
        "bot_id",
        "subtype",
        "username",
    }
)
SKIPPED_SUBTYPES = frozenset(
    {
        "channel_join",
        "channel_leave",
        "channel_topic",
        "channel_purpose",
        "channel_name",
        "channel_archive",
        "channel_unarchive",
        "group_join",
        "group_leave",
        "pinned_item",
        "unpinned_item",
        "reminder_add",
        "tombstone",
        "message_deleted",
        "message_changed",
    }
)
METADATA_EVENT = "oncall_tui_reply"
SUBJECT_LENGTH = 80


# --------------------------------------------------------------------------------------------
# Configuration


@dataclass(frozen=True)
class SlackConfig:
    """Slack settings: ``[backends.slack]`` ``channels``, ``employees`` and ``options``."""

    channels: tuple[str, ...]
    """Channel ids to watch (``C0123ABCD``)."""
    employees: frozenset[str] = frozenset()
    """User ids of our own people; everyone else is a customer."""
    bots_are_employees: bool = True
    """Messages posted by bots (our auto-replies, integrations) count as ours."""
    channel_customers: Mapping[str, str] = field(default_factory=dict)
    """Channel id → the customer's remote id (shared channels belong to one customer)."""
    workspace_url: str | None = None
    """``https://acme.slack.com``, to link tickets to their threads."""
    watch_days: float = 7.0
    """How long a thread is watched for new replies (and how far the first sync reaches)."""
    page_limit: int = 200
    """Messages per request (Slack recommends no more than 200)."""
    default_priority: Priority = Priority.P3
    """Priority of a new chat ticket (chat threads carry no priority at Slack)."""
    app_kind: str = "internal"
    """``internal`` (an app the team made for its own workspace: Tier 3, about 50 requests a
    minute) or ``distributed`` (a commercially distributed app outside the Slack Marketplace:
    since 2025, 1 request a minute and 15 messages for ``conversations.history`` and
    ``conversations.replies``). A ``ratelimited`` answer switches to the second plan."""

    @property
    def limited(self) -> bool:
        """Whether the app gets the 2025 limits of non-Marketplace apps."""
        return self.app_kind == "distributed"

    @classmethod
    def from_options(
        cls, channels: Iterable[str], employees: Iterable[str], options: Mapping[str, Any]
    ) -> SlackConfig:
        """Build from the config file's channels, employees and ``options``."""
        key = "backends.slack.options"
        known = {
            "bots_are_employees",
            "channel_customers",
            "workspace_url",
            "watch_days",
            "app_kind",
        }
        only_known(options, key, known)
        customers = options.get("channel_customers", {})
        if not isinstance(customers, Mapping) or not all(
            isinstance(v, str) for v in customers.values()
        ):
            raise ConfigValueError(f"{key}.channel_customers", "a table of channel = customer id")
        bots = options.get("bots_are_employees", True)
        if not isinstance(bots, bool):
            raise ConfigValueError(f"{key}.bots_are_employees", "true or false", bots)
        url = options.get("workspace_url")
        if url is not None and (not isinstance(url, str) or not url.startswith("https://")):
            raise ConfigValueError(f"{key}.workspace_url", "https://<workspace>.slack.com", url)
        days = positive_number(options, key, "watch_days", cls.watch_days, "days")
        app_kind = options.get("app_kind", cls.app_kind)
        if app_kind not in ("internal", "distributed"):
            raise ConfigValueError(f"{key}.app_kind", "internal or distributed", app_kind)
        return cls(
            app_kind=app_kind,
            channels=tuple(channels),
            employees=frozenset(employees),
            bots_are_employees=bots,
            channel_customers=dict(customers),
            workspace_url=url.rstrip("/") if url else None,
            watch_days=days,
        )


# --------------------------------------------------------------------------------------------
# Mapping: wire JSON -> records (pure)


def ts_to_datetime(ts: str) -> datetime:
    """A Slack ``ts`` (``"1700000000.000100"``) as an aware UTC datetime."""
    seconds, _, fraction = ts.partition(".")
    # isdecimal() and isascii(): "²".isdigit() is true but int("²") fails
    if not (ts.isascii() and seconds.isdecimal() and (not fraction or fraction.isdecimal())):
        raise BadPayload(f"slack: {ts[:30]!r} is not a message timestamp")
    micros = int((fraction + "000000")[:6]) if fraction else 0
    try:
        return datetime.fromtimestamp(int(seconds), UTC) + timedelta(microseconds=micros)
    except (OverflowError, OSError, ValueError):
        raise BadPayload(f"slack: {ts[:30]!r} is out of range for a timestamp") from None


def datetime_to_ts(when: datetime) -> str:
    """The Slack ``ts`` of an instant (for ``oldest``)."""
    return f"{when.timestamp():.6f}"


def _ts_key(ts: str) -> tuple[int, int]:
    """Sort key of a ts (string comparison fails on different lengths)."""
    seconds, _, fraction = ts.partition(".")
    return int(seconds or 0), int((fraction + "000000")[:6] or 0)


@dataclass(frozen=True, slots=True)
class Message:
    """The parts of a Slack message we use."""

    ts: str
    user: str
    text: str
    thread_ts: str | None
    reply_count: int
    latest_reply: str | None
    is_bot: bool
    subtype: str | None

    @property
    def is_parent(self) -> bool:
        """The first message of a thread (or a message that could start one)."""
        return self.thread_ts is None or self.thread_ts == self.ts


def parse_message(payload: object) -> Message:
    """One message object of history or replies."""
    f = Fields(payload, "slack message")
    ts = f.text("ts")
    for value in (ts, f.opt_text("thread_ts"), f.opt_text("latest_reply")):
        if value is not None:
            ts_to_datetime(value)  # validate: they are compared and sorted as timestamps
    user = f.opt_text("user") or f.opt_text("bot_id") or f.opt_text("username") or "unknown"
    reply_count = f.opt_integer("reply_count") or 0
    return Message(
        ts=ts,
        user=user,
        text=f.opt_text("text") or "",
        thread_ts=f.opt_text("thread_ts"),
        reply_count=reply_count,
        latest_reply=f.opt_text("latest_reply"),
        is_bot=f.opt_text("bot_id") is not None or f.opt_text("subtype") == "bot_message",
        subtype=f.opt_text("subtype"),
    )


def is_employee(message: Message, config: SlackConfig) -> bool:
    """Whether a message is one of ours (an answer) rather than a customer's (a request)."""
    return message.user in config.employees or (config.bots_are_employees and message.is_bot)


def message_role(message: Message, config: SlackConfig) -> str:
    """For the reply clocks: a bot's message is automatic (an out-of-hours auto-reply never
    answers), an employee's is staff, anyone else's is the customer's."""
    if message.is_bot:
        return "automation"
    return "staff" if message.user in config.employees else "customer"


def permalink(
    config: SlackConfig, channel: str, ts: str, thread_ts: str | None = None
) -> str | None:
    """The web address of a message, if the workspace URL is configured."""
    if not config.workspace_url:
        return None
    url = f"{config.workspace_url}/archives/{channel}/p{ts.replace('.', '')}"
    if thread_ts and thread_ts != ts:
        url += f"?thread_ts={thread_ts}&cid={channel}"
    return url


def _subject(text: str) -> str:
    line = next((x.strip() for x in text.splitlines() if x.strip()), "") or "(no text)"
    return line if len(line) <= SUBJECT_LENGTH else line[: SUBJECT_LENGTH - 1] + "…"


def parse_thread(
    channel: str, messages: Iterable[Message], config: SlackConfig
) -> tuple[RemoteTicket | None, tuple[RemoteComment, ...]]:
    """A thread (parent first) as one ticket and its replies as comments.

    A thread in which no customer spoke is no ticket: (None, ()).
    """
    spoken = sorted(
        (m for m in messages if m.subtype not in SKIPPED_SUBTYPES), key=lambda m: _ts_key(m.ts)
    )
    if not spoken:
        return None, ()
    customers = [m for m in spoken if not is_employee(m, config)]
    if not customers:
        return None, ()
    parent, last = spoken[0], spoken[-1]
    thread_ts = parent.thread_ts or parent.ts
    remote_id = f"{channel}:{thread_ts}"
    if is_employee(last, config):
        status = Status.PENDING
    elif any(is_employee(m, config) for m in spoken):
        status = Status.OPEN
    else:
        status = Status.NEW
    ticket = RemoteTicket(
        source=Source.CHAT,
        remote_id=remote_id,
        subject=_subject(parent.text),
        body=parent.text,
        status=status,
        priority=config.default_priority,
        channel=Channel.CHAT,
        labels=(),
        assignee=None,
        requester=customers[0].user,
        customer_remote_id=config.channel_customers.get(channel),
        opened_at=ts_to_datetime(customers[0].ts),
        updated_at=ts_to_datetime(last.ts),
        url=permalink(config, channel, thread_ts),
        version=last.ts,
    )
    comments = tuple(
        RemoteComment(
            source=Source.CHAT,
            ticket_remote_id=remote_id,
            remote_id=f"{channel}:{m.ts}",
            author=m.user,
            body=m.text,
            public=True,
            created_at=ts_to_datetime(m.ts),
            author_role=message_role(m, config),
        )
        for m in spoken[1:]
    )
    return ticket, comments


def slack_error(payload: object, what: str, now_ts: float, retry_after: str | None) -> None:
    """Raise the error an ``ok: false`` answer means; return if ``ok`` is true."""
    f = Fields(payload, what)
    if f.flag("ok", default=False):
        return
    error = f.opt_text("error") or "unknown_error"
    message = f"{what}: {error}"
    if error in AUTH_ERRORS:
        raise AuthFailed(message)
    if error == "ratelimited":
        raise RateLimited(message, parse_retry_after(retry_after, now_ts, default=30.0))
    if error in UNAVAILABLE_ERRORS:
        raise BackendUnavailable(message)
    if error == "invalid_cursor":
        raise BadPayload(message)
    raise Rejected(message)


# --------------------------------------------------------------------------------------------
# The adapter


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
            horizon = _ts_key(datetime_to_ts(self._horizon()))
            for entry in channels.values():
                entry["threads"] = {
                    ts: seen for ts, seen in entry["threads"].items() if _ts_key(ts) >= horizon
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
            latest = max((m.ts for m in messages), key=_ts_key)
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
                if seen is None or _ts_key(latest) > _ts_key(seen):
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
            latest = max((m.ts for m in messages), key=_ts_key)
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

    async def push(self, op: Op) -> PushResult:
        """Post a thread reply, or a new message in a channel; chat takes nothing else."""
        if op.kind is OpKind.POST_MESSAGE:
            return await self._post_to_channel(op)
        if op.kind is not OpKind.REPLY:
            raise unsupported(self.name, op)
        channel, thread_ts = split_remote_id(op.remote_id)
        text = str(op.payload.get("body") or "")
        if not text.strip():
            raise Rejected(f"{self.name}: a reply needs some text")
        sent = await self._post_message(op, channel, text, thread_ts=thread_ts)
        if isinstance(sent, PushResult):
            return sent
        posted, ts = sent
        return bounded_result(
            PushResult(
                remote_id=op.remote_id or "",
                version=ts,
                url=permalink(self.config, channel, ts, thread_ts),
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
            self.limits,
        )

    async def _post_message(
        self, op: Op, channel: str, text: str, *, thread_ts: str | None = None
    ) -> PushResult | tuple[Fields | None, str]:
        """``chat.postMessage`` carrying the outbox key in its metadata: the posted message and
        its ts, or, when the answer does not name the message, what :meth:`lookup` finds."""
        args: dict[str, Any] = {"channel": channel, "text": text}
        if thread_ts is not None:
            args["thread_ts"] = thread_ts
        found = await self.call(
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
            log.info("%s: looking up an unnamed message failed: %s", self.name, exc)
            looked_up = None
        if looked_up is not None:
            return looked_up
        raise BadPayload(f"{self.name}: chat.postMessage answered without a ts")

    async def _post_to_channel(self, op: Op) -> PushResult:
        """``chat.postMessage`` without ``thread_ts``: a new top-level message, carrying the
        outbox key in its metadata (so :meth:`lookup` finds it after an unclear send)."""
        channel = str(op.payload.get("channel") or "")
        text = str(op.payload.get("text") or "")
        if not CHANNEL_ID.match(channel):
            raise Rejected(f"{self.name}: {channel[:40]!r} is not a channel id")
        if not text.strip():
            raise Rejected(f"{self.name}: a message needs some text")
        sent = await self._post_message(op, channel, text)
        if isinstance(sent, PushResult):
            return sent
        _, ts = sent
        ts_to_datetime(ts)  # a ts we can name the message by
        return self._posted(channel, ts)

    def _posted(self, channel: str, ts: str) -> PushResult:
        return bounded_result(
            PushResult(
                remote_id=f"{channel}:{ts}", version=ts, url=permalink(self.config, channel, ts)
            ),
            self.limits,
        )

    async def _lookup_channel_message(self, op: Op) -> PushResult | None:
        """Find a channel message by the outbox key in its metadata: the channel's history
        since a little before the entry was queued (it cannot have been posted earlier)."""
        channel = str(op.payload.get("channel") or "")
        if not CHANNEL_ID.match(channel):
            return None
        oldest = datetime_to_ts(op.created_at - timedelta(minutes=10)) if op.created_at else None
        history = self.messages(
            "conversations.history",
            max_pages=20,
            channel=channel,
            oldest=oldest,
            include_all_metadata="true",
            limit=self.page_limit,
        )
        async with aclosing(history):
            async for item in history:
                meta = item.get("metadata") if isinstance(item, dict) else None
                payload = meta.get("event_payload") if isinstance(meta, dict) else None
                if (
                    isinstance(payload, dict)
                    and payload.get("idempotency_key") == op.idempotency_key
                ):
                    message = self.triage.read("message", item, parse_message, ("ts",))
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
        found = await self.call(
            "conversations.replies",
            channel=channel,
            ts=thread_ts,
            oldest=oldest,
            include_all_metadata="true",
            limit=self.page_limit,
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
                        url=permalink(self.config, channel, message.ts, thread_ts),
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
                    self.limits,
                )
        return None


def _next_cursor(found: Fields) -> str | None:
    """The cursor of the next page of a history or replies answer; none after the last."""
    meta = found.opt_sub("response_metadata")
    return (meta.opt_text("next_cursor") if meta else None) or None


def split_remote_id(remote_id: str | None) -> tuple[str, str]:
    """``C0123:1700000000.000100`` → (channel, thread ts)."""
    channel, _, thread_ts = (remote_id or "").partition(":")
    if not channel or not thread_ts:
        raise Rejected(f"slack: {str(remote_id)[:60]!r} is not a thread id (channel:ts)")
    return channel, thread_ts


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


__all__ = [
    "Message",
    "SlackBackend",
    "SlackConfig",
    "datetime_to_ts",
    "is_employee",
    "parse_message",
    "parse_thread",
    "permalink",
    "slack_error",
    "split_remote_id",
    "ts_to_datetime",
]
