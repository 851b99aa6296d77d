"""What the fake Zendesk's parts share: the wire spellings of statuses, priorities and
channels, the demo agent, and the shape of an error answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from oncall_tui.demo.fakes import json_response
from oncall_tui.domain.tickets import Channel, Priority

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


__all__ = [
    "AGENT_ID",
    "IDEMPOTENCY_TTL",
    "PRIORITIES",
    "PRIORITY_WIRE",
    "STATUSES",
    "VIA_OF_CHANNEL",
    "error_response",
    "event_value",
    "iso",
    "parse_iso",
]
