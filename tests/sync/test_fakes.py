"""The wire fakes themselves: transports, faults, loopback serving, OAuth flows, activity."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from oncall_tui.demo.fakes import DEFAULT_TOKEN
from oncall_tui.demo.fakes.faults import Fault, FaultPlan
from oncall_tui.demo.fakes.github import GitHubFake
from oncall_tui.demo.fakes.loopback import serve_on_loopback
from oncall_tui.demo.fakes.slack import SlackFake
from oncall_tui.demo.fakes.zendesk import ZendeskFake
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.sync.base import BackendUnavailable
from oncall_tui.sync.http import build_client
from oncall_tui.sync.zendesk import ZendeskBackend
from oncall_tui.sync.zendesk_config import ZendeskConfig
from tests.sync.spec_check import extra_path, load_spec, spec_path

pytestmark = pytest.mark.anyio
AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


def test_the_sync_handler_serves_sync_clients(clock: FrozenClock) -> None:
    fake = ZendeskFake(clock=clock)
    with httpx.Client(transport=httpx.MockTransport(fake.handler), base_url="https://z") as client:
        assert client.get("/api/v2/tickets/1.json").status_code == 401
        assert client.get("/api/v2/users.json", headers=AUTH).json()["users"][0]["id"] == 1


async def test_both_handlers_serve_async_clients(clock: FrozenClock) -> None:
    fake = GitHubFake(clock=clock)
    for handler in (fake.handler, fake.async_handler):
        async with httpx.AsyncClient(
            transport=httpx.MockTransport(handler), base_url="https://api.github.com"
        ) as client:
            response = await client.get("/repos/acme/product/issues", headers=AUTH)
            assert response.status_code == 200 and response.json() == []
            assert response.headers["x-ratelimit-remaining"].isdigit()


async def test_every_fake_wants_a_bearer_token(clock: FrozenClock) -> None:
    cases = [
        (ZendeskFake(clock=clock), "/api/v2/users.json", 401),
        (GitHubFake(clock=clock), "/repos/acme/product/issues", 401),
        (SlackFake(clock=clock), "/api/conversations.history?channel=C0CUSTOMER", 200),
    ]
    for fake, path, status in cases:
        async with httpx.AsyncClient(
            transport=httpx.MockTransport(fake.async_handler), base_url="https://x"
        ) as client:
            response = await client.get(path, headers={"Authorization": "Bearer wrong"})
            assert response.status_code == status
            if isinstance(fake, SlackFake):
                assert response.json() == {"ok": False, "error": "invalid_auth"}


def test_fault_plans_are_scripted_then_seeded() -> None:
    request = httpx.Request("GET", "https://x/api/v2/tickets.json")
    plan = FaultPlan(script=[Fault.DROP, None], probabilities={Fault.LATENCY: 0.5}, seed=3)
    first = [plan.choose(request) for _ in range(20)]
    again = FaultPlan(script=[Fault.DROP, None], probabilities={Fault.LATENCY: 0.5}, seed=3)
    assert [again.choose(request) for _ in range(20)] == first
    assert first[:2] == [Fault.DROP, None]
    assert set(first[2:]) == {Fault.LATENCY, None}
    assert [f for _, _, f in plan.injected].count(Fault.DROP) == 1
    only = FaultPlan(script=[Fault.DROP], match=r"/comments")
    assert only.choose(request) is None
    assert only.choose(httpx.Request("GET", "https://x/t/1/comments")) is Fault.DROP
    with pytest.raises(ValueError):
        FaultPlan(probabilities={Fault.DROP: 2.0})


async def test_latency_and_slow_bodies_do_not_change_answers(clock: FrozenClock) -> None:
    plan = FaultPlan(script=[Fault.LATENCY, Fault.SLOW_BODY], latency=0.01, slow_chunk_delay=0)
    fake = GitHubFake(clock=clock, faults=plan)
    fake.add_issue({"repo": "acme/product", "title": "x" * 500})
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(fake.async_handler), base_url="https://x"
    ) as client:
        bodies = [
            (await client.get("/repos/acme/product/issues", headers=AUTH)).json() for _ in range(3)
        ]
    assert bodies[0] == bodies[1] == bodies[2]
    assert [f for _, _, f in plan.injected] == [Fault.LATENCY, Fault.SLOW_BODY]


async def test_serving_on_a_real_loopback_socket(clock: FrozenClock) -> None:
    fake = ZendeskFake(clock=clock, export_lag=0, export_rate_per_minute=None)
    fake.add_activity()
    base_url, stop = serve_on_loopback(fake)
    try:
        assert base_url.startswith("http://127.0.0.1:")
        client = build_client(base_url, DEFAULT_TOKEN, timeout=5.0)
        async with client:
            adapter = ZendeskBackend(client, ZendeskConfig(), clock=clock)
            page = await adapter.fetch_changes(None)
            assert len(page.tickets) == 1
            fake.faults.add(Fault.DROP)
            with pytest.raises(BackendUnavailable):
                await adapter.fetch_changes(page.cursor)
            fake.faults.add(Fault.SLOW_BODY)
            fake.faults.slow_chunk_delay = 0.001
            again = await adapter.fetch_changes(page.cursor)
            assert again.cursor
    finally:
        stop()


def test_slack_fake_serves_threads_like_slack(clock: FrozenClock) -> None:
    fake = SlackFake(clock=clock)
    parent = fake.add_message({"channel": "C0CUSTOMER", "user": "U1", "text": "q"})
    fake.add_message(
        {"channel": "C0CUSTOMER", "user": "U2", "text": "a", "thread_ts": parent["ts"]}
    )
    later = fake.add_message({"channel": "C0CUSTOMER", "user": "U1", "text": "new"})
    with httpx.Client(transport=httpx.MockTransport(fake.handler), base_url="https://s/api") as c:
        history = c.get("conversations.history", params={"channel": "C0CUSTOMER"}, headers=AUTH)
        assert [m["ts"] for m in history.json()["messages"]] == [later["ts"], parent["ts"]]
        assert history.json()["messages"][1]["reply_count"] == 1
        posted = c.post(
            "chat.postMessage",
            json={
                "channel": "C0CUSTOMER",
                "thread_ts": parent["ts"],
                "text": "b",
                "metadata": {"event_type": "x", "event_payload": {"k": 1}},
            },
            headers=AUTH,
        ).json()
        assert posted["ok"] and "metadata" not in posted["message"]
        replies = c.get(
            "conversations.replies",
            headers=AUTH,
            params={"channel": "C0CUSTOMER", "ts": parent["ts"]},
        ).json()
        assert [m["text"] for m in replies["messages"]] == ["q", "a", "b"]
        assert "metadata" not in replies["messages"][-1]
        with_meta = c.get(
            "conversations.replies",
            headers=AUTH,
            params={"channel": "C0CUSTOMER", "ts": parent["ts"], "include_all_metadata": "true"},
        ).json()
        assert with_meta["messages"][-1]["metadata"]["event_payload"] == {"k": 1}
        assert c.post(
            "chat.postMessage", json={"channel": "C0CUSTOMER", "text": " "}, headers=AUTH
        ).json() == {"ok": False, "error": "no_text"}


def test_demo_activity_is_seeded(clock: FrozenClock) -> None:
    def run(seed: int) -> list[object]:
        zendesk = ZendeskFake(clock=clock, seed=seed)
        github = GitHubFake(clock=clock, seed=seed)
        slack = SlackFake(clock=clock, seed=seed)
        out: list[object] = []
        for _ in range(6):
            clock.advance(5)
            out += [zendesk.add_activity(), github.add_activity(), slack.add_activity()]
        return out + [sorted(t["subject"] for t in zendesk.tickets.values())]

    start = clock()
    first = run(1)
    clock.set(start)
    assert run(1) == first


def test_tick_paces_activity_by_the_clock(clock: FrozenClock) -> None:
    fake = SlackFake(clock=clock)
    assert fake.tick() == []  # starts the count
    clock.advance(fake.activity_interval - 1)
    assert fake.tick() == []
    clock.advance(1)
    assert len(fake.tick()) == 1
    clock.advance(fake.activity_interval * 3 + 1)
    assert len(fake.tick()) == 3
    clock.advance(3600)
    assert len(fake.tick()) == fake.MAX_CATCH_UP
    assert fake.mutations["customer_message"] == 4 + fake.MAX_CATCH_UP


# -- OAuth


def pkce() -> tuple[str, str]:
    verifier = "v" * 50
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_zendesk_authorization_code_with_pkce_and_rotating_refresh(clock: FrozenClock) -> None:
    fake = ZendeskFake(clock=clock, tokens=[])
    verifier, challenge = pkce()
    redirect = "http://127.0.0.1:8765/callback"
    with httpx.Client(transport=httpx.MockTransport(fake.handler), base_url="https://z") as c:

        def authorize() -> str:
            answer = c.get(
                "/oauth/authorizations/new",
                params={
                    "response_type": "code",
                    "client_id": "oncall-tui",
                    "scope": "read write",
                    "redirect_uri": redirect,
                    "state": "xyz",
                    "code_challenge": challenge,
                    "code_challenge_method": "S256",
                },
            )
            assert answer.status_code == 302
            query = parse_qs(urlsplit(answer.headers["location"]).query)
            assert query["state"] == ["xyz"]
            return query["code"][0]

        def exchange(code: str, verifier: str) -> httpx.Response:
            return c.post(
                "/oauth/tokens",
                json={
                    "grant_type": "authorization_code",
                    "code": code,
                    "client_id": "oncall-tui",
                    "redirect_uri": redirect,
                    "code_verifier": verifier,
                    "scope": "read write",
                },
            )

        assert exchange(authorize(), "wrong-verifier").json()["error"] == "invalid_grant"
        code = authorize()
        tokens = exchange(code, verifier).json()
        assert tokens["token_type"] == "bearer" and tokens["refresh_token"]
        assert exchange(code, verifier).status_code == 400  # a code works once
        api = c.get(
            "/api/v2/users.json", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert api.status_code == 200

        refreshed = c.post(
            "/oauth/tokens",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        )
        assert refreshed.status_code == 200
        new = refreshed.json()
        assert new["refresh_token"] != tokens["refresh_token"]
        reused = c.post(
            "/oauth/tokens",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        )
        assert reused.json()["error"] == "invalid_grant"  # the old one died with the rotation
        clock.advance(3601)
        expired = c.get(
            "/api/v2/users.json", headers={"Authorization": f"Bearer {new['access_token']}"}
        )
        assert expired.status_code == 401


def test_github_device_flow(clock: FrozenClock) -> None:
    fake = GitHubFake(clock=clock, tokens=[], device_auto_approve_after=None)
    json_accept = {"Accept": "application/json"}
    with httpx.Client(transport=httpx.MockTransport(fake.handler), base_url="https://gh") as c:
        start = c.post(
            "/login/device/code",
            data={"client_id": "Iv1.abc", "scope": "repo"},
            headers=json_accept,
        ).json()
        assert start["verification_uri"] == "https://gh/login/device"

        def poll() -> dict[str, str]:
            answer = c.post(
                "/login/oauth/access_token",
                headers=json_accept,
                data={
                    "client_id": "Iv1.abc",
                    "device_code": start["device_code"],
                    "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                },
            )
            return answer.json()

        assert poll()["error"] == "authorization_pending"
        assert poll()["error"] == "slow_down"  # polled again without waiting the interval
        clock.advance(15)
        assert fake.approve_device(start["user_code"])
        token = poll()
        assert token["token_type"] == "bearer" and token["scope"] == "repo"
        issues = c.get(
            "/repos/acme/product/issues",
            headers={"Authorization": f"Bearer {token['access_token']}"},
        )
        assert issues.status_code == 200
        form = c.post("/login/device/code", data={"client_id": "Iv1.abc"})
        assert parse_qs(form.text)["interval"] == ["5"]  # form-encoded without Accept: json


# -- the fakes answer in the vendors' shapes


def test_fake_answers_fit_the_specs(clock: FrozenClock) -> None:
    github = GitHubFake(clock=clock)
    github.add_issue({"repo": "acme/product", "title": "t", "labels": ["bug"]})
    github.add_comment({"repo": "acme/product", "number": 1, "body": "c"})
    zendesk = ZendeskFake(clock=clock)
    zendesk.add_activity()
    spec_g, spec_z = load_spec("github"), load_spec("zendesk")
    with httpx.Client(transport=httpx.MockTransport(github.handler), base_url="https://g") as c:
        for path in (
            "/repos/acme/product/issues",
            "/repos/acme/product/issues/1",
            "/repos/acme/product/issues/1/comments",
            "/rate_limit",
            "/search/issues?q=t",
        ):
            answer = c.get(path, headers=AUTH)
            assert (
                spec_g.check_response("GET", path.split("?")[0], answer.status_code, answer.json())
                == []
            ), path
        missing = c.get("/repos/acme/product/issues/99", headers=AUTH)
        assert (
            spec_g.check_response("GET", "/repos/acme/product/issues/99", 404, missing.json()) == []
        )
    with httpx.Client(transport=httpx.MockTransport(zendesk.handler), base_url="https://z") as c:
        for path in (
            "/api/v2/users.json",
            "/api/v2/organizations.json",
            "/api/v2/tickets/1001.json",
            "/api/v2/tickets/1001/comments.json",
            "/api/v2/search.json?query=type:ticket",
        ):
            answer = c.get(path, headers=AUTH)
            assert answer.status_code == 200, path
            assert spec_z.check_response("GET", path.split("?")[0], 200, answer.json()) == [], path


def test_spec_copies_match_the_shared_ones() -> None:
    shared = Path(__file__).resolve().parents[3] / "shared" / "api-specs"
    if not shared.is_dir():  # a clone without shared/ beside it: nothing to compare
        return
    for backend in ("zendesk", "github"):
        ours = json.loads(spec_path(backend).read_text())
        theirs = json.loads((shared / f"{backend}.cut.json").read_text())
        assert ours == theirs, f"tests/fixtures/{backend}/openapi.cut.json is out of date"


def test_extra_operations_exist_in_the_full_vendor_description() -> None:
    """The hand-copied operations beyond the cut (openapi.extra.json) are the vendor's own."""
    shared = Path(__file__).resolve().parents[3] / "shared" / "api-specs"
    full = shared / "zendesk-support-oas.full.yaml"
    if not full.is_file():  # a worktree: shared/ is two levels further up
        full = Path(__file__).resolve().parents[4] / "shared" / "api-specs" / full.name
    if not full.is_file():  # a clone without shared/ beside it: nothing to compare
        return
    text = full.read_text()
    extra = json.loads(extra_path("zendesk").read_text())
    for path in extra["paths"]:
        if not path.endswith(".json"):
            assert f"\n  {path}:\n" in text, path
            block = text.split(f"\n  {path}:\n", 1)[1][:600]
            assert f"operationId: {extra['paths'][path]['get']['operationId']}" in block, path
            for param in extra["paths"][path].get("parameters", []):
                assert f"$ref: '{param['$ref']}'" in block, (path, param)
    param = extra["components"]["parameters"]["IncrementalUnixTime"]
    declared = text.split("\n    IncrementalUnixTime:\n", 1)[1][:400]
    assert f"name: {param['name']}" in declared and "required: true" in declared


def test_github_extra_operations_are_the_vendors_own_without_examples() -> None:
    """openapi.extra.json for GitHub: operations the cut lacks (create a label), copied from
    the full description with only its ``examples`` left out (the cut has no examples)."""
    import gzip

    name = "github-api.github.com.full.json.gz"
    full = Path(__file__).resolve().parents[3] / "shared" / "api-specs" / name
    if not full.is_file():  # a worktree: shared/ is two levels further up
        full = Path(__file__).resolve().parents[4] / "shared" / "api-specs" / name
    if not full.is_file():  # a clone without shared/ beside it: nothing to compare
        return
    vendor = json.loads(gzip.decompress(full.read_bytes()))

    def without_examples(node: object) -> object:
        if isinstance(node, dict):
            return {k: without_examples(v) for k, v in node.items() if k != "examples"}
        if isinstance(node, list):
            return [without_examples(v) for v in node]
        return node

    extra = json.loads(extra_path("github").read_text())
    assert extra["paths"], "no extra GitHub operations"
    for path, ops in extra["paths"].items():
        for method, op in ops.items():
            assert without_examples(vendor["paths"][path][method]) == op, (method, path)
