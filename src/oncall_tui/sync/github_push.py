"""GitHub writes: issues, labels, comments, state and assignees, and the look-up of an unclear
creation or comment by its hidden marker.

Create an issue (title, body, labels; the body ends with a hidden marker
``<!-- oncall-tui:{idempotency_key} -->`` so :meth:`GitHubWriter.lookup` can find it after an
unclear outcome), add labels (``POST …/labels``), remove one (``DELETE …/labels/{name}``,
URL-encoded; "label does not exist" counts as done), comment (with the same marker), close
and reopen (``PATCH state``), assign (``PATCH assignees``). An answer that is not a whole
issue is completed by reading the issue again.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from oncall_tui.domain.ops import Op, OpKind
from oncall_tui.domain.tickets import Status
from oncall_tui.sync.adapter import AdapterPart, HttpAdapter
from oncall_tui.sync.base import BadPayload, PushResult, Rejected, SyncError, bounded, unsupported
from oncall_tui.sync.fields import format_instant
from oncall_tui.sync.github_wire import (
    DONE_STATUSES,
    GitHubConfig,
    marker,
    parse_comment,
    parse_issue,
    repo_path,
    split_remote_id,
)
from oncall_tui.sync.http import check_status, error_detail

log = logging.getLogger(__name__)


class GitHubWriter(AdapterPart[HttpAdapter[GitHubConfig]]):
    """The push side of a :class:`~oncall_tui.sync.github.GitHubBackend`, over its requests
    and options (all the writer needs of it is an adapter over a :class:`GitHubConfig`)."""

    async def push(self, op: Op) -> PushResult:
        """Apply one outbox operation (see the module docstring)."""
        if op.kind not in self.backend.supported_ops:
            raise unsupported(self.backend.name, op)
        if op.kind is OpKind.CREATE_ISSUE:
            repo = str(op.payload.get("repo") or (self.backend.config.repos or ("",))[0])
            if repo.count("/") != 1:
                raise Rejected(f"{self.backend.name}: create issue needs a repository 'owner/name'")
            item = await self.backend._json(
                "POST", f"{repo_path(repo)}/issues", json=self.create_body(op)
            )
            number = number_of(item)
            if number is None:  # not an issue we can name: find it by its marker
                found = await self.lookup(op)
                if found is not None:
                    return found
                raise BadPayload(f"{self.backend.name}: the new issue's answer names no number")
            return await self._issue_result(item, repo, number)
        if op.kind is OpKind.CREATE_LABEL:
            return await self._create_label(op)
        if not op.remote_id:
            raise Rejected(
                f"{self.backend.name}: {op.kind.value} needs the issue (owner/repo#number)"
            )
        repo, number = split_remote_id(op.remote_id)
        issue_path = f"{repo_path(repo)}/issues/{number}"
        labels = op.payload.get("labels")
        if op.kind in (OpKind.ADD_LABELS, OpKind.REMOVE_LABELS) and (
            not isinstance(labels, list) or not all(isinstance(x, str) and x for x in labels)
        ):
            raise Rejected(f"{self.backend.name}: {op.kind.value} needs a list of label names")
        if op.kind is OpKind.ADD_LABELS:
            await self.backend._call("POST", f"{issue_path}/labels", json={"labels": labels})
            return PushResult(remote_id=op.remote_id)
        if op.kind is OpKind.REMOVE_LABELS:
            assert isinstance(labels, list)
            for label in labels:
                response = await self.backend._call(
                    "DELETE", f"{issue_path}/labels/{quote(label, safe='')}", ok=(404,)
                )
                if response.status_code == 404 and "label" not in error_detail(response).lower():
                    check_status(
                        response, self.backend.name, self.backend._now_ts()
                    )  # the issue is gone
            return PushResult(remote_id=op.remote_id)
        if op.kind is OpKind.REPLY:
            text = str(op.payload.get("body") or "")
            if not text.strip():
                raise Rejected(f"{self.backend.name}: a comment needs some text")
            item = await self.backend._json(
                "POST",
                f"{issue_path}/comments",
                json={"body": f"{text}\n\n{marker(op.idempotency_key)}"},
            )
            try:
                comment = parse_comment(item, op.remote_id)
            except BadPayload as exc:  # created all the same: find it by its marker
                log.info(
                    "%s: the new comment's answer is not a comment: %s", self.backend.name, exc
                )
                found = await self._lookup_quietly(op)
                if found is not None:
                    return found
                return PushResult(remote_id=op.remote_id)
            return PushResult(remote_id=op.remote_id, comment=bounded(comment, self.backend.limits))
        item = await self.backend._json("PATCH", issue_path, json=self.update_body(op))
        return await self._issue_result(item, repo, number)

    async def _create_label(self, op: Op) -> PushResult:
        """``POST /repos/{o}/{r}/labels``; a label that exists already (422 already_exists,
        e.g. a resend after an unclear outcome) is done, not an error."""
        p = op.payload
        repo = str(p.get("repo") or (self.backend.config.repos or ("",))[0])
        name = str(p.get("name") or "")
        if repo.count("/") != 1 or not name:
            raise Rejected(
                f"{self.backend.name}: create label needs a repository 'owner/name' and a name"
            )
        body: dict[str, Any] = {"name": name, "color": str(p.get("color") or "ededed")}
        if p.get("description"):
            body["description"] = str(p["description"])[:100]
        response = await self.backend._call(
            "POST", f"{repo_path(repo)}/labels", json=body, ok=(422,)
        )
        if response.status_code == 422 and "already_exists" not in response.text:
            check_status(response, self.backend.name, self.backend._now_ts())
        return PushResult(remote_id=op.remote_id)

    def create_body(self, op: Op) -> dict[str, Any]:
        """The ``POST /repos/{o}/{r}/issues`` body; the body ends with the hidden marker."""
        p = op.payload
        title = str(p.get("title") or "").strip()
        if not title:
            raise Rejected(f"{self.backend.name}: a new issue needs a title")
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
                raise Rejected(
                    f"{self.backend.name}: not a status: {op.payload.get('status')!r}"
                ) from None
            if status in DONE_STATUSES:
                return {"state": "closed", "state_reason": "completed"}
            return {"state": "open", "state_reason": "reopened"}
        if op.kind is OpKind.ASSIGN:
            assignee = op.payload.get("assignee")
            return {"assignees": [str(assignee)] if assignee else []}
        raise unsupported(self.backend.name, op)  # pragma: no cover - guarded by supported_ops

    async def _issue_result(self, item: object, repo: str, number: int) -> PushResult:
        """The result of a change GitHub accepted; an answer that is not a whole issue is
        completed by reading the issue again (and settles with its id if that fails too)."""
        remote_id = f"{repo}#{number}"
        try:
            return self._from_issue(item, repo, number)
        except BadPayload as exc:
            log.info(
                "%s: %s: the answer is not a whole issue: %s", self.backend.name, remote_id, exc
            )
        try:
            item = await self.backend._json("GET", f"{repo_path(repo)}/issues/{number}")
            return self._from_issue(item, repo, number)
        except SyncError as exc:  # applied already: the next pull brings the issue
            log.info("%s: re-reading %s after a push failed: %s", self.backend.name, remote_id, exc)
        return PushResult(remote_id=remote_id)

    def _from_issue(self, item: object, repo: str, number: int | None = None) -> PushResult:
        ticket = bounded(parse_issue(item, self.backend.config, repo), self.backend.limits)
        if number is not None and ticket.remote_id != f"{repo}#{number}":
            raise BadPayload(f"{self.backend.name}: the answer is about another issue")
        return PushResult(
            remote_id=ticket.remote_id, version=ticket.version, url=ticket.url, ticket=ticket
        )

    async def _lookup_quietly(self, op: Op) -> PushResult | None:
        try:
            return await self.lookup(op)
        except SyncError as exc:
            log.info("%s: looking up a push failed: %s", self.backend.name, exc)
            return None

    async def lookup(self, op: Op, taken: frozenset[str] = frozenset()) -> PushResult | None:
        """Find an issue or comment created by ``op`` through its hidden marker.

        Other operations are safe to resend (labels, state and assignees are set, not added).
        """
        tag = marker(op.idempotency_key)
        since = format_instant(op.created_at - timedelta(minutes=10)) if op.created_at else None
        if op.kind is OpKind.CREATE_ISSUE:
            repo = str(op.payload.get("repo") or (self.backend.config.repos or ("",))[0])
            params: dict[str, Any] = {
                "state": "all",
                "sort": "created",
                "direction": "desc",
                "per_page": 100,
            }
            if since:
                params["since"] = since
            items = await self.backend._json("GET", f"{repo_path(repo)}/issues", params=params)
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and tag in str(item.get("body") or ""):
                    return self._from_issue(item, repo)
            return None
        if op.kind is OpKind.REPLY and op.remote_id:
            repo, number = split_remote_id(op.remote_id)
            url = f"{repo_path(repo)}/issues/{number}/comments"
            items = await self.backend._json(
                "GET", url, params={"per_page": 100, **({"since": since} if since else {})}
            )
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and tag in str(item.get("body") or ""):
                    comment = bounded(parse_comment(item, op.remote_id), self.backend.limits)
                    return PushResult(remote_id=op.remote_id, comment=comment)
            return None
        return None


def number_of(item: object) -> int | None:
    """An issue's ``number``, if the answer gives one."""
    number = item.get("number") if isinstance(item, dict) else None
    return number if isinstance(number, int) and not isinstance(number, bool) else None


__all__ = ["GitHubWriter", "number_of"]
