"""The paging helper and request base the adapters share (oncall_tui.sync.adapter)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from oncall_tui.domain.clock import FrozenClock
from oncall_tui.sync.adapter import HttpAdapter, paginate
from oncall_tui.sync.base import AuthFailed, BadPayload, RateLimited, Rejected
from tests.sync.conftest import NOW, TOKEN, assert_no_secret, client_for

pytestmark = pytest.mark.anyio

BASE = "https://api.example.com"


def paged(pages: int, per_page: int = 2) -> tuple[list[httpx.Request], Any]:
    """A server of ``pages`` pages of numbered items, each naming the next in a Link header;
    and the requests it was sent."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        page = int(request.url.params.get("page", "1"))
        items = [(page - 1) * per_page + i for i in range(per_page)]
        headers = {}
        if page < pages:
            headers["link"] = f'<{BASE}/items?page={page + 1}>; rel="next"'
        return httpx.Response(200, json=items, headers=headers)

    return seen, handler


def link_pages(adapter: HttpAdapter, first: str, params: dict[str, Any]) -> Any:
    """The ``fetch`` of :func:`paginate` for a list whose pages name the next in ``Link``."""

    async def fetch(next_url: str | None) -> tuple[list[Any], str | None]:
        url, query = adapter.page_request(next_url, first, params)
        response = await adapter._call("GET", url, params=query)
        return response.json(), response.links.get("next", {}).get("url")

    return fetch


class Recorder(HttpAdapter[dict[str, str]]):
    """An adapter (no options) whose hooks record what they see."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        super().__init__(client, {}, clock=FrozenClock(NOW), name="test")
        self.events: list[str] = []

    def _before_send(self, resource: str) -> None:
        self.events.append(f"before {resource}")

    def _after_send(self, response: httpx.Response, resource: str) -> None:
        self.events.append(f"after {response.status_code}")

    def _headers(self, headers: Any) -> dict[str, str]:
        return {"X-Api": "1", **(headers or {})}

    def _on_error(self, response: httpx.Response, what: str) -> None:
        if response.status_code == 418:
            raise RateLimited(f"{what}: a teapot", 5.0)


async def test_paginate_reads_every_page_in_order_and_stops_at_the_last() -> None:
    seen, handler = paged(3)
    adapter = Recorder(client_for(handler, BASE))
    items = [i async for i in paginate(link_pages(adapter, "/items", {"q": "x"}), max_pages=10)]
    assert items == [0, 1, 2, 3, 4, 5]
    # The first request carries the caller's query; the next ones only the server's URL.
    assert [str(r.url) for r in seen] == [
        f"{BASE}/items?q=x",
        f"{BASE}/items?page=2",
        f"{BASE}/items?page=3",
    ]
    assert all(r.headers["x-api"] == "1" for r in seen)
    assert adapter.events == ["before core", "after 200"] * 3


async def test_paginate_stops_at_its_bound() -> None:
    seen, handler = paged(100)
    adapter = Recorder(client_for(handler, BASE))
    items = [i async for i in paginate(link_pages(adapter, "/items", {}), max_pages=4)]
    assert len(seen) == 4 and items == list(range(8))


async def test_a_caller_that_stops_early_sends_no_further_request() -> None:
    seen, handler = paged(5)
    adapter = Recorder(client_for(handler, BASE))
    async for item in paginate(link_pages(adapter, "/items", {}), max_pages=10):
        if item == 2:  # the first item of the second page
            break
    assert len(seen) == 2


async def test_paginate_with_no_pages_to_follow_fetches_once() -> None:
    calls: list[object] = []

    async def fetch(cursor: str | None) -> tuple[list[int], str | None]:
        calls.append(cursor)
        return [], None

    assert [i async for i in paginate(fetch, max_pages=3)] == []
    assert calls == [None]


async def test_a_next_page_of_another_origin_is_refused_before_it_is_sent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json=[1], headers={"link": '<https://evil.example/steal>; rel="next"'}
        )

    adapter = Recorder(client_for(handler, BASE))
    with pytest.raises(BadPayload):
        [i async for i in paginate(link_pages(adapter, "/items", {}), max_pages=10)]
    assert [r.url.host for r in seen] == ["api.example.com"]


@pytest.mark.parametrize(
    ("status", "error", "text"),
    [
        (418, RateLimited, "a teapot"),  # the adapter's own meaning first
        (401, AuthFailed, "401"),  # then the defaults of check_status
        (422, Rejected, "422"),
    ],
)
async def test_call_maps_error_statuses_through_the_hooks(
    status: int, error: type[Exception], text: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"message": "no"})

    adapter = Recorder(client_for(handler, BASE))
    with pytest.raises(error) as caught:
        await adapter._call("GET", "/x", params={"access_token": TOKEN})
    assert text in str(caught.value) and "test: GET /x" in str(caught.value)
    assert_no_secret(caught.value)
    # The answer's hook ran before the status was judged.
    assert adapter.events == ["before core", f"after {status}"]


async def test_call_lets_ok_statuses_and_a_per_call_on_error_through() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(418 if request.url.path == "/teapot" else 404)

    adapter = Recorder(client_for(handler, BASE))
    assert (await adapter._call("GET", "/gone", ok=(404,))).status_code == 404

    def mine(response: httpx.Response, what: str) -> None:
        raise Rejected(f"{what}: mine")

    with pytest.raises(Rejected, match="mine"):
        await adapter._call("GET", "/teapot", on_error=mine, resource="search")
    assert adapter.events[-2:] == ["before search", "after 418"]


async def test_a_refusing_before_hook_sends_nothing() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])

    class Spent(Recorder):
        def _before_send(self, resource: str) -> None:
            raise RateLimited("test: spent", 30.0)

    with pytest.raises(RateLimited):
        await Spent(client_for(handler, BASE))._json("GET", "/x")
    assert seen == []
