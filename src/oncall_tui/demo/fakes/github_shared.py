"""What the fake GitHub's parts share: a repository's state, the device flow's pending
codes, and the shape of an error answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from oncall_tui.demo.fakes import json_response

DOCS = "https://docs.github.com/rest"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def error_response(status: int, message: str, **extra: Any) -> httpx.Response:
    return json_response(
        status, {"message": message, "documentation_url": DOCS, "status": str(status), **extra}
    )


@dataclass
class Repo:
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_number: int = 1


@dataclass
class Device:
    client_id: str
    user_code: str
    scope: str
    expires: datetime
    interval: int = 5
    approved: bool = False
    denied: bool = False
    polls: int = 0
    last_poll: datetime | None = None


__all__ = ["DEVICE_GRANT", "DOCS", "Device", "Repo", "error_response", "iso"]
