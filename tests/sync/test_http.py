"""The shared HTTP plumbing: client, redaction, Retry-After, error mapping, payload reading."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import time
import tracemalloc
import zlib
from dataclasses import replace
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from oncall_tui.domain.clock import FrozenClock
from oncall_tui.sync.base import (
    AuthFailed,
    BackendUnavailable,
    BadPayload,
    Limits,
    RateLimited,
    Rejected,
    SyncError,
    decode_cursor,
    encode_cursor,
)
from oncall_tui.sync.fields import Fields
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


# -- bounded I/O (the loopback versions are in tests/reliability/test_hostile_servers.py) --------


def streaming(chunks: list[bytes], headers: dict[str, str] | None = None, status: int = 200):
    """A handler answering with a real byte stream (not bytes already in memory)."""

    def handler(request: httpx.Request) -> httpx.Response:
        async def body():  # type: ignore[no-untyped-def]
            for chunk in chunks:
                yield chunk

        return httpx.Response(status, headers=headers or {}, content=body())

    return handler


def bounded_client(handler: Any, **limits: Any) -> httpx.AsyncClient:
    return build_client(
        "https://x.example", TOKEN, transport=httpx.MockTransport(handler), limits=Limits(**limits)
    )


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),  # zlib-wrapped, as the RFC says
        ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as many servers send
        ("gzip", lambda b: gzip.compress(b[:10]) + gzip.compress(b[10:])),  # two members
        ("gzip, gzip", lambda b: gzip.compress(gzip.compress(b))),
        ("identity", lambda b: b),
    ],
)
async def test_encodings_are_decoded_within_the_cap(encoding: str, encode: Any) -> None:
    payload = json.dumps({"tickets": [{"id": n} for n in range(200)]}).encode()
    wire = encode(payload)
    chunks = [wire[i : i + 7] for i in range(0, len(wire), 7)]
    client = bounded_client(streaming(chunks, {"Content-Encoding": encoding}))
    response = await send(client, "GET", "/p", backend="test")
    assert response.content == payload
    assert "content-encoding" not in response.headers
    with pytest.raises(BadPayload, match="larger than the 1,000 bytes limit"):
        await send(
            bounded_client(streaming(chunks, {"Content-Encoding": encoding}), response_bytes=1000),
            "GET",
            "/p",
            backend="test",
        )


async def test_a_bomb_is_stopped_by_its_decoded_size() -> None:
    bomb = gzip.compress(bytes(50 * 1024 * 1024))  # 50 MiB of zeros in ~50 kB
    client = bounded_client(streaming([bomb], {"Content-Encoding": "gzip"}), response_bytes=2**20)
    tracemalloc.start()
    try:
        with pytest.raises(BadPayload, match="larger than the 1 MiB limit"):
            await send(client, "GET", "/p", backend="test")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20, peak


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress"])
async def test_an_encoding_we_did_not_ask_for_is_bad_payload(encoding: str) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return streaming([b"\x00\x01"], {"Content-Encoding": encoding})(request)

    with pytest.raises(BadPayload, match="encoding we did not ask for"):
        await send(bounded_client(handler), "GET", "/p", backend="test")
    assert seen[0].headers["accept-encoding"] == "gzip, deflate"


async def test_sizes_are_checked_on_the_declared_length_and_in_memory_answers() -> None:
    declared = streaming([b"{}"], {"Content-Length": str(10**12)})
    with pytest.raises(BadPayload, match="larger than"):
        await send(bounded_client(declared), "GET", "/p", backend="test")

    def in_memory(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b" " * 5000)

    with pytest.raises(BadPayload, match="larger than the 4,096 bytes limit"):
        await send(bounded_client(in_memory, response_bytes=4096), "GET", "/p", backend="test")


async def test_the_deadline_covers_the_whole_exchange() -> None:
    def trickle(request: httpx.Request) -> httpx.Response:
        async def body():  # type: ignore[no-untyped-def]
            for byte in b'{"tickets": []}':
                await asyncio.sleep(0.2)
                yield bytes([byte])

        return httpx.Response(200, content=body())

    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match="no complete answer within 0.5s") as caught:
        await send(
            bounded_client(trickle, deadline=0.5),
            "GET",
            "/p",
            backend="test",
            params={"token": TOKEN},
        )
    assert time.monotonic() - started < 5
    assert_no_secret(caught.value)


async def test_redirects_follow_the_same_origin_for_reads_only() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url}")
        if request.url.path == "/old":
            return httpx.Response(301, headers={"Location": "/new?page=2"})
        if request.url.path == "/away":
            return httpx.Response(302, headers={"Location": "https://evil.example:8443/x?q=1"})
        if request.url.path == "/write":
            return httpx.Response(307, headers={"Location": "/written"})
        return httpx.Response(200, json={"at": request.url.path})

    client = bounded_client(handler)
    response = await send(client, "GET", "/old", backend="test")
    assert response.json() == {"at": "/new"} and len(response.history) == 1
    assert seen[-1] == "GET https://x.example/new?page=2"
    with pytest.raises(BadPayload, match=r"another host \(https://evil.example:8443\)") as away:
        await send(client, "GET", "/away", backend="test")
    assert "q=1" not in away.value.message and "/x" not in away.value.message
    with pytest.raises(Rejected, match="redirected a PUT") as write:
        await send(client, "PUT", "/write", backend="test", json={"a": 1})
    assert write.value.status == 307
    assert not any("evil" in s or "written" in s for s in seen)


def test_limits_come_from_the_config_and_bad_ones_are_one_line() -> None:
    from oncall_tui.domain.errors import ConfigValueError
    from oncall_tui.settings.config import config_from_dict
    from oncall_tui.settings.secrets import Credential, MemorySecretStore, Secret
    from oncall_tui.sync.factory import build_backend
    from oncall_tui.sync.http import limits_of

    table = {"max_response_mb": 8, "request_deadline": 30, "max_text_chars": 20_000}
    config = config_from_dict(
        {"backends": {"zendesk": {"url": "https://acme.zendesk.com", "limits": table}}}
    )
    assert Limits.from_table(config.backends["zendesk"].limits, "k") == Limits(
        response_bytes=8 * 2**20, deadline=30.0, text_chars=20_000
    )
    credential = Credential(kind="token", access=Secret(TOKEN))
    backend, client = build_backend(
        "zendesk",
        config.backends["zendesk"],
        config,
        credential,
        MemorySecretStore(),
        FrozenClock(NOW),
    )
    assert limits_of(client).response_bytes == 8 * 2**20
    assert backend.limits.text_chars == 20_000  # type: ignore[attr-defined]
    for bad in (
        {"max_response_mb": 0},
        {"max_response_mb": "big"},
        {"request_deadline": float("inf")},
        {"max_redirects": 2.5},
        {"max_redirects": True},
        {"max_line_chars": 10},
        {"max_bytes": 1},
    ):
        with pytest.raises(ConfigValueError) as caught:
            Limits.from_table(bad, "backends.zendesk.limits")
        assert "backends.zendesk.limits." in str(caught.value)
        with pytest.raises(ConfigValueError, match=r"backends\.github\.limits\."):  # at load
            config_from_dict({"backends": {"github": {"repos": ["a/b"], "limits": bad}}})


def test_bounded_cuts_text_but_never_ids() -> None:
    from oncall_tui.domain.remote import RemoteCustomer, RemoteTicket
    from oncall_tui.domain.tickets import Channel, Priority, Source, Status
    from oncall_tui.sync.base import TRUNCATED, bounded, cut

    assert cut("abc", 3) == "abc" and cut("abcdefghijklmnopqrstuvwxyz", 20).endswith(TRUNCATED)
    assert len(cut("x" * 50, 20)) == 20
    limits = Limits(line_chars=80, text_chars=1000, labels=10)
    big = RemoteTicket(
        source=Source.HELPDESK,
        remote_id="9" * 150,
        subject="s" * 500,
        body="b" * 5000,
        status=Status.OPEN,
        priority=Priority.P1,
        channel=Channel.EMAIL,
        labels=tuple("l" * 200 for _ in range(50)),
        assignee="a" * 100,
        requester=None,
        customer_remote_id="c" * 150,
        opened_at=NOW,
        updated_at=NOW,
        url="https://x/" + "u" * 500,
        version="v" * 150,
    )
    small = bounded(big, limits)
    assert (small.remote_id, small.customer_remote_id, small.version) == (
        big.remote_id,
        big.customer_remote_id,
        big.version,
    )
    assert len(small.subject) == 80 and small.subject.endswith(TRUNCATED)
    assert len(small.body) == 1000 and small.body.endswith(TRUNCATED)
    assert len(small.labels) == 10 and all(len(x) == 80 for x in small.labels)
    assert small.assignee is not None and len(small.assignee) == 80
    assert small.url is None and small.status is Status.OPEN
    fine = replace(big, subject="ok", body="ok", labels=(), assignee=None, url=None)
    assert bounded(fine, limits) is fine
    customer = RemoteCustomer(
        "1", "Acme", "free", contacts=tuple(f"p{i}@a.example" for i in range(500))
    )
    assert len(bounded(customer, limits).contacts) == 500  # the guard checks every one
    with pytest.raises(BadPayload, match="longer than 200"):
        Fields({"id": "1" * 201}, "x").ident("id")
