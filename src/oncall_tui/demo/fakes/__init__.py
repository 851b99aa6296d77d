"""Wire-format fake backends: in-memory Zendesk, GitHub and Slack that speak the real APIs.

Each fake (:mod:`.zendesk`, :mod:`.github`, :mod:`.slack`) answers the same paths, JSON shapes,
pagination and headers as the real service, keeps its data in memory, applies pushes (so the
outbox really changes something), counts every mutation (``fake.mutations``) so tests can
assert exactly-once delivery, and injects faults from a :class:`~.faults.FaultPlan`.

Three ways to talk to one:

- ``httpx.MockTransport(fake.handler)``: a plain function; works with sync *and* async clients
  (MockTransport awaits the result only if it is awaitable). Latency blocks the caller.
- ``httpx.MockTransport(fake.async_handler)``: the same, but latency and slow bodies sleep
  without blocking the event loop (the demo's choice).
- :func:`~.loopback.serve_on_loopback`: a real HTTP server on ``127.0.0.1`` for end-to-end
  runs, where timeouts and dropped connections happen on a real socket.

The hostile faults (an endless or huge body, a gzip bomb, a trickle: :data:`~.faults.STREAMING`)
stream without end, so they need ``async_handler`` or the loopback server; a ``REDIRECT``
works everywhere.
"""

from __future__ import annotations

import abc
import json
import re
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl

import anyio
import httpx

from oncall_tui.demo.fakes.faults import STREAMING, Fault, FaultPlan, hostile_body, hostile_headers
from oncall_tui.domain.clock import Clock, SystemClock

DEFAULT_TOKEN = "demo-token"
JSON_TYPE = "application/json; charset=utf-8"
SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
CHUNK = 64


@dataclass
class Call:
    """What a route function gets: the request, parsed."""

    request: httpx.Request
    path: str
    """The path below the fake's prefix, %-encoded as it was sent."""
    args: dict[str, str]
    """Named groups of the route pattern."""
    params: httpx.QueryParams
    body: Any
    """Parsed JSON or form body (a dict), None if empty."""
    token: str | None
    base: str
    """Absolute URL of the fake's root as the client sees it (for links)."""

    def param(self, name: str, default: str | None = None) -> str | None:
        """A query parameter, or for form/JSON bodies a body field (Slack accepts both)."""
        if name in self.params:
            return self.params[name]
        if isinstance(self.body, dict) and name in self.body:
            value = self.body[name]
            return value if isinstance(value, str) else json.dumps(value)
        return default


@dataclass
class Logged:
    """One request as the fake saw it, and its answer: for spec checks in tests."""

    method: str
    path: str
    params: list[tuple[str, str]]
    headers: dict[str, str]
    body: Any
    status: int
    response: Any
    fault: Fault | None = None


@dataclass
class Route:
    """One endpoint: method, path pattern, function, and how faults apply to it."""

    method: str
    pattern: re.Pattern[str]
    func: Callable[[Call], httpx.Response]
    auth: bool = True
    list_key: str | None = None
    """Where the page's list lives (``""``: the body is the list), for ``Fault.REPEAT``."""


class BodyError(ValueError):
    """The request body is not what its content type says."""


