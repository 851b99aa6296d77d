"""What the fake Zendesk's parts share: the wire spellings of statuses, priorities and
channels, the demo agent, the shape of an error answer, an OAuth grant, and what they need
of the fake (:class:`ZendeskHost`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx

from oncall_tui.demo.fakes import Call, json_response
from oncall_tui.domain.clock import Clock
from oncall_tui.domain.tickets import Channel, Priority
from oncall_tui.sync.base import RemoteTicket

STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
PRIORITIES = ("urgent", "high", "normal", "low")
PRIORITY_WIRE = {
    Priority.P0: "urgent",
    Priority.P1: "high",
    Priority.P2: "normal",
    Priority.P3: "low",
}
VIA_OF_CHANNEL = {
    Channel.EMAIL: "email",
    Channel.FORM: "web",
    Channel.CHAT: "chat",
    Channel.ALERT: "api",
    Channel.TRACKER: "api",
}
AGENT_ID = 1
IDEMPOTENCY_TTL = timedelta(hours=2)


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def error_response(status: int, error: str, description: str, **extra: Any) -> httpx.Response:
    return json_response(status, {"error": error, "description": description, **extra})


def event_value(value: Any) -> Any:
    """Audit event values are strings or integers (lists of tags are space-separated)."""
    return " ".join(map(str, value)) if isinstance(value, list) else value


@dataclass
class Grant:
    """An OAuth authorization code's pending grant (the sign-in, ``zendesk_oauth.py``)."""

    client_id: str
    redirect_uri: str
    challenge: str | None
    method: str
    scope: str
    expires: datetime


class ZendeskHost(Protocol):
    """:class:`~oncall_tui.demo.fakes.zendesk.ZendeskFake` as its parts (exports, reads,
    writes, sign-in) see it; the fake imports the parts, so they name it by this."""

    clock: Clock
    tokens: set[str]
    tickets: dict[int, dict[str, Any]]
    comments: dict[int, list[dict[str, Any]]]
    users: dict[int, dict[str, Any]]
    organizations: dict[int, dict[str, Any]]
    export_page_size: int
    export_lag: float
    export_rate_per_minute: float | None
    search_lag: float
    comments_page_size: int
    _changed: dict[int, int]
    _events: list[tuple[int, int, int, int]] | None
    _idempotency: dict[str, tuple[str, int, datetime]]
    _export_calls: dict[tuple[str, str], list[float]]
    _grants: dict[str, Grant]
    _refresh: dict[str, str]
    _expiry: dict[str, datetime]
    _indexed_at: dict[int, datetime]

    def _now(self) -> datetime: ...

    def _new_id(self) -> int: ...

    def _touch(self, tid: int, bump: bool = True) -> None: ...

    def _append_comment(
        self,
        tid: int,
        author_id: int,
        body: str,
        public: bool,
        created_at: str,
        cid: int | None = None,
    ) -> dict[str, Any]: ...

    def _page(
        self, call: Call, items: list[Any], key: str, path: str, default: int = 100
    ) -> dict[str, Any]: ...

    def add_ticket(self, ticket: Mapping[str, Any] | RemoteTicket) -> dict[str, Any]: ...

    def admin_only(self, call: Call) -> httpx.Response | None: ...

    def count(self, mutation: str) -> None: ...

    def not_found(self, call: Call) -> httpx.Response: ...

    def rate_limited(self, call: Call, retry_after: float) -> httpx.Response: ...


__all__ = [
    "AGENT_ID",
    "IDEMPOTENCY_TTL",
    "Grant",
    "PRIORITIES",
    "PRIORITY_WIRE",
    "STATUSES",
    "VIA_OF_CHANNEL",
    "ZendeskHost",
    "error_response",
    "event_value",
    "iso",
    "parse_iso",
]
