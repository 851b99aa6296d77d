"""Every answer the vendors' API descriptions allow settles the outbox entry (issue 16, item 3).

Each push operation is fed the spec's own example answer and the smallest answer the spec
allows (only what it marks required; everything optional left out), through the real engine
and a real store. Zendesk's example for ``PUT /api/v2/tickets/{id}`` has no ``updated_at``;
it was rejected and the change resent on every pass, forever. Slack has no OpenAPI
description: its method documentation's example answers and ``ok: false`` errors stand in.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.ops import Op, OpKind, OpState
from oncall_tui.domain.remote import Page, RemoteTicket
from oncall_tui.domain.tickets import Channel, Priority, Source, Status
from oncall_tui.store import Store, open_store
from oncall_tui.sync.engine import SyncEngine
from oncall_tui.sync.github import GitHubBackend
from oncall_tui.sync.github_wire import GitHubConfig
from oncall_tui.sync.http import build_client
from oncall_tui.sync.slack import SlackBackend
from oncall_tui.sync.slack_wire import SlackConfig
from oncall_tui.sync.zendesk import ZendeskBackend
from oncall_tui.sync.zendesk_config import ZendeskConfig
from tests.conftest import FROZEN_NOW
from tests.sync.spec_check import Spec, load_spec

pytestmark = pytest.mark.anyio

TOKEN = "tok-SPEC-0a9b8c7d"
ZENDESK = "https://acme.zendesk.com"
GITHUB = "https://api.github.com"
#: The ticket and issue the specs' examples are about.
ZD_TICKET = "35436"
GH_REPO, GH_NUMBER = "octocat/Hello-World", 1347
STAMP = "2026-11-23T18:00:00Z"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(FROZEN_NOW)


@pytest.fixture
def store(tmp_path: Path, clock: FrozenClock) -> Iterator[Store]:
    s = open_store(tmp_path / "cache.db", clock=clock)
    yield s
    s.close()


# -- answers from a spec ----------------------------------------------------------------------


def example_of(spec: Spec, node: Any) -> Any:
    """A response's own example (``examples.default`` or the first), or its schema's."""
    node = spec.resolve(node)
    content = node.get("content", {}).get("application/json", {})
    examples = content.get("examples") or {}
    for entry in [examples.get("default"), *examples.values()]:
        if entry is not None:
            return spec.resolve(entry)["value"]
    return spec.resolve(content.get("schema", {})).get("example")


def minimal_of(spec: Spec, schema: Any, name: str = "") -> Any:
    """The smallest value ``schema`` allows: required keys only, nulls where allowed, empty
    lists, and for scalars a value of the right type and format (the property's example)."""
    schema = spec.resolve(schema)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return minimal_of(spec, schema[key][0], name)
    merged = spec._merge(schema)
    if merged.get("nullable"):
        return None
    kind = merged.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "object" or merged.get("properties"):
        props = merged.get("properties", {})
        return {key: minimal_of(spec, props.get(key, {}), key) for key in merged["required"]}
    if kind == "array":
        return []
    if "enum" in merged:
        return merged["enum"][0]
    if "example" in merged and not isinstance(merged["example"], dict | list):
        return merged["example"]
    if kind == "string":
        return STAMP if merged.get("format") == "date-time" else f"{name or 'x'}-value"
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return False
    return None


class SpecServer:
    """A backend that answers each request with the spec's example or minimal answer.

    ``mode`` is ``example`` or ``minimal``; ``adjust(method, template, body, request)`` may
    give an answer the identity of what was asked (the issue's number) or the few fields a
    real server would fill in; each answer is checked against the spec before it is sent.
    """

    def __init__(
        self,
        backend: str,
        mode: str,
        adjust: Callable[[str, str, Any, httpx.Request], Any] | None = None,
        headers: Callable[[str, str], dict[str, str]] | None = None,
    ) -> None:
        self.spec = load_spec(backend)
        self.mode = mode
        self.adjust = adjust
        self.headers = headers
        self.seen: list[tuple[str, str]] = []
        self.problems: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        method, path = request.method, request.url.path
        try:
            template, op, _ = self.spec.operation(method, path)
        except LookupError:
            return httpx.Response(404, json={"error": "not part of this test"})
        self.seen.append((method, template))
        body = json.loads(request.content) if request.content else None
        self.problems += self.spec.check_request(
            method, path, request.url.params.multi_items(), body, allow_null={"assignee_id"}
        )
        status = next(s for s in ("200", "201", "204") if s in op["responses"])
        described = op["responses"][status]
        if self.mode == "example":
            answer = example_of(self.spec, described)
        else:
            content = self.spec.resolve(described).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            answer = minimal_of(self.spec, schema) if schema is not None else None
        if self.adjust is not None:
            answer = self.adjust(method, template, answer, request)
        self.problems += self.spec.check_response(method, path, int(status), answer)
        extra = self.headers(method, template) if self.headers else {}
        if answer is None:
            return httpx.Response(int(status), headers=extra)
        return httpx.Response(int(status), json=answer, headers=extra)


def seeded(store: Store, backend: str, source: Source, remote_id: str) -> int:
    store.remote.apply_page(
        backend,
        Page(
            tickets=(
                RemoteTicket(
                    source=source,
                    remote_id=remote_id,
                    subject="Printer on fire",
                    body="Smoke everywhere",
                    status=Status.OPEN,
                    priority=Priority.P2,
                    channel=Channel.EMAIL if source is Source.HELPDESK else Channel.TRACKER,
                    labels=("outage",),
                    assignee=None,
                    requester="dana@globex.example",
                    customer_remote_id=None,
                    opened_at=FROZEN_NOW - timedelta(days=1),
                    updated_at=FROZEN_NOW - timedelta(hours=1),
                    url=None,
                    version="2026-11-23T17:30:00Z",
                ),
            )
        ),
    )
    found = store.tickets.find_ticket(str(source), remote_id)
    assert found is not None
    return found.id


def queued(
    store: Store,
    kind: OpKind,
    source: Source,
    tid: int | None,
    remote_id: str | None,
    **payload: Any,
) -> int:
    return store.outbox.enqueue(
        Op(
            kind=kind,
            source=source,
            payload=payload,
            idempotency_key=str(uuid.uuid4()),
            ticket_id=tid,
            remote_id=remote_id,
        )
    )


async def settle(store: Store, backend: Any, clock: FrozenClock, op_id: int) -> Op:
    """One pass (and a second, as the engine would, should the first leave it unclear)."""
    engine = SyncEngine(store, [backend], clock)
    await engine.run_once()
    op = store.outbox.get_op(op_id)
    assert op is not None
    return op


# -- Zendesk ----------------------------------------------------------------------------------

ZD_OPS: list[tuple[OpKind, dict[str, Any]]] = [
    (OpKind.SET_STATUS, {"status": "pending"}),
    (OpKind.SET_PRIORITY, {"priority": "P1"}),
    (OpKind.ASSIGN, {"assignee": "alice@acme.example"}),
    (OpKind.REPLY, {"body": "We're on it."}),
    (OpKind.NOTE, {"body": "Escalating to the on-call."}),
    (OpKind.ADD_LABELS, {"labels": ["vip"]}),
    (OpKind.REMOVE_LABELS, {"labels": ["enterprise"]}),
]


def zendesk_adjust(method: str, template: str, answer: Any, request: httpx.Request) -> Any:
    """What a real server fills in beyond the minimum: the tags a label change reads (an
    answer without them is refused on purpose, see below), and the search result a creation
    is found by (its external_id, searched for)."""
    if (
        method == "GET"
        and template.startswith("/api/v2/tickets/{ticket_id}")
        and ("comments" not in template)
    ):
        ticket = dict((answer or {}).get("ticket") or {})
        ticket.setdefault("tags", ["enterprise"])
        ticket.setdefault("requester_id", 20978392)  # the one key a ticket must have
        return {**(answer or {}), "ticket": ticket}
    if template.startswith("/api/v2/search"):
        query = request.url.params.get("query", "")
        external = query.partition('external_id:"')[2].rstrip('"')
        return {"results": [{"id": int(ZD_TICKET), "external_id": external}], "count": 1}
    return answer


def zendesk_backend(server: SpecServer, clock: FrozenClock) -> ZendeskBackend:
    client = build_client(ZENDESK, TOKEN, transport=httpx.MockTransport(server))
    return ZendeskBackend(client, ZendeskConfig(export_requests_per_minute=60_000), clock=clock)


@pytest.mark.parametrize("mode", ["example", "minimal"])
@pytest.mark.parametrize(("kind", "payload"), ZD_OPS, ids=[k.value for k, _ in ZD_OPS])
async def test_zendesk_updates_settle_on_any_answer_the_spec_allows(
    store: Store, clock: FrozenClock, mode: str, kind: OpKind, payload: dict[str, Any]
) -> None:
    server = SpecServer("zendesk", mode, zendesk_adjust)
    backend = zendesk_backend(server, clock)
    tid = seeded(store, "zendesk", Source.HELPDESK, ZD_TICKET)
    op_id = queued(store, kind, Source.HELPDESK, tid, ZD_TICKET, **payload)
    op = await settle(store, backend, clock, op_id)
    assert op.state == OpState.DONE, (op.error, server.seen)
    assert store.tickets.get_ticket(tid).pending_ops == 0
    writes = [s for s in server.seen if s[0] != "GET"]
    assert len(writes) == 1, server.seen  # sent once: nothing "in flight" to send again
    assert not server.problems, server.problems
    await backend.client.aclose()


async def test_zendesk_update_example_lacks_updated_at_and_is_completed_by_a_read(
    store: Store, clock: FrozenClock
) -> None:
    """The case of the issue: the example PUT answer has no ``updated_at``; a GET fills it."""
    server = SpecServer("zendesk", "example", zendesk_adjust)
    spec_answer = example_of(
        server.spec, server.spec.operation("PUT", "/api/v2/tickets/1")[1]["responses"]["200"]
    )
    assert "updated_at" not in spec_answer["ticket"]
    backend = zendesk_backend(server, clock)
    tid = seeded(store, "zendesk", Source.HELPDESK, ZD_TICKET)
    op_id = queued(store, OpKind.SET_STATUS, Source.HELPDESK, tid, ZD_TICKET, status="pending")
    op = await settle(store, backend, clock, op_id)
    assert op.state == OpState.DONE
    assert ("GET", "/api/v2/tickets/{ticket_id}.json") in server.seen
    # The version came from the read (the example ticket's updated_at).
    assert store.tickets.get_ticket(tid).version == "2011-05-05T10:38:52Z"
    await backend.client.aclose()


@pytest.mark.parametrize("mode", ["example", "minimal"])
@pytest.mark.parametrize("location", [True, False])
async def test_zendesk_creation_settles_on_any_answer_the_spec_allows(
    store: Store, clock: FrozenClock, mode: str, location: bool
) -> None:
    """A creation's answer may name no id at all: the ``Location`` header, or a search by
    the entry's external_id, tells which ticket it made."""

    def headers(method: str, template: str) -> dict[str, str]:
        if location and method == "POST":
            return {"Location": f"{ZENDESK}/api/v2/tickets/{ZD_TICKET}.json"}
        return {}

    server = SpecServer("zendesk", mode, zendesk_adjust, headers)
    backend = zendesk_backend(server, clock)
    op_id = queued(
        store, OpKind.CREATE_TICKET, Source.HELPDESK, None, None, subject="Hi", body="Help"
    )
    op = await settle(store, backend, clock, op_id)
    assert op.state == OpState.DONE, (op.error, server.seen)
    assert [s for s in server.seen if s[0] == "POST"] == [("POST", "/api/v2/tickets.json")]
    searched = any(t.startswith("/api/v2/search") for _m, t in server.seen)
    assert searched == (mode == "minimal" and not location)
    assert not server.problems, server.problems
    await backend.client.aclose()


async def test_zendesk_labels_without_tags_to_read_fail_visibly(
    store: Store, clock: FrozenClock
) -> None:
    """A ticket read that lists no tags cannot be rewritten safely (it would drop them): the
    entry fails with a message to act on; it is not left in flight to be sent again."""
    server = SpecServer("zendesk", "minimal")
    backend = zendesk_backend(server, clock)
    tid = seeded(store, "zendesk", Source.HELPDESK, ZD_TICKET)
    op_id = queued(store, OpKind.ADD_LABELS, Source.HELPDESK, tid, ZD_TICKET, labels=["vip"])
    op = await settle(store, backend, clock, op_id)
    assert op.state == OpState.FAILED and "lists no tags" in (op.error or "")
    assert [s for s in server.seen if s[0] != "GET"] == []
    await backend.client.aclose()


# -- GitHub -----------------------------------------------------------------------------------

GH_OPS: list[tuple[OpKind, dict[str, Any]]] = [
    (OpKind.SET_STATUS, {"status": "solved"}),
    (OpKind.ASSIGN, {"assignee": "octocat"}),
    (OpKind.ADD_LABELS, {"labels": ["bug"]}),
    (OpKind.REMOVE_LABELS, {"labels": ["outage"]}),
    (OpKind.REPLY, {"body": "Reproduced on 4.2"}),
]


def github_adjust(method: str, template: str, answer: Any, request: httpx.Request) -> Any:
    """A minimal issue is still about the issue asked for (its number and repository)."""
    if isinstance(answer, dict) and "number" in answer and "repository_url" in answer:
        return {
            **answer,
            "number": GH_NUMBER,
            "repository_url": f"{GITHUB}/repos/{GH_REPO}",
            "state": "open" if answer["state"] not in ("open", "closed") else answer["state"],
        }
    return answer


def github_backend(server: SpecServer, clock: FrozenClock) -> GitHubBackend:
    client = build_client(GITHUB, TOKEN, transport=httpx.MockTransport(server))
    return GitHubBackend(client, GitHubConfig(repos=(GH_REPO,)), clock=clock)


@pytest.mark.parametrize("mode", ["example", "minimal"])
@pytest.mark.parametrize(("kind", "payload"), GH_OPS, ids=[k.value for k, _ in GH_OPS])
async def test_github_changes_settle_on_any_answer_the_spec_allows(
    store: Store, clock: FrozenClock, mode: str, kind: OpKind, payload: dict[str, Any]
) -> None:
    server = SpecServer("github", mode, github_adjust)
    backend = github_backend(server, clock)
    remote_id = f"{GH_REPO}#{GH_NUMBER}"
    tid = seeded(store, "github", Source.TRACKER, remote_id)
    op_id = queued(store, kind, Source.TRACKER, tid, remote_id, **payload)
    op = await settle(store, backend, clock, op_id)
    assert op.state == OpState.DONE, (op.error, server.seen)
    writes = [s for s in server.seen if s[0] != "GET"]
    expected = len(payload["labels"]) if kind is OpKind.REMOVE_LABELS else 1  # one per label
    assert len(writes) == expected, server.seen
    assert not server.problems, server.problems
    await backend.client.aclose()


@pytest.mark.parametrize("mode", ["example", "minimal"])
async def test_github_issue_creation_settles_on_any_answer_the_spec_allows(
    store: Store, clock: FrozenClock, mode: str
) -> None:
    server = SpecServer("github", mode, github_adjust)
    backend = github_backend(server, clock)
    op_id = queued(store, OpKind.CREATE_ISSUE, Source.TRACKER, None, None, title="Crash", body="x")
    op = await settle(store, backend, clock, op_id)
    assert op.state == OpState.DONE, (op.error, server.seen)
    assert [s for s in server.seen if s[0] == "POST"] == [("POST", "/repos/{owner}/{repo}/issues")]
    assert not server.problems, server.problems
    await backend.client.aclose()


# -- Slack (its method documentation) ---------------------------------------------------------

CHANNEL, THREAD = "C123ABC456", "1503435900.000100"
#: chat.postMessage's documented example answer (api.slack.com/methods/chat.postMessage).
POSTED = {
    "ok": True,
    "channel": CHANNEL,
    "ts": "1503435956.000247",
    "message": {
        "text": "Here's a message for you",
        "username": "ecto1",
        "bot_id": "B123ABC456",
        "attachments": [{"text": "This is an attachment", "id": 1, "fallback": "fallback"}],
        "type": "message",
        "subtype": "bot_message",
        "ts": "1503435956.000247",
    },
}


def slack_server(answer: dict[str, Any], seen: list[str], keys: list[str]) -> httpx.MockTransport:
    """chat.postMessage answers ``answer``; a look-up finds the reply carrying ``keys[-1]``."""

    def handler(request: httpx.Request) -> httpx.Response:
        method = request.url.path.rsplit("/", 1)[-1]
        seen.append(method)
        if method == "chat.postMessage":
            return httpx.Response(200, json=answer)
        if method == "conversations.replies":  # what a look-up finds: the reply, by its key
            key = keys[-1] if keys else ""
            return httpx.Response(
                200,
                json={
                    "ok": True,
                    "messages": [
                        {"type": "message", "user": "U0CUST", "text": "hi", "ts": THREAD},
                        {
                            "type": "message",
                            "user": "U0BOT",
                            "text": "We're on it.",
                            "ts": "1503435956.000247",
                            "thread_ts": THREAD,
                            "metadata": {
                                "event_type": "oncall_tui_reply",
                                "event_payload": {"idempotency_key": key},
                            },
                        },
                    ],
                    "has_more": False,
                },
            )
        return httpx.Response(200, json={"ok": True, "messages": [], "has_more": False})

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    ("answer", "state", "error"),
    [
        (POSTED, OpState.DONE, None),
        ({"ok": True, "channel": CHANNEL, "ts": "1503435956.000247"}, OpState.DONE, None),
        ({"ok": True}, OpState.DONE, None),  # no ts: found by its metadata
        ({"ok": False, "error": "channel_not_found"}, OpState.FAILED, "channel_not_found"),
        ({"ok": False, "error": "msg_too_long"}, OpState.FAILED, "msg_too_long"),
        ({"ok": False, "error": "ratelimited"}, OpState.PENDING, "ratelimited"),
        ({"ok": False, "error": "invalid_auth"}, OpState.PENDING, "invalid_auth"),
        ({"ok": False, "error": "internal_error"}, OpState.INFLIGHT, "internal_error"),
    ],
)
async def test_slack_replies_settle_or_fail_as_the_method_docs_say(
    store: Store, clock: FrozenClock, answer: dict[str, Any], state: OpState, error: str | None
) -> None:
    seen: list[str] = []
    keys: list[str] = []
    transport = slack_server(answer, seen, keys)
    client = build_client("https://slack.com/api", TOKEN, transport=transport)
    backend = SlackBackend(client, SlackConfig(channels=(CHANNEL,)), clock=clock)
    remote_id = f"{CHANNEL}:{THREAD}"
    tid = seeded(store, "slack", Source.CHAT, remote_id)
    op_id = queued(store, OpKind.REPLY, Source.CHAT, tid, remote_id, body="We're on it.")
    op = store.outbox.get_op(op_id)
    assert op is not None
    keys.append(op.idempotency_key)
    op = await settle(store, backend, clock, op_id)
    assert op.state == state, (op.error, seen)
    if error:
        assert error in (op.error or "")
    assert seen.count("chat.postMessage") == 1
    await client.aclose()
