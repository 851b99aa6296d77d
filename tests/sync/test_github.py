"""GitHub adapter: mapping, Link paging, ETags, rate limits and pushes, against the wire fake."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from oncall_tui.demo.fakes.faults import Fault, FaultPlan
from oncall_tui.demo.fakes.github import GitHubFake
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.domain.ops import OpKind
from oncall_tui.domain.tickets import Channel, Priority, Source, Status
from oncall_tui.sync.base import (
    MAX_SERVER_WAIT,
    AuthFailed,
    Backend,
    BackendUnavailable,
    BadPayload,
    RateLimited,
    Rejected,
)
from oncall_tui.sync.github import GitHubBackend
from oncall_tui.sync.github_wire import (
    GitHubConfig,
    is_pull_request,
    parse_comment,
    parse_issue,
    split_remote_id,
)
from tests.sync.conftest import NOW, TOKEN, assert_no_secret, client_for, fixture, op
from tests.sync.spec_check import load_spec, problems_in_log

API = "https://api.github.com"
REPOS = ("acme/product", "acme/agent")
pytestmark = pytest.mark.anyio


def iso(hours_ago: float) -> str:
    return (NOW - timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_fake(clock: FrozenClock, **kwargs: Any) -> GitHubFake:
    kwargs.setdefault("repos", REPOS)
    return GitHubFake(tokens=[TOKEN], clock=clock, **kwargs)


def backend(
    fake: GitHubFake | Any, clock: FrozenClock, base: str = API, **config: Any
) -> GitHubBackend:
    config.setdefault("repos", REPOS)
    return GitHubBackend(client_for(fake, base), GitHubConfig(**config), clock=clock)


async def drain(adapter: GitHubBackend, cursor: str | None = None, limit: int = 100):
    pages = []
    for _ in range(limit):
        page = await adapter.fetch_changes(cursor)
        pages.append(page)
        cursor = page.cursor
        if page.done:
            return pages, cursor
    raise AssertionError("never done")


# -- mapping (pure)


def test_issue_mapping() -> None:
    items = fixture("github", "issues")
    assert [is_pull_request(i) for i in items] == [False, True, False]
    issue = parse_issue(items[0])
    assert issue.remote_id == "acme/product#42"
    assert issue.source is Source.TRACKER and issue.channel is Channel.TRACKER
    assert issue.status is Status.OPEN
    assert issue.priority is Priority.P1  # from the "P1" label
    assert issue.labels == ("bug", ":reproduce", ":incoming", "P1", "customer-vesta")
    assert issue.body == "Steps:\n1. Run a live query\n2. See 500"  # marker stripped
    assert (issue.requester, issue.assignee) == ("cse-alice", "dev-bob")
    assert issue.url == "https://github.com/acme/product/issues/42"
    assert issue.version == "2025-03-03T12:00:00Z"
    closed = parse_issue(items[2])
    assert closed.status is Status.CLOSED and closed.body == "" and closed.priority is Priority.P3


def test_comment_mapping() -> None:
    comments = [parse_comment(c, "acme/product#42") for c in fixture("github", "comments")]
    assert [c.author for c in comments] == ["qa-dan", "cse-alice"]
    assert comments[1].body == "Customer vesta is affected too."
    assert all(c.public for c in comments)


@pytest.mark.parametrize(
    "payload",
    [
        {"number": "42"},
        {"number": 1, "title": "t", "state": "open", "labels": [{"nome": "x"}]},
        {"number": 1, "title": None, "state": "open"},
        {"number": 1, "title": "t", "state": "merged", "created_at": "2025-01-01T00:00:00Z"},
        {
            "number": 1,
            "title": "t",
            "state": "open",
            "repository_url": f"{API}/repos/a/b",
            "user": "octocat",
            "created_at": "2025-01-01T00:00:00Z",
            "updated_at": "2025-01-01T00:00:00Z",
        },
    ],
)
def test_malformed_issues_raise_bad_payload(payload: object) -> None:
    with pytest.raises(BadPayload):
        parse_issue(payload, repo="a/b")


def test_remote_ids() -> None:
    assert split_remote_id("acme/product#42") == ("acme/product", 42)
    with pytest.raises(Rejected):
        split_remote_id("product#42")


# -- pull against the fake


async def test_a_pass_pages_every_repo_and_skips_pull_requests(clock: FrozenClock) -> None:
    fake = make_fake(clock)
    for n in range(1, 151):
        fake.add_issue(
            {
                "repo": "acme/product",
                "title": f"Issue {n}",
                "created_at": iso(200 - n),
                "updated_at": iso(150 - n),
            }
        )
    fake.add_issue(
        {"repo": "acme/agent", "title": "A PR", "pull_request": {"url": "x"}, "updated_at": iso(1)}
    )
    fake.add_issue(
        {
            "repo": "acme/agent",
            "title": "Agent crash",
            "labels": ["bug", "P0"],
            "updated_at": iso(2),
        }
    )
    fake.add_comment(
        {
            "repo": "acme/agent",
            "number": 2,
            "body": "Seen on Windows too",
            "user": "qa-dan",
            "created_at": iso(1),
        }
    )
    adapter = backend(fake, clock)
    assert isinstance(adapter, Backend)

    pages, cursor = await drain(adapter)
    tickets = [t for p in pages for t in p.tickets]
    assert len(tickets) == 151
    assert "acme/agent#1" not in {t.remote_id for t in tickets}  # the pull request
    agent = next(t for t in tickets if t.remote_id == "acme/agent#2")
    assert agent.priority is Priority.P0
    assert [c.body for p in pages for c in p.comments] == ["Seen on Windows too"]
    lists = [e for e in fake.log if e.path == "/repos/acme/product/issues"]
    assert len(lists) == 2  # 100 + 50 through the Link header
    assert dict(lists[0].params)["per_page"] == "100"
    assert pages[-1].done and not any(p.done for p in pages[:-1])

    # a quiet repository costs a 304 the next time round, which GitHub does not count
    _, cursor = await drain(adapter, cursor)  # the newest come once more (since is inclusive)
    pages, cursor = await drain(adapter, cursor)
    assert [t for p in pages for t in p.tickets] == []
    quiet = [e for e in fake.log if e.path.endswith("/issues") and e.method == "GET"][-2:]
    assert [e.status for e in quiet] == [304, 304]
    assert all("if-none-match" in e.headers for e in quiet)

    clock.advance(60)
    fake._comment("acme/product", 150, "New detail", "customer-x")  # noqa: SLF001
    pages, _ = await drain(adapter, cursor)
    assert [t.remote_id for p in pages for t in p.tickets] == ["acme/product#150"]
    assert [c.body for p in pages for c in p.comments] == ["New detail"]
    assert not problems_in_log("github", fake.log)


async def test_spent_rate_limit_waits_for_the_reset_without_asking(clock: FrozenClock) -> None:
    fake = make_fake(clock, rate_limit=2)
    fake.add_issue({"repo": "acme/product", "title": "x", "updated_at": iso(1)})
    adapter = backend(fake, clock, repos=("acme/product",))
    page = await adapter.fetch_changes(None)  # issues: 1 left
    page = await adapter.fetch_changes(page.cursor)  # quiet pass of the same repo: 0 left
    assert page.wait_hint == pytest.approx(3600)
    sent = len(fake.log)
    with pytest.raises(RateLimited) as caught:
        await adapter.fetch_changes(page.cursor)
    # The reset is an hour away; any server-sent wait is clamped to 15 minutes (the adapter
    # still sends nothing until the reset).
    assert caught.value.retry_after == pytest.approx(MAX_SERVER_WAIT)
    assert len(fake.log) == sent  # nothing was sent
    clock.advance(3601)
    await adapter.fetch_changes(page.cursor)


async def test_primary_limit_answer_is_rate_limited(clock: FrozenClock) -> None:
    fake = make_fake(clock, rate_limit=0)
    with pytest.raises(RateLimited) as caught:
        await backend(fake, clock).fetch_changes(None)
    assert caught.value.retry_after == pytest.approx(MAX_SERVER_WAIT)  # an hour away, clamped


async def test_secondary_limit_honours_retry_after(clock: FrozenClock) -> None:
    fake = make_fake(clock, faults=FaultPlan(script=[Fault.RATE_LIMIT], retry_after=42))
    with pytest.raises(RateLimited) as caught:
        await backend(fake, clock).fetch_changes(None)
    assert caught.value.retry_after == 42


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.SERVER_ERROR, BackendUnavailable),
        (Fault.DROP, BackendUnavailable),
        (Fault.MALFORMED, BadPayload),
    ],
)
async def test_faults(clock: FrozenClock, fault: Fault, error: type[Exception]) -> None:
    fake = make_fake(clock, faults=FaultPlan(script=[fault]))
    fake.add_issue({"repo": "acme/product", "title": "x", "updated_at": iso(1)})
    with pytest.raises(error) as caught:
        await backend(fake, clock).fetch_changes(None)
    assert_no_secret(caught.value)


async def test_bad_credentials(clock: FrozenClock) -> None:
    fake = GitHubFake(tokens=["someone-else"], clock=clock, repos=REPOS)
    adapter = backend(fake, clock)
    with pytest.raises(AuthFailed, match="Bad credentials") as caught:
        await adapter.fetch_changes(None)
    assert_no_secret(caught.value, adapter, adapter.client.headers)


async def test_pagination_links_to_another_host_are_refused(clock: FrozenClock) -> None:
    def evil(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json=[],
            headers={"Link": '<https://evil.example/steal?page=2>; rel="next"'},
        )

    adapter = backend(evil, clock, repos=("acme/product",))
    page = await adapter.fetch_changes(None)
    with pytest.raises(BadPayload, match="another host"):
        await adapter.fetch_changes(page.cursor)


async def test_enterprise_base_url(clock: FrozenClock) -> None:
    fake = make_fake(clock, prefix="/api/v3", api_url="https://ghe.example.com/api/v3")
    fake.add_issue({"repo": "acme/product", "title": "On GHE", "updated_at": iso(1)})
    adapter = backend(fake, clock, base="https://ghe.example.com/api/v3")
    pages, _ = await drain(adapter)
    assert [t.remote_id for p in pages for t in p.tickets] == ["acme/product#1"]
    result = await adapter.push(op(OpKind.REPLY, Source.TRACKER, "acme/product#1", body="hi"))
    assert result.comment is not None
    assert fake.log[0].path == "/repos/acme/product/issues"


# -- push against the fake


@pytest.fixture
def seeded(clock: FrozenClock) -> tuple[GitHubFake, GitHubBackend]:
    fake = make_fake(clock)
    fake.add_issue(
        {
            "repo": "acme/product",
            "number": 42,
            "title": "Live query error",
            "labels": ["bug", ":reproduce", ":incoming", "customer vesta/eu"],
            "updated_at": iso(3),
        }
    )
    return fake, backend(fake, clock)


async def test_label_add_and_remove(seeded: tuple[GitHubFake, GitHubBackend]) -> None:
    fake, adapter = seeded
    await adapter.push(
        op(OpKind.ADD_LABELS, Source.TRACKER, "acme/product#42", labels=["~investigate"])
    )
    await adapter.push(
        op(
            OpKind.REMOVE_LABELS,
            Source.TRACKER,
            "acme/product#42",
            labels=[":incoming", ":reproduce", "customer vesta/eu", "already-gone"],
        )
    )
    names = [x["name"] for x in fake.repos["acme/product"].issues[42]["labels"]]
    assert names == ["bug", "~investigate"]
    deletes = [e for e in fake.log if e.method == "DELETE"]
    assert [e.status for e in deletes] == [200, 200, 200, 404]
    assert fake.mutations["remove_label"] == 3
    with pytest.raises(Rejected, match="404"):
        await adapter.push(op(OpKind.REMOVE_LABELS, Source.TRACKER, "acme/product#7", labels=["x"]))
    assert not problems_in_log("github", [e for e in fake.log if e.status < 400])


async def test_comment_close_reopen_assign(seeded: tuple[GitHubFake, GitHubBackend]) -> None:
    fake, adapter = seeded
    reply = await adapter.push(op(OpKind.REPLY, Source.TRACKER, "acme/product#42", body="Update"))
    assert reply.comment is not None and reply.comment.body == "Update"
    stored = fake.repos["acme/product"].comments[42][0]["body"]
    assert stored == "Update\n\n<!-- oncall-tui:op-1 -->"
    closed = await adapter.push(
        op(OpKind.SET_STATUS, Source.TRACKER, "acme/product#42", status="solved")
    )
    assert closed.ticket is not None and closed.ticket.status is Status.CLOSED
    reopened = await adapter.push(
        op(OpKind.SET_STATUS, Source.TRACKER, "acme/product#42", status="open")
    )
    assert reopened.ticket is not None and reopened.ticket.status is Status.OPEN
    assert fake.repos["acme/product"].issues[42]["state_reason"] == "reopened"
    assigned = await adapter.push(
        op(OpKind.ASSIGN, Source.TRACKER, "acme/product#42", assignee="dev-bob")
    )
    assert assigned.ticket is not None and assigned.ticket.assignee == "dev-bob"
    await adapter.push(op(OpKind.ASSIGN, Source.TRACKER, "acme/product#42", assignee=None))
    assert fake.repos["acme/product"].issues[42]["assignee"] is None
    with pytest.raises(Rejected):
        await adapter.push(op(OpKind.NOTE, Source.TRACKER, "acme/product#42", body="internal"))
    assert not problems_in_log("github", fake.log)


async def test_create_issue_and_find_it_after_a_lost_answer(clock: FrozenClock) -> None:
    fake = make_fake(clock)
    adapter = backend(fake, clock)
    create = op(
        OpKind.CREATE_ISSUE,
        Source.TRACKER,
        key="op-bug-1",
        repo="acme/agent",
        title="Agent crashes on start",
        body="Steps: install, start.",
        labels=["bug", ":reproduce", ":incoming", "customer-vesta"],
    )
    assert await adapter.lookup(create) is None
    fake.faults.add(Fault.LOST_RESPONSE)  # the issue is made, the answer lost
    with pytest.raises(BackendUnavailable):
        await adapter.push(create)
    found = await adapter.lookup(create)
    assert found is not None and found.ticket is not None
    assert found.remote_id == "acme/agent#1"
    assert found.ticket.body == "Steps: install, start."
    assert found.ticket.labels == ("bug", ":reproduce", ":incoming", "customer-vesta")
    assert fake.mutations["create_issue"] == 1
    assert not problems_in_log("github", fake.log)


async def test_reply_lookup_by_marker(seeded: tuple[GitHubFake, GitHubBackend]) -> None:
    fake, adapter = seeded
    reply = op(OpKind.REPLY, Source.TRACKER, "acme/product#42", key="op-r", body="Hello")
    fake.faults.add(Fault.LOST_RESPONSE)
    with pytest.raises(BackendUnavailable):
        await adapter.push(reply)
    found = await adapter.lookup(reply)
    assert found is not None and found.comment is not None and found.comment.body == "Hello"
    assert fake.mutations["create_comment"] == 1


async def test_search_first(seeded: tuple[GitHubFake, GitHubBackend]) -> None:
    fake, adapter = seeded
    fake.add_issue({"repo": "acme/agent", "title": "Live query slow", "pull_request": {"url": "x"}})
    found = await adapter.search_issues("live query")
    assert [t.remote_id for t in found] == ["acme/product#42"]
    q = dict(fake.log[-1].params)["q"]
    assert q == "live query is:issue repo:acme/product repo:acme/agent"
    assert not problems_in_log("github", fake.log)


# -- spec


def test_fixtures_fit_the_spec() -> None:
    spec = load_spec("github")
    assert (
        spec.check_response("GET", "/repos/acme/product/issues", 200, fixture("github", "issues"))
        == []
    )
    assert (
        spec.check_response(
            "GET", "/repos/acme/product/issues/42/comments", 200, fixture("github", "comments")
        )
        == []
    )
    assert spec.check_response("GET", "/search/issues", 200, fixture("github", "search")) == []


def test_options_from_the_config_file() -> None:
    config = GitHubConfig.from_options(
        ["acme/product"], {"priority_labels": {"sev1": "P0"}, "default_priority": "P2"}
    )
    assert config.priority_labels == {"sev1": Priority.P0}
    assert config.default_priority is Priority.P2
    for bad in ({"priority_labels": {"sev1": "urgent"}}, {"low_water": -1}, {"x": 1}):
        with pytest.raises(ConfigValueError):
            GitHubConfig.from_options(["acme/product"], bad)
    with pytest.raises(ConfigValueError):
        GitHubConfig(repos=("not-a-repo",))


async def test_the_fake_takes_records_and_gives_them_back(clock: FrozenClock) -> None:
    issue = parse_issue(fixture("github", "issues")[0])
    comments = tuple(parse_comment(c, issue.remote_id) for c in fixture("github", "comments"))
    fake = make_fake(clock, issues=[issue], comments=comments)
    pages, _ = await drain(backend(fake, clock, repos=("acme/product",)))
    assert [t for p in pages for t in p.tickets] == [issue]
    assert tuple(c for p in pages for c in p.comments) == comments
