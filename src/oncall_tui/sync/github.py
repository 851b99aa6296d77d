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
    Create an issue (title, body, labels; the body ends with a hidden marker
    ``<!-- oncall-tui:{idempotency_key} -->`` so `lookup` can find it after an unclear outcome),
    add labels (``POST …/labels``), remove one (``DELETE …/labels/{name}``, URL-encoded; "label
    does not exist" counts as done), comment (with the same marker), close and reopen (``PATCH
    state``), assign (``PATCH assignees``).

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
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx

from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.domain.ops import Op, OpKind
from oncall_tui.domain.tickets import Channel, Priority, Source, Status
from oncall_tui.sync.adapter import HttpAdapter, paginate
from oncall_tui.sync.base import (
    BadPayload,
    Fields,
    Page,
    PushResult,
    RateLimited,
    Rejected,
    RemoteComment,
    RemoteTicket,
    SyncError,
    bounded,
    bounded_page,
    decode_cursor,
    encode_cursor,
    format_instant,
    parse_instant,
    unsupported,
)
from oncall_tui.sync.http import (
    check_status,
    error_detail,
    parse_retry_after,
    response_json,
    same_origin,
)
from oncall_tui.sync.options import only_known

log = logging.getLogger(__name__)

API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
MARKER_RE = re.compile(r"\s*<!-- oncall-tui:[^>]*-->\s*")
DONE_STATUSES = {Status.SOLVED, Status.CLOSED}
#: How far ahead of our clock an ``updated_at`` may be and still move the ``since`` mark.
CLOCK_SKEW = timedelta(days=1)


def marker(idempotency_key: str) -> str:
    """The hidden HTML comment that tags what we create with its outbox key."""
    return f"<!-- oncall-tui:{idempotency_key} -->"


def strip_marker(text: str) -> str:
    """``text`` without our hidden markers."""
    return MARKER_RE.sub("\n", text).strip() if "oncall-tui:" in text else text


# --------------------------------------------------------------------------------------------
# Configuration


@dataclass(frozen=True)
class GitHubConfig:
    """GitHub settings: ``[backends.github]`` ``repos`` and its ``options`` table."""

    repos: tuple[str, ...]
    """``owner/name`` repositories to sync; the first receives new issues by default."""
    priority_labels: Mapping[str, Priority] = field(
        default_factory=lambda: {p.value.lower(): p for p in Priority}
    )
    """Label (lower-case) → priority; an issue without one gets ``default_priority``."""
    default_priority: Priority = Priority.P3
    """Priority of issues carrying no priority label."""
    history_days: int = 90
    """How far back the first sync reaches."""
    per_page: int = 100
    """Issues per request (GitHub's maximum is 100)."""
    comment_batch: int = 10
    """Issues whose comments one page reads."""
    low_water: int = 50
    """Below this many remaining requests, pages are spread until the limit resets."""

    def __post_init__(self) -> None:
        for repo in self.repos:
            if repo.count("/") != 1 or not all(repo.split("/")):
                raise ConfigValueError("backends.github.repos", "'owner/name'", repo)

    @classmethod
    def from_options(
        cls, repos: Iterable[str], options: Mapping[str, Any], history_days: int = 90
    ) -> GitHubConfig:
        """Build from the config file's ``repos`` and ``options``; bad values raise."""
        key = "backends.github.options"
        known = {"priority_labels", "default_priority", "comment_batch", "low_water"}
        only_known(options, key, known)
        labels = options.get("priority_labels")
        mapping: dict[str, Priority] = {p.value.lower(): p for p in Priority}
        if labels is not None:
            if not isinstance(labels, Mapping):
                raise ConfigValueError(f"{key}.priority_labels", "a table of label = P0..P3")
            try:
                mapping = {str(k).lower(): Priority(v) for k, v in labels.items()}
            except ValueError:
                raise ConfigValueError(
                    f"{key}.priority_labels", "a table of label = P0..P3"
                ) from None
        try:
            default = Priority(options.get("default_priority", "P3"))
        except ValueError:
            raise ConfigValueError(f"{key}.default_priority", "P0, P1, P2 or P3") from None
        numbers = {}
        for name in ("comment_batch", "low_water"):
            value = options.get(name, getattr(cls, name))
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigValueError(f"{key}.{name}", "a positive whole number", value)
            numbers[name] = value
        return cls(
            repos=tuple(repos),
            priority_labels=mapping,
            default_priority=default,
            history_days=history_days,
            **numbers,
        )


