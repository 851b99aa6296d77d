"""Zendesk Support: tickets, their comments and the customers' organizations.

Pull
    The cursor-based incremental ticket export
    (``GET /api/v2/incremental/tickets/cursor.json?start_time=…`` then ``?cursor=…`` until
    ``end_of_stream``), sideloading ``users`` and ``organizations`` so requesters and their
    customers arrive with the tickets. Then the comments, from the time-based incremental
    ticket event export with its ``comment_events`` sideload
    (``GET /api/v2/incremental/ticket_events.json?start_time=…&include=comment_events``):
    a thousand events a page, every comment of every ticket, instead of one request per
    changed ticket (100,000 requests for a first sync of 100,000 tickets). A round reads
    ticket pages to the end of their stream, then event pages to the end of theirs; the store
    keeps a comment whose ticket it has not seen yet until the ticket arrives. Each export
    allows ~10 requests a minute and never returns the last minute's changes:
    ``Page.wait_hint`` carries that budget to the engine, and a change made in the last minute
    arrives with the next pass.

Agents
    Both exports are admin-only. The first sync asks ``GET /api/v2/users/me`` for the token's
    role (``access = "auto"``); an agent's token, or a 403 from an export later, pulls through
    the search export instead (:mod:`oncall_tui.sync.zendesk_agent`). The cursor's ``path``
    and ``why`` say which; ``ZendeskBackend.access`` too. Every request counts against
    :class:`~oncall_tui.sync.budget.SharedBudget` (``budget_share`` of the account's limit).

Push
    :mod:`oncall_tui.sync.zendesk_push` (:class:`~oncall_tui.sync.zendesk_push.ZendeskWriter`,
    the backend's ``writer``); the wire format is read in :mod:`oncall_tui.sync.zendesk_wire`,
    the options and the label/tag map are in :mod:`oncall_tui.sync.zendesk_config`.

Hostile or partial answers
    A page is read record by record: a ticket, user, organization or comment that cannot be
    read (an unknown status, a bad date, wrong types) is set aside (``Page.quarantined``, the
    sync log names it) and the rest of the page is applied; only a page that is unreadable as a
    whole (not JSON, not the export's envelope) fails the pull. A push's answer is read as
    Zendesk's API description allows it, where only ``requester_id`` is required: a missing
    ticket, id, ``updated_at`` or audit is filled in by re-reading the ticket, by the
    ``Location`` header of a creation, or by looking the comment or creation up, and the entry
    is settled.

Customers
    An organization is a customer: its plan is ``organization_fields.plan`` or a ``plan_<name>``
    tag (else ``free``); its codename ``organization_fields.codename`` or a ``codename_<name>``
    tag. Field names and tag prefixes are options.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any

import httpx

from oncall_tui.domain.ops import SUPPORTED
from oncall_tui.domain.remote import Scope
from oncall_tui.domain.tickets import Source
from oncall_tui.sync.adapter import HttpAdapter, paginate
from oncall_tui.sync.base import (
    AuthFailed,
    Page,
    Quarantined,
    RemoteComment,
    RemoteCustomer,
    RemoteTicket,
    bounded,
    bounded_page,
    decode_cursor,
    encode_cursor,
)
from oncall_tui.sync.budget import SharedBudget
from oncall_tui.sync.fields import Fields
from oncall_tui.sync.http import response_json
from oncall_tui.sync.zendesk_agent import ADMIN_WHY, AGENT_WHY, FORBIDDEN_WHY, AgentPath
from oncall_tui.sync.zendesk_config import ZendeskConfig
from oncall_tui.sync.zendesk_push import SEARCH_PATH, ZendeskWriter
from oncall_tui.sync.zendesk_wire import (
    User,
    numeric_id,
    parse_comment,
    parse_events_page,
    parse_export_page,
    parse_ticket,
    parse_users,
)

EXPORT_PATH = "/api/v2/incremental/tickets/cursor.json"
EVENTS_PATH = "/api/v2/incremental/ticket_events.json"
USERS_PATH = "/api/v2/users.json"
#: Seconds before an unknown comment author makes the adapter read the staff list again.
STAFF_REFRESH = 3600.0
#: Zendesk's minimum distance between ``start_time`` and now.
EXPORT_LAG = 60


class ZendeskBackend(HttpAdapter[ZendeskConfig]):
    """The help desk, over Zendesk's REST API.

    Args:
        client: from :func:`oncall_tui.sync.http.build_client` with the account's URL
            (``https://acme.zendesk.com``) and an OAuth token (or Basic ``email/token:KEY``).
        config: options; see :class:`ZendeskConfig`.
        clock: the wall clock (export start times, Retry-After dates).
        name: the backend's name in ``sync_state``.
    """

    source = Source.HELPDESK
    supported_ops = SUPPORTED[Source.HELPDESK]
    default_name = "zendesk"

    def default_config(self) -> ZendeskConfig:
        return ZendeskConfig()

    def _setup(self) -> None:
        self.base_url = str(self.client.base_url).rstrip("/")
        #: Users seen in sideloads, so push answers (which carry bare ids) map like pulls.
        self.users: dict[str, User] = {}
        self._staff_loaded_at: float | None = None
        #: Lines for the sync log, carried by the next page.
        self._notes: list[str] = []
        #: oncall-tui's share of the account's per-minute limit (every request counts).
        self.budget = SharedBudget(self.config.budget_share, self._now_ts)
        #: Organizations already read (the agent path looks up only new ones).
        self.known_orgs: set[str] = set()
        self.agent = AgentPath(self)
        self.writer = ZendeskWriter(self)
        #: Which pull is in use (``admin`` or ``agent``) and why, once known.
        self.access: tuple[str, str] | None = None

    def _shown(self) -> str:
        return f"base_url={self.base_url!r}"

    # -- plumbing (the hooks of HttpAdapter._call): every request counts against the shared
    # budget, whose headers each answer updates; records set aside outside a page (staff list,
    # search, look-ups) go to the sync log with the next page.

    def _before_send(self, resource: str) -> None:
        self.budget.note()

    def _after_send(self, response: httpx.Response, resource: str) -> None:
        self.budget.observe(response.headers)

    # -- pull

    @property
    def export_interval(self) -> float:
        """Seconds between two export requests that keep within the budget."""
        return 60.0 / self.config.export_requests_per_minute

    async def fetch_changes(self, cursor: str | None) -> Page:
        """One step: a ticket export page, or once those reached the end, a comment events page.

        Cursor state: ``export`` (Zendesk's ``after_cursor``), ``eos`` (the last ticket page
        ended that stream), ``events`` (the event export's next ``start_time``), ``phase``
        (``events`` once this round's ticket pages are read) and ``last_export`` /
        ``last_events`` (when each export was last asked, for its budget). A cursor of an
        older version (which read comments ticket by ticket) goes on with the event stream
        from the start of the history window: comments already stored are not duplicated.
        """
        state = decode_cursor(cursor, "zendesk").data
        if state.get("path") not in ("admin", "agent"):
            if state:  # a cursor of an older version was reading the exports: go on
                state.update(path="admin", why=ADMIN_WHY)
            else:
                path, why = await self.choose_access()
                state = {"path": path, "why": why}
                export = "search" if path == "agent" else "incremental"
                self._notes.append(f"pulling with the {export} export ({why})")
        self.access = (str(state["path"]), str(state.get("why") or ""))
        if state["path"] == "agent":
            return await self.agent.step(state)
        try:
            return await self._admin_step(state)
        except ExportForbidden:
            if self.config.access == "admin":
                raise
            self.access = ("agent", FORBIDDEN_WHY)
            self._notes.append(f"switching to the search export ({FORBIDDEN_WHY})")
            return await self.agent.step({"path": "agent", "why": FORBIDDEN_WHY})

    async def choose_access(self) -> tuple[str, str]:
        """The pull this token may use, and why (``oncall-tui doctor`` shows it too)."""
        if self.config.access == "admin":
            return "admin", "configured: access = admin"
        if self.config.access == "agent":
            return "agent", "configured: access = agent (search export)"
        role = await self.agent.role()
        return ("admin", ADMIN_WHY) if role == "admin" else ("agent", AGENT_WHY)

    async def _admin_step(self, state: dict[str, Any]) -> Page:
        state.pop("todo", None)
        if state.get("phase") == "events":
            return await self._events_step(state)
        params: dict[str, Any] = {"include": "users,organizations"}
        after = state.get("export")
        if isinstance(after, str) and after:
            params["cursor"] = after
        else:
            params["start_time"] = self._start_time()
        state["last_export"] = self._now_ts()
        answer = await self._json("GET", EXPORT_PATH, params=params, on_error=_export_error)
        page = parse_export_page(answer, self.config, self.base_url)
        self.users.update(page.users)
        if page.after_cursor:
            state["export"] = page.after_cursor
        state["eos"] = page.end_of_stream
        if page.end_of_stream:
            state["phase"] = "events"
        return self._page(
            state,
            done=False,
            tickets=page.tickets,
            customers=page.customers,
            quarantined=page.quarantined,
        )

    async def _events_step(self, state: dict[str, Any]) -> Page:
        start = state.get("events")
        latest = int(self._now_ts()) - EXPORT_LAG
        if isinstance(start, bool) or not isinstance(start, int) or start < 0:
            start = self._start_time()
        start = min(start, latest)  # Zendesk refuses a start_time in the last minute
        state["last_events"] = self._now_ts()
        answer = await self._json(
            "GET",
            EVENTS_PATH,
            params={"start_time": start, "include": "comment_events"},
            on_error=_export_error,
        )
        page = parse_events_page(answer, self.users)
        strangers = {c.author_handle for c in page.comments if c.author_handle not in self.users}
        if strangers and self._staff_due():
            # Comment events carry bare author ids; agents are rarely sideloaded with the
            # tickets (only requesters and assignees are): read the staff list, then map again.
            await self._load_staff()
            page = parse_events_page(answer, self.users)
        end = page.end_time if page.end_time is not None else start
        if end <= start and not page.end_of_stream:
            # A full page within one second (Zendesk stretches a page over a whole second, so
            # nothing of that second is left behind): step past it instead of asking again.
            end = start + 1
        state["events"] = max(start, end)
        done = page.end_of_stream
        if done:
            state["phase"] = "tickets"
        return self._page(state, done=done, comments=page.comments, quarantined=page.quarantined)

    def _staff_due(self) -> bool:
        last = self._staff_loaded_at
        return last is None or self._now_ts() - last >= STAFF_REFRESH

    async def _load_staff(self) -> None:
        """Every agent and admin (a few pages), so comment authors get their names."""
        self._staff_loaded_at = self._now_ts()
        for role in ("agent", "admin"):
            query = {"role": role, "per_page": 100}
            # A safety bound: 10,000 staff.
            async for f in self.pages(USERS_PATH, query, "zendesk users", max_pages=100):
                self.users.update(parse_users(f.items("users"), self.triage))

    async def pages(
        self, url: str, params: Mapping[str, Any], what: str, *, max_pages: int
    ) -> AsyncIterator[Fields]:
        """Each page of a list whose answers carry the next page's URL in ``next_page``
        (offset pagination), at most ``max_pages`` (a safety bound)."""

        async def fetch(next_url: str | None) -> tuple[list[Fields], str | None]:
            page_url, page_params = self.page_request(next_url, url, params)
            f = Fields(await self._json("GET", page_url, params=page_params), what)
            return [f], f.opt_text("next_page") or None

        async for f in paginate(fetch, max_pages=max_pages):
            yield f

    def _start_time(self) -> int:
        now = self.clock()
        start = now - timedelta(days=self.config.history_days)
        return max(0, min(int(start.timestamp()), int(now.timestamp()) - EXPORT_LAG))

    def _page(
        self,
        state: dict[str, Any],
        *,
        done: bool,
        tickets: tuple[RemoteTicket, ...] = (),
        comments: tuple[RemoteComment, ...] = (),
        customers: tuple[RemoteCustomer, ...] = (),
        quarantined: tuple[Quarantined, ...] = (),
        notes: Iterable[str] = (),
    ) -> Page:
        """The page of one step; the agent path's ``scope_done`` (the tickets of a finished
        sweep) becomes its ``in_scope``."""
        scope_done = state.pop("scope_done", None)
        in_scope = Scope(Source.HELPDESK, frozenset(scope_done)) if scope_done is not None else None
        wait = 0.0
        if state.get("path") != "agent":
            # The next call asks one of the two exports: keep within that one's budget.
            last = state.get("last_events" if state.get("phase") == "events" else "last_export")
            elapsed = self._now_ts() - last if isinstance(last, int | float) else math.inf
            wait = max(0.0, self.export_interval - elapsed)
        wait = max(wait, self.budget.wait())
        aside, self.triage.bad = self.triage.bad, []
        notes = (*self._notes, *notes)
        self._notes = []
        if notes or wait >= 1:
            notes = (*notes, self.budget.describe())
        page = Page(
            tickets=tickets,
            comments=comments,
            customers=customers,
            cursor=encode_cursor(state, "zendesk"),
            done=done,
            wait_hint=wait,
            quarantined=(*aside, *quarantined),
            notes=notes,
            in_scope=in_scope,
        )
        return bounded_page(page, self.limits)

    async def fetch_comments(self, ticket_id: str) -> list[RemoteComment]:
        """All comments of one ticket but the first (it is the ticket's description).

        A ticket deleted meanwhile (404) has none.
        """
        first = f"/api/v2/tickets/{numeric_id(ticket_id)}/comments.json"
        gone = False

        async def fetch(next_url: str | None) -> tuple[list[RemoteComment], str | None]:
            nonlocal gone
            url, params = self.page_request(next_url, first, {"include": "users"})
            response = await self._call("GET", url, params=params, ok=(404,))
            if response.status_code == 404:
                gone = True
                return [], None
            f = Fields(response_json(response, self.name), "zendesk comments")
            users = parse_users(f.items("users"), self.triage)
            self.users.update(users)
            read = (
                self.triage.read("comment", item, _comment_parser(ticket_id, users))
                for item in f.items("comments")
            )
            page = [bounded(c, self.limits) for c in read if c is not None]
            return page, f.opt_text("next_page") or None

        # A safety bound: 100 pages of 100 comments.
        comments = [c async for c in paginate(fetch, max_pages=100)]
        if gone:
            return []
        comments.sort(key=lambda c: c.created_at)
        return comments[1:]

    async def search_issues(self, query: str) -> list[RemoteTicket]:
        """Tickets matching ``query`` (Zendesk search syntax; plain words work).

        A result that cannot be read is left out (and shows in the sync log).
        """
        found = Fields(
            await self._json("GET", SEARCH_PATH, params={"query": f"type:ticket {query}"}),
            "zendesk search",
        )
        tickets = (
            self.triage.read(
                "ticket", item, lambda t: parse_ticket(t, {}, self.config, self.base_url)
            )
            for item in found.items("results")
            if isinstance(item, dict) and item.get("result_type", "ticket") == "ticket"
        )
        return [bounded(t, self.limits) for t in tickets if t is not None]


class ExportForbidden(AuthFailed):
    """The incremental export refused the token (403: not an admin's)."""


def _export_error(response: httpx.Response, what: str) -> None:
    if response.status_code == 403:
        raise ExportForbidden(f"{what}: the incremental export needs a Zendesk admin's token (403)")


def _comment_parser(ticket_id: str, users: Mapping[str, User]) -> Callable[[object], RemoteComment]:
    return lambda payload: parse_comment(payload, ticket_id, users)


__all__ = ["ExportForbidden", "ZendeskBackend"]
