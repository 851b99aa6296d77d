"""Zendesk for a regular agent: the search export instead of the admin-only incremental exports.

Which path
    At the first sync (``access = "auto"``) the adapter asks ``GET /api/v2/users/me`` for the
    token's role: an admin reads the incremental exports (:mod:`oncall_tui.sync.zendesk`), an
    agent this module's path. A 403 on an export later (the role changed, a scoped token)
    switches to this path in the same pass. The choice and its reason are in the cursor, in
    the sync log (``Page.notes``) and in ``oncall-tui doctor``.

Scope
    What the user works: tickets of the configured statuses (default new, open, pending and
    hold) in the user's groups (``GET /api/v2/group_memberships``, or ``agent_groups``), plus
    tickets solved in the last ``agent_solved_days``. Each is one search query
    (``status:open status:pending group:12 …``: values of one keyword are alternatives).

A pass
    ``GET /api/v2/search/export?query=…&filter[type]=ticket&page[size]=100`` page by page
    (``page[after]``), with ``updated>`` the previous pass's start minus
    ``search_overlap_seconds`` (search indexing lags a few minutes). A ticket already read with
    the same ``updated_at`` inside that overlap is left out, so nothing is fetched twice; a
    changed one is sent with its page, and its comments follow
    (``GET /api/v2/tickets/{id}/comments``, a few tickets a step). Requesters, assignees and
    their organizations not seen yet are read in bulk (``users/show_many``,
    ``organizations/show_many``, 100 ids a request).

Leaving the scope
    Every ``scope_sweep_minutes`` (and on the first pass) the queries run without the
    ``updated>`` bound: the ids they list are the whole scope, and the last page of the sweep
    carries them (``Page.in_scope``); the store marks every other cached ticket of the backend
    as not refreshed. It stays cached (its SLA and history are still true as of its last copy).

Budget
    Every request is counted by the backend's :class:`~oncall_tui.sync.budget.SharedBudget`;
    a step sends no more than the budget allows now and tells the engine how long to wait
    (``Page.wait_hint``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from oncall_tui.sync.base import (
    Page,
    Rejected,
    RemoteComment,
    RemoteCustomer,
    RemoteTicket,
    bounded,
)
from oncall_tui.sync.fields import Fields
from oncall_tui.sync.zendesk_host import ZendeskHost

log = logging.getLogger(__name__)

ME_PATH = "/api/v2/users/me.json"
MEMBERSHIPS_PATH = "/api/v2/group_memberships.json"
SEARCH_EXPORT_PATH = "/api/v2/search/export.json"
USERS_MANY_PATH = "/api/v2/users/show_many.json"
ORGS_MANY_PATH = "/api/v2/organizations/show_many.json"
SEARCH_PAGE_SIZE = 100
SHOW_MANY = 100
#: Tickets whose comments one step reads at most (each is one request or more).
COMMENTS_PER_STEP = 10
ADMIN_WHY = "admin token: incremental export"
AGENT_WHY = "agent token: search export; an admin's token would allow the incremental export"
FORBIDDEN_WHY = (
    "the incremental export answered 403 (not an admin's token): search export; "
    "an admin's token would allow the incremental export"
)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class AgentPath:
    """The agent's pull, one step per ``fetch_changes`` call (state in the cursor)."""

    def __init__(self, backend: ZendeskHost) -> None:
        self.backend = backend
        self.config = backend.config
        self._current: Fields | None = None

    # -- choosing

    async def _user(self) -> Fields:
        """The token's user (asked once per run: the role, then the id)."""
        if self._current is None:
            answer = Fields(await self.backend._json("GET", ME_PATH), "zendesk current user")
            self._current = answer.sub("user")
        return self._current

    async def role(self) -> str:
        """The token's role (``admin``, ``agent``, ``end-user``)."""
        return (await self._user()).opt_text("role") or "agent"

    async def _me(self) -> tuple[str, list[str]]:
        """The user's id and groups (the configured groups win)."""
        me = (await self._user()).ident("id")
        if self.config.agent_groups:
            return me, list(self.config.agent_groups)
        groups: list[str] = []
        pages = self.backend.pages(
            MEMBERSHIPS_PATH,
            {"per_page": 100},
            "zendesk memberships",
            max_pages=50,  # a safety bound: 5,000 memberships
        )
        async for f in pages:
            for row in f.objects("group_memberships"):
                if row.opt_ident("user_id") == me:
                    group = row.opt_ident("group_id")
                    if group and group not in groups:
                        groups.append(group)
        return me, groups

    # -- queries

    def queries(self, state: dict[str, Any]) -> list[str]:
        """This pass's search queries (without ``type:``: the export takes ``filter[type]``)."""
        groups = " ".join(f"group:{g}" for g in state.get("groups") or ())
        since = state.get("since")
        bound = (
            f" updated>{_iso(since)}"
            if isinstance(since, int | float) and not state.get("sweep")
            else ""
        )
        out = []
        statuses = " ".join(f"status:{s}" for s in self.config.agent_statuses)
        out.append(f"{statuses} {groups}".strip() + bound)
        days = self.config.agent_solved_days
        if days and "solved" not in self.config.agent_statuses:
            cutoff = float(state.get("started") or self.backend._now_ts()) - days * 86400
            out.append(f"status:solved solved>{_iso(cutoff)} {groups}".strip() + bound)
        return out

    # -- a step

    async def step(self, state: dict[str, Any]) -> Page:
        """One step of the agent's pull; ``state`` is the cursor's (changed in place)."""
        notes: list[str] = []
        if "me" not in state:
            state["me"], state["groups"] = await self._me()
            groups = ", ".join(state["groups"]) or "none found: every ticket the token sees"
            notes.append(f"scope: groups {groups}")
        if "started" not in state:  # a new pass
            now = self.backend._now_ts()
            state["started"] = now
            last_sweep = state.get("swept_at")
            sweep_due = (
                state.get("since") is None
                or not isinstance(last_sweep, int | float)
                or now - last_sweep >= self.config.scope_sweep_minutes * 60
            )
            state.update(q=0, after=None, todo=[], sweep=sweep_due, scope=[] if sweep_due else None)
        todo: list[str] = state.get("todo") or []
        if todo:
            return await self._comments_step(state, todo, notes)
        return await self._search_step(state, notes)

    async def _comments_step(
        self, state: dict[str, Any], todo: list[str], notes: list[str]
    ) -> Page:
        budget = self.backend.budget
        n = max(1, min(COMMENTS_PER_STEP, budget.available()))
        batch, state["todo"] = todo[:n], todo[n:]
        comments: list[RemoteComment] = []
        for ticket_id in batch:
            comments.extend(await self.backend.fetch_comments(ticket_id))
        done = self._finish_if_done(state)
        return self.backend._page(state, done=done, comments=tuple(comments), notes=notes)

    async def _search_step(self, state: dict[str, Any], notes: list[str]) -> Page:
        queries = self.queries(state)
        q = int(state.get("q") or 0)
        if q >= len(queries):
            done = self._finish_if_done(state)
            return self.backend._page(state, done=done, notes=notes)
        after = state.get("after")
        params: dict[str, Any] = {
            "query": queries[q],
            "filter[type]": "ticket",
            "page[size]": SEARCH_PAGE_SIZE,
        }
        if isinstance(after, str) and after:
            params["page[after]"] = after
        try:
            answer = await self.backend._json("GET", SEARCH_EXPORT_PATH, params=params)
        except Rejected:
            if "page[after]" not in params:
                raise
            # The export's cursor expires after an hour (a long pause, a laptop asleep): read
            # this query again from its start; what was read already is skipped by ``seen``.
            del params["page[after]"]
            answer = await self.backend._json("GET", SEARCH_EXPORT_PATH, params=params)
        f = Fields(answer, "zendesk search export")
        results = [
            r
            for r in f.items("results")
            if isinstance(r, dict) and r.get("result_type", "ticket") == "ticket"
        ]
        meta = f.opt_sub("meta")
        more = meta.flag("has_more", default=False) if meta else False
        cursor = meta.opt_text("after_cursor") if meta else None
        if more and cursor:
            state["after"] = cursor
        else:
            state["q"], state["after"] = q + 1, None
        customers = await self._people(results)
        seen: dict[str, str] = state.setdefault("seen", {})
        tickets: list[RemoteTicket] = []
        for item in results:
            ticket = self.backend.triage.read("ticket", item, self._parse)
            if ticket is None:
                continue
            if state.get("scope") is not None and ticket.remote_id not in state["scope"]:
                state["scope"].append(ticket.remote_id)
            if seen.get(ticket.remote_id) == ticket.version:
                continue  # read in the overlap of the previous pass (or earlier in this one)
            seen[ticket.remote_id] = ticket.version or ""
            tickets.append(bounded(ticket, self.backend.limits))
            state.setdefault("todo", []).append(ticket.remote_id)
        done = self._finish_if_done(state) if not state.get("todo") else False
        return self.backend._page(
            state, done=done, tickets=tuple(tickets), customers=customers, notes=notes
        )

    def _parse(self, item: object) -> RemoteTicket:
        from oncall_tui.sync.zendesk_wire import parse_ticket

        b = self.backend
        return parse_ticket(item, b.users, b.config, b.base_url)

    async def _people(self, results: list[dict[str, Any]]) -> tuple[RemoteCustomer, ...]:
        """Requesters, assignees and organizations not seen yet, read in bulk."""
        from oncall_tui.sync.zendesk_wire import parse_organization, parse_users

        b = self.backend
        wanted_users = _ids(
            r.get(k) for r in results for k in ("requester_id", "assignee_id", "submitter_id")
        )
        missing = [u for u in wanted_users if u not in b.users]
        for chunk in _chunks(missing, SHOW_MANY):
            f = Fields(
                await b._json("GET", USERS_MANY_PATH, params={"ids": ",".join(chunk)}),
                "zendesk users",
            )
            b.users.update(parse_users(f.items("users"), b.triage))
        orgs = _ids(r.get("organization_id") for r in results)
        orgs += [
            u.organization_id
            for u in (b.users.get(i) for i in wanted_users)
            if u is not None and u.organization_id and u.organization_id not in orgs
        ]
        new_orgs = [o for o in orgs if o not in b.known_orgs]
        customers: list[RemoteCustomer] = []
        for chunk in _chunks(new_orgs, SHOW_MANY):
            f = Fields(
                await b._json("GET", ORGS_MANY_PATH, params={"ids": ",".join(chunk)}),
                "zendesk organizations",
            )
            for item in f.items("organizations"):
                org = b.triage.read(
                    "organization", item, lambda o: parse_organization(o, b.users, b.config)
                )
                if org is not None:
                    customers.append(org)
                    b.known_orgs.add(org.remote_id)
        return tuple(customers)

    def _finish_if_done(self, state: dict[str, Any]) -> bool:
        """End the pass when every query and every comment is read; True if it ended."""
        if state.get("todo") or int(state.get("q") or 0) < len(self.queries(state)):
            return False
        started = float(state.pop("started"))
        since = started - self.config.search_overlap_seconds
        state["since"] = since
        seen = state.get("seen") or {}
        # Only tickets updated inside the next pass's overlap can come again.
        state["seen"] = {
            k: v
            for k, v in seen.items()
            if _ts(v) is None or _ts(v) >= since  # type: ignore[operator]
        }
        if state.get("sweep"):
            state["swept_at"] = started
            state["scope_done"] = list(state.get("scope") or [])
        state.update(q=0, after=None, todo=[], sweep=False, scope=None)
        return True


def _ts(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _ids(values: Iterable[object]) -> list[str]:
    out: list[str] = []
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            text = str(value)
        elif isinstance(value, str) and value.isdigit():
            text = value
        else:
            continue
        if text not in out:
            out.append(text)
    return out


def _chunks(items: list[str], n: int) -> Iterable[list[str]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


__all__ = ["ADMIN_WHY", "AGENT_WHY", "FORBIDDEN_WHY", "AgentPath"]
