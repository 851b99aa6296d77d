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
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
import math
import random
import secrets as _secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from oncall_tui.demo.fakes import DEFAULT_TOKEN, Call, FakeServer, json_response
from oncall_tui.demo.fakes.faults import FaultPlan
from oncall_tui.demo.fakes.zendesk_agent import AgentRoutes
from oncall_tui.domain.clock import Clock
from oncall_tui.domain.tickets import Channel, Priority
from oncall_tui.sync.base import RemoteComment, RemoteCustomer, RemoteTicket
from oncall_tui.sync.zendesk_config import TagMap

STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
PRIORITIES = ("urgent", "high", "normal", "low")
PRIORITY_WIRE = {
    Priority.P0: "urgent",
    Priority.P1: "high",
    Priority.P2: "normal",
    Priority.P3: "low",
}
VIA_OF_CHANNEL = {
    Channel.EMAIL: "email",
    Channel.FORM: "web",
    Channel.CHAT: "chat",
    Channel.ALERT: "api",
    Channel.TRACKER: "api",
}
AGENT_ID = 1
IDEMPOTENCY_TTL = timedelta(hours=2)

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


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _pkce(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _error(status: int, error: str, description: str, **extra: Any) -> httpx.Response:
    return json_response(status, {"error": error, "description": description, **extra})


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str | None
    method: str
    scope: str
    expires: datetime


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
        self._grants: dict[str, _Grant] = {}
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
        now = _iso(self._now())
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
        now = _iso(self._now())
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
        now = _iso(self._now())
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
                "created_at": _iso(ticket.opened_at),
                "updated_at": _iso(ticket.updated_at),
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
                _iso(comment.created_at),
                int(comment.remote_id) if comment.remote_id.isdigit() else None,
            )
        tid = int(comment["ticket_id"])
        return self._append_comment(
            tid,
            int(comment.get("author_id", AGENT_ID)),
            str(comment.get("body", "")),
            bool(comment.get("public", True)),
            str(comment.get("created_at") or _iso(self._now())),
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
            record = self._append_comment(
                tid, ticket["requester_id"], body, True, _iso(self._now())
            )
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
            if now > _parse_iso(ticket["updated_at"]):
                ticket["updated_at"] = _iso(now)

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
            now = _iso(self._now())
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
            "GET", rf"/api/v2/incremental/tickets/cursor{j}", self._export, list_key="tickets"
        )
        self.route(
            "GET",
            rf"/api/v2/incremental/ticket_events{j}",
            self._ticket_events,
            list_key="ticket_events",
        )
        self.route("GET", rf"/api/v2/tickets/(?P<id>\d+){j}", self._show)
        self.route("PUT", rf"/api/v2/tickets/(?P<id>\d+){j}", self._update)
        self.route("POST", rf"/api/v2/tickets{j}", self._create)
        self.route(
            "GET", rf"/api/v2/tickets/(?P<id>\d+)/comments{j}", self._comments, list_key="comments"
        )
        self.route("GET", rf"/api/v2/search{j}", self._search, list_key="results")
        self.route("GET", rf"/api/v2/users{j}", self._list_users, list_key="users")
        self.route("GET", rf"/api/v2/organizations{j}", self._list_orgs, list_key="organizations")
        self.route("GET", r"/oauth/authorizations/new", self._authorize, auth=False)
        self.route("POST", r"/oauth/tokens", self._token, auth=False)

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
        return _error(404, "RecordNotFound", "Not found")

    def bad_request(self, call: Call, message: str) -> httpx.Response:
        return _error(400, "InvalidJSON", message)

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

    def _over_budget(self, call: Call, export: str) -> httpx.Response | None:
        """429 when this token asked this export too often in the last minute."""
        if self.export_rate_per_minute is None:
            return None
        now_ts = self.clock().timestamp()
        key = (call.token or "", export)
        recent = [t for t in self._export_calls.get(key, []) if now_ts - t < 60]
        if len(recent) >= self.export_rate_per_minute:
            return self.rate_limited(call, 60 - (now_ts - recent[0]))
        self._export_calls[key] = [*recent, now_ts]
        return None

    def _event_index(self) -> list[tuple[int, int, int, int]]:
        """Every comment as one ticket update, in time order (rebuilt after a change)."""
        if self._events is None:
            self._events = sorted(
                (int(_parse_iso(c["created_at"]).timestamp()), int(c["audit_id"]), tid, i)
                for tid, thread in self.comments.items()
                for i, c in enumerate(thread)
            )
        return self._events

    def _ticket_events(self, call: Call) -> httpx.Response:
        """The time-based incremental ticket event export: an audit per comment.

        The first comment of a ticket is its creation (``Create`` child events before it).
        Pages hold ``export_page_size`` events, stretched to the end of their last second;
        ``end_time`` is that second (the next page's ``start_time``, so its events repeat).
        """
        refused = self.admin_only(call) or self._over_budget(call, "ticket_events")
        if refused is not None:
            return refused
        start = call.param("start_time")
        if start is None or not start.isdigit():
            return _error(400, "InvalidPaginationParameter", "start_time is required")
        horizon = int((self._now() - timedelta(seconds=self.export_lag)).timestamp())
        since = int(start)
        if since > horizon:
            return _error(
                422, "InvalidValue", "Too recent start_time. Use a start_time older than 1 minute."
            )
        index = self._event_index()
        first = bisect.bisect_left(index, (since,))
        stop = bisect.bisect_right(index, (horizon, math.inf))
        last = min(stop, first + self.export_page_size)
        while last < stop and index[last][0] == index[last - 1][0]:
            last += 1  # the rest of the last second
        with_comments = "comment_events" in (call.param("include") or "")
        events = [self._ticket_event(*entry, with_comments) for entry in index[first:last]]
        end_time = index[last - 1][0] if last > first else since
        query = urlencode(
            {"start_time": end_time, **({"include": "comment_events"} if with_comments else {})}
        )
        return json_response(
            200,
            {
                "ticket_events": events,
                "count": len(events),
                "end_time": end_time,
                "next_page": f"{call.base}/api/v2/incremental/ticket_events.json?{query}",
                "end_of_stream": last >= stop,
            },
        )

    def _ticket_event(
        self, ts: int, audit_id: int, tid: int, index: int, with_comment: bool
    ) -> dict[str, Any]:
        comment = self.comments[tid][index]
        children: list[dict[str, Any]] = []
        if index == 0:
            ticket = self.tickets.get(tid, {})
            children += [
                {
                    "id": audit_id * 10 + n,
                    "event_type": "Create",
                    "type": "Create",
                    key: ticket.get(key),
                }
                for n, key in enumerate(("subject", "status", "priority"), start=1)
            ]
        if with_comment:
            children.append({**comment, "event_type": "Comment"})
        return {
            "id": audit_id,
            "ticket_id": tid,
            "timestamp": ts,
            "created_at": comment["created_at"],
            "updater_id": comment["author_id"],
            "via": "Web service",
            "system": {},
            "event_type": "Audit",
            "merged_ticket_ids": [],
            "comment_present": True,
            "comment_public": comment["public"],
            "child_events": children,
        }

    def _export(self, call: Call) -> httpx.Response:
        refused = self.admin_only(call) or self._over_budget(call, "tickets")
        if refused is not None:
            return refused
        cursor = call.param("cursor")
        start = call.param("start_time")
        horizon = self._now() - timedelta(seconds=self.export_lag)
        if cursor:
            try:
                decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()))
                after_seq, since_ts = int(decoded["seq"]), int(decoded["since"])
            except (ValueError, KeyError, TypeError):
                return _error(422, "InvalidCursor", "The cursor is not valid")
        elif start is not None and start.isdigit():
            after_seq, since_ts = 0, int(start)
            if datetime.fromtimestamp(since_ts, UTC) > horizon:
                return _error(422, "InvalidValue", "start_time must be at least a minute ago")
        else:
            return _error(400, "InvalidPaginationParameter", "start_time or cursor is required")
        since = datetime.fromtimestamp(since_ts, UTC)
        pending = sorted(
            (seq, tid)
            for tid, seq in self._changed.items()
            if seq > after_seq and _parse_iso(self.tickets[tid]["updated_at"]) >= since
        )
        page: list[dict[str, Any]] = []
        last_seq = after_seq
        end = True
        for seq, tid in pending:
            if _parse_iso(self.tickets[tid]["updated_at"]) > horizon:
                break  # the last minute is not exported yet
            if len(page) >= self.export_page_size:
                end = False
                break
            page.append(dict(self.tickets[tid]))
            last_seq = seq
        state = {"seq": last_seq, "since": since_ts}
        after = base64.urlsafe_b64encode(json.dumps(state).encode()).decode()
        body: dict[str, Any] = {
            "tickets": page,
            "after_cursor": after,
            "after_url": f"{call.base}/api/v2/incremental/tickets/cursor.json?cursor={after}",
            "before_cursor": None,
            "before_url": None,
            "end_of_stream": end,
        }
        body.update(self._sideloads(page, call.param("include") or ""))
        return json_response(200, body)

    def _sideloads(self, tickets: list[dict[str, Any]], include: str) -> dict[str, Any]:
        wanted = {x.strip() for x in include.split(",") if x.strip()}
        extra: dict[str, Any] = {}
        if "users" in wanted:
            ids: set[int] = {
                int(t[key])
                for t in tickets
                for key in ("requester_id", "submitter_id", "assignee_id")
                if t.get(key) is not None
            }
            extra["users"] = [self.users[i] for i in sorted(ids) if i in self.users]
        if "organizations" in wanted:
            orgs = {int(t["organization_id"]) for t in tickets if t.get("organization_id")}
            extra["organizations"] = [
                self.organizations[i] for i in sorted(orgs) if i in self.organizations
            ]
        return extra

    # -- tickets

    def _show(self, call: Call) -> httpx.Response:
        ticket = self.tickets.get(int(call.args["id"]))
        if ticket is None:
            return self.not_found(call)
        return json_response(200, {"ticket": ticket})

    def _audit(self, tid: int, events: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": self._new_id(),
            "ticket_id": tid,
            "created_at": _iso(self._now()),
            "author_id": AGENT_ID,
            "metadata": {"system": {}, "custom": {}},
            "via": {"channel": "api"},
            "events": events,
        }

    def _apply(
        self, ticket: dict[str, Any], fields: Mapping[str, Any], creating: bool = False
    ) -> tuple[list[dict[str, Any]], httpx.Response | None]:
        """Validate and apply ticket fields; returns audit events or an error answer."""
        events: list[dict[str, Any]] = []
        changes: dict[str, Any] = {}
        if "status" in fields:
            if fields["status"] not in STATUSES:
                return events, _error(
                    422,
                    "RecordInvalid",
                    "Record validation errors",
                    details={"status": [{"description": "Status: is invalid"}]},
                )
            changes["status"] = fields["status"]
        if "priority" in fields:
            if fields["priority"] is not None and fields["priority"] not in PRIORITIES:
                return events, _error(
                    422,
                    "RecordInvalid",
                    "Record validation errors",
                    details={"priority": [{"description": "is invalid"}]},
                )
            changes["priority"] = fields["priority"]
        if "assignee_email" in fields:
            agent = next(
                (
                    u
                    for u in self.users.values()
                    if u.get("email") == fields["assignee_email"] and u["role"] != "end-user"
                ),
                None,
            )
            if agent is None:
                return events, _error(
                    422,
                    "RecordInvalid",
                    "Record validation errors",
                    details={"assignee": [{"description": "is not an agent"}]},
                )
            changes["assignee_id"] = agent["id"]
        if "assignee_id" in fields:
            aid = fields["assignee_id"]
            if aid is not None and (not isinstance(aid, int) or aid not in self.users):
                return events, _error(
                    422,
                    "RecordInvalid",
                    "Record validation errors",
                    details={"assignee": [{"description": "is invalid"}]},
                )
            changes["assignee_id"] = aid
        if "tags" in fields:
            tags = fields["tags"]
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                return events, _error(422, "RecordInvalid", "tags must be a list of strings")
            normal: list[str] = []
            for tag in tags:
                for word in tag.lower().split():
                    if word not in normal:
                        normal.append(word)
            changes["tags"] = normal
        for key in ("subject", "external_id", "requester_id", "organization_id"):
            if key in fields:
                changes[key] = fields[key]
        comment = fields.get("comment")
        if comment is not None:
            if not isinstance(comment, dict) or not str(comment.get("body") or "").strip():
                return events, _error(
                    422,
                    "RecordInvalid",
                    "Record validation errors",
                    details={"base": [{"description": "Comment: cannot be blank"}]},
                )
        elif creating:
            return events, _error(
                422,
                "RecordInvalid",
                "Record validation errors",
                details={"base": [{"description": "Description: cannot be blank"}]},
            )
        for key, value in changes.items():
            if ticket.get(key) != value:
                events.append(
                    {
                        "id": self._new_id(),
                        "type": "Change",
                        "field_name": key,
                        "value": _event_value(value),
                        "previous_value": _event_value(ticket.get(key)),
                    }
                )
                ticket[key] = value
        if comment is not None:
            public = bool(comment.get("public", True))
            if creating:
                ticket["description"] = str(comment["body"])
            record = self._append_comment(
                ticket["id"],
                AGENT_ID if not creating else ticket["requester_id"],
                str(comment["body"]),
                public,
                _iso(self._now()),
            )
            events.append({**record, "type": "Comment"})
            self.count("add_comment")
        return events, None

    def _update(self, call: Call) -> httpx.Response:
        tid = int(call.args["id"])
        ticket = self.tickets.get(tid)
        if ticket is None:
            return self.not_found(call)
        fields = call.body.get("ticket") if isinstance(call.body, dict) else None
        if not isinstance(fields, dict):
            return _error(400, "InvalidEndpoint", 'expected {"ticket": {...}}')
        if ticket["status"] == "closed":
            return _error(422, "RecordInvalid", "Status: closed prevents ticket update")
        if fields.get("safe_update") and fields.get("updated_stamp") != ticket["updated_at"]:
            return _error(
                409,
                "UpdateConflict",
                "Safe Update prevented the update due to "
                "outdated ticket data. Please fetch the latest ticket data and try again.",
            )
        before = dict(ticket)
        events, error = self._apply(ticket, fields)
        if error is not None:
            self.tickets[tid] = before
            return error
        self.count("update_ticket")
        self._touch(tid)
        return json_response(200, {"ticket": ticket, "audit": self._audit(tid, events)})

    def _create(self, call: Call) -> httpx.Response:
        fields = call.body.get("ticket") if isinstance(call.body, dict) else None
        if not isinstance(fields, dict):
            return _error(400, "InvalidEndpoint", 'expected {"ticket": {...}}')
        key = call.request.headers.get("idempotency-key")
        fingerprint = json.dumps(call.body, sort_keys=True)
        now = self._now()
        if key:
            seen = self._idempotency.get(key)
            if seen is not None and now - seen[2] < IDEMPOTENCY_TTL:
                if seen[0] != fingerprint:
                    return _error(
                        400,
                        "IdempotentRequestError",
                        "The idempotency key was already used with other parameters",
                    )
                ticket = self.tickets[seen[1]]
                return json_response(
                    201,
                    {"ticket": ticket, "audit": self._audit(ticket["id"], [])},
                    {
                        "x-idempotency-lookup": "hit",
                        "Location": f"{call.base}/api/v2/tickets/{ticket['id']}.json",
                    },
                )
        tid = self._new_id()
        requester_id = fields.get("requester_id", AGENT_ID)
        if requester_id not in self.users:
            return _error(422, "RecordInvalid", "Requester: is invalid")
        ticket = self.add_ticket(
            {
                "id": tid,
                "subject": str(fields.get("subject") or ""),
                "raw_subject": str(fields.get("subject") or ""),
                "requester_id": requester_id,
                "submitter_id": AGENT_ID,
                "organization_id": self.users[requester_id].get("organization_id"),
                "via": {"channel": "api"},
                "created_at": _iso(now),
                "updated_at": _iso(now),
            }
        )
        self.comments[tid] = []  # the comment below is the first one
        events, error = self._apply(ticket, fields, creating=True)
        if error is not None:
            del self.tickets[tid]
            self._changed.pop(tid, None)
            return error
        self._indexed_at[tid] = now + timedelta(seconds=self.search_lag)
        self.count("create_ticket")
        self._touch(tid)
        if key:
            self._idempotency[key] = (fingerprint, tid, now)
        headers = {"Location": f"{call.base}/api/v2/tickets/{tid}.json"}
        if key:
            headers["x-idempotency-lookup"] = "miss"
        return json_response(201, {"ticket": ticket, "audit": self._audit(tid, events)}, headers)

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

    def _comments(self, call: Call) -> httpx.Response:
        tid = int(call.args["id"])
        if tid not in self.tickets:
            return self.not_found(call)
        body = self._page(
            call,
            self.comments.get(tid, []),
            "comments",
            f"/api/v2/tickets/{tid}/comments.json",
            self.comments_page_size,
        )
        if "users" in (call.param("include") or ""):
            ids = {c["author_id"] for c in body["comments"]}
            body["users"] = [self.users[i] for i in sorted(ids) if i in self.users]
        return json_response(200, body)

    def _list_users(self, call: Call) -> httpx.Response:
        users = sorted(self.users.values(), key=lambda u: u["id"])
        role = call.param("role")
        if role:
            users = [u for u in users if u["role"] == role]
        return json_response(200, self._page(call, users, "users", "/api/v2/users.json"))

    def _list_orgs(self, call: Call) -> httpx.Response:
        orgs = sorted(self.organizations.values(), key=lambda o: o["id"])
        return json_response(
            200, self._page(call, orgs, "organizations", "/api/v2/organizations.json")
        )

    def _search(self, call: Call) -> httpx.Response:
        query = call.param("query")
        if not query:
            return _error(400, "invalid", "query is required")
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
        now = self._now()
        indexed = self._indexed_at
        results = []
        for ticket in sorted(self.tickets.values(), key=lambda t: t["id"]):
            if indexed.get(ticket["id"], now) > now:
                continue
            if all(_matches(ticket, key, value, self.users) for key, value in terms):
                results.append({**ticket, "result_type": "ticket"})
        return json_response(200, self._page(call, results, "results", "/api/v2/search.json"))

    # -- OAuth

    def _authorize(self, call: Call) -> httpx.Response:
        redirect = call.param("redirect_uri")
        client_id = call.param("client_id")
        if call.param("response_type") != "code" or not redirect or not client_id:
            return _error(
                400,
                "invalid_request",
                "response_type=code, client_id and redirect_uri are required",
            )
        code = _secrets.token_urlsafe(16)
        self._grants[code] = _Grant(
            client_id=client_id,
            redirect_uri=redirect,
            challenge=call.param("code_challenge"),
            method=call.param("code_challenge_method") or "plain",
            scope=call.param("scope") or "read write",
            expires=self._now() + timedelta(minutes=2),
        )
        query = {"code": code}
        if call.param("state"):
            query["state"] = call.param("state") or ""
        separator = "&" if "?" in redirect else "?"
        return httpx.Response(302, headers={"Location": f"{redirect}{separator}{urlencode(query)}"})

    def _issue_tokens(self, scope: str) -> httpx.Response:
        access = f"zd-access-{_secrets.token_urlsafe(12)}"
        refresh = f"zd-refresh-{_secrets.token_urlsafe(12)}"
        self.tokens.add(access)
        self._expiry[access] = self._now() + timedelta(hours=1)
        self._refresh[refresh] = scope
        self.count("oauth_token")
        return json_response(
            200,
            {
                "access_token": access,
                "refresh_token": refresh,
                "token_type": "bearer",
                "scope": scope,
                "expires_in": 3600,
                "refresh_token_expires_in": 2592000,
            },
        )

    def _token(self, call: Call) -> httpx.Response:
        grant = call.param("grant_type")
        if grant == "authorization_code":
            code = call.param("code") or ""
            stored = self._grants.pop(code, None)  # codes are single-use
            if stored is None or stored.expires < self._now():
                return _oauth_error("invalid_grant", "The authorization code is invalid or used")
            if call.param("client_id") != stored.client_id:
                return _oauth_error("invalid_client", "client_id does not match the code")
            if call.param("redirect_uri") != stored.redirect_uri:
                return _oauth_error("invalid_grant", "redirect_uri does not match the code")
            if stored.challenge:
                verifier = call.param("code_verifier") or ""
                expected = _pkce(verifier) if stored.method == "S256" else verifier
                if not verifier or expected != stored.challenge:
                    return _oauth_error("invalid_grant", "PKCE verification failed")
            return self._issue_tokens(stored.scope)
        if grant == "refresh_token":
            token = call.param("refresh_token") or ""
            scope = self._refresh.pop(token, None)  # rotation: the old one dies here
            if scope is None:
                return _oauth_error("invalid_grant", "The refresh token is invalid or was used")
            return self._issue_tokens(scope)
        return _oauth_error("unsupported_grant_type", f"grant_type {grant!r} is not supported")


def _event_value(value: Any) -> Any:
    """Audit event values are strings or integers (lists of tags are space-separated)."""
    return " ".join(map(str, value)) if isinstance(value, list) else value


def _oauth_error(error: str, description: str) -> httpx.Response:
    return json_response(400, {"error": error, "error_description": description})


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


__all__ = ["ZendeskFake"]
