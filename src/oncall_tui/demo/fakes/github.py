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
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets as _secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlencode

import httpx

from oncall_tui.demo.fakes import DEFAULT_TOKEN, Call, FakeServer, json_response
from oncall_tui.demo.fakes.faults import FaultPlan
from oncall_tui.domain.clock import Clock
from oncall_tui.domain.tickets import Status
from oncall_tui.sync.base import RemoteComment, RemoteTicket

DOCS = "https://docs.github.com/rest"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
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


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(status: int, message: str, **extra: Any) -> httpx.Response:
    return json_response(
        status, {"message": message, "documentation_url": DOCS, "status": str(status), **extra}
    )


@dataclass
class _Repo:
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_number: int = 1


@dataclass
class _Device:
    client_id: str
    user_code: str
    scope: str
    expires: datetime
    interval: int = 5
    approved: bool = False
    denied: bool = False
    polls: int = 0
    last_poll: datetime | None = None


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
        self.repos: dict[str, _Repo] = {name: _Repo() for name in repos}
        self._users: dict[str, int] = {}
        self._ids = 10_000
        self._budgets: dict[tuple[str, str], _Budget] = {}
        self._devices: dict[str, _Device] = {}
        self._indexed_at: dict[tuple[str, int], datetime] = {}
        for issue in issues:
            self.add_issue(issue)
        for comment in comments:
            self.add_comment(comment)
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

    def _repo(self, repo: str) -> _Repo:
        return self.repos.setdefault(repo, _Repo())

    def add_issue(self, issue: Mapping[str, Any] | RemoteTicket) -> dict[str, Any]:
        """Add an issue (wire dict or record) to its repository."""
        now = _iso(self._now())
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
                "created_at": _iso(issue.opened_at),
                "updated_at": _iso(issue.updated_at),
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
                _iso(comment.created_at),
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
        created = created_at or _iso(self._now())
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
        now = _iso(self._now())
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
            now = _iso(self._now())
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
        self.route("GET", repo + r"/issues", self._list, list_key="")
        self.route("POST", repo + r"/issues", self._create)
        self.route("GET", issue, self._get)
        self.route("PATCH", issue, self._update)
        self.route("GET", issue + r"/comments", self._list_comments, list_key="")
        self.route("POST", issue + r"/comments", self._create_comment)
        self.route("POST", issue + r"/labels", self._add_labels)
        self.route("POST", repo + r"/labels", self._create_label)
        self.route("DELETE", issue + r"/labels/(?P<name>.+)", self._remove_label)
        self.route("GET", r"/search/issues", self._search, list_key="items")
        self.route("GET", r"/rate_limit", self._rate_limit)
        self.route("POST", r"/login/device/code", self._device_code, auth=False)
        self.route("POST", r"/login/oauth/access_token", self._access_token, auth=False)

    def unauthorized(self, call: Call) -> httpx.Response:
        return _error(401, "Bad credentials")

    def not_found(self, call: Call) -> httpx.Response:
        return _error(404, "Not Found")

    def bad_request(self, call: Call, message: str) -> httpx.Response:
        return _error(400, f"Problems parsing JSON: {message}")

    def rate_limited(self, call: Call, retry_after: float) -> httpx.Response:
        response = _error(
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
            response = _error(
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

    def _list_page(self, call: Call, items: list[dict[str, Any]], path: str) -> httpx.Response:
        try:
            per_page = min(100, max(1, int(call.param("per_page") or 30)))
            page = max(1, int(call.param("page") or 1))
        except ValueError:
            return _error(422, "Validation Failed")
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        query = {k: v for k, v in call.params.items() if k != "page"}

        def link(n: int, rel: str) -> str:
            return f'<{call.base}{path}?{urlencode({**query, "page": n})}>; rel="{rel}"'

        links = []
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        body = json.dumps(chunk).encode()
        etag = 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {"ETag": etag, "Content-Type": "application/json; charset=utf-8"}
        if links:
            headers["Link"] = ", ".join(links)
        if call.request.headers.get("if-none-match") == etag:
            return httpx.Response(304, headers={"ETag": etag})
        return httpx.Response(200, content=body, headers=headers)

    def _repo_name(self, call: Call) -> str:
        return f"{unquote(call.args['owner'])}/{unquote(call.args['repo'])}"

    def _find(self, call: Call) -> tuple[str, _Repo, dict[str, Any]] | None:
        repo = self._repo_name(call)
        state = self.repos.get(repo)
        if state is None:
            return None
        issue = state.issues.get(int(call.args["number"]))
        return (repo, state, issue) if issue is not None else None

    # -- issues

    def _list(self, call: Call) -> httpx.Response:
        repo = self._repo_name(call)
        state = self.repos.get(repo)
        if state is None:
            return self.not_found(call)
        wanted_state = call.param("state") or "open"
        sort = call.param("sort") or "created"
        direction = call.param("direction") or "desc"
        since = call.param("since")
        labels = {x.strip().lower() for x in (call.param("labels") or "").split(",") if x.strip()}
        if (
            wanted_state not in ("open", "closed", "all")
            or sort not in ("created", "updated", "comments")
            or direction not in ("asc", "desc")
        ):
            return _error(422, "Validation Failed")
        items = [
            i
            for i in state.issues.values()
            if (wanted_state == "all" or i["state"] == wanted_state)
            and (since is None or i["updated_at"] >= since)
            and labels <= {x["name"].lower() for x in i["labels"]}
        ]
        key = {"created": "created_at", "updated": "updated_at", "comments": "comments"}[sort]
        items.sort(key=lambda i: (i[key], i["number"]), reverse=direction == "desc")
        return self._list_page(call, items, f"/repos/{repo}/issues")

    def _get(self, call: Call) -> httpx.Response:
        found = self._find(call)
        return json_response(200, found[2]) if found else self.not_found(call)

    def _create(self, call: Call) -> httpx.Response:
        repo = self._repo_name(call)
        if repo not in self.repos:
            return self.not_found(call)
        body = call.body if isinstance(call.body, dict) else {}
        title = body.get("title")
        if not isinstance(title, str | int) or not str(title).strip():
            return _error(
                422,
                "Validation Failed",
                errors=[{"resource": "Issue", "code": "missing_field", "field": "title"}],
            )
        labels = body.get("labels") or []
        names = [x if isinstance(x, str) else x.get("name", "") for x in labels]
        assignees = body.get("assignees") or []
        now = _iso(self._now())
        issue = self.add_issue(
            {
                "repo": repo,
                "title": str(title),
                "body": body.get("body"),
                "labels": [n for n in names if n],
                "user": "oncall-bot",
                "assignee": assignees[0] if assignees else body.get("assignee"),
                "created_at": now,
                "updated_at": now,
            }
        )
        self._indexed_at[(repo, issue["number"])] = self._now() + timedelta(seconds=self.search_lag)
        self.count("create_issue")
        return json_response(201, issue, {"Location": issue["url"]})

    def _update(self, call: Call) -> httpx.Response:
        found = self._find(call)
        if not found:
            return self.not_found(call)
        repo, _, issue = found
        body = call.body if isinstance(call.body, dict) else {}
        if "state" in body:
            if body["state"] not in ("open", "closed"):
                return _error(422, "Validation Failed")
            if body["state"] != issue["state"]:
                issue["state"] = body["state"]
                issue["closed_at"] = _iso(self._now()) if body["state"] == "closed" else None
                issue["state_reason"] = body.get("state_reason") or (
                    "completed" if body["state"] == "closed" else "reopened"
                )
                self.count("set_state")
        if "assignees" in body:
            logins = [str(x) for x in body["assignees"] or []]
            issue["assignees"] = [self.user(x) for x in logins]
            issue["assignee"] = issue["assignees"][0] if logins else None
            self.count("assign")
        if "labels" in body:
            issue["labels"] = [self.label(repo, str(x)) for x in body["labels"] or []]
            self.count("set_labels")
        for key in ("title", "body"):
            if key in body:
                issue[key] = body[key]
        self.count("update_issue")
        self._touch(issue)
        return json_response(200, issue)

    # -- comments and labels

    def _list_comments(self, call: Call) -> httpx.Response:
        found = self._find(call)
        if not found:
            return self.not_found(call)
        repo, state, issue = found
        since = call.param("since")
        items = [
            c
            for c in state.comments.get(issue["number"], [])
            if since is None or c["updated_at"] >= since
        ]
        return self._list_page(call, items, f"/repos/{repo}/issues/{issue['number']}/comments")

    def _create_comment(self, call: Call) -> httpx.Response:
        found = self._find(call)
        if not found:
            return self.not_found(call)
        repo, _, issue = found
        body = call.body if isinstance(call.body, dict) else {}
        if not isinstance(body.get("body"), str) or not body["body"].strip():
            return _error(
                422,
                "Validation Failed",
                errors=[{"resource": "IssueComment", "code": "missing_field", "field": "body"}],
            )
        comment = self._comment(repo, issue["number"], body["body"], "oncall-bot")
        self.count("create_comment")
        return json_response(201, comment, {"Location": comment["url"]})

    def _add_labels(self, call: Call) -> httpx.Response:
        found = self._find(call)
        if not found:
            return self.not_found(call)
        repo, _, issue = found
        body = call.body
        labels = body.get("labels") if isinstance(body, dict) else body
        if not isinstance(labels, list) or not labels:
            return _error(422, "Validation Failed")
        have = {x["name"].lower() for x in issue["labels"]}
        for item in labels:
            name = item if isinstance(item, str) else item.get("name", "")
            if name and name.lower() not in have:
                issue["labels"].append(self.label(repo, name))
                have.add(name.lower())
                self.count("add_label")
        self._touch(issue)
        return json_response(200, issue["labels"])

    def _create_label(self, call: Call) -> httpx.Response:
        repo = self._repo_name(call)
        if repo not in self.repos:
            return self.not_found(call)
        body = call.body if isinstance(call.body, dict) else {}
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            return _error(422, "Validation Failed")
        if name.lower() in self.repos[repo].labels:
            return _error(
                422,
                "Validation Failed",
                errors=[{"resource": "Label", "code": "already_exists", "field": "name"}],
            )
        label = self.label(repo, name)
        label["description"] = body.get("description")
        label["color"] = body.get("color") or "ededed"
        self.count("create_label")
        return json_response(201, label)

    def _remove_label(self, call: Call) -> httpx.Response:
        found = self._find(call)
        if not found:
            return self.not_found(call)
        _, _, issue = found
        name = unquote(call.args["name"])
        kept = [x for x in issue["labels"] if x["name"].lower() != name.lower()]
        if len(kept) == len(issue["labels"]):
            return _error(404, "Label does not exist")
        issue["labels"] = kept
        self.count("remove_label")
        self._touch(issue)
        return json_response(200, kept)

    # -- search and rate limit

    def _search(self, call: Call) -> httpx.Response:
        q = call.param("q")
        if not q:
            return _error(
                422,
                "Validation Failed",
                errors=[{"resource": "Search", "field": "q", "code": "missing"}],
            )
        terms = _terms(q)
        now = self._now()
        items = []
        for repo, state in sorted(self.repos.items()):
            for issue in sorted(state.issues.values(), key=lambda i: -i["number"]):
                if self._indexed_at.get((repo, issue["number"]), now) > now:
                    continue
                repos = [v.lower() for k, v in terms if k == "repo"]
                if repos and repo.lower() not in repos:  # repo: qualifiers are alternatives
                    continue
                if all(_matches(repo, issue, k, v) for k, v in terms if k != "repo"):
                    items.append({**issue, "score": 1.0})
        per_page = min(100, max(1, int(call.param("per_page") or 30)))
        return json_response(
            200,
            {
                "total_count": len(items),
                "incomplete_results": False,
                "items": items[:per_page],
                "search_type": "lexical",
            },
        )

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

    def _oauth_answer(self, call: Call, data: Mapping[str, Any]) -> httpx.Response:
        if "json" in call.request.headers.get("accept", ""):
            return json_response(200, dict(data))
        return httpx.Response(
            200,
            content=urlencode({k: str(v) for k, v in data.items()}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )

    def _device_code(self, call: Call) -> httpx.Response:
        client_id = call.param("client_id")
        if not client_id:
            return _error(404, "Not Found")
        device_code = _secrets.token_hex(20)
        letters = "BCDFGHJKLMNPQRSTVWXZ"
        user_code = (
            "".join(self.random.choice(letters) for _ in range(4))
            + "-"
            + "".join(self.random.choice("0123456789") for _ in range(4))
        )
        self._devices[device_code] = _Device(
            client_id=client_id,
            user_code=user_code,
            scope=call.param("scope") or "",
            expires=self._now() + timedelta(minutes=15),
        )
        return self._oauth_answer(
            call,
            {
                "device_code": device_code,
                "user_code": user_code,
                "verification_uri": f"{call.base}/login/device",
                "expires_in": 900,
                "interval": 5,
            },
        )

    def approve_device(self, user_code: str, approve: bool = True) -> bool:
        """The user entered ``user_code`` in the browser and approved (or denied)."""
        with self.lock:
            for device in self._devices.values():
                if device.user_code == user_code:
                    device.approved, device.denied = approve, not approve
                    return True
            return False

    def _access_token(self, call: Call) -> httpx.Response:
        if call.param("grant_type") != DEVICE_GRANT:
            return self._oauth_answer(call, {"error": "unsupported_grant_type"})
        device = self._devices.get(call.param("device_code") or "")
        if device is None:
            return self._oauth_answer(call, {"error": "incorrect_device_code"})
        if call.param("client_id") != device.client_id:
            return self._oauth_answer(call, {"error": "incorrect_client_credentials"})
        now = self._now()
        if now > device.expires:
            return self._oauth_answer(call, {"error": "expired_token"})
        if device.last_poll is not None and now - device.last_poll < timedelta(
            seconds=device.interval
        ):
            device.interval += 5
            device.last_poll = now
            return self._oauth_answer(call, {"error": "slow_down", "interval": device.interval})
        device.polls += 1
        device.last_poll = now
        if device.denied:
            return self._oauth_answer(call, {"error": "access_denied"})
        auto = self.device_auto_approve_after
        if not device.approved and auto is not None and device.polls > auto:
            device.approved = True
        if not device.approved:
            return self._oauth_answer(call, {"error": "authorization_pending"})
        del self._devices[call.param("device_code") or ""]
        token = f"gho_{_secrets.token_urlsafe(24)}"
        self.tokens.add(token)
        self.count("oauth_token")
        return self._oauth_answer(
            call, {"access_token": token, "token_type": "bearer", "scope": device.scope}
        )


def _terms(q: str) -> list[tuple[str, str]]:
    terms: list[tuple[str, str]] = []
    rest = q
    while rest.strip():
        rest = rest.lstrip()
        key, value = "", ""
        head = rest.split(None, 1)[0]
        if ":" in head and not head.startswith('"'):
            key, _, tail = rest.partition(":")
            rest = tail
        if rest.startswith('"'):
            end = rest.find('"', 1)
            end = len(rest) if end < 0 else end
            value, rest = rest[1:end], rest[end + 1 :]
        else:
            parts = rest.split(None, 1)
            value, rest = parts[0], parts[1] if len(parts) > 1 else ""
        terms.append((key.lower(), value))
    return terms


def _matches(repo: str, issue: Mapping[str, Any], key: str, value: str) -> bool:
    if key == "repo":
        return repo.lower() == value.lower()
    if key in ("is", "type"):
        if value in ("issue", "pr", "pull-request"):
            return (issue.get("pull_request") is None) == (value == "issue")
        return bool(issue["state"] == value)
    if key == "state":
        return bool(issue["state"] == value)
    if key == "label":
        return value.lower() in {x["name"].lower() for x in issue["labels"]}
    if key == "in":
        return True
    text = f"{issue.get('title') or ''} {issue.get('body') or ''}".lower()
    return value.lower() in text


__all__ = ["GitHubFake"]