def json_response(status: int, data: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    """A JSON answer."""
    body = json.dumps(data).encode()
    return httpx.Response(
        status, content=body, headers={"Content-Type": JSON_TYPE, **(headers or {})}
    )


@dataclass
class Prepared:
    """An answer made ready to send: the response, the fault it carries, its body read."""

    response: httpx.Response
    fault: Fault | None
    body: bytes = b""
    after: BaseException | None = None


class FakeServer(abc.ABC):
    """The machinery every fake shares: routing, bearer auth, faults, logging, counters.

    Args:
        tokens: bearer tokens the fake accepts (OAuth flows add more).
        faults: what goes wrong; none by default.
        clock: the fake's notion of now (timestamps of what it creates, rate-limit windows).
        prefix: a path prefix the API lives under (GitHub Enterprise's ``/api/v3``).
    """

    name = "fake"
    #: Seconds between two pieces of customer activity in :meth:`tick`.
    activity_interval = 8.0
    #: Most activities one :meth:`tick` makes up for (after a long pause).
    MAX_CATCH_UP = 5

    def __init__(
        self,
        *,
        tokens: tuple[str, ...] | list[str] | set[str] = (DEFAULT_TOKEN,),
        faults: FaultPlan | None = None,
        clock: Clock | None = None,
        prefix: str = "",
    ) -> None:
        self.tokens: set[str] = set(tokens)
        self.faults = faults or FaultPlan()
        self.clock = clock or SystemClock()
        self.prefix = prefix.rstrip("/")
        self.mutations: Counter[str] = Counter()
        self.log: list[Logged] = []
        self.routes: list[Route] = []
        self.lock = threading.RLock()
        self._last_tick: datetime | None = None

    # -- the demo's customers

    @abc.abstractmethod
    def add_activity(self) -> str:
        """Something a customer does now (a new ticket, a reply); returns what it touched."""

    def tick(self, now: datetime | None = None) -> list[str]:
        """Let time pass to ``now``: one activity per ``activity_interval`` seconds since the
        previous tick (the first tick only starts the count)."""
        now = now or self.clock()
        if self._last_tick is None or now < self._last_tick:
            self._last_tick = now
            return []
        due = int((now - self._last_tick).total_seconds() // self.activity_interval)
        if due:
            self._last_tick += timedelta(seconds=due * self.activity_interval)
        return [self.add_activity() for _ in range(min(due, self.MAX_CATCH_UP))]

    # -- building

    def route(
        self,
        method: str,
        pattern: str,
        func: Callable[[Call], httpx.Response],
        *,
        auth: bool = True,
        list_key: str | None = None,
    ) -> None:
        """Register an endpoint; ``pattern`` is a regex over the whole path below the prefix."""
        self.routes.append(Route(method, re.compile(pattern + r"\Z"), func, auth, list_key))

    # -- answers a subclass can shape like its backend

    def unauthorized(self, call: Call) -> httpx.Response:
        """No or unknown token."""
        return json_response(401, {"error": "unauthorized"})

    def rate_limited(self, call: Call, retry_after: float) -> httpx.Response:
        """The rate-limit answer."""
        return json_response(
            429, {"error": "rate limited"}, {"Retry-After": str(max(1, round(retry_after)))}
        )

    def server_error(self, call: Call, status: int) -> httpx.Response:
        """A 5xx answer."""
        headers = {"Retry-After": str(round(self.faults.retry_after))} if status == 503 else {}
        return json_response(status, {"error": "server error"}, headers)

    def not_found(self, call: Call) -> httpx.Response:
        """No such endpoint or record."""
        return json_response(404, {"error": "not found"})

    def bad_request(self, call: Call, message: str) -> httpx.Response:
        """A body the fake cannot read."""
        return json_response(400, {"error": message})

    def before(self, call: Call) -> httpx.Response | None:
        """Runs before an authorized route (e.g. a spent rate limit answers instead)."""
        return None

    def after(self, call: Call, response: httpx.Response) -> httpx.Response:
        """Runs after a route (e.g. to add rate-limit headers)."""
        return response

    # -- serving

    def handler(self, request: httpx.Request) -> httpx.Response:
        """Answer one request (blocking: latency and slow bodies sleep in the caller)."""
        prepared = self._prepare(request)
        if prepared.fault in STREAMING:
            raise ValueError(f"{prepared.fault} streams: use async_handler or serve_on_loopback")
        delay = self._delay(prepared)
        if delay:
            time.sleep(delay)
        return self._finish(prepared)

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        """Answer one request without blocking the event loop."""
        prepared = self._prepare(request)
        if prepared.fault is Fault.LATENCY:
            await anyio.sleep(self.faults.latency)
        if prepared.fault in STREAMING and prepared.after is None:
            assert prepared.fault is not None
            fault, plan, path = prepared.fault, self.faults, request.url.path
            pieces = hostile_body(fault, prepared.body, plan)

            async def stream() -> AsyncIterator[bytes]:
                sent = 0
                try:
                    for delay, piece in pieces:
                        if delay:
                            await anyio.sleep(delay)
                        sent += len(piece)
                        yield piece
                finally:
                    plan.record_stream(path, fault, sent)

            headers = hostile_headers(fault, prepared.response, len(prepared.body), plan)
            return httpx.Response(prepared.response.status_code, headers=headers, content=stream())
        if prepared.fault is Fault.SLOW_BODY and prepared.after is None:
            body, delay = prepared.body, self.faults.slow_chunk_delay

            async def chunks() -> AsyncIterator[bytes]:
                for start in range(0, len(body), CHUNK):
                    await anyio.sleep(delay)
                    yield body[start : start + CHUNK]

            response = prepared.response
            headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
            return httpx.Response(response.status_code, headers=headers, content=chunks())
        return self._finish(prepared)

    def _delay(self, prepared: Prepared) -> float:
        if prepared.fault is Fault.LATENCY:
            return self.faults.latency
        if prepared.fault is Fault.SLOW_BODY:
            return self.faults.slow_chunk_delay * (len(prepared.body) // CHUNK + 1)
        return 0.0

    def _finish(self, prepared: Prepared) -> httpx.Response:
        if prepared.after is not None:
            raise prepared.after
        return prepared.response

    def _prepare(self, request: httpx.Request) -> Prepared:
        """Route, authenticate, apply faults and log; delays are left to the caller."""
        call = self._call(request)
        route, args = self._match(call)
        fault = self.faults.choose(request)
        if fault is Fault.DROP:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        after: BaseException | None = None
        body_error = None
        try:
            call.body = _parse_body(request)
        except BodyError as exc:
            body_error = str(exc)
        if route is None:
            response = self.not_found(call)
        elif fault is Fault.REDIRECT:
            target = (self.faults.redirect_to or call.base.removesuffix(self.prefix)).rstrip("/")
            query = request.url.query.decode("ascii")
            location = target + request.url.raw_path.decode("ascii").split("?", 1)[0]
            response = httpx.Response(
                self.faults.redirect_status,
                headers={"Location": location + (f"?{query}" if query else "")},
            )
        elif fault is Fault.RATE_LIMIT:
            response = self.rate_limited(call, self.faults.retry_after)
        elif fault is Fault.SERVER_ERROR:
            response = self.server_error(call, 500)
        elif fault is Fault.UNAVAILABLE:
            response = self.server_error(call, 503)
        elif route.auth and not self.authorized(call):
            response = self.unauthorized(call)
        elif body_error is not None:
            response = self.bad_request(call, body_error)
        else:
            call.args = args
            with self.lock:
                response = self.before(call) or route.func(call)
                response = self.after(call, response)
        response.read()
        body = response.content
        if fault is Fault.REPEAT and route is not None and route.list_key is not None:
            body = _repeat_first(body, route.list_key)
            response = _with_body(response, body)
        elif fault is Fault.MALFORMED:
            body = body[: max(1, len(body) // 2)] or b"{"
            response = _with_body(response, body, status=200)
        elif fault is Fault.LOST_RESPONSE:
            after = httpx.ReadError("Connection reset while reading the response.", request=request)
        self._log(call, response, fault)
        return Prepared(response, fault, body, after)

    #: Accept any bearer token (``oncall-tui demo serve``: nothing to sign in to).
    any_token = False

    def authorized(self, call: Call) -> bool:
        """Whether the request carries a token the fake accepts."""
        if self.any_token:
            return call.token is not None
        return call.token is not None and call.token in self.tokens

    def _call(self, request: httpx.Request) -> Call:
        path = request.url.raw_path.decode("ascii").split("?", 1)[0]  # as sent: %-encoded
        if self.prefix and path.startswith(self.prefix):
            path = path[len(self.prefix) :] or "/"
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        port = f":{request.url.port}" if request.url.port else ""
        return Call(
            request=request,
            path=path,
            args={},
            params=request.url.params,
            body=None,
            token=token.strip() if scheme.lower() in ("bearer", "token") and token else None,
            base=f"{request.url.scheme}://{request.url.host}{port}{self.prefix}",
        )

    def _match(self, call: Call) -> tuple[Route | None, dict[str, str]]:
        for route in self.routes:
            if route.method != call.request.method:
                continue
            found = route.pattern.match(call.path)
            if found:
                return route, found.groupdict()
        return None, {}

    def _log(self, call: Call, response: httpx.Response, fault: Fault | None) -> None:
        try:
            answer = json.loads(response.content) if response.content else None
        except (ValueError, RecursionError):
            answer = None
        with self.lock:
            self.log.append(
                Logged(
                    method=call.request.method,
                    path=call.path,
                    params=list(call.params.multi_items()),
                    headers={
                        k: ("[redacted]" if k.lower() in SECRET_HEADERS else v)
                        for k, v in call.request.headers.items()
                    },
                    body=call.body,
                    status=response.status_code,
                    response=answer,
                    fault=fault,
                )
            )

    # -- helpers for subclasses

    def count(self, mutation: str) -> None:
        """Record that a mutation was applied (tests assert exactly-once with this)."""
        self.mutations[mutation] += 1


def _parse_body(request: httpx.Request) -> Any:
    content = request.content
    if not content:
        return None
    kind = request.headers.get("content-type", "")
    if "json" in kind:
        try:
            return json.loads(content)
        except (ValueError, RecursionError):
            raise BodyError("the body is not valid JSON") from None
    if "x-www-form-urlencoded" in kind:
        return dict(parse_qsl(content.decode("utf-8", "replace"), keep_blank_values=True))
    raise BodyError(f"unsupported content type {kind or 'none'}")


def _repeat_first(body: bytes, list_key: str) -> bytes:
    try:
        data = json.loads(body)
    except ValueError:
        return body
    items = data if list_key == "" else (data.get(list_key) if isinstance(data, dict) else None)
    if isinstance(items, list) and items:
        items.append(items[0])
    return json.dumps(data).encode()


def _with_body(response: httpx.Response, body: bytes, status: int | None = None) -> httpx.Response:
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return httpx.Response(status or response.status_code, headers=headers, content=body)


#: What a part of a fake needs of its fake: a protocol beside the part (``GitHubHost``,
#: ``ZendeskHost``), so the part never imports its fake's module (which imports the part).
HostT = TypeVar("HostT")


class FakePart(Generic[HostT]):
    """A group of a fake's endpoints (or its sign-in), over the fake's state (``self.fake``).

    ``HostT`` says what the part needs of its fake.
    """

    def __init__(self, fake: HostT) -> None:
        self.fake = fake


__all__ = [
    "DEFAULT_TOKEN",
    "Call",
    "FakePart",
    "FakeServer",
    "Fault",
    "FaultPlan",
    "Logged",
    "Route",
    "json_response",
]
