"""The HTTP plumbing every adapter shares: one configured client, and error mapping.

`build_client` makes the `httpx.AsyncClient` an adapter receives (base URL, auth header,
User-Agent, timeouts, redacted debug logging, the backend's :class:`~oncall_tui.sync.base.Limits`).
`send` performs one request and maps every httpx failure onto the :mod:`oncall_tui.sync.base`
error tree; `check_status` does the same for HTTP statuses an adapter has no special meaning for.
Nothing here ever puts a token, an ``Authorization`` header or a query string into a message or
a log line.

A server cannot make `send` read without end: the body is streamed and stops past
``Limits.response_bytes`` (counted after decompression, so a gzip bomb stops there too, and a
``Content-Length`` above it is refused unread); the whole exchange has a deadline
(``Limits.deadline``: httpx's timeouts are per read, so a byte every few seconds never trips
them); redirects are followed only for a GET and only to the same origin (scheme, host, port),
so a token or an internal note never goes to another host.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import logging
import math
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from oncall_tui import __version__
from oncall_tui.sync.base import (
    AuthFailed,
    BackendUnavailable,
    BadPayload,
    Limits,
    RateLimited,
    Rejected,
    SyncError,
    clamp_wait,
)
from oncall_tui.sync.fields import decode_json
from oncall_tui.sync.http_body import complete, read_bounded

log = logging.getLogger(__name__)

USER_AGENT = f"oncall-tui/{__version__} (httpx/{httpx.__version__})"
#: Connect fast or give up (bad wifi); allow a slow server a while to send a large page.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=30.0, write=15.0, pool=10.0)
#: Header names whose values are secrets (compared lower-case).
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)
#: Longest backend error text copied into a message.
MAX_DETAIL = 200
#: The encodings `send` can decode within a bound (httpx would add br/zstd when installed).
ACCEPT_ENCODING = "gzip, deflate"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: Methods a redirect may be followed for: they change nothing at the backend.
SAFE_METHODS = frozenset({"GET", "HEAD"})
DEFAULT_LIMITS = Limits()


class BoundedClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` that carries its backend's :class:`Limits`.

    Attributes:
        io_limits: what :func:`send` enforces for requests through this client, and the text
            bounds the adapter applies to what it reads.
    """

    def __init__(self, *args: Any, io_limits: Limits = DEFAULT_LIMITS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.io_limits = io_limits


def limits_of(client: httpx.AsyncClient) -> Limits:
    """The limits of a client from :func:`build_client`; the defaults for any other."""
    return client.io_limits if isinstance(client, BoundedClient) else DEFAULT_LIMITS


def redact(headers: Mapping[str, str] | httpx.Headers) -> dict[str, str]:
    """A copy of ``headers`` with secret values replaced, safe to log or show."""
    return {
        key: ("[redacted]" if key.lower() in SECRET_HEADERS else value)
        for key, value in headers.items()
    }


def auth_header(token: str, auth_scheme: str = "Bearer") -> str:
    """The ``Authorization`` value: ``Bearer <token>``, or Basic with ``user:secret``."""
    if auth_scheme.lower() == "basic":
        return "Basic " + base64.b64encode(token.encode()).decode("ascii")
    return f"{auth_scheme} {token}"


async def _log_request(request: httpx.Request) -> None:
    if log.isEnabledFor(logging.DEBUG):
        log.debug("-> %s %s %s", request.method, request.url.path, redact(request.headers))


async def _log_response(response: httpx.Response) -> None:
    if log.isEnabledFor(logging.DEBUG):
        request = response.request
        log.debug("<- %s %s %s", request.method, request.url.path, response.status_code)


def build_client(
    base_url: str,
    token: str | None,
    auth_scheme: str = "Bearer",
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    *,
    headers: Mapping[str, str] | None = None,
    user_agent: str = USER_AGENT,
    limits: Limits = DEFAULT_LIMITS,
) -> BoundedClient:
    """The client an adapter talks through.

    Args:
        base_url: the API root, e.g. ``https://acme.zendesk.com``,
            ``https://ghe.example.com/api/v3`` or ``https://slack.com/api``.
        token: the access token (None for unauthenticated calls such as OAuth endpoints). For
            ``auth_scheme="Basic"`` pass ``user:secret`` (Zendesk: ``email/token:API_TOKEN``).
        auth_scheme: ``Bearer`` (OAuth tokens, Slack, GitHub), ``token`` or ``Basic``.
        transport: e.g. ``httpx.MockTransport(fake.handler)`` in tests and the demo.
        timeout: httpx timeout (seconds or an ``httpx.Timeout``).
        headers: extra default headers (e.g. GitHub's ``Accept``).
        user_agent: sent with every request (GitHub rejects requests without one).
        limits: response size, deadline, redirects and text bounds (see :class:`Limits`).

    httpx itself masks ``Authorization`` in ``repr(headers)``; our debug log hooks go through
    :func:`redact`. The client follows no redirect by itself: :func:`send` decides.
    """
    default_headers = {
        "User-Agent": user_agent,
        "Accept": "application/json",
        "Accept-Encoding": ACCEPT_ENCODING,
    }
    default_headers.update(headers or {})
    if token:
        default_headers["Authorization"] = auth_header(token, auth_scheme)
    return BoundedClient(
        base_url=base_url.rstrip("/") + "/",
        headers=default_headers,
        transport=transport,
        timeout=timeout,
        follow_redirects=False,
        limits=httpx.Limits(max_connections=8, max_keepalive_connections=4),
        event_hooks={"request": [_log_request], "response": [_log_response]},
        io_limits=limits,
    )


def parse_retry_after(value: str | None, now_ts: float, default: float = 60.0) -> float:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP-date.

    Missing or unreadable values give ``default``; dates in the past give 0; anything
    longer than :data:`~oncall_tui.sync.base.MAX_SERVER_WAIT` (15 minutes) gives that.
    """
    return clamp_wait(_retry_after(value, now_ts, default), default)


def _retry_after(value: str | None, now_ts: float, default: float) -> float:
    if value is None:
        return default
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if math.isnan(seconds) or (math.isinf(seconds) and not any(map(str.isdigit, value))):
            return default  # "nan", "inf": not a wait
        return max(0.0, seconds)  # a number too big for a float is clamped like any other
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return default
    if when is None:  # pragma: no cover - older Pythons returned None
        return default
    return max(0.0, when.timestamp() - now_ts)


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in."""
    port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, port


def show_origin(url: httpx.URL) -> str:
    """``https://host:port`` of a URL, for messages (never its path or query)."""
    scheme, host, port = origin(url)
    return f"{scheme}://{host}:{port}" if port else f"{scheme}://{host}"


def same_origin(client: httpx.AsyncClient, url: str, backend: str) -> str:
    """``url`` if it points at the client's own host, else BadPayload.

    Pagination links come from the server; following one elsewhere would send our token there.
    """
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL:
        raise BadPayload(f"{backend}: a pagination link is not a URL") from None
    if origin(target) != origin(client.base_url):
        raise BadPayload(f"{backend}: a pagination link points at another host ({target.host})")
    return url


def describe(method: str, url: httpx.URL | str) -> str:
    """``GET /api/v2/tickets/1.json``: how messages name a request (path only, no query)."""
    path = url.path if isinstance(url, httpx.URL) else httpx.URL(url).path
    return f"{method} {path}"


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str | httpx.URL,
    *,
    backend: str,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    data: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """Send one request within the client's :class:`Limits`; every failure is a SyncError.

    The response is returned whatever its status (see :func:`check_status`), with its body
    read and decoded: ``response.content`` is what the server sent, at most
    ``Limits.response_bytes``. A redirect is followed for a GET to the same origin; one to
    another origin (:class:`BadPayload`) or for any other method (:class:`Rejected`: 3xx
    means "not done here") is not.
    """
    limits = limits_of(client)
    what = f"{backend}: {describe(method, url)}"
    try:
        request = client.build_request(
            method, url, params=params, json=json, data=data, headers=headers
        )
        request.headers["Accept-Encoding"] = ACCEPT_ENCODING
        async with asyncio.timeout(limits.deadline):
            return await _exchange(client, request, limits, what)
    except TimeoutError:
        raise BackendUnavailable(
            f"{what}: no complete answer within {limits.deadline:g}s"
        ) from None
    except httpx.TimeoutException as exc:
        raise BackendUnavailable(f"{what}: timed out ({type(exc).__name__})") from None
    except (httpx.DecodingError, zlib.error):
        raise BadPayload(f"{what}: the answer's encoding is broken") from None
    except httpx.TransportError as exc:  # connect/read/write errors, dropped connection
        raise BackendUnavailable(f"{what}: connection failed ({type(exc).__name__})") from None
    except httpx.InvalidURL:
        raise Rejected(f"{what}: invalid URL") from None
    except httpx.HTTPError as exc:
        raise BackendUnavailable(f"{what}: {type(exc).__name__}") from None


async def _exchange(
    client: httpx.AsyncClient, request: httpx.Request, limits: Limits, what: str
) -> httpx.Response:
    """Send ``request``, following allowed redirects; the final answer, read within bounds."""
    history: list[httpx.Response] = []
    start = origin(request.url)
    for _ in range(limits.redirects + 1):
        response = await client.send(request, stream=True, follow_redirects=False)
        try:
            target = response.next_request
            if response.status_code not in REDIRECTS or target is None:
                body = await read_bounded(response, limits.response_bytes, what)
                return complete(response, body, history)
            if request.method not in SAFE_METHODS:
                raise Rejected(
                    f"{what}: the server redirected a {request.method} "
                    f"({response.status_code}) to {show_origin(target.url)}; not followed",
                    response.status_code,
                )
            if origin(target.url) != start:
                raise BadPayload(
                    f"{what}: redirected ({response.status_code}) to another host "
                    f"({show_origin(target.url)}); not followed"
                )
            history.append(response)
            request = target
        finally:
            await response.aclose()
    raise BadPayload(f"{what}: more than {limits.redirects} redirects")


def response_json(response: httpx.Response, backend: str) -> Any:
    """The response's JSON body; anything unreadable raises :class:`BadPayload`."""
    return decode_json(
        response.content, f"{backend}: {describe(response.request.method, response.request.url)}"
    )


def error_detail(response: httpx.Response) -> str:
    """The backend's own short explanation of an error response, if it gave one."""
    try:
        body = decode_json(response.content, "error")
    except SyncError:
        return ""
    parts: list[str] = []
    if isinstance(body, dict):
        for key in ("message", "error", "description", "error_description"):
            value = body.get(key)
            if isinstance(value, str) and value and value not in parts:
                parts.append(value)
            elif isinstance(value, dict):  # Zendesk: {"error": {"title", "message"}}
                inner = value.get("message") or value.get("title")
                if isinstance(inner, str):
                    parts.append(inner)
        details = body.get("details") or body.get("errors")
        if details and not parts:
            parts.append(str(details))
    text = without_credentials("; ".join(parts), response.request)
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"


def without_credentials(text: str, request: httpx.Request) -> str:
    """``text`` with the request's own credential cut out, should the backend echo it."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    secrets = [value]
    if scheme.lower() == "basic":
        try:
            user_secret = base64.b64decode(value, validate=True).decode()
        except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
            user_secret = ""
        secrets += [user_secret, user_secret.rpartition(":")[2]]
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 8:
            text = text.replace(secret, "[redacted]")
    return text


def check_status(
    response: httpx.Response,
    backend: str,
    now_ts: float,
    *,
    not_found_ok: bool = False,
    on_error: Callable[[httpx.Response, str], None] | None = None,
) -> None:
    """Raise the :class:`SyncError` matching an error status; return for 1xx-3xx.

    ``on_error(response, what)`` runs first, for statuses the backend gives its own meaning
    (GitHub's rate-limited 403); it raises or returns to fall through to the defaults.
    """
    status = response.status_code
    if status < 400 or (status == 404 and not_found_ok):
        return
    what = f"{backend}: {describe(response.request.method, response.request.url)}"
    if on_error is not None:
        on_error(response, what)
    detail = error_detail(response)
    suffix = f": {detail}" if detail else ""
    if status == 401:
        raise AuthFailed(f"{what}: not signed in or the token expired (401){suffix}")
    if status == 403:
        raise AuthFailed(f"{what}: the token may not do this (403){suffix}")
    if status == 429:
        retry = parse_retry_after(response.headers.get("retry-after"), now_ts)
        raise RateLimited(f"{what}: rate limited, retry in {retry:.0f}s (429)", retry)
    if status >= 500:
        hint = response.headers.get("retry-after")
        retry_after = parse_retry_after(hint, now_ts) if hint is not None else None
        raise BackendUnavailable(f"{what}: server error ({status}){suffix}", retry_after)
    raise Rejected(f"{what}: refused ({status}){suffix}", status)