# --------------------------------------------------------------------------------------------
# Mapping: wire JSON -> records (pure)


def is_pull_request(payload: object) -> bool:
    """GitHub lists pull requests among issues; they carry a ``pull_request`` key."""
    return isinstance(payload, dict) and payload.get("pull_request") is not None


def repo_of(f: Fields, fallback: str | None = None) -> str:
    """``owner/name`` from an issue's ``repository_url``."""
    url = f.opt_text("repository_url")
    if url:
        try:
            parts = httpx.URL(url).path.rstrip("/").split("/")
        except httpx.InvalidURL:
            raise BadPayload(f"{f.what}: repository_url is not a URL") from None
        if len(parts) >= 2 and parts[-2] and parts[-1]:
            repo = f"{parts[-2]}/{parts[-1]}"
            if len(repo) > 200:  # GitHub: owner 39, name 100 characters
                raise BadPayload(f"{f.what}: repository_url names no real repository")
            return repo
    if fallback:
        return fallback
    raise BadPayload(f"{f.what}: no repository_url to tell its repository")


def _label_names(f: Fields) -> tuple[str, ...]:
    names = []
    for i, label in enumerate(f.items("labels")):
        if isinstance(label, str):
            names.append(label)
        else:  # GitHub's description makes a label object's name optional: one without is none
            name = Fields(label, f"{f.what}.labels[{i}]").opt_text("name")
            if name:
                names.append(name)
    return tuple(names)


def _login(f: Fields, key: str) -> str | None:
    user = f.opt_sub(key)
    return user.text("login") if user else None


def parse_issue(
    payload: object, config: GitHubConfig | None = None, repo: str | None = None
) -> RemoteTicket:
    """One issue (list, get, create, update or search item) as a tracker ticket."""
    config = config or GitHubConfig(repos=())
    f = Fields(payload, "github issue")
    number = f.integer("number")
    repo = repo_of(f, repo)
    labels = _label_names(f)
    priority = next(
        (config.priority_labels[x.lower()] for x in labels if x.lower() in config.priority_labels),
        config.default_priority,
    )
    state = f.text("state")
    if state not in ("open", "closed"):
        raise BadPayload(f"github issue {repo}#{number}: unknown state {state[:20]!r}")
    updated = f.text("updated_at")
    return RemoteTicket(
        source=Source.TRACKER,
        remote_id=f"{repo}#{number}",
        subject=f.text("title"),
        body=strip_marker(f.opt_text("body") or ""),
        status=Status.OPEN if state == "open" else Status.CLOSED,
        priority=priority,
        channel=Channel.TRACKER,
        labels=labels,
        assignee=_login(f, "assignee"),
        requester=_login(f, "user"),
        customer_remote_id=None,
        opened_at=f.instant("created_at"),
        updated_at=f.instant("updated_at"),
        url=f.opt_text("html_url"),
        version=updated,
    )


def parse_comment(payload: object, ticket_remote_id: str) -> RemoteComment:
    """One issue comment (always public: the tracker has no internal notes)."""
    f = Fields(payload, f"github comment on {ticket_remote_id}")
    return RemoteComment(
        source=Source.TRACKER,
        ticket_remote_id=ticket_remote_id,
        remote_id=f.ident("id"),
        author=_login(f, "user") or "ghost",
        body=strip_marker(f.opt_text("body") or ""),
        public=True,
        created_at=f.instant("created_at"),
        author_role=_comment_role(f),
    )


#: ``author_association`` values of people who work on the repository: our staff.
STAFF_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})


def _comment_role(f: Fields) -> str:
    user = f.opt_sub("user")
    if user is not None and user.opt_text("type") == "Bot":
        return "automation"
    association = f.opt_text("author_association")
    if association is None:
        return ""
    return "staff" if association in STAFF_ASSOCIATIONS else "customer"


def split_remote_id(remote_id: str) -> tuple[str, int]:
    """``owner/repo#12`` → (``owner/repo``, 12)."""
    repo, _, number = remote_id.rpartition("#")
    if repo.count("/") != 1 or not number.isdigit():
        raise Rejected(f"github: {remote_id[:60]!r} is not an issue id (owner/repo#number)")
    return repo, int(number)


