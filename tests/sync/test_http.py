"""The shared HTTP plumbing: client, redaction, Retry-After, error mapping, payload reading."""

from __future__ import annotations

import base64
from email.utils import format_datetime

import httpx
import pytest

from oncall_tui.sync.base import (
    AuthFailed,
    BackendUnavailable,
    BadPayload,
    Fields,
    RateLimited,
    Rejected,
    SyncError,
    decode_cursor,
    encode_cursor,
)
from oncall_tui.sync.http import (
    USER_AGENT,
    build_client,
    check_status,
    parse_retry_after,
    redact,
    send,
)
from tests.sync.conftest import NOW, TOKEN, assert_no_secret

pytestmark = pytest.mark.anyio
NOW_TS = NOW.timestamp()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("1.5", 1.5),
        (" 7 ", 7.0),
        ("-3", 0.0),
        (format_datetime(NOW.replace(minute=2), usegmt=True), 120.0),
        ("Tue, 04 Mar 2025 16:00:00 GMT", 0.0),  # in the past
        ("soon", 60.0),
        ("inf", 60.0),
        ("nan", 60.0),
        (None, 60.0),
    ],
)
def test_parse_retry_after(value: str | None, expected: float) -> None:
    assert parse_retry_after(value, NOW_TS) == pytest.approx(expected)


def test_redact_hides_secrets_only() -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Cookie": "a=b", "Accept": "x"}
    assert redact(headers) == {"Authorization": "[redacted]", "Cookie": "[redacted]", "Accept": "x"}


async def test_build_client_sets_auth_agent_and_base() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    client = build_client(
        "https://ghe.example.com/api/v3/", TOKEN, transport=httpx.MockTransport(handler)
    )
    async with client:
        await client.get("/repos/a/b/issues")
    request = seen[0]
    assert str(request.url) == "https://ghe.example.com/api/v3/repos/a/b/issues"
    assert request.headers["user-agent"] == USER_AGENT
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert_no_secret(client.headers, request.headers, request, client)

    basic = build_client("https://acme.zendesk.com", "me@acme.com/token:KEY", auth_scheme="Basic")
    expected = base64.b64encode(b"me@acme.com/token:KEY").decode()
    assert basic.headers["authorization"] == f"Basic {expected}"
    assert "authorization" not in build_client("https://x", None).headers
    await basic.aclose()


@pytest.mark.parametrize(
    ("exc", "error"),
    [
        (httpx.ConnectTimeout("t"), BackendUnavailable),
        (httpx.ReadTimeout("t"), BackendUnavailable),
        (httpx.ConnectError("refused"), BackendUnavailable),
        (httpx.RemoteProtocolError("closed"), BackendUnavailable),
        (httpx.ReadError("reset"), BackendUnavailable),
        (httpx.TooManyRedirects("loop"), BackendUnavailable),
    ],
)
async def test_transport_failures_map_onto_sync_errors(
    exc: Exception, error: type[SyncError]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    client = build_client("https://x", TOKEN, transport=httpx.MockTransport(handler))
    with pytest.raises(error) as caught:
        await send(client, "GET", "/path", backend="test", params={"access_token": TOKEN})
    assert "GET /path" in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert_no_secret(caught.value)


async def test_broken_content_encoding_is_bad_payload() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"not gzip", headers={"Content-Encoding": "gzip"})

    client = build_client("https://x", TOKEN, transport=httpx.MockTransport(handler))
    with pytest.raises(BadPayload):
        await send(client, "GET", "/p", backend="test")


@pytest.mark.parametrize(
    ("status", "headers", "error"),
    [
        (401, {}, AuthFailed),
        (403, {}, AuthFailed),
        (404, {}, Rejected),
        (409, {}, Rejected),
        (422, {}, Rejected),
        (429, {"Retry-After": "9"}, RateLimited),
        (500, {}, BackendUnavailable),
        (503, {"Retry-After": "4"}, BackendUnavailable),
    ],
)
def test_statuses_map_onto_sync_errors(
    status: int, headers: dict[str, str], error: type[SyncError]
) -> None:
    request = httpx.Request("GET", f"https://x/api/thing?token={TOKEN}")
    response = httpx.Response(
        status, headers=headers, json={"error": "Nope", "description": "no"}, request=request
    )
    with pytest.raises(error) as caught:
        check_status(response, "test", NOW_TS)
    assert "GET /api/thing" in str(caught.value) and str(status) in str(caught.value)
    assert_no_secret(caught.value)
    if isinstance(caught.value, RateLimited):
        assert caught.value.retry_after == 9
    if status == 503:
        assert isinstance(caught.value, BackendUnavailable) and caught.value.retry_after == 4
    if isinstance(caught.value, Rejected):
        assert caught.value.status == status


def test_success_passes_and_404_may_be_fine() -> None:
    request = httpx.Request("GET", "https://x/a")
    check_status(httpx.Response(200, request=request), "t", NOW_TS)
    check_status(httpx.Response(304, request=request), "t", NOW_TS)
    check_status(httpx.Response(404, request=request), "t", NOW_TS, not_found_ok=True)


def test_fields_name_what_is_wrong() -> None:
    f = Fields({"id": 1, "name": 3, "tags": ["a", 2], "when": "2025-01-01T00:00:00Z"}, "thing")
    assert f.ident("id") == "1"
    with pytest.raises(BadPayload, match=r"thing\.name: expected a string, got a int"):
        f.text("name")
    with pytest.raises(BadPayload, match="list of strings"):
        f.texts("tags")
    assert f.instant("when").tzinfo is not None
    assert f.opt_text("absent") is None and f.items("absent") == []
    with pytest.raises(BadPayload, match="expected a JSON object"):
        Fields(["not", "an", "object"], "thing")


def test_cursors_round_trip_and_garbage_restarts() -> None:
    text = encode_cursor({"a": [1, 2]}, "zendesk")
    state = decode_cursor(text, "zendesk")
    assert state.data == {"a": [1, 2]} and not state.fresh
    for bad in (None, "", "{", "[]", encode_cursor({}, "github"), '{"kind":"zendesk","v":9}'):
        assert decode_cursor(bad, "zendesk").fresh
