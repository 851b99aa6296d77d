"""The fake GitHub's issue endpoints: list (paged by ``Link``, ``since``, ``state``, an ETag
answered 304), get, create and update an issue; list and add comments; add, create and
remove labels; search (``repo:``, ``is:``, ``label:``, ``in:body`` and words, after
``search_lag``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlencode

import httpx

from oncall_tui.demo.fakes import Call, FakePart, json_response
from oncall_tui.demo.fakes.github_shared import GitHubHost, Repo, error_response, iso


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


class IssueRoutes(FakePart[GitHubHost]):
    """Part of :class:`~oncall_tui.demo.fakes.github.GitHubFake` (its ``issues``)."""

    def list_page(self, call: Call, items: list[dict[str, Any]], path: str) -> httpx.Response:
        try:
            per_page = min(100, max(1, int(call.param("per_page") or 30)))
            page = max(1, int(call.param("page") or 1))
        except ValueError:
            return error_response(422, "Validation Failed")
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

    def repo_name(self, call: Call) -> str:
        return f"{unquote(call.args['owner'])}/{unquote(call.args['repo'])}"

    def find(self, call: Call) -> tuple[str, Repo, dict[str, Any]] | None:
        repo = self.repo_name(call)
        state = self.fake.repos.get(repo)
        if state is None:
            return None
        issue = state.issues.get(int(call.args["number"]))
        return (repo, state, issue) if issue is not None else None

    def list_issues(self, call: Call) -> httpx.Response:
        repo = self.repo_name(call)
        state = self.fake.repos.get(repo)
        if state is None:
            return self.fake.not_found(call)
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
            return error_response(422, "Validation Failed")
        items = [
            i
            for i in state.issues.values()
            if (wanted_state == "all" or i["state"] == wanted_state)
            and (since is None or i["updated_at"] >= since)
            and labels <= {x["name"].lower() for x in i["labels"]}
        ]
        key = {"created": "created_at", "updated": "updated_at", "comments": "comments"}[sort]
        items.sort(key=lambda i: (i[key], i["number"]), reverse=direction == "desc")
        return self.list_page(call, items, f"/repos/{repo}/issues")

    def get_issue(self, call: Call) -> httpx.Response:
        found = self.find(call)
        return json_response(200, found[2]) if found else self.fake.not_found(call)

    def create_issue(self, call: Call) -> httpx.Response:
        repo = self.repo_name(call)
        if repo not in self.fake.repos:
            return self.fake.not_found(call)
        body = call.body if isinstance(call.body, dict) else {}
        title = body.get("title")
        if not isinstance(title, str | int) or not str(title).strip():
            return error_response(
                422,
                "Validation Failed",
                errors=[{"resource": "Issue", "code": "missing_field", "field": "title"}],
            )
        labels = body.get("labels") or []
        names = [x if isinstance(x, str) else x.get("name", "") for x in labels]
        assignees = body.get("assignees") or []
        now = iso(self.fake._now())
        issue = self.fake.add_issue(
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
        self.fake._indexed_at[(repo, issue["number"])] = self.fake._now() + timedelta(
            seconds=self.fake.search_lag
        )
        self.fake.count("create_issue")
        return json_response(201, issue, {"Location": issue["url"]})

    def update_issue(self, call: Call) -> httpx.Response:
        found = self.find(call)
        if not found:
            return self.fake.not_found(call)
        repo, _, issue = found
        body = call.body if isinstance(call.body, dict) else {}
        if "state" in body:
            if body["state"] not in ("open", "closed"):
                return error_response(422, "Validation Failed")
            if body["state"] != issue["state"]:
                issue["state"] = body["state"]
                issue["closed_at"] = iso(self.fake._now()) if body["state"] == "closed" else None
                issue["state_reason"] = body.get("state_reason") or (
                    "completed" if body["state"] == "closed" else "reopened"
                )
                self.fake.count("set_state")
        if "assignees" in body:
            logins = [str(x) for x in body["assignees"] or []]
            issue["assignees"] = [self.fake.user(x) for x in logins]
            issue["assignee"] = issue["assignees"][0] if logins else None
            self.fake.count("assign")
        if "labels" in body:
            issue["labels"] = [self.fake.label(repo, str(x)) for x in body["labels"] or []]
            self.fake.count("set_labels")
        for key in ("title", "body"):
            if key in body:
                issue[key] = body[key]
        self.fake.count("update_issue")
        self.fake._touch(issue)
        return json_response(200, issue)

    def list_comments(self, call: Call) -> httpx.Response:
        found = self.find(call)
        if not found:
            return self.fake.not_found(call)
        repo, state, issue = found
        since = call.param("since")
        items = [
            c
            for c in state.comments.get(issue["number"], [])
            if since is None or c["updated_at"] >= since
        ]
        return self.list_page(call, items, f"/repos/{repo}/issues/{issue['number']}/comments")

    def create_comment(self, call: Call) -> httpx.Response:
        found = self.find(call)
        if not found:
            return self.fake.not_found(call)
        repo, _, issue = found
        body = call.body if isinstance(call.body, dict) else {}
        if not isinstance(body.get("body"), str) or not body["body"].strip():
            return error_response(
                422,
                "Validation Failed",
                errors=[{"resource": "IssueComment", "code": "missing_field", "field": "body"}],
            )
        comment = self.fake._comment(repo, issue["number"], body["body"], "oncall-bot")
        self.fake.count("create_comment")
        return json_response(201, comment, {"Location": comment["url"]})

    def add_labels(self, call: Call) -> httpx.Response:
        found = self.find(call)
        if not found:
            return self.fake.not_found(call)
        repo, _, issue = found
        body = call.body
        labels = body.get("labels") if isinstance(body, dict) else body
        if not isinstance(labels, list) or not labels:
            return error_response(422, "Validation Failed")
        have = {x["name"].lower() for x in issue["labels"]}
        for item in labels:
            name = item if isinstance(item, str) else item.get("name", "")
            if name and name.lower() not in have:
                issue["labels"].append(self.fake.label(repo, name))
                have.add(name.lower())
                self.fake.count("add_label")
        self.fake._touch(issue)
        return json_response(200, issue["labels"])

    def create_label(self, call: Call) -> httpx.Response:
        repo = self.repo_name(call)
        if repo not in self.fake.repos:
            return self.fake.not_found(call)
        body = call.body if isinstance(call.body, dict) else {}
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            return error_response(422, "Validation Failed")
        if name.lower() in self.fake.repos[repo].labels:
            return error_response(
                422,
                "Validation Failed",
                errors=[{"resource": "Label", "code": "already_exists", "field": "name"}],
            )
        label = self.fake.label(repo, name)
        label["description"] = body.get("description")
        label["color"] = body.get("color") or "ededed"
        self.fake.count("create_label")
        return json_response(201, label)

    def remove_label(self, call: Call) -> httpx.Response:
        found = self.find(call)
        if not found:
            return self.fake.not_found(call)
        _, _, issue = found
        name = unquote(call.args["name"])
        kept = [x for x in issue["labels"] if x["name"].lower() != name.lower()]
        if len(kept) == len(issue["labels"]):
            return error_response(404, "Label does not exist")
        issue["labels"] = kept
        self.fake.count("remove_label")
        self.fake._touch(issue)
        return json_response(200, kept)

    def search(self, call: Call) -> httpx.Response:
        q = call.param("q")
        if not q:
            return error_response(
                422,
                "Validation Failed",
                errors=[{"resource": "Search", "field": "q", "code": "missing"}],
            )
        terms = _terms(q)
        now = self.fake._now()
        items = []
        for repo, state in sorted(self.fake.repos.items()):
            for issue in sorted(state.issues.values(), key=lambda i: -i["number"]):
                if self.fake._indexed_at.get((repo, issue["number"]), now) > now:
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


__all__ = ["IssueRoutes"]
