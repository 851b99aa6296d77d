"""Fixtures for the adapter and fake-backend tests: a frozen clock, tokens, clients, fixtures."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from oncall_tui.demo.fakes import FakeServer
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.ops import Op, OpKind
from oncall_tui.domain.tickets import Source
from oncall_tui.sync.http import build_client

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
#: Tuesday 2025-03-04 17:00 UTC (09:00 in Los Angeles).
NOW = datetime(2025, 3, 4, 17, 0, tzinfo=UTC)
#: A token distinctive enough to grep every message and repr for.
TOKEN = "tok-SECRET-b7f1c9e2a4d6"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


def fixture(backend: str, name: str) -> Any:
    """A JSON fixture from ``tests/fixtures/<backend>/<name>.json``."""
    return json.loads((FIXTURES / backend / f"{name}.json").read_text())


def client_for(
    fake: FakeServer | Callable[[httpx.Request], Any],
    base_url: str,
    token: str | None = TOKEN,
) -> httpx.AsyncClient:
    """An adapter's client over a fake's async handler (MockTransport holds no sockets)."""
    handler = fake.async_handler if isinstance(fake, FakeServer) else fake
    return build_client(base_url, token, transport=httpx.MockTransport(handler))


def op(
    kind: OpKind,
    source: Source,
    remote_id: str | None = None,
    key: str = "op-1",
    created_at: datetime | None = None,
    **payload: Any,
) -> Op:
    """An outbox entry as the engine would hand it to ``push``."""
    return Op(
        kind=kind,
        source=source,
        payload=payload,
        idempotency_key=key,
        remote_id=remote_id,
        created_at=created_at or NOW - timedelta(seconds=5),
    )


def assert_no_secret(*things: object) -> None:
    """Neither ``str`` nor ``repr`` of anything here shows the token."""
    for thing in things:
        assert TOKEN not in str(thing), thing
        assert TOKEN not in repr(thing), thing
