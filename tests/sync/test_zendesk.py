"""Zendesk adapter: mapping both ways, paging, errors and pushes, against the wire fake."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncall_tui.demo.fakes import DEFAULT_TOKEN
from oncall_tui.demo.fakes.faults import Fault, FaultPlan
from oncall_tui.demo.fakes.zendesk import ZendeskFake
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.domain.ops import OpKind
from oncall_tui.domain.tickets import Channel, Priority, Source, Status
from oncall_tui.sync.base import (
    AuthFailed,
    Backend,
    BackendUnavailable,
    BadPayload,
    RateLimited,
    Rejected,
    RemoteCustomer,
    RemoteTicket,
    Searchable,
    SyncError,
)
from oncall_tui.sync.fields import decode_json
from oncall_tui.sync.zendesk import ZendeskBackend
from oncall_tui.sync.zendesk_config import TagMap, ZendeskConfig
from oncall_tui.sync.zendesk_wire import (
    comment_from_audit,
    parse_comment,
    parse_events_page,
    parse_export_page,
    parse_ticket,
    parse_users,
)
from tests.sync.conftest import NOW, TOKEN, assert_no_secret, client_for, fixture, op
from tests.sync.spec_check import load_spec, problems_in_log

BASE = "https://acme.zendesk.com"
pytestmark = pytest.mark.anyio


def make_fake(clock: FrozenClock, **kwargs: Any) -> ZendeskFake:
    kwargs.setdefault("export_lag", 0.0)
    kwargs.setdefault("export_rate_per_minute", None)
    fake = ZendeskFake(tokens=[TOKEN], clock=clock, **kwargs)
    return fake


def seed_customers(fake: ZendeskFake) -> None:
    fake.add_organization(
        RemoteCustomer(
            "9001", "Globex", "premium", ("globex.example",), ("dana@globex.example",), "ceres"
        )
    )
    fake.add_user({"id": 7, "name": "Alice Agent", "email": "alice@acme.example", "role": "agent"})


def ticket(n: int, *, hours_ago: float = 5, **overrides: Any) -> RemoteTicket:
    when = NOW - timedelta(hours=hours_ago)
    values: dict[str, Any] = dict(
        source=Source.HELPDESK,
        remote_id=str(n),
        subject=f"Ticket {n}",
        body=f"Body of ticket {n}",
        status=Status.OPEN,
        priority=Priority.P2,
        channel=Channel.EMAIL,
        labels=(),
        assignee=None,
        requester="dana@globex.example",
        customer_remote_id="9001",
        opened_at=when,
        updated_at=when,
        url=None,
        version=None,
    )
    values.update(overrides)
    return RemoteTicket(**values)


def backend(fake: ZendeskFake, clock: FrozenClock, **config: Any) -> ZendeskBackend:
    config.setdefault("access", "admin")  # the exports (the agent: test_zendesk_agent.py)
    return ZendeskBackend(client_for(fake, BASE), ZendeskConfig(**config), clock=clock)


async def drain(adapter: ZendeskBackend, cursor: str | None = None, limit: int = 50):
    """Call fetch_changes until done; return (pages, final cursor)."""
    pages = []
    for _ in range(limit):
        page = await adapter.fetch_changes(cursor)
        pages.append(page)
        cursor = page.cursor
        if page.done:
            return pages, cursor
    raise AssertionError("never done")


# -- mapping (pure)


def test_export_page_maps_tickets_customers_and_keeps_the_newest_copy() -> None:
    page = parse_export_page(fixture("zendesk", "export_page"), base_url=BASE)
    by_id = {t.remote_id: t for t in page.tickets}
    assert sorted(by_id) == ["101", "102"]
    outage = by_id["101"]
    assert outage.status is Status.PENDING  # the later of the two copies
    assert outage.updated_at == datetime(2025, 3, 3, 18, 30, tzinfo=UTC)
    assert outage.priority is Priority.P0
    assert outage.channel is Channel.FORM
    assert outage.labels == ("outage", "+more info please")
    assert outage.requester == "dana@globex.example"
    assert outage.assignee == "alice@acme.example"
    assert outage.customer_remote_id == "9001"
    assert outage.url == f"{BASE}/agent/tickets/101"
    assert outage.version == "2025-03-03T18:30:00Z"
    alert = by_id["102"]
    assert alert.channel is Channel.ALERT
    assert alert.priority is Priority.P3  # no priority set
    assert alert.customer_remote_id == "9002"  # through the requester's organization
    customers = {c.remote_id: c for c in page.customers}
    assert customers["9001"] == RemoteCustomer(
        "9001", "Globex", "premium", ("globex.example",), ("dana@globex.example",), "ceres"
    )
    assert customers["9002"].plan == "ultimate"
    assert customers["9002"].codename == "vesta"
    assert page.after_cursor and page.end_of_stream is False


def test_comments_map_authors_and_visibility() -> None:
    payload = fixture("zendesk", "comments")
    users = parse_users(payload["users"])
    comments = [parse_comment(c, "101", users) for c in payload["comments"]]
    assert [c.author for c in comments] == ["Dana Customer", "Alice Agent", "Alice Agent"]
    assert [c.public for c in comments] == [True, True, False]
    assert comments[1].remote_id == "8003"


def test_update_answer_yields_the_created_comment() -> None:
    comment = comment_from_audit(fixture("zendesk", "update_response"), "101")
    assert comment is not None
    assert (comment.remote_id, comment.body, comment.public) == ("8100", "We deployed a fix.", True)


@pytest.mark.parametrize(
    ("label", "tag"),
    [
        ("+more info please", "waiting_more_info_please"),
        ("+waiting on customer", "waiting_waiting_on_customer"),
        ("outage", "outage"),
        ("Needs Triage", "needs_triage"),
        (":incoming", ":incoming"),
    ],
)
def test_labels_and_tags_translate_both_ways(label: str, tag: str) -> None:
    tags = TagMap()
    assert tags.to_tag(label) == tag
    assert tags.to_label(tag) == (
        label if label.startswith("+") else label.lower().replace(" ", "_")
    )


def test_explicit_tag_map_wins() -> None:
    tags = TagMap(explicit={"pending_customer": "+more info please"})
    assert tags.to_tag("+more info please") == "pending_customer"
    assert tags.to_label("pending_customer") == "+more info please"
    assert tags.to_label("waiting_logs") == "+logs"


@pytest.mark.parametrize(
    "payload",
    [
        [],
        "ticket",
        {},
        {"id": True, "status": "open", "created_at": "2025-01-01T00:00:00Z"},
        {"id": 1, "status": "exploded", "created_at": "x", "updated_at": "x"},
        {"id": 1, "status": "open", "tags": "a,b", "created_at": "2025-01-01T00:00:00Z"},
        {"id": 1, "status": "open", "tags": [], "created_at": "yesterday", "updated_at": "now"},
        {"id": 1, "status": "open", "via": [], "created_at": "2025-01-01T00:00:00Z"},
        {"id": 1, "status": 3},
    ],
)
def test_malformed_tickets_raise_bad_payload(payload: object) -> None:
    with pytest.raises(BadPayload):
        parse_ticket(payload)


def test_deeply_nested_json_is_bad_payload() -> None:
    with pytest.raises(BadPayload, match="nested"):
        decode_json("[" * 100_000 + "]" * 100_000, "zendesk")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "id": json_values,
            "status": st.sampled_from(["open", "new", "solved", "odd"]) | json_values,
            "priority": json_values,
            "tags": json_values,
            "via": json_values,
            "created_at": st.just("2025-01-01T00:00:00Z") | json_values,
            "updated_at": st.just("2025-01-01T00:00:00Z") | json_values,
            "requester_id": json_values,
            "subject": json_values,
        },
    )
)
@settings(max_examples=300, deadline=None)
def test_any_ticket_shape_parses_or_raises_bad_payload(payload: dict[str, Any]) -> None:
    with contextlib.suppress(BadPayload):
        parse_ticket(payload)


# -- pull against the fake


async def test_pages_through_the_export_and_reads_comments(clock: FrozenClock) -> None:
    fake = make_fake(clock, export_page_size=2)
    seed_customers(fake)
    for n in range(1, 6):
        fake.add_ticket(ticket(n, hours_ago=10 - n))
    fake.add_comment(
        {"ticket_id": 3, "author_id": 7, "body": "On it.", "created_at": "2025-03-04T10:00:00Z"}
    )
    adapter = backend(fake, clock)
    assert isinstance(adapter, Backend) and isinstance(adapter, Searchable)

    pages, cursor = await drain(adapter)
    tickets = [t for p in pages for t in p.tickets]
    assert sorted(t.remote_id for t in tickets) == ["1", "2", "3", "4", "5"]
    # time-based pages repeat their boundary second (the store ignores a comment it has)
    comments = list({c.remote_id: c for p in pages for c in p.comments}.values())
    assert [c.body for c in comments] == ["On it."]  # the description is the body
    assert (comments[0].ticket_remote_id, comments[0].author) == ("3", "Alice Agent")
    assert comments[0].author_handle == "alice@acme.example"
    assert {c.remote_id for p in pages for c in p.customers} == {"9001"}
    assert pages[-1].done and not any(p.done for p in pages[:-1])
    # every ticket page first, then the comments from the ticket event export
    kinds = ["tickets" if p.tickets else "comments" if p.comments else "-" for p in pages]
    assert kinds[:3] == ["tickets"] * 3 and "tickets" not in kinds[3:]
    exports = [e for e in fake.log if "incremental/tickets" in e.path]
    assert len(exports) == 3
    assert ("include", "users,organizations") in exports[0].params
    assert exports[0].params[0][0] == "start_time" or ("start_time" in dict(exports[0].params))
    assert all("cursor" in dict(e.params) for e in exports[1:])
    events = [e for e in fake.log if "ticket_events" in e.path]
    assert len(events) == len(pages) - 3
    assert all(dict(e.params)["include"] == "comment_events" for e in events)
    starts = [int(dict(e.params)["start_time"]) for e in events]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)  # always onwards
    # no request per ticket: the staff list once (Alice is no requester or assignee)
    others = [e.path for e in fake.log if "incremental" not in e.path]
    assert others == ["/api/v2/users.json", "/api/v2/users.json"]
    # the budget: an export page is followed by a wait of 60/10 seconds
    assert pages[-1].wait_hint == pytest.approx(6.0)

    # a second pass returns only what changed
    clock.advance(120)
    fake.add_activity()
    pages, _ = await drain(adapter, cursor)
    assert len([t for p in pages for t in p.tickets]) == 1
    assert not problems_in_log("zendesk", fake.log)


async def test_the_last_minute_is_left_for_the_next_pass(clock: FrozenClock) -> None:
    fake = make_fake(clock, export_lag=60.0)
    fake.add_ticket(ticket(1, hours_ago=2))
    adapter = backend(fake, clock)
    _, cursor = await drain(adapter)
    fake.add_ticket(ticket(2, hours_ago=0))  # changed just now
    pages, cursor = await drain(adapter, cursor)
    assert [t.remote_id for p in pages for t in p.tickets] == []
    clock.advance(61)
    pages, _ = await drain(adapter, cursor)
    assert [t.remote_id for p in pages for t in p.tickets] == ["2"]


async def test_export_rate_limit_is_rate_limited_with_retry_after(clock: FrozenClock) -> None:
    fake = make_fake(clock, export_rate_per_minute=2)
    adapter = backend(fake, clock)
    page = await adapter.fetch_changes(None)  # tickets
    for _ in range(3):  # events, tickets, events: each export has its own budget
        page = await adapter.fetch_changes(page.cursor)
    assert [e.path.rsplit("/", 1)[-1] for e in fake.log] == [
        "cursor.json",
        "ticket_events.json",
    ] * 2
    with pytest.raises(RateLimited) as caught:
        await adapter.fetch_changes(page.cursor)
    assert caught.value.retry_after == pytest.approx(60)


async def test_a_repeated_ticket_in_a_page_comes_once(clock: FrozenClock) -> None:
    fake = make_fake(clock, faults=FaultPlan(script=[Fault.REPEAT], match="incremental"))
    fake.add_ticket(ticket(1))
    fake.add_ticket(ticket(2))
    page = await backend(fake, clock).fetch_changes(None)
    assert sorted(t.remote_id for t in page.tickets) == ["1", "2"]
    assert fake.faults.injected[0][2] is Fault.REPEAT


async def test_an_unreadable_cursor_restarts_the_initial_sync(clock: FrozenClock) -> None:
    fake = make_fake(clock)
    fake.add_ticket(ticket(1))
    page = await backend(fake, clock).fetch_changes("not json at all")
    assert [t.remote_id for t in page.tickets] == ["1"]


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.RATE_LIMIT, RateLimited),
        (Fault.SERVER_ERROR, BackendUnavailable),
        (Fault.UNAVAILABLE, BackendUnavailable),
        (Fault.DROP, BackendUnavailable),
        (Fault.LOST_RESPONSE, BackendUnavailable),
        (Fault.MALFORMED, BadPayload),
    ],
)
async def test_faults_map_onto_the_error_tree(
    clock: FrozenClock, fault: Fault, error: type[SyncError]
) -> None:
    fake = make_fake(clock, faults=FaultPlan(script=[fault], retry_after=2))
    fake.add_ticket(ticket(1))
    with pytest.raises(error) as caught:
        await backend(fake, clock).fetch_changes(None)
    if isinstance(caught.value, RateLimited):
        assert caught.value.retry_after == 2
    assert_no_secret(caught.value, caught.value.args)


async def test_a_bad_token_is_auth_failed_without_leaking_it(clock: FrozenClock) -> None:
    fake = make_fake(clock)
    adapter = backend(fake, clock)
    fake.tokens = {DEFAULT_TOKEN}  # ours is no longer valid
    with pytest.raises(AuthFailed) as caught:
        await adapter.fetch_changes(None)
    assert "401" in str(caught.value)
    assert_no_secret(caught.value, adapter, adapter.client.headers)
    sent = next(e for e in fake.log if e.status == 401)
    assert sent.headers["authorization"] == "[redacted]"


async def test_unavailable_carries_the_servers_retry_hint(clock: FrozenClock) -> None:
    fake = make_fake(clock, faults=FaultPlan(script=[Fault.UNAVAILABLE], retry_after=7))
    with pytest.raises(BackendUnavailable) as caught:
        await backend(fake, clock).fetch_changes(None)
    assert caught.value.retry_after == 7


# -- push against the fake


@pytest.fixture
def seeded(clock: FrozenClock) -> tuple[ZendeskFake, ZendeskBackend]:
    fake = make_fake(clock)
    seed_customers(fake)
    fake.add_ticket(ticket(101, labels=("outage",)))
    return fake, backend(fake, clock)


async def test_status_priority_and_assignee(seeded: tuple[ZendeskFake, ZendeskBackend]) -> None:
    fake, adapter = seeded
    result = await adapter.push(op(OpKind.SET_STATUS, Source.HELPDESK, "101", status="pending"))
    assert result.ticket is None  # it would name people by bare ids: nobody was pulled yet
    assert result.version == fake.tickets[101]["updated_at"]
    await drain(adapter)
    result = await adapter.push(op(OpKind.SET_STATUS, Source.HELPDESK, "101", status="pending"))
    assert result.ticket is not None and result.ticket.status is Status.PENDING
    assert result.ticket.requester == "dana@globex.example"
    await adapter.push(op(OpKind.SET_PRIORITY, Source.HELPDESK, "101", priority="P0"))
    result = await adapter.push(
        op(OpKind.ASSIGN, Source.HELPDESK, "101", assignee="alice@acme.example")
    )
    assert result.ticket is not None and result.ticket.assignee == "alice@acme.example"
    stored = fake.tickets[101]
    assert (stored["status"], stored["priority"], stored["assignee_id"]) == ("pending", "urgent", 7)
    result = await adapter.push(op(OpKind.ASSIGN, Source.HELPDESK, "101", assignee=None))
    assert fake.tickets[101]["assignee_id"] is None
    assert result.version == fake.tickets[101]["updated_at"]
    with pytest.raises(Rejected, match="email"):
        await adapter.push(op(OpKind.ASSIGN, Source.HELPDESK, "101", assignee="alice"))
    with pytest.raises(Rejected):
        await adapter.push(op(OpKind.SET_PRIORITY, Source.HELPDESK, "101", priority="P9"))
    assert not problems_in_log("zendesk", fake.log, allow_null={"assignee_id"})


async def test_reply_and_internal_note(seeded: tuple[ZendeskFake, ZendeskBackend]) -> None:
    fake, adapter = seeded
    reply = await adapter.push(op(OpKind.REPLY, Source.HELPDESK, "101", body="We're on it."))
    note = await adapter.push(op(OpKind.NOTE, Source.HELPDESK, "101", key="op-2", body="Escalate."))
    assert reply.comment is not None and reply.comment.public
    assert note.comment is not None and not note.comment.public
    bodies = [(c["body"], c["public"]) for c in fake.comments[101][1:]]
    assert bodies == [("We're on it.", True), ("Escalate.", False)]
    assert fake.mutations["add_comment"] == 2
    assert not problems_in_log("zendesk", fake.log)


async def test_labels_become_tags_and_back(seeded: tuple[ZendeskFake, ZendeskBackend]) -> None:
    fake, adapter = seeded
    await drain(adapter)
    result = await adapter.push(
        op(OpKind.ADD_LABELS, Source.HELPDESK, "101", labels=["+more info please", "vip"])
    )
    assert fake.tickets[101]["tags"] == ["outage", "waiting_more_info_please", "vip"]
    assert result.ticket is not None
    assert result.ticket.labels == ("outage", "+more info please", "vip")
    await adapter.push(
        op(OpKind.REMOVE_LABELS, Source.HELPDESK, "101", labels=["+more info please"])
    )
    assert fake.tickets[101]["tags"] == ["outage", "vip"]
    before = fake.mutations["update_ticket"]
    await adapter.push(op(OpKind.REMOVE_LABELS, Source.HELPDESK, "101", labels=["absent"]))
    assert fake.mutations["update_ticket"] == before  # nothing to change, nothing sent
    puts = [e for e in fake.log if e.method == "PUT"]
    assert all(e.body["ticket"]["safe_update"] is True for e in puts)
    assert not problems_in_log("zendesk", fake.log)


async def test_tag_change_retries_after_a_concurrent_edit(clock: FrozenClock) -> None:
    fake = make_fake(clock)
    fake.add_ticket(ticket(101, labels=("outage",)))
    raced = []

    async def racing(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and not raced:  # someone else edits between GET and PUT
            raced.append(True)
            clock.advance(5)
            fake.tickets[101]["tags"].append("from_colleague")
            fake._touch(101)  # noqa: SLF001
        return await fake.async_handler(request)

    adapter = ZendeskBackend(client_for(racing, BASE), clock=clock)
    await adapter.push(op(OpKind.ADD_LABELS, Source.HELPDESK, "101", labels=["vip"]))
    assert fake.tickets[101]["tags"] == ["outage", "from_colleague", "vip"]
    assert [e.status for e in fake.log if e.method == "PUT"] == [409, 200]


async def test_create_is_idempotent_and_found_after_a_lost_answer(clock: FrozenClock) -> None:
    fake = make_fake(clock)
    seed_customers(fake)
    create = op(
        OpKind.CREATE_TICKET,
        Source.HELPDESK,
        key="op-create-1",
        subject="Hosts offline (from chat)",
        body="Customer reported in Slack.",
        priority="P1",
        labels=["+more info please"],
    )
    adapter = backend(fake, clock)
    fake.add_ticket(ticket(1, requester="agent@example.com"))  # the API user, seen in a pull
    await drain(adapter)
    fake.faults.add(Fault.LOST_RESPONSE)
    with pytest.raises(BackendUnavailable):
        await adapter.push(create)  # applied, but the answer was lost
    found = await adapter.lookup(create)
    assert found is not None and found.ticket is not None
    assert found.ticket.subject == "Hosts offline (from chat)"
    again = await adapter.push(create)  # a resend with the same Idempotency-Key
    assert again.remote_id == found.remote_id
    assert fake.mutations["create_ticket"] == 1
    created = fake.tickets[int(found.remote_id)]
    assert created["tags"] == ["waiting_more_info_please"]
    assert created["priority"] == "high"
    assert created["external_id"] == "oncall-tui:op-create-1"
    replay = [e for e in fake.log if e.method == "POST"]
    assert replay[-1].headers["idempotency-key"] == "op-create-1"
    assert not problems_in_log("zendesk", fake.log)


async def test_lookup_finds_a_reply_by_its_text(seeded: tuple[ZendeskFake, ZendeskBackend]) -> None:
    fake, adapter = seeded
    reply = op(OpKind.REPLY, Source.HELPDESK, "101", body="Fixed in 4.61.")
    assert await adapter.lookup(reply) is None
    fake.faults.add(Fault.LOST_RESPONSE)
    with pytest.raises(BackendUnavailable):
        await adapter.push(reply)
    found = await adapter.lookup(reply)
    assert found is not None and found.comment is not None
    assert found.comment.body == "Fixed in 4.61."
    assert fake.mutations["add_comment"] == 1


async def test_unknown_ticket_is_rejected(seeded: tuple[ZendeskFake, ZendeskBackend]) -> None:
    _, adapter = seeded
    with pytest.raises(Rejected, match="404"):
        await adapter.push(op(OpKind.SET_STATUS, Source.HELPDESK, "999", status="open"))
    with pytest.raises(Rejected):
        await adapter.push(op(OpKind.CREATE_ISSUE, Source.HELPDESK, title="x"))


async def test_search(seeded: tuple[ZendeskFake, ZendeskBackend]) -> None:
    fake, adapter = seeded
    found = await adapter.search_issues("Ticket 101")
    assert [t.remote_id for t in found] == ["101"]
    assert not problems_in_log("zendesk", fake.log)


# -- spec


def test_fixtures_fit_the_spec() -> None:
    spec = load_spec("zendesk")
    checks = [
        ("GET", "/api/v2/incremental/tickets/cursor.json", fixture("zendesk", "export_page")),
        ("GET", "/api/v2/tickets/101/comments.json", fixture("zendesk", "comments")),
        ("PUT", "/api/v2/tickets/101.json", fixture("zendesk", "update_response")),
    ]
    for method, path, body in checks:
        assert spec.check_response(method, path, 200, body) == []


def test_update_bodies_fit_the_spec(clock: FrozenClock) -> None:
    adapter = ZendeskBackend(client_for(lambda r: httpx.Response(500), BASE), clock=clock)
    spec = load_spec("zendesk")
    bodies = [
        adapter.writer.update_body(op(OpKind.SET_STATUS, Source.HELPDESK, "1", status="solved")),
        adapter.writer.update_body(op(OpKind.SET_PRIORITY, Source.HELPDESK, "1", priority="P1")),
        adapter.writer.update_body(op(OpKind.ASSIGN, Source.HELPDESK, "1", assignee="a@b.example")),
        adapter.writer.update_body(op(OpKind.ASSIGN, Source.HELPDESK, "1", assignee="42")),
        adapter.writer.update_body(op(OpKind.NOTE, Source.HELPDESK, "1", body="x")),
    ]
    for body in bodies:
        assert spec.check_request("PUT", "/api/v2/tickets/1.json", (), body) == [], body
    create = adapter.writer.create_body(
        op(
            OpKind.CREATE_TICKET,
            Source.HELPDESK,
            subject="s",
            body="b",
            requester="77",
            labels=["x"],
            priority="P3",
            status="open",
        )
    )
    assert spec.check_request("POST", "/api/v2/tickets.json", (), create) == []
    assert json.dumps(create)  # serialisable


async def test_an_agent_token_is_told_the_export_needs_an_admin(clock: FrozenClock) -> None:
    """With ``access = "admin"`` configured (else a 403 switches to the agent's path)."""

    def forbidden(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            403, json={"error": "Forbidden", "description": "You do not have access"}
        )

    with pytest.raises(AuthFailed, match="admin"):
        await ZendeskBackend(
            client_for(forbidden, BASE), ZendeskConfig(access="admin"), clock=clock
        ).fetch_changes(None)


def test_options_from_the_config_file() -> None:
    config = ZendeskConfig.from_options(
        {
            "tag_labels": {"pending_customer": "+more info please"},
            "alert_tags": ["pagerduty"],
            "export_requests_per_minute": 30,
            "plan_field": "support_plan",
        },
        history_days=30,
    )
    assert config.tags.to_tag("+more info please") == "pending_customer"
    assert config.alert_tags == ("pagerduty",) and config.export_requests_per_minute == 30
    assert (config.plan_field, config.history_days) == ("support_plan", 30)
    for bad in (
        {"nope": 1},
        {"tag_labels": {"has space": "x"}},
        {"comment_batch": 10},
        {"export_requests_per_minute": "fast"},
    ):
        with pytest.raises(ConfigValueError):
            ZendeskConfig.from_options(bad)


async def test_the_fake_takes_records_and_gives_them_back(clock: FrozenClock) -> None:
    page = parse_export_page(fixture("zendesk", "export_page"), base_url=BASE)
    fake = make_fake(clock, organizations=page.customers, tickets=page.tickets)
    pages, _ = await drain(backend(fake, clock))
    assert sorted((t for p in pages for t in p.tickets), key=lambda t: t.remote_id) == sorted(
        page.tickets, key=lambda t: t.remote_id
    )
    assert {c.remote_id: c for p in pages for c in p.customers} == {
        c.remote_id: c for c in page.customers
    }


# -- comments from the ticket event export


def test_events_page_maps_comments_and_leaves_out_descriptions() -> None:
    users = parse_users([{"id": 7, "name": "Alice Agent", "email": "alice@acme.example"}])
    payload = {
        "ticket_events": [
            {  # the update that created ticket 1: its comment is the description
                "id": 100,
                "ticket_id": 1,
                "timestamp": 1700000000,
                "created_at": "2023-11-14T22:13:20Z",
                "updater_id": 9,
                "child_events": [
                    {"id": 101, "event_type": "Create", "status": "new"},
                    {"id": 102, "event_type": "Comment", "body": "Help!", "author_id": 9},
                ],
            },
            {  # an answer, with no created_at of its own
                "id": 200,
                "ticket_id": 1,
                "timestamp": 1700000100,
                "created_at": "2023-11-14T22:15:00Z",
                "updater_id": 7,
                "child_events": [
                    {"id": 201, "event_type": "Change", "field_name": "status"},
                    {"id": 202, "type": "Comment", "body": "On it", "public": False},
                ],
            },
            {"id": 300, "ticket_id": 2, "timestamp": 1700000200, "child_events": []},
        ],
        "end_time": 1700000200,
        "end_of_stream": True,
    }
    page = parse_events_page(payload, users)
    assert page.end_time == 1700000200 and page.end_of_stream
    [answer] = page.comments
    assert (answer.ticket_remote_id, answer.remote_id, answer.body) == ("1", "202", "On it")
    assert (answer.author, answer.author_handle, answer.public) == (
        "Alice Agent",
        "alice@acme.example",
        False,
    )
    assert answer.created_at == datetime(2023, 11, 14, 22, 15, tzinfo=UTC)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "ticket_events",
                        "ticket_id",
                        "child_events",
                        "event_type",
                        "id",
                        "created_at",
                        "body",
                        "public",
                        "author_id",
                        "end_time",
                        "end_of_stream",
                        "type",
                    ]
                ),
                inner,
                max_size=5,
            )
        ),
        max_leaves=20,
    )
)
@settings(max_examples=300, deadline=None)
def test_any_events_page_parses_or_raises_bad_payload(payload: object) -> None:
    with contextlib.suppress(BadPayload):
        parse_events_page(payload)


