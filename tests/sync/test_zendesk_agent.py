"""The Zendesk adapter with an agent's token (issue 16): the search export, the overlap, the
shared budget and the scope, against the wire fake (over loopback where it matters)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from oncall_tui.demo.fakes.loopback import serve_on_loopback
from oncall_tui.demo.fakes.zendesk import ZendeskFake
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.domain.remote import Page
from oncall_tui.domain.tickets import Source, Status
from oncall_tui.store import Store, open_store
from oncall_tui.sync import zendesk_agent
from oncall_tui.sync.base import RateLimited, decode_cursor, encode_cursor
from oncall_tui.sync.http import build_client
from oncall_tui.sync.zendesk import ZendeskBackend
from oncall_tui.sync.zendesk_agent import AGENT_WHY, FORBIDDEN_WHY
from oncall_tui.sync.zendesk_config import ZendeskConfig
from tests.sync.conftest import NOW, TOKEN
from tests.sync.spec_check import problems_in_log
from tests.sync.test_zendesk import seed_customers, ticket

pytestmark = pytest.mark.anyio
GROUP, OTHER = 12, 99


def make_fake(clock: FrozenClock, **kwargs: Any) -> ZendeskFake:
    kwargs.setdefault("export_lag", 0.0)
    kwargs.setdefault("export_rate_per_minute", None)
    kwargs.setdefault("roles", {TOKEN: "agent"})
    kwargs.setdefault("agent_groups", (GROUP,))
    fake = ZendeskFake(tokens=[TOKEN], clock=clock, **kwargs)
    seed_customers(fake)
    fake.add_ticket(ticket(1, hours_ago=5, group=str(GROUP)))
    fake.add_ticket(ticket(2, hours_ago=4, group=str(GROUP), status=Status.PENDING))
    fake.add_ticket(ticket(3, hours_ago=3, group=str(OTHER)))  # another team's
    fake.add_ticket(ticket(4, hours_ago=48, group=str(GROUP), status=Status.SOLVED))
    fake.add_ticket(ticket(5, hours_ago=24 * 30, group=str(GROUP), status=Status.SOLVED))
    for n in (1, 2, 3):
        fake.add_comment(
            {
                "ticket_id": n,
                "author_id": 7,
                "body": f"answer {n}",
                "created_at": iso(-2.0 + n / 10),
            }
        )
    return fake


def iso(hours: float) -> str:
    return (NOW + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def served(clock: FrozenClock) -> Iterator[tuple[ZendeskFake, str]]:
    fake = make_fake(clock)
    url, stop = serve_on_loopback(fake)
    try:
        yield fake, url
    finally:
        stop()


def adapter_for(url: str, clock: FrozenClock, **config: Any) -> ZendeskBackend:
    return ZendeskBackend(build_client(url, TOKEN), ZendeskConfig(**config), clock=clock)


async def one_pass(
    adapter: ZendeskBackend, cursor: str | None, store: Store | None = None, limit: int = 60
) -> tuple[list[Page], str | None]:
    """fetch_changes until a page is done, waiting out (on the frozen clock) each wait_hint."""
    pages: list[Page] = []
    for _ in range(limit):
        page = await adapter.fetch_changes(cursor)
        pages.append(page)
        if store is not None:
            store.remote.apply_page(adapter.name, page)
        cursor = page.cursor
        if page.wait_hint:
            adapter.clock.advance(page.wait_hint)  # type: ignore[attr-defined]
        if page.done:
            return pages, cursor
    raise AssertionError("never done")


def tickets_of(pages: list[Page]) -> list[str]:
    return [t.remote_id for p in pages for t in p.tickets]


def comments_requested(fake: ZendeskFake, since: int = 0) -> list[str]:
    return [e.path.split("/")[4] for e in fake.log[since:] if e.path.endswith("/comments.json")]


async def test_an_agent_token_fills_the_queue_through_the_search_export(
    served: tuple[ZendeskFake, str], clock: FrozenClock
) -> None:
    fake, url = served
    adapter = adapter_for(url, clock)
    pages, cursor = await one_pass(adapter, None)
    # the open, new, pending and hold tickets of the user's group, and recently solved ones
    assert sorted(tickets_of(pages)) == ["1", "2", "4"]
    by_id = {t.remote_id: t for p in pages for t in p.tickets}
    assert by_id["1"].requester == "dana@globex.example"  # the requester looked up in bulk
    assert {c.remote_id for p in pages for c in p.customers} == {"9001"}
    bodies = sorted(c.body for p in pages for c in p.comments)
    assert bodies == ["answer 1", "answer 2"]
    assert all(c.author_handle == "alice@acme.example" for p in pages for c in p.comments)
    assert sorted(comments_requested(fake)) == ["1", "2", "4"]  # once per changed ticket
    paths = {e.path for e in fake.log}
    assert not any("incremental" in p for p in paths)  # the role said agent: no 403 asked for
    assert "/api/v2/users/show_many.json" in paths
    assert [e.path for e in fake.log].count("/api/v2/users/me.json") == 1
    assert "/api/v2/organizations/show_many.json" in paths
    assert adapter.access == ("agent", AGENT_WHY)
    notes = [n for p in pages for n in p.notes]
    assert any("search export" in n and "admin" in n for n in notes)
    assert problems_in_log("zendesk", fake.log) == []
    exports = [dict(e.params) for e in fake.log if e.path == "/api/v2/search/export.json"]
    assert all(q["filter[type]"] == "ticket" and "type:" not in q["query"] for q in exports)
    assert all(f"group:{GROUP}" in q["query"] for q in exports)


async def test_later_passes_bring_changes_and_comments_once_despite_the_overlap(
    clock: FrozenClock,
) -> None:
    fake = make_fake(clock, search_lag=60.0)
    # changed 2 minutes before the first pass: inside the next pass's overlap window
    fake.add_ticket(ticket(6, hours_ago=2 / 60, group=str(GROUP)))
    url, stop = serve_on_loopback(fake)
    try:
        adapter = adapter_for(url, clock)
        first, cursor = await one_pass(adapter, None)
        assert "6" in tickets_of(first)
        # a ticket changed 30 s ago is not indexed yet: the overlap brings it next time
        fake.add_ticket(ticket(7, hours_ago=0.5 / 60, group=str(GROUP)))
        clock.advance(120)
        fake.add_comment(
            {"ticket_id": 1, "author_id": 7, "body": "a new answer", "created_at": iso(0.02)}
        )
        fake.tickets[1]["updated_at"] = iso(0.02)
        mark = len(fake.log)
        clock.advance(120)
        second, cursor = await one_pass(adapter, cursor)
        assert sorted(tickets_of(second)) == ["1", "7"]  # 6 is unchanged: not again
        assert sorted(comments_requested(fake, mark)) == ["1", "7"]
        assert [c.body for p in second for c in p.comments if c.ticket_remote_id == "1"][-1] == (
            "a new answer"
        )
        queries = [dict(e.params)["query"] for e in fake.log[mark:] if "search/export" in e.path]
        bound = (NOW + timedelta(seconds=0) - timedelta(seconds=300)).strftime("%Y-%m-%dT%H:%M")
        assert all(f"updated>{bound}" in q for q in queries), queries
        # a third pass with nothing new asks for no ticket's comments at all
        mark = len(fake.log)
        clock.advance(60)
        third, cursor = await one_pass(adapter, cursor)
        assert tickets_of(third) == [] and comments_requested(fake, mark) == []
        assert problems_in_log("zendesk", fake.log) == []
    finally:
        stop()


async def test_a_403_on_the_export_switches_to_the_agent_path_mid_run(
    served: tuple[ZendeskFake, str], clock: FrozenClock
) -> None:
    fake, url = served
    fake.roles.clear()  # an admin first
    adapter = adapter_for(url, clock)
    pages, cursor = await one_pass(adapter, None)
    assert adapter.access is not None and adapter.access[0] == "admin"
    assert "5" in tickets_of(pages)  # the export reads everything
    fake.roles[TOKEN] = "agent"  # demoted: the next export request is refused
    clock.advance(600)
    mark = len(fake.log)
    page = await adapter.fetch_changes(cursor)
    statuses = [(e.path, e.status) for e in fake.log[mark:]]
    assert statuses[0] == ("/api/v2/incremental/tickets/cursor.json", 403)
    assert ("/api/v2/search/export.json", 200) in statuses
    assert adapter.access == ("agent", FORBIDDEN_WHY)
    assert any("switching to the search export" in n for n in page.notes)
    rest, _ = await one_pass(adapter, page.cursor)
    assert sorted(tickets_of([page, *rest])) == ["1", "2", "4"]


async def test_the_request_rate_stays_inside_the_share_of_an_account_wide_limit(
    clock: FrozenClock,
) -> None:
    fake = make_fake(clock, account_rate_per_minute=100)
    for n in range(10, 40):
        fake.add_ticket(ticket(n, hours_ago=1, group=str(GROUP)))
    fake.spend(60)  # the user's browser and colleagues used 60 of the minute's 100
    times: list[float] = []

    async def counted(request: httpx.Request) -> httpx.Response:
        times.append(clock().timestamp())
        return await fake.async_handler(request)

    client = build_client("https://acme.zendesk.com", TOKEN, transport=httpx.MockTransport(counted))
    adapter = ZendeskBackend(client, ZendeskConfig(budget_share=0.2), clock=clock)
    pages, _ = await one_pass(adapter, None, limit=200)
    assert len(tickets_of(pages)) == 33
    assert adapter.budget.limit == 100  # read from X-Rate-Limit
    assert all(e.status != 429 for e in fake.log)
    for start in times:  # any minute holds at most 20 % of 100 of our requests
        assert sum(1 for t in times if start <= t < start + 60) <= 20
    assert len(times) > 30  # more than a minute's share: spread over minutes
    assert any(p.wait_hint for p in pages)


async def test_a_429_from_the_account_limit_carries_its_retry_after(clock: FrozenClock) -> None:
    fake = make_fake(clock, account_rate_per_minute=100)
    fake.spend(100)  # colleagues spent the whole minute
    url, stop = serve_on_loopback(fake)
    try:
        with pytest.raises(RateLimited) as caught:
            await adapter_for(url, clock).fetch_changes(None)
        assert 1 <= caught.value.retry_after <= 60
    finally:
        stop()


async def test_tickets_leaving_the_scope_stay_cached_marked_not_refreshed(
    served: tuple[ZendeskFake, str], clock: FrozenClock, tmp_path: Path
) -> None:
    fake, url = served
    store = open_store(tmp_path / "agent.db", clock=clock)
    try:
        adapter = adapter_for(url, clock, scope_sweep_minutes=30)
        _, cursor = await one_pass(adapter, None, store)
        assert store.tickets.find_ticket(Source.HELPDESK.value, "2") is not None
        assert store.remote.not_refreshed(Source.HELPDESK) == {}
        log = [message for _, _, _, message in store.sync_state.log_entries()]
        assert any(m.startswith("pulling with the search export (agent token") for m in log)
        assert any(m.startswith("request budget:") for m in log)
        fake.tickets[2]["group_id"] = OTHER  # handed to another team
        fake.tickets[2]["updated_at"] = iso(0.1)
        clock.advance(600)
        _, cursor = await one_pass(adapter, cursor, store)  # no sweep yet: unknown
        assert store.remote.not_refreshed(Source.HELPDESK) == {}
        clock.advance(1800)
        _, cursor = await one_pass(adapter, cursor, store)  # the sweep
        marked = store.remote.not_refreshed(Source.HELPDESK)
        assert list(marked) == ["2"] and marked["2"] == clock()
        assert store.tickets.find_ticket(Source.HELPDESK.value, "2") is not None  # still cached
        log = [message for _, _, _, message in store.sync_state.log_entries()]
        assert (
            "1 cached tickets left what this sync keeps fresh (#2): kept, marked as not "
            "refreshed" in log
        )
        fake.tickets[2]["group_id"] = GROUP  # back: fresh again with its next copy
        fake.tickets[2]["updated_at"] = iso(0.6)
        clock.advance(60)
        await one_pass(adapter, cursor, store)
        assert store.remote.not_refreshed(Source.HELPDESK) == {}
    finally:
        store.close()


async def test_an_expired_export_cursor_reads_the_query_again(
    served: tuple[ZendeskFake, str], clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, url = served
    for n in range(10, 14):
        fake.add_ticket(ticket(n, hours_ago=1, group=str(GROUP)))
    adapter = adapter_for(url, clock)
    monkeypatch.setattr(zendesk_agent, "SEARCH_PAGE_SIZE", 2)
    page = await adapter.fetch_changes(None)  # the first two, and a cursor for more
    state = decode_cursor(page.cursor, "zendesk").data
    assert state["after"]
    state["after"] = "ZXhwaXJlZA=="  # Zendesk's cursors expire after an hour
    rest, _ = await one_pass(adapter, encode_cursor(state, "zendesk"))
    assert sorted(tickets_of([page, *rest]), key=int) == ["1", "2", "4", "10", "11", "12", "13"]
    assert len(tickets_of([page, *rest])) == 7  # the first page's tickets are not sent again


def test_agent_options_from_the_config_file() -> None:
    config = ZendeskConfig.from_options(
        {
            "access": "agent",
            "agent_statuses": ["open", "pending"],
            "agent_groups": [12, 13],
            "agent_solved_days": 0,
            "search_overlap_seconds": 600,
            "scope_sweep_minutes": 15,
            "budget_share": 0.5,
        }
    )
    assert config.access == "agent" and config.agent_statuses == ("open", "pending")
    assert config.agent_groups == ("12", "13") and config.agent_solved_days == 0
    assert config.search_overlap_seconds == 600 and config.scope_sweep_minutes == 15
    assert config.budget_share == 0.5
    assert ZendeskConfig.from_options({}).budget_share == 0.2


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("access", "root"),
        ("agent_statuses", ["open", "deleted"]),
        ("agent_statuses", []),
        ("agent_groups", ["twelve"]),
        ("agent_solved_days", -1),
        ("search_overlap_seconds", 1e9),
        ("scope_sweep_minutes", 0),
        ("budget_share", 0),
        ("budget_share", 1.5),
        ("budget_share", True),
    ],
)
def test_bad_agent_options_name_the_key(name: str, value: object) -> None:
    with pytest.raises(ConfigValueError) as caught:
        ZendeskConfig.from_options({name: value})
    assert name in str(caught.value)
