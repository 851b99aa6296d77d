"""What the Zendesk fake adds for agents (issue 16): roles, the search export, bulk look-ups,
and the account-wide rate limit.

Endpoints (each also without the ``.json`` suffix)::

    GET /api/v2/users/me.json                 the token's user, with its role
    GET /api/v2/group_memberships.json        every membership (offset pages)
    GET /api/v2/search/export.json            query (updated>, solved>, status:, status<,
                                              group:, words), filter[type]=ticket,
                                              page[size], page[after]
    GET /api/v2/users/show_many.json          ids=1,2,...  (at most 100)
    GET /api/v2/organizations/show_many.json  ids=1,2,...  (at most 100)

Roles: a token listed as ``agent`` gets Zendesk's 403 on the incremental exports (admin-only);
every other token is an admin. The account-wide limit counts every request of every token
(and :meth:`AgentRoutes.spend`, the user's browser and colleagues) in the last minute, answers
429 with ``Retry-After`` above it, and sends ``X-Rate-Limit`` / ``X-Rate-Limit-Remaining`` on
every answer, as Zendesk does.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from oncall_tui.demo.fakes import Call, json_response
from oncall_tui.domain.clock import Clock

#: ``updated>2025-03-04T16:00:00Z``, ``status:open``, ``status<solved``, ``group:12``.
TERM_RE = re.compile(r"\A(?P<key>[a-z_]+)(?P<op>[:<>])(?P<value>.+)\Z")
STATUS_ORDER = ("new", "open", "pending", "hold", "solved", "closed")
FORBIDDEN = {
    "error": "Forbidden",
    "description": "You do not have access to this page. Please contact the account owner "
    "of this help desk for further help.",
}


def _when(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class AgentRoutes:
    """Mixed into :class:`~oncall_tui.demo.fakes.zendesk.ZendeskFake`."""

    clock: Clock
    tickets: dict[int, dict[str, Any]]
    users: dict[int, dict[str, Any]]
    organizations: dict[int, dict[str, Any]]
    search_lag: float
    roles: dict[str, str]
    """Token -> ``agent`` or ``admin`` (a token not listed is an admin)."""
    group_members: dict[int, set[int]]
    """Group id -> user ids."""
    account_rate_per_minute: int | None
    """Requests a minute for the whole account (Zendesk: 200 to 2500 by plan); None: none."""
    _account_calls: list[float]
    route: Callable[..., None]
    _page: Callable[..., dict[str, Any]]
    _indexed_at: dict[int, datetime]
    rate_limited: Callable[[Call, float], httpx.Response]

    def _agent_routes(self) -> None:
        j = r"(?:\.json)?"
        self.route("GET", rf"/api/v2/users/me{j}", self._me)
        self.route(
            "GET", rf"/api/v2/group_memberships{j}", self._memberships, list_key="group_memberships"
        )
        self.route("GET", rf"/api/v2/search/export{j}", self._search_export, list_key="results")
        self.route("GET", rf"/api/v2/users/show_many{j}", self._show_many_users, list_key="users")
        self.route(
            "GET",
            rf"/api/v2/organizations/show_many{j}",
            self._show_many_orgs,
            list_key="organizations",
        )

    # -- roles

    def role_of(self, call: Call) -> str:
        return self.roles.get(call.token or "", "admin")

    def admin_only(self, call: Call) -> httpx.Response | None:
        """Zendesk's 403 for an agent's token on an admin-only endpoint."""
        return None if self.role_of(call) == "admin" else json_response(403, FORBIDDEN)

    def add_membership(self, group_id: int, user_id: int) -> None:
        self.group_members.setdefault(group_id, set()).add(user_id)

    # -- the account-wide budget

    def spend(self, requests: int) -> None:
        """Requests made now by someone else on the account (a browser tab, a colleague)."""
        now = self.clock().timestamp()
        self._account_calls.extend([now] * requests)

    def _recent(self) -> list[float]:
        now = self.clock().timestamp()
        self._account_calls = [t for t in self._account_calls if now - t < 60]
        return self._account_calls

    def account_before(self, call: Call) -> httpx.Response | None:
        if self.account_rate_per_minute is None:
            return None
        recent = self._recent()
        if len(recent) >= self.account_rate_per_minute:
            return self.rate_limited(call, 60 - (self.clock().timestamp() - recent[0]))
        recent.append(self.clock().timestamp())
        return None

    def account_after(self, response: httpx.Response) -> httpx.Response:
        if self.account_rate_per_minute is None:
            return response
        remaining = max(0, self.account_rate_per_minute - len(self._recent()))
        response.headers["X-Rate-Limit"] = str(self.account_rate_per_minute)
        response.headers["X-Rate-Limit-Remaining"] = str(remaining)
        return response

    # -- routes

    def _me(self, call: Call) -> httpx.Response:
        from oncall_tui.demo.fakes.zendesk_shared import AGENT_ID

        user = {**self.users[AGENT_ID], "role": self.role_of(call)}
        return json_response(200, {"user": {**user, "authenticity_token": "fake-csrf"}})

    def _memberships(self, call: Call) -> httpx.Response:
        rows = [
            {
                "id": group_id * 100_000 + user_id,
                "user_id": user_id,
                "group_id": group_id,
                "default": False,
                "created_at": "2024-01-01T00:00:00Z",
                "updated_at": "2024-01-01T00:00:00Z",
                "url": f"{call.base}/api/v2/group_memberships/{group_id * 100_000 + user_id}.json",
            }
            for group_id in sorted(self.group_members)
            for user_id in sorted(self.group_members[group_id])
        ]
        return json_response(
            200, self._page(call, rows, "group_memberships", "/api/v2/group_memberships.json")
        )

    def _ids(self, call: Call) -> list[int] | httpx.Response:
        text = call.param("ids") or ""
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts or len(parts) > 100 or not all(p.isdigit() for p in parts):
            return json_response(
                400, {"error": "InvalidValue", "description": "ids: 1 to 100 numbers"}
            )
        return [int(p) for p in parts]

    def _show_many_users(self, call: Call) -> httpx.Response:
        ids = self._ids(call)
        if isinstance(ids, httpx.Response):
            return ids
        users = [self.users[i] for i in ids if i in self.users]
        return json_response(
            200, {"users": users, "next_page": None, "previous_page": None, "count": len(users)}
        )

    def _show_many_orgs(self, call: Call) -> httpx.Response:
        ids = self._ids(call)
        if isinstance(ids, httpx.Response):
            return ids
        orgs = [self.organizations[i] for i in ids if i in self.organizations]
        return json_response(
            200,
            {"organizations": orgs, "next_page": None, "previous_page": None, "count": len(orgs)},
        )

    def _search_export(self, call: Call) -> httpx.Response:
        query = call.param("query")
        if not query:
            return json_response(400, {"error": "InvalidValue", "description": "query required"})
        if call.param("filter[type]") != "ticket":
            return json_response(
                400, {"error": "InvalidValue", "description": "filter[type] must be given"}
            )
        if re.search(r"(?:\A|\s)type:", query):
            return json_response(
                400,
                {"error": "InvalidValue", "description": "type in the query is not allowed"},
            )
        try:
            size = min(1000, max(1, int(call.param("page[size]") or 100)))
            after = call.param("page[after]")
            offset = int(json.loads(base64.urlsafe_b64decode(after))["o"]) if after else 0
        except (ValueError, KeyError, TypeError):
            return json_response(400, {"error": "InvalidValue", "description": "bad cursor"})
        matched = self._export_matches(query)
        if isinstance(matched, httpx.Response):
            return matched
        chunk = matched[offset : offset + size]
        more = offset + size < len(matched)
        cursor = (
            base64.urlsafe_b64encode(json.dumps({"o": offset + size}).encode()).decode()
            if more
            else None
        )
        link = None
        if cursor:
            params = {k: v for k, v in call.params.items() if k != "page[after]"}
            query_text = urlencode({**params, "page[after]": cursor})
            link = f"{call.base}/api/v2/search/export.json?{query_text}"
        return json_response(
            200,
            {
                "results": [{**t, "result_type": "ticket"} for t in chunk],
                "facets": None,
                "links": {"next": link, "prev": None},
                "meta": {"has_more": more, "after_cursor": cursor, "before_cursor": None},
            },
        )

    def _export_matches(self, query: str) -> list[dict[str, Any]] | httpx.Response:
        statuses: set[str] = set()
        groups: set[int] = set()
        checks: list[Callable[[dict[str, Any]], bool]] = []
        for word in query.split():
            term = TERM_RE.match(word.lower())
            if term is None:
                checks.append(_word_check(word.lower()))
                continue
            key, op, value = term["key"], term["op"], term["value"].strip('"')
            if key == "status" and op == ":":
                statuses.add(value)
            elif key == "status" and op in "<>" and value in STATUS_ORDER:
                rank = STATUS_ORDER.index(value)
                statuses.update(
                    s for i, s in enumerate(STATUS_ORDER) if (i < rank if op == "<" else i > rank)
                )
            elif key == "group" and op == ":" and value.isdigit():
                groups.add(int(value))
            elif key in ("updated", "solved", "created") and op in "<>":
                bound = _when(value.upper() if "t" in value else value)
                if bound is None:
                    return json_response(
                        400, {"error": "InvalidValue", "description": f"bad date {value!r}"}
                    )
                checks.append(_date_check(key, op, bound))
            else:
                return json_response(
                    400, {"error": "InvalidValue", "description": f"unknown term {word!r}"}
                )
        now = self.clock()
        lag = timedelta(seconds=self.search_lag)
        found = []
        for ticket in self.tickets.values():
            updated = _when(ticket["updated_at"]) or now
            if self._indexed_at.get(ticket["id"], now) > now or updated + lag > now:
                continue  # not indexed yet
            if statuses and ticket["status"] not in statuses:
                continue
            if groups and ticket.get("group_id") not in groups:
                continue
            if all(check(ticket) for check in checks):
                found.append(ticket)
        found.sort(key=lambda t: (t["created_at"], t["id"]))
        return found


def _word_check(word: str) -> Callable[[dict[str, Any]], bool]:
    return lambda ticket: word in str(ticket.get("subject", "")).lower()


def _date_check(key: str, op: str, bound: datetime) -> Callable[[dict[str, Any]], bool]:
    def check(ticket: dict[str, Any]) -> bool:
        if key == "solved":
            if ticket["status"] not in ("solved", "closed"):
                return False
            field = ticket.get("solved_at") or ticket["updated_at"]
        else:
            field = ticket[f"{key}_at"]
        when = _when(field)
        return when is not None and (when > bound if op == ">" else when < bound)

    return check


__all__ = ["AgentRoutes"]