async def test_a_second_fuller_than_a_page_is_read_whole_and_passed(clock: FrozenClock) -> None:
    fake = make_fake(clock, export_page_size=2)
    seed_customers(fake)
    fake.add_ticket(ticket(1, hours_ago=3))
    for n in range(5):  # five answers stamped the same second
        fake.add_comment(
            {"ticket_id": 1, "author_id": 7, "body": f"a{n}", "created_at": "2025-03-04T10:00:00Z"}
        )
    fake.add_comment(
        {"ticket_id": 1, "author_id": 7, "body": "later", "created_at": "2025-03-04T10:00:05Z"}
    )
    pages, _ = await drain(backend(fake, clock), limit=10)
    bodies = {c.body for p in pages for c in p.comments}
    assert bodies == {"a0", "a1", "a2", "a3", "a4", "later"}
    assert len([e for e in fake.log if "ticket_events" in e.path]) <= 3


async def test_a_cursor_of_the_per_ticket_version_goes_on_with_the_event_stream(
    clock: FrozenClock,
) -> None:
    fake = make_fake(clock)
    seed_customers(fake)
    fake.add_ticket(ticket(1, hours_ago=3))
    fake.add_comment(
        {"ticket_id": 1, "author_id": 7, "body": "hi", "created_at": "2025-03-04T10:00:00Z"}
    )
    adapter = backend(fake, clock)
    pages, cursor = await drain(adapter)
    state = json.loads(cursor)
    state["state"] = {"export": state["state"]["export"], "eos": True, "todo": ["1"]}
    pages, _ = await drain(adapter, json.dumps(state))
    assert [c.body for p in pages for c in p.comments] == ["hi"]
    assert "todo" not in json.loads(pages[-1].cursor)["state"]
