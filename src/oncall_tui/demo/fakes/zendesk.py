"""An in-memory Zendesk Support that speaks its REST API (the parts oncall-tui uses).

Endpoints (each also without the ``.json`` suffix)::

    GET  /api/v2/incremental/tickets/cursor.json   start_time | cursor, include=users,organizations
    GET  /api/v2/incremental/ticket_events.json    start_time, include=comment_events (time-based:
                                                   one audit per comment, 1000 a page)
    GET  /api/v2/tickets/{id}.json                 POST /api/v2/tickets.json (Idempotency-Key)
    PUT  /api/v2/tickets/{id}.json                 status, priority, assignee, tags, comment,
                                                   safe_update + updated_stamp (409 on conflict)
    GET  /api/v2/tickets/{id}/comments.json        include=users, page/per_page
    GET  /api/v2/search.json                       type:, status:, tags:, external_id:, words
    GET  /api/v2/users.json  /api/v2/organizations.json
    ...  and the agent's endpoints of :mod:`oncall_tui.demo.fakes.zendesk_agent`
    GET  /oauth/authorizations/new                 auto-approves: 302 to redirect_uri?code=
    POST /oauth/tokens                             authorization_code (+PKCE) | refresh_token

Like the real one, each export leaves out the last minute (``export_lag``) and allows
``export_rate_per_minute`` requests a minute per token.

This module holds the account (its records, how they are seeded and changed, the route
table and the error answers); each group of endpoints is a part of its own:
:mod:`~oncall_tui.demo.fakes.zendesk_export` (the exports), ``zendesk_reads`` (show, comments,
lists, search), ``zendesk_writes`` (update, create), ``zendesk_oauth`` and ``zendesk_agent``
(the agent's endpoints). A little over 500 lines: the account's state and its seeding are
one piece.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from oncall_tui.demo.fakes import DEFAULT_TOKEN, Call, FakeServer, json_response
from oncall_tui.demo.fakes.faults import FaultPlan
from oncall_tui.demo.fakes.zendesk_agent import AgentRoutes
from oncall_tui.demo.fakes.zendesk_export import ExportRoutes
from oncall_tui.demo.fakes.zendesk_oauth import OAuthRoutes
from oncall_tui.demo.fakes.zendesk_reads import TicketReads
from oncall_tui.demo.fakes.zendesk_shared import (
    AGENT_ID,
    PRIORITIES,
    PRIORITY_WIRE,
    VIA_OF_CHANNEL,
    Grant,
    error_response,
    iso,
    parse_iso,
)
from oncall_tui.demo.fakes.zendesk_writes import TicketWrites
from oncall_tui.domain.clock import Clock
from oncall_tui.domain.tickets import Channel
from oncall_tui.sync.base import RemoteComment, RemoteCustomer, RemoteTicket
from oncall_tui.sync.zendesk_config import TagMap

DEMO_SUBJECTS = (
    "Hosts stopped checking in after the upgrade",
    "SSO login loops back to the sign-in page",
    "Live query returns a server error",
    "License purchase failed but the card was charged",
    "How do we rotate the enroll secret?",
    "Every page returns 502 since this morning",
    "Vulnerability report shows stale software inventory",
    "Can we extend our sandbox trial?",
)
DEMO_REPLIES = (
    "Any update on this? It's blocking our rollout.",
    "Attached the logs you asked for.",
    "We tried the workaround and it didn't help.",
    "Thanks, that fixed it for most hosts but not all.",
)


class ZendeskFake(AgentRoutes, FakeServer):
    """An in-memory Zendesk account.

    Args:
        tickets: wire ticket dicts or :class:`RemoteTicket` records to start with.
        comments: wire comment dicts (with a ``ticket_id`` key) or :class:`RemoteComment`.
        users: wire user dicts (agents and end users).
        organizations: wire organization dicts or :class:`RemoteCustomer` records (their
            contacts become end users of the organization).
        tags: how record labels become tags (the adapter's default rule).
        export_page_size: tickets per export page (Zendesk: 1000).
        export_lag: seconds of recent changes the export leaves out (Zendesk: 60).
        export_rate_per_minute: export requests allowed per token and minute; None: no limit.
        search_lag: seconds before a new ticket shows up in search (indexing delay), and
            before a change shows in the search export.
        roles: token -> ``agent`` or ``admin``; an agent's token gets 403 on the incremental
            exports (a token not listed is an admin).
        agent_groups: the groups the demo agent (the token's user) is a member of.
        account_rate_per_minute: the account-wide limit over every token (and
            :meth:`spend`); None: none. Answers carry ``X-Rate-Limit`` headers when set.
        seed: for the ids, codes and activity the fake makes up.
    """

    name = "zendesk"

    def __init__(
        self,
        *,
        tickets: Iterable[Mapping[str, Any] | RemoteTicket] = (),
        comments: Iterable[Mapping[str, Any] | RemoteComment] = (),
        users: Iterable[Mapping[str, Any]] = (),
        organizations: Iterable[Mapping[str, Any] | RemoteCustomer] = (),
        tokens: Iterable[str] = (DEFAULT_TOKEN,),
        faults: FaultPlan | None = None,
        clock: Clock | None = None,
        tags: TagMap | None = None,
        export_page_size: int = 1000,
        export_lag: float = 60.0,
        export_rate_per_minute: float | None = 10.0,
        search_lag: float = 0.0,
        comments_page_size: int = 100,
        seed: int = 0,
        roles: Mapping[str, str] | None = None,
        agent_groups: Iterable[int] = (),
        account_rate_per_minute: int | None = None,
    ) -> None:
        super().__init__(tokens=tuple(tokens), faults=faults, clock=clock)
        self.tag_map = tags or TagMap()
        self.export_page_size = export_page_size
        self.export_lag = export_lag
        self.export_rate_per_minute = export_rate_per_minute
        self.search_lag = search_lag
        self.comments_page_size = comments_page_size
        self.random = random.Random(seed)
        self.tickets: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.organizations: dict[int, dict[str, Any]] = {}
        self._seq = 0
        self._changed: dict[int, int] = {}  # ticket id -> sequence number of its last change
        self._next_id = 1000
        self._idempotency: dict[str, tuple[str, int, datetime]] = {}
        self._export_calls: dict[tuple[str, str], list[float]] = {}
        self._events: list[tuple[int, int, int, int]] | None = None  # (ts, audit, ticket, index)
        self._grants: dict[str, Grant] = {}
        self._refresh: dict[str, str] = {}  # live refresh token -> scope
        self._expiry: dict[str, datetime] = {}  # OAuth access token -> expiry
        self._indexed_at: dict[int, datetime] = {}  # ticket id -> when search finds it
        self.roles = dict(roles or {})
        self.group_members = {int(g): {AGENT_ID} for g in agent_groups}
        self.account_rate_per_minute = account_rate_per_minute
        self._account_calls = []
        self.add_user(
            {"id": AGENT_ID, "name": "Demo Agent", "email": "agent@example.com", "role": "agent"}
        )
        for user in users:
            self.add_user(user)
        for org in organizations:
            self.add_organization(org)
        for ticket in tickets:
            self.add_ticket(ticket)
        for comment in comments:
            self.add_comment(comment)
        self.exports = ExportRoutes(self)
        self.reads = TicketReads(self)
        self.writes = TicketWrites(self)
        self.oauth = OAuthRoutes(self)
        self._routes()

    # -- seeding

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def reserve_ids(self, highest: int) -> None:
        """Ids up to ``highest`` are taken (by an earlier fake's records seeded here): new
        tickets, comments and users get larger ones."""
        self._next_id = max(self._next_id, highest)

    def _now(self) -> datetime:
        return self.clock().astimezone(UTC).replace(microsecond=0)

    def add_user(self, user: Mapping[str, Any]) -> dict[str, Any]:
        """Add a user (wire dict; ``id`` optional)."""
        now = iso(self._now())
        uid = int(user.get("id") or self._new_id())
        record = {
            "id": uid,
            "url": f"https://example.zendesk.com/api/v2/users/{uid}.json",
            "name": user.get("name") or str(user.get("email") or uid),
            "email": user.get("email"),
            "role": user.get("role", "end-user"),
            "organization_id": user.get("organization_id"),
            "created_at": user.get("created_at", now),
            "updated_at": user.get("updated_at", now),
            "time_zone": "Pacific Time (US & Canada)",
            "iana_time_zone": "America/Los_Angeles",
            "locale": "en-US",
            "locale_id": 1,
            "verified": True,
            "active": True,
            "phone": None,
            "photo": None,
            "shared_phone_number": None,
        }
        self.users[uid] = record
        return record

    def user_by_email(self, email: str, organization_id: int | None = None) -> dict[str, Any]:
        """The user with this email, created as an end user if unknown."""
        for user in self.users.values():
            if user.get("email") == email:
                return user
        name = email.split("@")[0].replace(".", " ").title()
        return self.add_user({"email": email, "name": name, "organization_id": organization_id})

    def add_organization(self, org: Mapping[str, Any] | RemoteCustomer) -> dict[str, Any]:
        """Add an organization (wire dict or customer record)."""
        now = iso(self._now())
        if isinstance(org, RemoteCustomer):
            oid = int(org.remote_id) if org.remote_id.isdigit() else self._new_id()
            data: dict[str, Any] = {
                "id": oid,
                "name": org.name,
                "domain_names": list(org.domains),
                "organization_fields": {"plan": org.plan, "codename": org.codename},
                "tags": [],
            }
            contacts = org.contacts
        else:
            data = dict(org)
            data["id"] = int(org.get("id") or self._new_id())
            contacts = ()
        oid = data["id"]
        record = {
            "url": f"https://example.zendesk.com/api/v2/organizations/{oid}.json",
            "external_id": None,
            "details": "",
            "notes": "",
            "group_id": None,
            "shared_tickets": False,
            "shared_comments": False,
            "domain_names": [],
            "organization_fields": {},
            "tags": [],
            "created_at": now,
            "updated_at": now,
            **data,
        }
        self.organizations[oid] = record
        for email in contacts:
            self.user_by_email(email, oid)
        return record

    def add_ticket(self, ticket: Mapping[str, Any] | RemoteTicket) -> dict[str, Any]:
        """Add a ticket (wire dict or record) with its first comment (the description)."""
        now = iso(self._now())
        if isinstance(ticket, RemoteTicket):
            customer = ticket.customer_remote_id or ""
            org_id = int(customer) if customer.isdigit() else None
            group = ticket.group or ""
            requester = self.user_by_email(ticket.requester, org_id) if ticket.requester else None
            assignee = self.user_by_email(ticket.assignee) if ticket.assignee else None
            if assignee is not None:
                assignee["role"] = "agent"
            data: dict[str, Any] = {
                "id": int(ticket.remote_id) if ticket.remote_id.isdigit() else self._new_id(),
                "subject": ticket.subject,
                "description": ticket.body,
                "status": ticket.status.value,
                "priority": PRIORITY_WIRE[ticket.priority],
                "tags": [self.tag_map.to_tag(label) for label in ticket.labels],
                "requester_id": requester["id"] if requester else AGENT_ID,
                "assignee_id": assignee["id"] if assignee else None,
                "organization_id": org_id,
                "group_id": int(group) if group.isdigit() else None,
                "via": {"channel": VIA_OF_CHANNEL.get(ticket.channel, "email")},
                "created_at": iso(ticket.opened_at),
                "updated_at": iso(ticket.updated_at),
            }
            if ticket.channel is Channel.ALERT and "alert" not in data["tags"]:
                data["tags"].append("alert")
        else:
            data = dict(ticket)
            data["id"] = int(ticket.get("id") or self._new_id())
        tid = data["id"]
        requester_id = data.get("requester_id", AGENT_ID)
        record = {
            "url": f"https://example.zendesk.com/api/v2/tickets/{tid}.json",
            "external_id": None,
            "type": "question",
            "raw_subject": data.get("subject", ""),
            "description": "",
            "priority": None,
            "status": "new",
            "recipient": "support@example.com",
            "requester_id": requester_id,
            "submitter_id": requester_id,
            "assignee_id": None,
            "organization_id": self.users.get(requester_id, {}).get("organization_id"),
            "group_id": None,
            "collaborator_ids": [],
            "follower_ids": [],
            "email_cc_ids": [],
            "has_incidents": False,
            "is_public": True,
            "due_at": None,
            "tags": [],
            "custom_fields": [],
            "satisfaction_rating": None,
            "sharing_agreement_ids": [],
            "via": {"channel": "email"},
            "created_at": now,
            "updated_at": now,
            **data,
        }
        self.tickets[tid] = record
        self._touch(tid, bump=False)
        if tid not in self.comments:
            self.comments[tid] = []
            self._append_comment(
                tid, record["requester_id"], record["description"], True, record["created_at"]
            )
        return record

    def add_comment(self, comment: Mapping[str, Any] | RemoteComment) -> dict[str, Any]:
        """Add a comment (wire dict with ``ticket_id``, or a record) without touching status."""
        if isinstance(comment, RemoteComment):
            tid = int(comment.ticket_remote_id)
            author = (
                self.user_by_email(comment.author)
                if "@" in comment.author
                else next(
                    (u for u in self.users.values() if u["name"] == comment.author),
                    self.users[AGENT_ID],
                )
            )
            if comment.author_role == "staff" and author["role"] == "end-user":
                author["role"] = "agent"  # the seed says this author is one of ours
            return self._append_comment(
                tid,
                author["id"],
                comment.body,
                comment.public,
                iso(comment.created_at),
                int(comment.remote_id) if comment.remote_id.isdigit() else None,
            )
        tid = int(comment["ticket_id"])
        return self._append_comment(
            tid,
            int(comment.get("author_id", AGENT_ID)),
            str(comment.get("body", "")),
            bool(comment.get("public", True)),
            str(comment.get("created_at") or iso(self._now())),
            comment.get("id"),
        )

    def _append_comment(
        self,
        tid: int,
        author_id: int,
        body: str,
        public: bool,
        created_at: str,
        cid: int | None = None,
    ) -> dict[str, Any]:
        cid = cid or self._new_id()
        record = {
            "id": cid,
            "type": "Comment",
            "author_id": author_id,
            "body": body,
            "html_body": f'<div class="zd-comment"><p>{body}</p></div>',
            "plain_body": body,
            "public": public,
            "created_at": created_at,
            "audit_id": self._new_id(),
            "attachments": [],
            "metadata": {"system": {}, "custom": {}},
            "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
        }
        self.comments.setdefault(tid, []).append(record)
        self._events = None
        return record

    def requester_reply(self, tid: int, body: str) -> dict[str, Any]:
        """The requester writes (by mail, in the help centre), as Zendesk treats it: a pending
        or solved ticket becomes open (its own rule), on hold stays on hold; tags stay (only
        an account's trigger would change them). Returns the comment."""
        with self.lock:
            ticket = self.tickets[tid]
            record = self._append_comment(tid, ticket["requester_id"], body, True, iso(self._now()))
            if ticket["status"] in ("pending", "solved"):
                ticket["status"] = "open"
            self._touch(tid)
            self.count("add_comment")
            return record

    def _touch(self, tid: int, bump: bool = True) -> None:
        self._seq += 1
        self._changed[tid] = self._seq
        if bump:
            ticket = self.tickets[tid]
            now = self._now()
            if now > parse_iso(ticket["updated_at"]):
                ticket["updated_at"] = iso(now)

    # -- demo activity

    def add_activity(self) -> str:
        """A customer opens a ticket or replies to an open one; returns the ticket id."""
        with self.lock:
            open_ids = [t for t, x in self.tickets.items() if x["status"] in ("open", "pending")]
            customers = [u for u in self.users.values() if u["role"] == "end-user"]
            if open_ids and self.random.random() < 0.4:
                tid = self.random.choice(sorted(open_ids))
                self.requester_reply(tid, self.random.choice(DEMO_REPLIES))
                return str(tid)
            requester = self.random.choice(customers) if customers else self.users[AGENT_ID]
            now = iso(self._now())
            subject = self.random.choice(DEMO_SUBJECTS)
            ticket = self.add_ticket(
                {
                    "subject": subject,
                    "description": f"{subject}.\n\nSent from the demo customer.",
                    "requester_id": requester["id"],
                    "organization_id": requester.get("organization_id"),
                    "priority": self.random.choice(PRIORITIES),
                    "status": "new",
                    "via": {"channel": self.random.choice(("email", "web"))},
                    "created_at": now,
                    "updated_at": now,
                }
            )
            self.count("create_ticket")
            return str(ticket["id"])

    # -- routes

    def _routes(self) -> None:
        j = r"(?:\.json)?"
        self._agent_routes()
        self.route(
            "GET",
            rf"/api/v2/incremental/tickets/cursor{j}",
            self.exports.export,
            list_key="tickets",
        )
        self.route(
            "GET",
            rf"/api/v2/incremental/ticket_events{j}",
            self.exports.ticket_events,
            list_key="ticket_events",
        )
        self.route("GET", rf"/api/v2/tickets/(?P<id>\d+){j}", self.reads.show_ticket)
        self.route("PUT", rf"/api/v2/tickets/(?P<id>\d+){j}", self.writes.update)
        self.route("POST", rf"/api/v2/tickets{j}", self.writes.create)
        self.route(
            "GET",
            rf"/api/v2/tickets/(?P<id>\d+)/comments{j}",
            self.reads.list_comments,
            list_key="comments",
        )
        self.route("GET", rf"/api/v2/search{j}", self.reads.search, list_key="results")
        self.route("GET", rf"/api/v2/users{j}", self.reads.list_users, list_key="users")
        self.route(
            "GET", rf"/api/v2/organizations{j}", self.reads.list_orgs, list_key="organizations"
        )
        self.route("GET", r"/oauth/authorizations/new", self.oauth.authorize, auth=False)
        self.route("POST", r"/oauth/tokens", self.oauth.token, auth=False)

    def unauthorized(self, call: Call) -> httpx.Response:
        return json_response(401, {"error": "Couldn't authenticate you"})

    def rate_limited(self, call: Call, retry_after: float) -> httpx.Response:
        seconds = str(max(1, round(retry_after)))
        return httpx.Response(
            429,
            text=f"Rate limit for ticket updates exceeded, please wait {seconds} seconds",
            headers={"Retry-After": seconds, "Content-Type": "text/plain"},
        )

    def server_error(self, call: Call, status: int) -> httpx.Response:
        headers = {"Retry-After": str(round(self.faults.retry_after))} if status == 503 else {}
        return json_response(status, {"error": "InternalError", "description": "Oops"}, headers)

    def not_found(self, call: Call) -> httpx.Response:
        return error_response(404, "RecordNotFound", "Not found")

    def bad_request(self, call: Call, message: str) -> httpx.Response:
        return error_response(400, "InvalidJSON", message)

    def before(self, call: Call) -> httpx.Response | None:
        return self.account_before(call)

    def after(self, call: Call, response: httpx.Response) -> httpx.Response:
        return self.account_after(response)

    def authorized(self, call: Call) -> bool:
        if not super().authorized(call):
            return False
        expires = self._expiry.get(call.token or "")
        return expires is None or self._now() < expires

    # -- export

    # -- tickets

    def _page(
        self, call: Call, items: list[Any], key: str, path: str, default: int = 100
    ) -> dict[str, Any]:
        try:
            per_page = min(100, max(1, int(call.param("per_page") or default)))
            page = max(1, int(call.param("page") or 1))
        except ValueError:
            per_page, page = default, 1
        start = (page - 1) * per_page
        chunk = items[start : start + per_page]
        more = start + per_page < len(items)

        def link(n: int) -> str:
            query = {k: v for k, v in call.params.items() if k not in ("page", "per_page")}
            return f"{call.base}{path}?{urlencode({**query, 'page': n, 'per_page': per_page})}"

        return {
            key: chunk,
            "next_page": link(page + 1) if more else None,
            "previous_page": link(page - 1) if page > 1 else None,
            "count": len(items),
        }

    # -- OAuth


__all__ = ["ZendeskFake"]
