"""The fake Zendesk's plain reads: a ticket, its comments (paged, with ``include=users``), the
users and organizations, and search (``type:``, ``status:``, ``tags:``, ``external_id:`` and words;
a new ticket shows only after ``search_lag``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from oncall_tui.demo.fakes import Call, FakePart, json_response
from oncall_tui.demo.fakes.zendesk_shared import ZendeskHost, error_response


def _search_terms(query: str) -> list[tuple[str, str]]:
    """Split a query: ``type:ticket external_id:"a b" word`` gives
    ``[("type", "ticket"), ("external_id", "a b"), ("", "word")]``."""
    terms: list[tuple[str, str]] = []
    i, n = 0, len(query)
    while i < n:
        while i < n and query[i].isspace():
            i += 1
        if i >= n:
            break
        start = i
        key = ""
        while i < n and not query[i].isspace() and query[i] not in ':"':
            i += 1
        if i < n and query[i] == ":":
            key = query[start:i].lower()
            i += 1
        else:
            i = start
        if i < n and query[i] == '"':
            end = query.find('"', i + 1)
            end = n if end < 0 else end
            value = query[i + 1 : end]
            i = end + 1
        else:
            start = i
            while i < n and not query[i].isspace():
                i += 1
            value = query[start:i]
        terms.append((key, value))
    return terms


def _matches(
    ticket: Mapping[str, Any], key: str, value: str, users: Mapping[int, Mapping[str, Any]]
) -> bool:
    if key == "type":
        return True
    if key == "status":
        return ticket.get("status") == value
    if key == "priority":
        return ticket.get("priority") == value
    if key in ("tags", "tag"):
        return value.lower() in ticket.get("tags", [])
    if key == "external_id":
        return ticket.get("external_id") == value
    if key == "requester":
        return users.get(ticket.get("requester_id") or 0, {}).get("email") == value
    text = f"{ticket.get('subject', '')} {ticket.get('description', '')}".lower()
    return value.lower() in text


class TicketReads(FakePart[ZendeskHost]):
    """Part of :class:`~oncall_tui.demo.fakes.zendesk.ZendeskFake` (its ``reads``)."""

    def show_ticket(self, call: Call) -> httpx.Response:
        ticket = self.fake.tickets.get(int(call.args["id"]))
        if ticket is None:
            return self.fake.not_found(call)
        return json_response(200, {"ticket": ticket})

    def list_comments(self, call: Call) -> httpx.Response:
        tid = int(call.args["id"])
        if tid not in self.fake.tickets:
            return self.fake.not_found(call)
        body = self.fake._page(
            call,
            self.fake.comments.get(tid, []),
            "comments",
            f"/api/v2/tickets/{tid}/comments.json",
            self.fake.comments_page_size,
        )
        if "users" in (call.param("include") or ""):
            ids = {c["author_id"] for c in body["comments"]}
            body["users"] = [self.fake.users[i] for i in sorted(ids) if i in self.fake.users]
        return json_response(200, body)

    def list_users(self, call: Call) -> httpx.Response:
        users = sorted(self.fake.users.values(), key=lambda u: u["id"])
        role = call.param("role")
        if role:
            users = [u for u in users if u["role"] == role]
        return json_response(200, self.fake._page(call, users, "users", "/api/v2/users.json"))

    def list_orgs(self, call: Call) -> httpx.Response:
        orgs = sorted(self.fake.organizations.values(), key=lambda o: o["id"])
        return json_response(
            200, self.fake._page(call, orgs, "organizations", "/api/v2/organizations.json")
        )

    def search(self, call: Call) -> httpx.Response:
        query = call.param("query")
        if not query:
            return error_response(400, "invalid", "query is required")
        terms = _search_terms(query)
        kind = next((v for k, v in terms if k == "type"), "ticket")
        if kind != "ticket":
            return json_response(
                200,
                {
                    "results": [],
                    "count": 0,
                    "next_page": None,
                    "previous_page": None,
                    "facets": None,
                },
            )
        now = self.fake._now()
        indexed = self.fake._indexed_at
        results = []
        for ticket in sorted(self.fake.tickets.values(), key=lambda t: t["id"]):
            if indexed.get(ticket["id"], now) > now:
                continue
            if all(_matches(ticket, key, value, self.fake.users) for key, value in terms):
                results.append({**ticket, "result_type": "ticket"})
        return json_response(200, self.fake._page(call, results, "results", "/api/v2/search.json"))


__all__ = ["TicketReads"]