def _repo_path(repo: str) -> str:
    owner, name = repo.split("/")
    return f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"


# --------------------------------------------------------------------------------------------
# The adapter


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
            url = f"{_repo_path(repo)}/issues"
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
        first = f"{_repo_path(repo)}/issues/{int(number)}/comments"
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

    async def push(self, op: Op) -> PushResult:
        """Apply one outbox operation (see the module docstring)."""
        if op.kind not in self.supported_ops:
            raise unsupported(self.name, op)
        if op.kind is OpKind.CREATE_ISSUE:
            repo = str(op.payload.get("repo") or (self.config.repos or ("",))[0])
            if repo.count("/") != 1:
                raise Rejected(f"{self.name}: create issue needs a repository 'owner/name'")
            item = await self._json("POST", f"{_repo_path(repo)}/issues", json=self.create_body(op))
            number = _number_of(item)
            if number is None:  # not an issue we can name: find it by its marker
                found = await self.lookup(op)
                if found is not None:
                    return found
                raise BadPayload(f"{self.name}: the new issue's answer names no number")
            return await self._issue_result(item, repo, number)
        if op.kind is OpKind.CREATE_LABEL:
            return await self._create_label(op)
        if not op.remote_id:
            raise Rejected(f"{self.name}: {op.kind.value} needs the issue (owner/repo#number)")
        repo, number = split_remote_id(op.remote_id)
        issue_path = f"{_repo_path(repo)}/issues/{number}"
        labels = op.payload.get("labels")
        if op.kind in (OpKind.ADD_LABELS, OpKind.REMOVE_LABELS) and (
            not isinstance(labels, list) or not all(isinstance(x, str) and x for x in labels)
        ):
            raise Rejected(f"{self.name}: {op.kind.value} needs a list of label names")
        if op.kind is OpKind.ADD_LABELS:
            await self._call("POST", f"{issue_path}/labels", json={"labels": labels})
            return PushResult(remote_id=op.remote_id)
        if op.kind is OpKind.REMOVE_LABELS:
            assert isinstance(labels, list)
            for label in labels:
                response = await self._call(
                    "DELETE", f"{issue_path}/labels/{quote(label, safe='')}", ok=(404,)
                )
                if response.status_code == 404 and "label" not in error_detail(response).lower():
                    check_status(response, self.name, self._now_ts())  # the issue is gone
            return PushResult(remote_id=op.remote_id)
        if op.kind is OpKind.REPLY:
            text = str(op.payload.get("body") or "")
            if not text.strip():
                raise Rejected(f"{self.name}: a comment needs some text")
            item = await self._json(
                "POST",
                f"{issue_path}/comments",
                json={"body": f"{text}\n\n{marker(op.idempotency_key)}"},
            )
            try:
                comment = parse_comment(item, op.remote_id)
            except BadPayload as exc:  # created all the same: find it by its marker
                log.info("%s: the new comment's answer is not a comment: %s", self.name, exc)
                found = await self._lookup_quietly(op)
                if found is not None:
                    return found
                return PushResult(remote_id=op.remote_id)
            return PushResult(remote_id=op.remote_id, comment=bounded(comment, self.limits))
        item = await self._json("PATCH", issue_path, json=self.update_body(op))
        return await self._issue_result(item, repo, number)

    async def _create_label(self, op: Op) -> PushResult:
        """``POST /repos/{o}/{r}/labels``; a label that exists already (422 already_exists,
        e.g. a resend after an unclear outcome) is done, not an error."""
        p = op.payload
        repo = str(p.get("repo") or (self.config.repos or ("",))[0])
        name = str(p.get("name") or "")
        if repo.count("/") != 1 or not name:
            raise Rejected(f"{self.name}: create label needs a repository 'owner/name' and a name")
        body: dict[str, Any] = {"name": name, "color": str(p.get("color") or "ededed")}
        if p.get("description"):
            body["description"] = str(p["description"])[:100]
        response = await self._call("POST", f"{_repo_path(repo)}/labels", json=body, ok=(422,))
        if response.status_code == 422 and "already_exists" not in response.text:
            check_status(response, self.name, self._now_ts())
        return PushResult(remote_id=op.remote_id)

    def create_body(self, op: Op) -> dict[str, Any]:
        """The ``POST /repos/{o}/{r}/issues`` body; the body ends with the hidden marker."""
        p = op.payload
        title = str(p.get("title") or "").strip()
        if not title:
            raise Rejected(f"{self.name}: a new issue needs a title")
        body: dict[str, Any] = {
            "title": title,
            "body": f"{p.get('body') or ''}\n\n{marker(op.idempotency_key)}".lstrip(),
        }
        labels = p.get("labels") or []
        if labels:
            body["labels"] = [str(label) for label in labels]
        return body

    def update_body(self, op: Op) -> dict[str, Any]:
        """The ``PATCH /repos/{o}/{r}/issues/{n}`` body of a status or assignee change."""
        if op.kind is OpKind.SET_STATUS:
            try:
                status = Status(str(op.payload.get("status")))
            except ValueError:
                raise Rejected(f"{self.name}: not a status: {op.payload.get('status')!r}") from None
            if status in DONE_STATUSES:
                return {"state": "closed", "state_reason": "completed"}
            return {"state": "open", "state_reason": "reopened"}
        if op.kind is OpKind.ASSIGN:
            assignee = op.payload.get("assignee")
            return {"assignees": [str(assignee)] if assignee else []}
        raise unsupported(self.name, op)  # pragma: no cover - guarded by supported_ops

    async def _issue_result(self, item: object, repo: str, number: int) -> PushResult:
        """The result of a change GitHub accepted; an answer that is not a whole issue is
        completed by reading the issue again (and settles with its id if that fails too)."""
        remote_id = f"{repo}#{number}"
        try:
            return self._from_issue(item, repo, number)
        except BadPayload as exc:
            log.info("%s: %s: the answer is not a whole issue: %s", self.name, remote_id, exc)
        try:
            item = await self._json("GET", f"{_repo_path(repo)}/issues/{number}")
            return self._from_issue(item, repo, number)
        except SyncError as exc:  # applied already: the next pull brings the issue
            log.info("%s: re-reading %s after a push failed: %s", self.name, remote_id, exc)
        return PushResult(remote_id=remote_id)

    def _from_issue(self, item: object, repo: str, number: int | None = None) -> PushResult:
        ticket = bounded(parse_issue(item, self.config, repo), self.limits)
        if number is not None and ticket.remote_id != f"{repo}#{number}":
            raise BadPayload(f"{self.name}: the answer is about another issue")
        return PushResult(
            remote_id=ticket.remote_id, version=ticket.version, url=ticket.url, ticket=ticket
        )

    async def _lookup_quietly(self, op: Op) -> PushResult | None:
        try:
            return await self.lookup(op)
        except SyncError as exc:
            log.info("%s: looking up a push failed: %s", self.name, exc)
            return None

    async def lookup(self, op: Op, taken: frozenset[str] = frozenset()) -> PushResult | None:
        """Find an issue or comment created by ``op`` through its hidden marker.

        Other operations are safe to resend (labels, state and assignees are set, not added).
        """
        tag = marker(op.idempotency_key)
        since = format_instant(op.created_at - timedelta(minutes=10)) if op.created_at else None
        if op.kind is OpKind.CREATE_ISSUE:
            repo = str(op.payload.get("repo") or (self.config.repos or ("",))[0])
            params: dict[str, Any] = {
                "state": "all",
                "sort": "created",
                "direction": "desc",
                "per_page": 100,
            }
            if since:
                params["since"] = since
            items = await self._json("GET", f"{_repo_path(repo)}/issues", params=params)
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and tag in str(item.get("body") or ""):
                    return self._from_issue(item, repo)
            return None
        if op.kind is OpKind.REPLY and op.remote_id:
            repo, number = split_remote_id(op.remote_id)
            url = f"{_repo_path(repo)}/issues/{number}/comments"
            items = await self._json(
                "GET", url, params={"per_page": 100, **({"since": since} if since else {})}
            )
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and tag in str(item.get("body") or ""):
                    comment = bounded(parse_comment(item, op.remote_id), self.limits)
                    return PushResult(remote_id=op.remote_id, comment=comment)
            return None
        return None

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


def _number_of(item: object) -> int | None:
    number = item.get("number") if isinstance(item, dict) else None
    return number if isinstance(number, int) and not isinstance(number, bool) else None


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


__all__ = [
    "GitHubBackend",
    "GitHubConfig",
    "is_pull_request",
    "marker",
    "parse_comment",
    "parse_issue",
    "split_remote_id",
    "strip_marker",
]
