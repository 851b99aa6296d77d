"""Slack's wire JSON read into records (pure), its options, and its ``ok: false`` errors.

A message that cannot be read raises :class:`~oncall_tui.sync.base.BadPayload`; the
adapter sets it aside and reads the rest of the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.domain.tickets import Channel, Priority, Source, Status
from oncall_tui.sync.base import (
    AuthFailed,
    BackendUnavailable,
    BadPayload,
    RateLimited,
    Rejected,
    RemoteComment,
    RemoteTicket,
)
from oncall_tui.sync.fields import Fields
from oncall_tui.sync.http import parse_retry_after
from oncall_tui.sync.options import only_known, positive_number, text_table

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
        customers = text_table(
            options, key, "channel_customers", "a table of channel = customer id"
        )
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
            channel_customers=customers,
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


def ts_key(ts: str) -> tuple[int, int]:
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
        (m for m in messages if m.subtype not in SKIPPED_SUBTYPES), key=lambda m: ts_key(m.ts)
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


def split_remote_id(remote_id: str | None) -> tuple[str, str]:
    """``C0123:1700000000.000100`` → (channel, thread ts)."""
    channel, _, thread_ts = (remote_id or "").partition(":")
    if not channel or not thread_ts:
        raise Rejected(f"slack: {str(remote_id)[:60]!r} is not a thread id (channel:ts)")
    return channel, thread_ts


__all__ = [
    "Message",
    "SKIPPED_SUBTYPES",
    "SlackConfig",
    "datetime_to_ts",
    "is_employee",
    "message_role",
    "parse_message",
    "parse_thread",
    "permalink",
    "slack_error",
    "split_remote_id",
    "ts_to_datetime",
]
