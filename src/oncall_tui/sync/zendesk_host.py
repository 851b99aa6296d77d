"""What the parts of the Zendesk adapter need of it: :class:`ZendeskHost`.

The writer (``zendesk_push.py``) and the agent's pull (``zendesk_agent.py``) work over
their :class:`~oncall_tui.sync.zendesk.ZendeskBackend`'s requests, options and state;
the backend imports them, so they name it by this protocol rather than importing it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, Protocol

import httpx

from oncall_tui.domain.clock import Clock
from oncall_tui.domain.ops import OpKind
from oncall_tui.sync.adapter import OnError
from oncall_tui.sync.base import (
    Limits,
    Page,
    Quarantined,
    RemoteComment,
    RemoteCustomer,
    RemoteTicket,
    Triage,
)
from oncall_tui.sync.budget import SharedBudget
from oncall_tui.sync.fields import Fields
from oncall_tui.sync.zendesk_config import ZendeskConfig
from oncall_tui.sync.zendesk_wire import User


class ZendeskHost(Protocol):
    """A :class:`~oncall_tui.sync.zendesk.ZendeskBackend` as its parts see it."""

    name: str
    config: ZendeskConfig
    clock: Clock
    limits: Limits
    triage: Triage
    supported_ops: frozenset[OpKind]
    base_url: str
    users: dict[str, User]
    known_orgs: set[str]
    budget: SharedBudget

    def _now_ts(self) -> float: ...

    async def _call(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        resource: str = "core",
        ok: Iterable[int] = (),
        on_error: OnError | None = None,
    ) -> httpx.Response: ...

    async def _json(self, method: str, url: str, **kwargs: Any) -> Any: ...

    def pages(
        self, url: str, params: Mapping[str, Any], what: str, *, max_pages: int
    ) -> AsyncIterator[Fields]: ...

    def _page(
        self,
        state: dict[str, Any],
        *,
        done: bool,
        tickets: tuple[RemoteTicket, ...] = (),
        comments: tuple[RemoteComment, ...] = (),
        customers: tuple[RemoteCustomer, ...] = (),
        quarantined: tuple[Quarantined, ...] = (),
        notes: Iterable[str] = (),
    ) -> Page: ...

    async def fetch_comments(self, ticket_id: str) -> list[RemoteComment]: ...
