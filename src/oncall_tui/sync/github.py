"""GitHub (or GitHub Enterprise) issues: the public bug tracker.

Pull
    Per configured repository, ``GET /repos/{owner}/{repo}/issues?state=all&since=…`` newest
    first, 100 per page, following the ``Link: rel="next"`` header; the first page of a pass is
    sent with ``If-None-Match`` when its URL is unchanged, so a quiet repository costs one 304
    (which GitHub does not count against the rate limit). Pull requests are skipped. Comments of
    changed issues come from ``GET /repos/{o}/{r}/issues/{n}/comments?since=…``, a few issues
    per page. The cursor is JSON: per repository ``since`` (newest ``updated_at`` seen) and
    ``etag``, the round in progress (next page), the issues whose comments are due.

Push
    Issues, labels, comments, state and assignees, each marked so ``lookup`` can find it
    after an unclear outcome: :mod:`oncall_tui.sync.github_push`. The wire format and the
    options are read in :mod:`oncall_tui.sync.github_wire`.

Hostile or partial answers
    A page is read issue by issue and comment by comment: one that cannot be read is set aside
    (``Page.quarantined``, shown in the sync log) and the rest applies; the ``since`` mark moves
    past it when its ``updated_at`` is a real instant (not one in the future). A push's answer
    that is not a whole issue is completed by reading the issue again; the entry settles.

Rate limits
    ``x-ratelimit-remaining: 0`` raises :class:`RateLimited` until ``x-ratelimit-reset``
    without sending anything; a 403/429 with ``retry-after`` (secondary limits) raises it for
    that long. When few requests remain, ``Page.wait_hint`` spreads the rest until the reset.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import httpx

from oncall_tui.domain.ops import OpKind
from oncall_tui.domain.tickets import Source
from oncall_tui.sync.adapter import HttpAdapter, paginate
from oncall_tui.sync.base import (
    BadPayload,
    Page,
    RateLimited,
    RemoteComment,
    RemoteTicket,
    bounded,
    bounded_page,
    decode_cursor,
    encode_cursor,
)
from oncall_tui.sync.fields import Fields, format_instant, parse_instant
from oncall_tui.sync.github_push import GitHubWriter
from oncall_tui.sync.github_wire import (
    CLOCK_SKEW,
    GitHubConfig,
    is_pull_request,
    parse_comment,
    parse_issue,
    repo_path,
)
from oncall_tui.sync.http import (
    error_detail,
    parse_retry_after,
    response_json,
    same_origin,
)

log = logging.getLogger(__name__)

API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


class GitHubBackend(HttpAdapter[GitHubConfig]):
    """The public tracker, over GitHub's REST API.

    Args:
        client: from :func:`oncall_tui.sync.http.build_client` with ``https://api.github.com``
            (or ``https://ghe.example.com/api/v3``) and a token.
        config: repositories and options; see :class:`GitHubConfig`.
        clock: the wall clock (since, rate-limit resets).
        name: the backend's name in ``sync_state``.
    """

    source = Source.TRACKER
    supported_ops = frozenset(
        {
            OpKind.SET_STATUS,
            OpKind.ASSIGN,
            OpKind.ADD_LABELS,
            OpKind.REMOVE_LABELS,
            OpKind.REPLY,
            OpKind.CREATE_ISSUE,
            OpKind.CREATE_LABEL,
        }
    )

    default_name = "github"

    def _setup(self) -> None:
        #: Per rate-limit resource ("core", "search"): epoch seconds until which it is spent.
        self._spent_until: dict[str, float] = {}
        self._wait_hint: float | None = None
        self.writer = GitHubWriter(self)

    def _shown(self) -> str:
        return f"repos={self.config.repos!r}"

    # -- plumbing (the hooks of HttpAdapter._call)

    def _before_send(self, resource: str) -> None:
        now = self._now_ts()
        until = self._spent_until.get(resource, 0.0)
        if until > now:
            raise RateLimited(
                f"{self.name}: rate limit spent, resets in {until - now:.0f}s", until - now
            )

    def _headers(self, headers: Mapping[str, str] | None) -> Mapping[str, str]:
        return {**API_HEADERS, **(headers or {})}

    def _after_send(self, response: httpx.Response, resource: str) -> None:
        self._note_budget(response, resource)

    def _note_budget(self, response: httpx.Response, resource: str) -> None:
        remaining = _int_header(response, "x-ratelimit-remaining")
        reset = _int_header(response, "x-ratelimit-reset")
        resource = response.headers.get("x-ratelimit-resource", resource)
        if remaining is None or reset is None:
            return
        until = reset - self._now_ts()
        if remaining <= 0:
            self._spent_until[resource] = float(reset)
            self._wait_hint = max(0.0, until)
        elif remaining < self.config.low_water and until > 0:
            self._wait_hint = until / remaining
        else:
            self._wait_hint = None

    def _on_error(self, response: httpx.Response, what: str) -> None:
        if response.status_code not in (403, 429):
            return
        retry = response.headers.get("retry-after")
        if retry is not None:  # a secondary rate limit
            seconds = parse_retry_after(retry, self._now_ts())
            raise RateLimited(f"{what}: secondary rate limit, retry in {seconds:.0f}s", seconds)
        if response.headers.get("x-ratelimit-remaining") == "0":
            reset = _int_header(response, "x-ratelimit-reset")
            seconds = max(0.0, reset - self._now_ts()) if reset is not None else 60.0
            raise RateLimited(f"{what}: rate limit spent, resets in {seconds:.0f}s", seconds)
        if response.status_code == 403 and "rate limit" in error_detail(response).lower():
            raise RateLimited(f"{what}: rate limited", 60.0)

    # -- pull

    async def fetch_changes(self, cursor: str | None) -> Page:
        """One step: comments of a few changed issues if any wait, else one page of issues.

        A pass visits every repository once (all pages of its changes); the page that ends a
        pass has ``done=True``.
        """
        state = decode_cursor(cursor, "github").data
        repos_state: dict[str, Any] = _dict(state.get("repos"))
        rounds: dict[str, Any] = _dict(state.get("round"))
        todo = [t for t in state.get("todo", []) if _is_todo(t)]
        passed = [r for r in state.get("pass", []) if r in self.config.repos]
        tickets: list[RemoteTicket] = []
        comments: list[RemoteComment] = []
        self._wait_hint = None

        if todo:
            batch, todo = todo[: self.config.comment_batch], todo[self.config.comment_batch :]
            for repo, number, since in batch:
                comments.extend(await self.fetch_comments(repo, number, since))
        else:
            repo = next((r for r in self.config.repos if r not in passed), None)
            if repo is None:  # a new pass
                passed = []
                repo = self.config.repos[0] if self.config.repos else None
            if repo is not None:
                rs = _dict(repos_state.get(repo))
                rnd = _dict(rounds.get(repo))
                since = rs.get("since")
                if not isinstance(since, str):
                    since = format_instant(self.clock() - timedelta(days=self.config.history_days))
                issues, next_url, etag = await self._issues_page(repo, since, rs, rnd)
                newest = rnd.get("max") if isinstance(rnd.get("max"), str) else None
                for item in issues:
                    updated = self._mark(item)
                    if updated is not None and (newest is None or updated > newest):
                        # Pull requests and unreadable issues move the mark too, or they
                        # come back on every pass.
                        newest = updated
                    if is_pull_request(item):
                        continue
                    ticket = self.triage.read(
                        "issue", item, lambda i: parse_issue(i, self.config, repo), ("number", "id")
                    )
                    if ticket is None:
                        continue
                    tickets.append(ticket)
                    if isinstance(item.get("comments"), int) and item["comments"] > 0:
                        todo.append([repo, ticket.remote_id.rpartition("#")[2], since])
                if etag is not None:
                    rs.update(etag=etag, etag_since=since)
                if next_url:
                    rounds[repo] = {"next": next_url, "max": newest, "since": since}
                else:
                    rounds.pop(repo, None)
                    rs["since"] = max(since, newest) if newest else since
                    passed.append(repo)
                repos_state[repo] = rs

        done = not todo and all(r in passed for r in self.config.repos)
        state = {
            "repos": repos_state,
            "round": rounds,
            "todo": todo,
            "pass": [] if done else passed,
        }
        aside, self.triage.bad = self.triage.bad, []
        page = Page(
            tickets=tuple(tickets),
            comments=tuple(comments),
            cursor=encode_cursor(state, "github"),
            done=done,
            wait_hint=self._wait_hint,
            quarantined=tuple(aside),
        )
        return bounded_page(page, self.limits)

    def _mark(self, item: object) -> str | None:
        """An item's ``updated_at`` if it may move the ``since`` mark: a real instant, not one
        far in the future (which would hide every later change)."""
        updated = item.get("updated_at") if isinstance(item, dict) else None
        if not isinstance(updated, str):
            return None
        try:
            when = parse_instant(updated, "github updated_at")
        except BadPayload:
            return None
        return format_instant(when) if when <= self.clock() + CLOCK_SKEW else None

    async def _issues_page(
        self, repo: str, since: str, rs: Mapping[str, Any], rnd: Mapping[str, Any]
    ) -> tuple[list[Any], str | None, str | None]:
        """One page of a repository's changed issues: (items, next URL, new ETag)."""
        next_url = rnd.get("next") if rnd.get("since") == since else None
        headers: dict[str, str] = {}
        if next_url:
            url, params = same_origin(self.client, next_url, self.name), None
        else:
            url = f"{repo_path(repo)}/issues"
            params = {
                "state": "all",
                "since": since,
                "sort": "updated",
                "direction": "desc",
                "per_page": self.config.per_page,
            }
            if rs.get("etag") and rs.get("etag_since") == since:
                headers["If-None-Match"] = rs["etag"]
        response = await self._call("GET", url, params=params, headers=headers, ok=(304,))
        if response.status_code == 304:
            return [], None, None
        items = response_json(response, self.name)
        if not isinstance(items, list):
            raise BadPayload(f"{self.name}: {repo} issues: expected a list of issues")
        link = response.links.get("next", {}).get("url")
        etag = None if next_url else response.headers.get("etag")
        return items, link, etag

    async def fetch_comments(
        self, repo: str, number: int | str, since: str | None = None
    ) -> list[RemoteComment]:
        """Comments of one issue updated since ``since`` (all pages); none if it is gone."""
        first = f"{repo_path(repo)}/issues/{int(number)}/comments"
        query: dict[str, Any] = {"per_page": 100}
        if since:
            query["since"] = since
        remote_id = f"{repo}#{int(number)}"

        async def fetch(next_url: str | None) -> tuple[list[Any], str | None]:
            url, params = self.page_request(next_url, first, query)
            response = await self._call("GET", url, params=params, ok=(404, 410))
            if response.status_code in (404, 410):
                return [], None
            items = response_json(response, self.name)
            if not isinstance(items, list):
                raise BadPayload(f"{self.name}: comments of {remote_id}: expected a list")
            return items, response.links.get("next", {}).get("url") or None

        comments: list[RemoteComment] = []
        async for item in paginate(fetch, max_pages=100):  # a safety bound
            comment = self.triage.read("comment", item, lambda c: parse_comment(c, remote_id))
            if comment is not None:
                comments.append(comment)
        return comments

    # -- push

    async def search_issues(self, query: str) -> list[RemoteTicket]:
        """Issues of the configured repositories matching ``query`` (GitHub search syntax)."""
        scope = " ".join(f"repo:{repo}" for repo in self.config.repos)
        q = f"{query} is:issue {scope}".strip()
        found = Fields(
            await self._json(
                "GET", "/search/issues", params={"q": q, "per_page": 30}, resource="search"
            ),
            "github search",
        )
        issues = (
            self.triage.read("issue", item, lambda i: parse_issue(i, self.config), ("number",))
            for item in found.items("items")
            if not is_pull_request(item)
        )
        return [bounded(issue, self.limits) for issue in issues if issue is not None]


def _int_header(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _dict(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _is_todo(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], str)
        and isinstance(value[1], str | int)
        and str(value[1]).isdigit()
        and (value[2] is None or isinstance(value[2], str))
    )


__all__ = ["GitHubBackend"]
