"""Hostile API answers: each adapter turns any JSON into records or a ``BadPayload``.

Wrong types, missing or null fields, absurd timestamps, huge strings and pages, 10,000-deep
nesting, lone surrogates. The pure ``parse_*`` functions may raise nothing but
``BadPayload``; a whole ``fetch_changes`` against a ``MockTransport`` serving such answers
may raise nothing but a ``SyncError`` (the engine catches only those: anything else escapes
``run_once`` and wedges that backend's pull on the same page forever).
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from oncall_tui.domain.clock import FrozenClock
from oncall_tui.sync import github_wire as github
from oncall_tui.sync import slack_wire
from oncall_tui.sync import zendesk_wire as zendesk
from oncall_tui.sync.base import BadPayload, Page, SyncError
from oncall_tui.sync.fields import decode_json, parse_instant
from oncall_tui.sync.github import GitHubBackend
from oncall_tui.sync.http import build_client
from oncall_tui.sync.slack import SlackBackend
from oncall_tui.sync.zendesk import ZendeskBackend
from tests.reliability.conftest import HOSTILE, fuzz

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NOW = datetime(2025, 3, 4, 17, 0, tzinfo=UTC)
DELETE = object()


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


class Deep(list[Any]):
    """A list nested thousands deep that prints as one short line.

    Printed as a plain list it raises ``RecursionError``: a failing example holding it was once
    reported as that error while Hypothesis printed it, hiding the real failure."""

    def __repr__(self) -> str:
        return f"<a list nested {depth_of(self)} deep>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # Hypothesis's printer
        printer.text(repr(self))


def depth_of(value: Any) -> int:
    depth = 0
    while isinstance(value, list) and value:
        value, depth = value[0], depth + 1
    return depth


def deep(depth: int = 10_000) -> list[Any]:
    """A list nested ``depth`` deep (built directly: JSON text this deep is refused first)."""
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return Deep([value])


DEEP = deep()
BAD_INSTANTS = [
    "0001-01-01T00:00:00+01:00",  # UTC would be year 0
    "9999-12-31T23:59:59-01:00",  # UTC would be year 10000
    "2024-02-30T00:00:00Z",
    "yesterday",
    "",
    "1741014000.000100",
]
BAD_TS = ["²", "1.²", "9" * 30, "-1", "1e9", "1741014000.000100x", "", "١٧٤١٠١٤٠٠٠", ".5"]
BAD_URLS = ["http://[::1", "\x00", "https://api.github.com/repos/a%1B[31m/b", "ftp://x", "//"]
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from([*BAD_INSTANTS, *BAD_TS, *BAD_URLS, *HOSTILE, "\ud800", "x" * 100_000])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
) | st.just(DEEP)


def mutate(base: Any, keys: list[str]) -> st.SearchStrategy[Any]:
    """``base`` with some of ``keys`` replaced by hostile values or removed."""
    overrides = st.dictionaries(st.sampled_from(keys), json_values | st.just(DELETE), max_size=4)

    def apply(changes: dict[str, Any]) -> Any:
        obj = copy.deepcopy(base)
        for key, value in changes.items():
            if value is DELETE:
                obj.pop(key, None)
            else:
                obj[key] = value
        return obj

    return overrides.map(apply)


def only_bad_payload(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except BadPayload as exc:
        assert isinstance(exc.message, str) and len(exc.message) < 2000
        return None


ZD_EXPORT = fixture("zendesk/export_page")
ZD_TICKET = ZD_EXPORT["tickets"][0]
ZD_ORG = ZD_EXPORT["organizations"][0]
ZD_USER = ZD_EXPORT["users"][0]
ZD_COMMENT = fixture("zendesk/comments")["comments"][0]
ZD_UPDATE = fixture("zendesk/update_response")
GH_ISSUE = fixture("github/issues")[0]
GH_COMMENT = fixture("github/comments")[0]
SL_MESSAGE = next(m for m in fixture("slack/history")["messages"] if m.get("reply_count"))
SL_CONFIG = slack_wire.SlackConfig(channels=("C0ACME",), employees=frozenset({"U0EMPLOYEE"}))
GH_CONFIG = github.GitHubConfig(repos=("acme/product",))


# -- pure parse functions ------------------------------------------------------------------


@pytest.mark.product_bug("B8: timestamps out of datetime's range raise OverflowError")
@fuzz(200)
@given(mutate(ZD_TICKET, list(ZD_TICKET)), json_values)
@example({**ZD_TICKET, "created_at": "0001-01-01T00:00:00+01:00"}, None)
def test_zendesk_ticket_user_org_comment(payload: dict[str, Any], anything: Any) -> None:
    users = zendesk.parse_users([ZD_USER])
    only_bad_payload(zendesk.parse_ticket, payload, users, None, "https://acme.zendesk.com")
    only_bad_payload(zendesk.parse_ticket, anything)
    only_bad_payload(zendesk.parse_user, anything)
    only_bad_payload(zendesk.parse_organization, anything, users)
    only_bad_payload(zendesk.parse_comment, anything, "101", users)
    only_bad_payload(zendesk.comment_from_audit, anything, "101")


@fuzz(100)
@given(
    mutate(ZD_ORG, list(ZD_ORG)),
    mutate(ZD_COMMENT, list(ZD_COMMENT)),
    mutate(ZD_UPDATE, list(ZD_UPDATE)),
)
def test_zendesk_org_comment_update(org: Any, comment: Any, update: Any) -> None:
    only_bad_payload(zendesk.parse_organization, org, zendesk.parse_users([ZD_USER]))
    only_bad_payload(zendesk.parse_comment, comment, "101")
    only_bad_payload(zendesk.comment_from_audit, update, "101")


@fuzz(100)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "tickets": st.lists(mutate(ZD_TICKET, list(ZD_TICKET)), max_size=3) | json_values,
            "users": st.lists(mutate(ZD_USER, list(ZD_USER)), max_size=2) | json_values,
            "organizations": st.lists(mutate(ZD_ORG, list(ZD_ORG)), max_size=2) | json_values,
            "after_cursor": json_values,
            "end_of_stream": json_values,
        },
    )
)
def test_zendesk_export_page(payload: dict[str, Any]) -> None:
    only_bad_payload(zendesk.parse_export_page, payload)


@pytest.mark.product_bug("B9: a repository_url httpx cannot parse escapes as httpx.InvalidURL")
@fuzz(200)
@given(mutate(GH_ISSUE, list(GH_ISSUE)), mutate(GH_COMMENT, list(GH_COMMENT)), json_values)
@example({**GH_ISSUE, "repository_url": "http://[::1"}, GH_COMMENT, None)
@example({**GH_ISSUE, "updated_at": "9999-12-31T23:59:59-01:00"}, GH_COMMENT, None)
def test_github_issue_and_comment(issue: Any, comment: Any, anything: Any) -> None:
    only_bad_payload(github.parse_issue, issue, GH_CONFIG)
    only_bad_payload(github.parse_issue, anything)
    only_bad_payload(github.parse_comment, comment, "acme/product#42")
    only_bad_payload(github.parse_comment, anything, "acme/product#42")
    github.is_pull_request(anything)


@pytest.mark.product_bug("B10: Slack ts values like '²' or 30 digits raise ValueError/Overflow")
@fuzz(200)
@given(st.lists(mutate(SL_MESSAGE, list(SL_MESSAGE)), max_size=4), json_values)
@example([{**SL_MESSAGE, "ts": "²"}], None)
@example([{**SL_MESSAGE, "ts": "9" * 30}], None)
def test_slack_messages_threads_and_errors(messages: list[Any], anything: Any) -> None:
    parsed = [m for m in (only_bad_payload(slack_wire.parse_message, m) for m in messages) if m]
    only_bad_payload(slack_wire.parse_thread, "C0ACME", parsed, SL_CONFIG)
    only_bad_payload(slack_wire.parse_message, anything)
    try:
        slack_wire.slack_error(anything, "slack: x", NOW.timestamp(), None)
    except SyncError:
        pass


@pytest.mark.product_bug("B8/B10: parse_instant and ts_to_datetime leak OverflowError/ValueError")
@fuzz(100)
@given(st.sampled_from(BAD_INSTANTS + BAD_TS) | st.text(max_size=40))
@example("0001-01-01T00:00:00+01:00")
def test_instants_and_ts(value: str) -> None:
    only_bad_payload(parse_instant, value, "x")
    only_bad_payload(slack_wire.ts_to_datetime, value)


def test_deep_and_huge_json_text_is_bad_payload_or_data() -> None:
    for text in ("[" * 10_000 + "]" * 10_000, '{"a":' * 10_000 + "1" + "}" * 10_000):
        with pytest.raises(BadPayload):
            decode_json(text, "x")
    page = decode_json(json.dumps({"tickets": [ZD_TICKET] * 5000, "users": [ZD_USER]}), "x")
    assert len(zendesk.parse_export_page(page).tickets) == 1  # the same ticket, kept once
    for obj in (DEEP, {"tickets": DEEP}, {"tickets": [DEEP]}, [DEEP]):
        only_bad_payload(zendesk.parse_export_page, obj)
        only_bad_payload(github.parse_issue, obj)
        only_bad_payload(slack_wire.parse_message, obj)


# -- a whole pull against a server answering anything -----------------------------------------


def serve(draw: Callable[[], Any]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        body = draw()
        if isinstance(body, bytes):
            return httpx.Response(200, content=body)
        try:
            text = json.dumps(body)
        except (RecursionError, ValueError):
            text = "[" * 10_000 + "]" * 10_000
        return httpx.Response(200, content=text.encode("utf-8", "surrogatepass"))

    return httpx.MockTransport(handler)


async def pull(backend: Any, calls: int = 6) -> None:
    """Call ``fetch_changes`` like the engine, on past the end of a pass into the next."""
    cursor = None
    for _ in range(calls):
        try:
            page = await backend.fetch_changes(cursor)
        except SyncError:
            continue  # the engine keeps the old cursor and tries again later
        assert isinstance(page, Page)
        cursor = page.cursor


def answers(*bases: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from(bases) | json_values | st.binary(max_size=30)


@fuzz(60)
@given(st.data())
def test_slack_pull_raises_only_sync_errors(data: st.DataObject) -> None:
    history = fixture("slack/history")
    replies = fixture("slack/replies")
    msgs = history["messages"]

    def draw() -> Any:
        return data.draw(
            st.sampled_from([history, replies])
            | st.builds(
                lambda m: {"ok": True, "messages": m},
                st.lists(mutate(msgs[2], list(msgs[2])), max_size=3),
            )
            | answers(history)
        )

    client = build_client("https://slack.com/api", "xoxb-test", transport=serve(draw))
    backend = SlackBackend(client, SL_CONFIG, clock=FrozenClock(NOW))
    asyncio.run(pull(backend))


@pytest.mark.product_bug("B10: Slack latest_reply is compared without being validated")
def test_slack_pull_with_a_garbage_latest_reply() -> None:
    history = fixture("slack/history")
    for message in history["messages"]:
        if message.get("reply_count"):
            message["latest_reply"] = "soon"
    client = build_client("https://slack.com/api", "xoxb-test", transport=serve(lambda: history))
    backend = SlackBackend(client, SL_CONFIG, clock=FrozenClock(NOW))
    asyncio.run(pull(backend))


@fuzz(60)
@given(st.data())
def test_zendesk_pull_raises_only_sync_errors(data: st.DataObject) -> None:
    comments = fixture("zendesk/comments")

    def draw() -> Any:
        return data.draw(
            st.sampled_from([ZD_EXPORT, comments])
            | st.builds(
                lambda t: {**ZD_EXPORT, "tickets": t},
                st.lists(mutate(ZD_TICKET, list(ZD_TICKET)), max_size=3),
            )
            | answers(ZD_EXPORT)
        )

    client = build_client("https://acme.zendesk.com", "zd-test", transport=serve(draw))
    backend = ZendeskBackend(client, clock=FrozenClock(NOW))
    asyncio.run(pull(backend))


@fuzz(60)
@given(st.data())
def test_github_pull_raises_only_sync_errors(data: st.DataObject) -> None:
    issues = fixture("github/issues")
    comments = fixture("github/comments")

    def draw() -> Any:
        return data.draw(
            st.sampled_from([issues, comments])
            | st.lists(mutate(GH_ISSUE, list(GH_ISSUE)), max_size=3)
            | answers(issues)
        )

    client = build_client("https://api.github.com", "ghp_test", transport=serve(draw))
    backend = GitHubBackend(client, GH_CONFIG, clock=FrozenClock(NOW))
    asyncio.run(pull(backend))
