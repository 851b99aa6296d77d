"""Who wrote a message, as each adapter tells the reply clocks (issue 13)."""

from __future__ import annotations

import pytest

from oncall_tui.sync.github_wire import parse_comment as github_comment
from oncall_tui.sync.slack_wire import SlackConfig, message_role, parse_message
from oncall_tui.sync.zendesk_wire import parse_comment, parse_users

USERS = parse_users(
    [
        {"id": 1, "name": "Alice Agent", "email": "alice@support.example", "role": "agent"},
        {"id": 2, "name": "Ada Admin", "email": "ada@support.example", "role": "admin"},
        {"id": 3, "name": "Rita", "email": "rita@globex.io", "role": "end-user"},
        {"id": 4, "name": "No role", "email": "x@globex.io"},
    ]
)


def zd(author: int, **kw: object) -> dict:
    return {
        "id": 9,
        "author_id": author,
        "body": "hi",
        "public": True,
        "created_at": "2026-11-23T15:00:00Z",
        **kw,
    }


@pytest.mark.parametrize(
    ("payload", "role"),
    [
        (zd(1), "staff"),
        (zd(2), "staff"),
        (zd(3), "customer"),
        (zd(4), ""),  # a role nobody told us: not staff
        (zd(1046), ""),  # an author nobody resolved: not staff
        (zd(1, via={"channel": "rule", "source": {"rel": "trigger"}}), "automation"),
        (zd(1, via={"channel": "web"}), "staff"),
    ],
)
def test_zendesk_author_roles(payload: dict, role: str) -> None:
    assert parse_comment(payload, "41165", USERS).author_role == role


def test_slack_bots_are_automatic_and_employees_staff() -> None:
    config = SlackConfig(channels=("C1",), employees=frozenset({"U0AGENT"}))
    msg = {"ts": "1700000000.000100", "text": "x"}
    assert message_role(parse_message({**msg, "user": "U0AGENT"}), config) == "staff"
    assert message_role(parse_message({**msg, "user": "U0CUST"}), config) == "customer"
    bot = parse_message({**msg, "bot_id": "B1", "subtype": "bot_message"})
    assert message_role(bot, config) == "automation"


@pytest.mark.parametrize(
    ("association", "user_type", "role"),
    [("MEMBER", "User", "staff"), ("NONE", "User", "customer"), ("MEMBER", "Bot", "automation")],
)
def test_github_author_association(association: str, user_type: str, role: str) -> None:
    payload = {
        "id": 5,
        "body": "x",
        "created_at": "2026-11-23T15:00:00Z",
        "author_association": association,
        "user": {"login": "someone", "type": user_type},
    }
    assert github_comment(payload, "acme/product#1").author_role == role
