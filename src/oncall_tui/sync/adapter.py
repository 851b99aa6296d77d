"""What the HTTP adapters (GitHub, Slack, Zendesk) share: one request, and following pages.

:class:`HttpAdapter` holds what every adapter is built from (its client, options, clock,
name, text limits and :class:`~oncall_tui.sync.base.Triage`; the adapter's own state is set
up in ``_setup``), hands ``push`` and ``lookup`` to the adapter's :class:`Writer` (an
:class:`AdapterPart`, in ``<backend>_push.py``) and sends one request through
:func:`~oncall_tui.sync.http.send` and :func:`~oncall_tui.sync.http.check_status`; an adapter
gives the backend's own rules through four hooks:

- ``_before_send(resource)``: refuse early (GitHub's spent rate limit) or count the request
  (Zendesk's shared budget);
- ``_after_send(response, resource)``: read the budget headers of every answer;
- ``_headers(headers)``: headers every request carries (GitHub's API version);
- ``_on_error(response, what)``: statuses the backend gives its own meaning (GitHub's
  rate-limited 403), run before the defaults.

:func:`paginate` follows a backend's pages, whatever carries the next one (a ``Link`` header,
a ``next_page`` URL in the body, Slack's ``next_cursor``), within a safety bound;
:meth:`HttpAdapter.page_request` turns a next-page URL from the server into a request of the
same origin (a token never goes to another host).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import httpx

from oncall_tui.domain.clock import Clock, SystemClock
from oncall_tui.domain.ops import Op, OpKind
from oncall_tui.sync.base import PushResult, Triage
from oncall_tui.sync.http import check_status, limits_of, response_json, same_origin, send

T = TypeVar("T")
C = TypeVar("C")
#: An adapter's options (``GitHubConfig``, ``SlackConfig``, ``ZendeskConfig``).
ConfigT = TypeVar("ConfigT")
#: What a part of an adapter needs of its adapter: ``HttpAdapter[ItsConfig]``, or a
#: protocol naming the adapter's own methods too (the part never imports its adapter).
HostT = TypeVar("HostT")

#: ``on_error`` of :func:`~oncall_tui.sync.http.check_status`.
OnError = Callable[[httpx.Response, str], None]


class Writer(Protocol):
    """The push side of an adapter (its ``writer``): :meth:`HttpAdapter.push` and
    :meth:`HttpAdapter.lookup` hand their operation to it."""

    async def push(self, op: Op) -> PushResult:
        """Apply one outbox operation."""
        ...

    async def lookup(self, op: Op, taken: frozenset[str]) -> PushResult | None:
        """Did an unclear operation happen? (see :meth:`oncall_tui.sync.base.Backend.lookup`)"""
        ...


async def paginate(
    fetch: Callable[[C | None], Awaitable[tuple[Iterable[T], C | None]]], *, max_pages: int
) -> AsyncIterator[T]:
    """The items of every page, in order: ``fetch(None)`` first, then ``fetch(next)`` for
    each next-page cursor a page gives, until a page gives none or ``max_pages`` are read.

    A page is fetched only once the items of the one before it are taken, so a caller that
    stops early (it found what it looked for) sends no further request.
    """
    cursor: C | None = None
    for _ in range(max_pages):
        items, cursor = await fetch(cursor)
        for item in items:
            yield item
        if cursor is None:
            return


class HttpAdapter(Generic[ConfigT]):
    """The base of an adapter over an HTTP API (see the module docstring).

    Args:
        client: from :func:`oncall_tui.sync.http.build_client`.
        config: the adapter's options; ``None`` takes :meth:`default_config`.
        clock: the wall clock (Retry-After dates, rate-limit resets).
        name: the backend's name in ``sync_state`` and in every message
            (:attr:`default_name` if not given).

    An adapter sets up its own state in :meth:`_setup`, run at the end of construction.
    """

    #: The backend's name when none is given (``github``, ``slack``, ``zendesk``).
    default_name: ClassVar[str] = ""
    #: The outbox operations the adapter applies (each adapter's class sets them).
    supported_ops: frozenset[OpKind]

    def __init__(
        self,
        client: httpx.AsyncClient,
        config: ConfigT | None = None,
        *,
        clock: Clock | None = None,
        name: str | None = None,
    ) -> None:
        self.client = client
        self.config: ConfigT = self.default_config() if config is None else config
        self.clock = clock or SystemClock()
        self.name = name or self.default_name
        self.limits = limits_of(client)
        #: Records set aside: the next page carries them to the sync log.
        self.triage = Triage()
        self._setup()

    def default_config(self) -> ConfigT:
        """The options of an adapter built without any (only Zendesk has defaults for all)."""
        raise TypeError(f"{type(self).__name__} needs its config")

    def _setup(self) -> None:
        """The adapter's own state, once client, config, clock and name are set."""

    def _shown(self) -> str:
        """What ``repr`` shows besides the name."""
        return ""

    def __repr__(self) -> str:
        shown = self._shown()
        return f"{type(self).__name__}(name={self.name!r}{', ' if shown else ''}{shown})"

    def _now_ts(self) -> float:
        return self.clock().timestamp()

    # -- push: the writer's

    #: Set by the adapter's :meth:`_setup`.
    writer: Writer

    async def push(self, op: Op) -> PushResult:
        """Apply one outbox operation (the adapter's writer does)."""
        return await self.writer.push(op)

    async def lookup(self, op: Op, taken: frozenset[str] = frozenset()) -> PushResult | None:
        """Did an unclear operation happen? (the adapter's writer looks)"""
        return await self.writer.lookup(op, taken)

    # -- hooks

    def _before_send(self, resource: str) -> None:
        """Before every request: raise to refuse it, or count it."""

    def _after_send(self, response: httpx.Response, resource: str) -> None:
        """After every answer, whatever its status."""

    def _headers(self, headers: Mapping[str, str] | None) -> Mapping[str, str] | None:
        """The headers of a request, given the caller's."""
        return headers

    def _on_error(self, response: httpx.Response, what: str) -> None:
        """For an error status: raise the backend's own meaning, or return for the defaults."""

    # -- requests

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
    ) -> httpx.Response:
        """Send one request; error statuses other than ``ok`` raise (see check_status).

        ``on_error`` replaces the adapter's ``_on_error`` for this request.
        """
        self._before_send(resource)
        response = await send(
            self.client,
            method,
            url,
            backend=self.name,
            params=params,
            json=json,
            headers=self._headers(headers),
        )
        self._after_send(response, resource)
        if response.status_code not in ok:
            check_status(response, self.name, self._now_ts(), on_error=on_error or self._on_error)
        return response

    async def _json(self, method: str, url: str, **kwargs: Any) -> Any:
        """The decoded JSON of one request's answer (see :meth:`_call`)."""
        return response_json(await self._call(method, url, **kwargs), self.name)

    def page_request(
        self, next_url: str | None, url: str, params: Mapping[str, Any] | None
    ) -> tuple[str, Mapping[str, Any] | None]:
        """The request of a page: the first (``url`` with ``params``) while ``next_url`` is
        ``None``, else the server's next-page URL, which already carries its query and must
        be of the client's origin."""
        if next_url is None:
            return url, params
        return same_origin(self.client, next_url, self.name), None


class AdapterPart(Generic[HostT]):
    """A part of an adapter (its writer) over the adapter's requests, options and state
    (``self.backend``); ``HostT`` says what the part needs of its adapter, so the part
    does not import the adapter's module (which imports the part)."""

    def __init__(self, backend: HostT) -> None:
        self.backend = backend
