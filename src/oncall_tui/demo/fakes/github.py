"""An in-memory GitHub that speaks the REST API's issue endpoints, rate limits and device flow.

Endpoints (below an optional prefix such as GitHub Enterprise's ``/api/v3``)::

    GET    /repos/{o}/{r}/issues                 state, since, sort, direction, labels,
                                                 per_page, page; Link and ETag headers, 304
    POST   /repos/{o}/{r}/issues                 GET|PATCH /repos/{o}/{r}/issues/{n}
    GET    /repos/{o}/{r}/issues/{n}/comments    since, per_page, page    POST: add one
    POST   /repos/{o}/{r}/issues/{n}/labels      DELETE .../labels/{name} (404 if absent)
    GET    /search/issues                        q: repo:, is:, state:, label:, words
    GET    /rate_limit
    POST   /login/device/code                    POST /login/oauth/access_token (device flow)

Every authenticated answer carries ``x-ratelimit-*`` headers; a spent budget answers 403 with
``x-ratelimit-remaining: 0``; ``Fault.RATE_LIMIT`` answers like a secondary limit (403 with
``retry-after``).

This module holds the repositories (their records, seeding, the route table, rate limits
and error answers); the endpoints are parts of their own:
:mod:`~oncall_tui.demo.fakes.github_issues` (issues, comments, labels, search) and
:mod:`~oncall_tui.demo.fakes.github_oauth` (the device flow).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from oncall_tui.demo.fakes import DEFAULT_TOKEN, Call, FakeServer, json_response
from oncall_tui.demo.fakes.faults import FaultPlan
from oncall_tui.demo.fakes.github_issues import IssueRoutes
from oncall_tui.demo.fakes.github_oauth import DeviceFlow
from oncall_tui.demo.fakes.github_shared import (
    Device,
    Repo,
    error_response,
    iso,
)
from oncall_tui.domain.clock import Clock
from oncall_tui.domain.tickets import Status
from oncall_tui.sync.base import RemoteComment, RemoteTicket

DEMO_TITLES = (
    "Live queries time out on large fleets",
    "Software inventory misses packages on Ubuntu 24.04",
    "Dashboard shows hosts offline after a restart",
    "Policy results are not updated after a host re-enrolls",
)
DEMO_COMMENTS = (
    "Seeing this too on 4.58.0.",
    "Could you attach the server logs from when it happened?",
    "Reproduced on a fresh install.",
)


@dataclass
class _Budget:
    limit: int
    remaining: int
    reset: int


class GitHubFake(FakeServer):
    """In-memory repositories with issues, comments and labels.

    Args:
        repos: repositories that exist (``owner/name``); issues may add more.
        issues: wire issue dicts (with a ``repo`` key, else the first repo) or records whose
            ``remote_id`` is ``owner/name#number``. A dict with ``pull_request`` is a PR.
        comments: wire comment dicts (with ``repo`` and ``number`` keys) or records.
        rate_limit: core requests per hour and token.
        search_rate_limit: search requests per minute and token.
        search_lag: seconds before a new issue shows up in search.
        device_auto_approve_after: the device flow approves itself after this many polls
            (None: only :meth:`approve_device` does).
        api_url, web_url: the addresses written into the JSON (``url``, ``html_url``).
    """

    name = "github"

    def __init__(
        self,
        *,
        repos: Iterable[str] = ("acme/product",),
        issues: Iterable[Mapping[str, Any] | RemoteTicket] = (),
        comments: Iterable[Mapping[str, Any] | RemoteComment] = (),
        tokens: Iterable[str] = (DEFAULT_TOKEN,),
        faults: FaultPlan | None = None,
        clock: Clock | None = None,
        prefix: str = "",
        rate_limit: int = 5000,
        search_rate_limit: int = 30,
        search_lag: float = 0.0,
        device_auto_approve_after: int | None = 1,
        api_url: str = "https://api.github.com",
        web_url: str = "https://github.com",
        seed: int = 0,
    ) -> None:
        super().__init__(tokens=tuple(tokens), faults=faults, clock=clock, prefix=prefix)
        self.rate_limit = rate_limit
        self.search_rate_limit = search_rate_limit
        self.search_lag = search_lag
        self.device_auto_approve_after = device_auto_approve_after
        self.api_url = api_url.rstrip("/")
        self.web_url = web_url.rstrip("/")
        self.random = random.Random(seed)
        self.repos: dict[str, Repo] = {name: Repo() for name in repos}
        self._users: dict[str, int] = {}
        self._ids = 10_000
        self._budgets: dict[tuple[str, str], _Budget] = {}
        self._devices: dict[str, Device] = {}
        self._indexed_at: dict[tuple[str, int], datetime] = {}
        for issue in issues:
            self.add_issue(issue)
        for comment in comments:
            self.add_comment(comment)
        self.issues = IssueRoutes(self)
        self.device = DeviceFlow(self)
        self._routes()

    # -- building blocks

    def _now(self) -> datetime:
        return self.clock().astimezone(UTC).replace(microsecond=0)

    def _new_id(self) -> int:
        self._ids += 1
        return self._ids

    def user(self, login: str) -> dict[str, Any]:
        """A ``simple-user`` object."""
        uid = self._users.setdefault(login, len(self._users) + 1)
        api = f"{self.api_url}/users/{login}"
        return {
            "login": login,
            "id": uid,
            "node_id": f"U_{uid:08d}",
            "avatar_url": f"https://avatars.example.com/u/{uid}",
            "gravatar_id": "",
            "url": api,
            "html_url": f"{self.web_url}/{login}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": "User",
            "site_admin": False,
        }

    def label(self, repo: str, name: str) -> dict[str, Any]:
        """The repository's label object, created on first use (as GitHub does)."""
        labels = self._repo(repo).labels
        key = name.lower()
        if key not in labels:
            lid = self._new_id()
            labels[key] = {
                "id": lid,
                "node_id": f"LA_{lid}",
                "url": f"{self.api_url}/repos/{repo}/labels/{name}",
                "name": name,
                "description": None,
                "color": "ededed",
                "default": False,
            }
        return labels[key]

    def _repo(self, repo: str) -> Repo:
        return self.repos.setdefault(repo, Repo())

    def add_issue(self, issue: Mapping[str, Any] | RemoteTicket) -> dict[str, Any]:
        """Add an issue (wire dict or record) to its repository."""
        now = iso(self._now())
        if isinstance(issue, RemoteTicket):
            repo, _, digits = issue.remote_id.rpartition("#")
            data: dict[str, Any] = {
                "number": int(digits),
                "title": issue.subject,
                "body": issue.body,
                "state": "closed" if issue.status in (Status.SOLVED, Status.CLOSED) else "open",
                "labels": list(issue.labels),
                "user": issue.requester or "octocat",
                "assignee": issue.assignee,
                "created_at": iso(issue.opened_at),
                "updated_at": iso(issue.updated_at),
            }
        else:
            data = dict(issue)
            repo = str(data.pop("repo", None) or next(iter(self.repos), "acme/product"))
        state = self._repo(repo)
        number = int(data.get("number") or state.next_number)
        state.next_number = max(state.next_number, number + 1)
        url = f"{self.api_url}/repos/{repo}/issues/{number}"
        user = data.get("user") or "octocat"
        assignee = data.get("assignee")
        labels = [
            self.label(repo, x if isinstance(x, str) else x["name"]) for x in data.get("labels", [])
        ]
        iid = int(data.get("id") or self._new_id())
        record: dict[str, Any] = {
            "id": iid,
            "node_id": f"I_{iid}",
            "url": url,
            "repository_url": f"{self.api_url}/repos/{repo}",
            "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments",
            "events_url": f"{url}/events",
            "html_url": f"{self.web_url}/{repo}/issues/{number}",
            "number": number,
            "state": data.get("state", "open"),
            "state_reason": data.get("state_reason"),
            "title": data.get("title", ""),
            "body": data.get("body"),
            "user": self.user(user) if isinstance(user, str) else user,
            "labels": labels,
            "assignee": self.user(assignee) if isinstance(assignee, str) else assignee,
            "assignees": [self.user(assignee)] if isinstance(assignee, str) else [],
            "milestone": None,
            "locked": False,
            "active_lock_reason": None,
            "comments": 0,
            "closed_at": data.get("closed_at"),
            "created_at": data.get("created_at", now),
            "updated_at": data.get("updated_at", data.get("created_at", now)),
            "author_association": "NONE",
            "timeline_url": f"{url}/timeline",
        }
        if data.get("pull_request"):  # a pull request, as the issues endpoints show one
            web = f"{self.web_url}/{repo}/pull/{number}"
            record["html_url"] = web
            record["pull_request"] = {
                "url": f"{self.api_url}/repos/{repo}/pulls/{number}",
                "html_url": web,
                "diff_url": f"{web}.diff",
                "patch_url": f"{web}.patch",
                "merged_at": None,
            }
        state.issues[number] = record
        state.comments.setdefault(number, [])
        return record

    def add_comment(self, comment: Mapping[str, Any] | RemoteComment) -> dict[str, Any]:
        """Add a comment (wire dict with ``repo``/``number``, or a record) to an issue."""
        if isinstance(comment, RemoteComment):
            repo, _, number = comment.ticket_remote_id.rpartition("#")
            return self._comment(
                repo,
                int(number),
                comment.body,
                comment.author,
                iso(comment.created_at),
                int(comment.remote_id) if comment.remote_id.isdigit() else None,
                touch=False,
            )
        return self._comment(
            str(comment["repo"]),
            int(comment["number"]),
            str(comment.get("body", "")),
            str(comment.get("user", "octocat")),
            comment.get("created_at"),
            comment.get("id"),
            touch=False,
        )

    def _comment(
        self,
        repo: str,
        number: int,
        body: str,
        login: str,
        created_at: str | None = None,
        cid: int | None = None,
        *,
        touch: bool = True,
    ) -> dict[str, Any]:
        state = self._repo(repo)
        issue = state.issues[number]
        cid = int(cid or self._new_id())
        created = created_at or iso(self._now())
        record = {
            "id": cid,
            "node_id": f"IC_{cid}",
            "url": f"{self.api_url}/repos/{repo}/issues/comments/{cid}",
            "html_url": f"{issue['html_url']}#issuecomment-{cid}",
            "body": body,
            "user": self.user(login),
            "created_at": created,
            "updated_at": created,
            "issue_url": issue["url"],
            "author_association": "MEMBER",
        }
        state.comments.setdefault(number, []).append(record)
        issue["comments"] = len(state.comments[number])
        if touch:
            self._touch(issue)
        return record

    def _touch(self, issue: dict[str, Any]) -> None:
        now = iso(self._now())
        if now > issue["updated_at"]:
            issue["updated_at"] = now

    # -- demo activity

    def add_activity(self) -> str:
        """A new issue or a comment on an open one; returns ``owner/name#number``."""
        with self.lock:
            repo = self.random.choice(sorted(self.repos))
            state = self.repos[repo]
            open_issues = sorted(n for n, i in state.issues.items() if i["state"] == "open")
            if open_issues and self.random.random() < 0.5:
                number = self.random.choice(open_issues)
                self._comment(repo, number, self.random.choice(DEMO_COMMENTS), "community-user")
                self.count("create_comment")
                return f"{repo}#{number}"
            now = iso(self._now())
            issue = self.add_issue(
                {
                    "repo": repo,
                    "title": self.random.choice(DEMO_TITLES),
                    "body": "Steps to reproduce: ...",
                    "labels": ["bug", ":reproduce", ":incoming"],
                    "user": "community-user",
                    "created_at": now,
                    "updated_at": now,
                }
            )
            self.count("create_issue")
            return f"{repo}#{issue['number']}"

    # -- routes and shared answers

    def _routes(self) -> None:
        repo = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
        issue = repo + r"/issues/(?P<number>\d+)"
        self.route("GET", repo + r"/issues", self.issues.list_issues, list_key="")
        self.route("POST", repo + r"/issues", self.issues.create_issue)
        self.route("GET", issue, self.issues.get_issue)
        self.route("PATCH", issue, self.issues.update_issue)
        self.route("GET", issue + r"/comments", self.issues.list_comments, list_key="")
        self.route("POST", issue + r"/comments", self.issues.create_comment)
        self.route("POST", issue + r"/labels", self.issues.add_labels)
        self.route("POST", repo + r"/labels", self.issues.create_label)
        self.route("DELETE", issue + r"/labels/(?P<name>.+)", self.issues.remove_label)
        self.route("GET", r"/search/issues", self.issues.search, list_key="items")
        self.route("GET", r"/rate_limit", self._rate_limit)
        self.route("POST", r"/login/device/code", self.device.device_code, auth=False)
        self.route("POST", r"/login/oauth/access_token", self.device.access_token, auth=False)

    def unauthorized(self, call: Call) -> httpx.Response:
        return error_response(401, "Bad credentials")

    def not_found(self, call: Call) -> httpx.Response:
        return error_response(404, "Not Found")

    def bad_request(self, call: Call, message: str) -> httpx.Response:
        return error_response(400, f"Problems parsing JSON: {message}")

    def rate_limited(self, call: Call, retry_after: float) -> httpx.Response:
        response = error_response(
            403,
            "You have exceeded a secondary rate limit. Please wait a few minutes before you "
            "try again.",
        )
        response.headers["retry-after"] = str(max(1, round(retry_after)))
        return response

    def _resource(self, call: Call) -> str:
        return "search" if call.path.startswith("/search/") else "core"

    def _budget(self, call: Call) -> _Budget:
        resource = self._resource(call)
        now = int(self.clock().timestamp())
        key = (call.token or "", resource)
        budget = self._budgets.get(key)
        if budget is None or now >= budget.reset:
            limit = self.search_rate_limit if resource == "search" else self.rate_limit
            window = 60 if resource == "search" else 3600
            budget = _Budget(limit, limit, now + window)
            self._budgets[key] = budget
        return budget

    def _headers(self, budget: _Budget, resource: str) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(budget.limit),
            "x-ratelimit-remaining": str(budget.remaining),
            "x-ratelimit-reset": str(budget.reset),
            "x-ratelimit-used": str(budget.limit - budget.remaining),
            "x-ratelimit-resource": resource,
        }

    def before(self, call: Call) -> httpx.Response | None:
        if call.path == "/rate_limit":
            return None
        budget = self._budget(call)
        if budget.remaining <= 0:
            response = error_response(
                403,
                "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for "
                "help, please include the request ID.",
            )
            response.headers.update(self._headers(budget, self._resource(call)))
            return response
        return None

    def after(self, call: Call, response: httpx.Response) -> httpx.Response:
        if call.path == "/rate_limit" or not call.token:
            return response
        budget = self._budget(call)
        if response.status_code != 304 and not (
            response.status_code == 403 and budget.remaining <= 0
        ):
            budget.remaining -= 1  # GitHub does not count conditional 304s
        response.headers.update(self._headers(budget, self._resource(call)))
        return response

    # -- issues

    # -- comments and labels

    # -- search and rate limit

    def _rate_limit(self, call: Call) -> httpx.Response:
        core, search = (self._budget(call), self._budget_for(call, "search"))

        def entry(b: _Budget) -> dict[str, int]:
            return {
                "limit": b.limit,
                "remaining": b.remaining,
                "reset": b.reset,
                "used": b.limit - b.remaining,
            }

        return json_response(
            200,
            {"resources": {"core": entry(core), "search": entry(search)}, "rate": entry(core)},
            self._headers(core, "core"),
        )

    def _budget_for(self, call: Call, resource: str) -> _Budget:
        probe = Call(call.request, f"/{resource}/", {}, call.params, None, call.token, call.base)
        return self._budget(probe)

    # -- device flow

    def approve_device(self, user_code: str, approve: bool = True) -> bool:
        """The user entered ``user_code`` in the browser and approved (or denied)."""
        with self.lock:
            for device in self._devices.values():
                if device.user_code == user_code:
                    device.approved, device.denied = approve, not approve
                    return True
            return False


__all__ = ["GitHubFake"]
