"""What the fake GitHub's parts share: a repository's state, the device flow's pending
codes, the shape of an error answer, and what they need of the fake (:class:`GitHubHost`)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from oncall_tui.demo.fakes import Call, json_response
from oncall_tui.sync.base import RemoteTicket

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


class GitHubHost(Protocol):
    """:class:`~oncall_tui.demo.fakes.github.GitHubFake` as its parts (issues, device flow)
    see it; the fake imports the parts, so they name it by this."""

    tokens: set[str]
    random: random.Random
    repos: dict[str, Repo]
    search_lag: float
    device_auto_approve_after: int | None
    _devices: dict[str, Device]
    _indexed_at: dict[tuple[str, int], datetime]

    def _now(self) -> datetime: ...

    def _touch(self, issue: dict[str, Any]) -> None: ...

    def _comment(
        self,
        repo: str,
        number: int,
        body: str,
        login: str,
        created_at: str | None = None,
        cid: int | None = None,
        *,
        touch: bool = True,
    ) -> dict[str, Any]: ...

    def add_issue(self, issue: Mapping[str, Any] | RemoteTicket) -> dict[str, Any]: ...

    def user(self, login: str) -> dict[str, Any]: ...

    def label(self, repo: str, name: str) -> dict[str, Any]: ...

    def count(self, mutation: str) -> None: ...

    def not_found(self, call: Call) -> httpx.Response: ...


__all__ = ["DEVICE_GRANT", "DOCS", "Device", "GitHubHost", "Repo", "error_response", "iso"]
