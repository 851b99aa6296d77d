"""Zendesk writes: the outbox's operations as ticket updates and creations, the answers read
as leniently as Zendesk's API description allows, and the look-up of an unclear change.

``PUT /api/v2/tickets/{id}.json`` for status, priority, assignee, tags and comments (a public
reply or an internal note is ``comment: {body, public}``); ``POST /api/v2/tickets.json`` with
an ``Idempotency-Key`` header (Zendesk replays the first answer for two hours) and
``external_id = "oncall-tui:<key>"`` for creations, so :meth:`ZendeskWriter.lookup` can find
one later by search. Label changes read the ticket and write the whole tag list with
``safe_update``, so a concurrent edit is retried instead of overwritten.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum
from typing import Any, TypeVar

import httpx

from oncall_tui.domain.ops import Op, OpKind
from oncall_tui.domain.tickets import Priority, Status
from oncall_tui.sync.adapter import AdapterPart
from oncall_tui.sync.base import (
    BackendUnavailable,
    BadPayload,
    PushResult,
    Rejected,
    RemoteComment,
    SyncError,
    bounded,
    bounded_result,
    unsupported,
)
from oncall_tui.sync.fields import Fields
from oncall_tui.sync.http import response_json
from oncall_tui.sync.zendesk_host import ZendeskHost
from oncall_tui.sync.zendesk_wire import (
    PRIORITY_TO_WIRE,
    User,
    comment_from_audit,
    marker,
    numeric_id,
    parse_ticket,
    ticket_url,
)

E = TypeVar("E", bound=StrEnum)
log = logging.getLogger(__name__)

TICKETS_PATH = "/api/v2/tickets.json"
SEARCH_PATH = "/api/v2/search.json"
#: The ``Location`` of a created ticket: ``…/api/v2/tickets/35436.json``.
LOCATION_RE = re.compile(r"/api/v2/tickets/(\d{1,20})(?:\.json)?/?\Z")


class ZendeskWriter(AdapterPart[ZendeskHost]):
    """The push side of a :class:`~oncall_tui.sync.zendesk.ZendeskBackend`, over its
    requests, options and known users."""

    #: Attempts of a tag read-modify-write when others edit the ticket at the same moment.
    TAG_ATTEMPTS = 3

    async def push(self, op: Op) -> PushResult:
        """Apply one outbox operation (see the module docstring for the requests)."""
        if op.kind not in self.backend.supported_ops:
            raise unsupported(self.backend.name, op)
        if op.kind is OpKind.CREATE_TICKET:
            return await self._create(op)
        ticket_id = numeric_id(_require(op.remote_id, "the ticket's Zendesk id", op))
        if op.kind in (OpKind.ADD_LABELS, OpKind.REMOVE_LABELS):
            return await self._change_tags(op, ticket_id)
        body = self.update_body(op)
        response = await self.backend._call("PUT", f"/api/v2/tickets/{ticket_id}.json", json=body)
        return await self._settled(response, op, ticket_id)

    def update_body(self, op: Op) -> dict[str, Any]:
        """The ``PUT /api/v2/tickets/{id}`` body for a field change or a comment."""
        p = op.payload
        ticket: dict[str, Any]
        if op.kind is OpKind.SET_STATUS:
            ticket = {"status": _enum(Status, _payload(p, "status", op), op).value}
        elif op.kind is OpKind.SET_PRIORITY:
            priority = _enum(Priority, _payload(p, "priority", op), op)
            ticket = {"priority": PRIORITY_TO_WIRE[priority]}
        elif op.kind is OpKind.ASSIGN:
            assignee = p.get("assignee")
            if assignee is None:
                ticket = {"assignee_id": None}
            elif isinstance(assignee, str) and "@" in assignee:
                ticket = {"assignee_email": assignee}
            elif isinstance(assignee, int | str) and str(assignee).isdigit():
                ticket = {"assignee_id": int(assignee)}
            else:
                raise Rejected(
                    f"{self.backend.name}: assign needs an agent's email or Zendesk user id, "
                    f"got {str(assignee)[:40]!r}"
                )
        elif op.kind in (OpKind.REPLY, OpKind.NOTE):
            text = _payload(p, "body", op)
            ticket = {"comment": {"body": text, "public": op.kind is OpKind.REPLY}}
        else:  # pragma: no cover - guarded by supported_ops
            raise unsupported(self.backend.name, op)
        return {"ticket": ticket}

    def create_body(self, op: Op) -> dict[str, Any]:
        """The ``POST /api/v2/tickets`` body of a CREATE_TICKET operation."""
        p = op.payload
        ticket: dict[str, Any] = {
            "subject": _payload(p, "subject", op),
            "comment": {"body": _payload(p, "body", op), "public": bool(p.get("public", True))},
            "external_id": str(p.get("external_id") or marker(op.idempotency_key)),
        }
        requester = p.get("requester_id", p.get("requester"))
        if isinstance(requester, int) or (isinstance(requester, str) and requester.isdigit()):
            ticket["requester_id"] = int(requester)
        if p.get("priority"):
            ticket["priority"] = PRIORITY_TO_WIRE[_enum(Priority, p["priority"], op)]
        if p.get("status"):
            ticket["status"] = _enum(Status, p["status"], op).value
        labels = p.get("labels") or []
        if labels:
            ticket["tags"] = [self.backend.config.tags.to_tag(str(label)) for label in labels]
        return {"ticket": ticket}

    async def _create(self, op: Op) -> PushResult:
        response = await self.backend._call(
            "POST",
            TICKETS_PATH,
            json=self.create_body(op),
            headers={"Idempotency-Key": op.idempotency_key},
        )
        return await self._settled(response, op, None)

    async def _change_tags(self, op: Op, ticket_id: str) -> PushResult:
        labels = op.payload.get("labels")
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise Rejected(f"{self.backend.name}: {op.kind.value} needs a list of labels")
        wanted = [self.backend.config.tags.to_tag(label) for label in labels]
        url = f"/api/v2/tickets/{ticket_id}.json"
        for _ in range(self.TAG_ATTEMPTS):
            current = Fields(await self.backend._json("GET", url), "zendesk ticket").opt_sub(
                "ticket"
            )
            if current is None or current.raw("tags") is None:
                # Writing the whole list over tags we were not told would drop them.
                raise Rejected(
                    f"{self.backend.name}: ticket {ticket_id}: the answer lists no tags; "
                    "labels left as they are"
                )
            tags = list(current.texts("tags"))
            if op.kind is OpKind.ADD_LABELS:
                new = tags + [t for t in wanted if t not in tags]
            else:
                new = [t for t in tags if t not in wanted]
            if new == tags:  # nothing to change: already applied
                return self._from_ticket(current, ticket_id, op)
            change: dict[str, Any] = {"tags": new}
            stamp = current.opt_text("updated_stamp") or current.opt_text("updated_at")
            if stamp:  # without it Zendesk cannot tell a concurrent edit: a plain update
                change.update(safe_update=True, updated_stamp=stamp)
            response = await self.backend._call("PUT", url, json={"ticket": change}, ok=(409,))
            if response.status_code == 409:  # someone else changed it meanwhile: re-read
                continue
            return await self._settled(response, op, ticket_id)
        raise BackendUnavailable(
            f"{self.backend.name}: ticket {ticket_id} kept changing; will retry"
        )

    async def _settled(self, response: httpx.Response, op: Op, ticket_id: str | None) -> PushResult:
        """The result of a push Zendesk accepted, read as leniently as its description allows.

        Every key of the answer is optional there. The ticket's id is the one we sent, else
        the answer's, else the ``Location`` of a creation, else a creation is looked up by its
        ``external_id`` (and stays unclear if it cannot be found yet). A ticket copy that
        lacks what a record needs (``updated_at``...) is read again with a GET; a reply or
        note whose comment the audit does not show is looked up among the comments.
        """
        payload = response_json(response, self.backend.name)
        f = Fields(payload, "zendesk answer")
        raw = f.opt_sub("ticket")
        answered_id = raw.opt_ident("id") if raw is not None else None
        remote_id = ticket_id or answered_id or _location_id(response)
        if remote_id is None:
            found = await self.lookup(op)
            if found is not None:
                return found
            raise BadPayload(
                f"{self.backend.name}: the new ticket's answer names no id; will look it up"
            )
        if answered_id is not None and answered_id != remote_id:
            raw = None  # an answer about another ticket tells nothing about ours
        result = self._from_ticket(raw, remote_id, op)
        if result.version is None:
            reread = await self._reread(remote_id, op)
            if reread is not None:
                result = reread
        updated = result.ticket.updated_at if result.ticket is not None else None
        comment = comment_from_audit(payload, remote_id, updated or self.backend.clock())
        if comment is None and op.kind in (OpKind.REPLY, OpKind.NOTE):
            comment = await self._find_comment(op)
        return bounded_result(
            PushResult(
                remote_id=result.remote_id,
                version=result.version,
                url=result.url,
                ticket=result.ticket,
                comment=comment,
            ),
            self.backend.limits,
        )

    async def _reread(self, ticket_id: str, op: Op) -> PushResult | None:
        """The ticket as Zendesk has it now, after an answer that did not show it whole.

        The change is applied already: a failure here only costs the fresh copy (the next
        pull brings it), so it is logged and the entry still settles.
        """
        try:
            answer = await self.backend._json("GET", f"/api/v2/tickets/{ticket_id}.json")
            raw = Fields(answer, "zendesk ticket").opt_sub("ticket")
        except SyncError as exc:
            log.info(
                "%s: re-reading ticket %s after a push failed: %s",
                self.backend.name,
                ticket_id,
                exc,
            )
            return None
        if raw is None or raw.opt_ident("id") not in (None, ticket_id):
            return None
        result = self._from_ticket(raw, ticket_id, op)
        return result if result.version is not None else None

    async def _find_comment(self, op: Op) -> RemoteComment | None:
        """The comment a reply or note created, when the answer did not show it."""
        try:
            found = await self.lookup(op)
        except SyncError as exc:
            log.info("%s: looking up the comment of a push failed: %s", self.backend.name, exc)
            return None
        return found.comment if found is not None else None

    def _from_ticket(self, raw: Fields | None, remote_id: str, op: Op | None) -> PushResult:
        """A result from a ticket copy (search, show, create or update answer), read leniently.

        The copy names people by id only: it is returned whole when every id maps to someone
        seen in a pull, so it never overwrites emails with bare ids. A copy that is not a
        whole record gives only the id and URL.
        """
        url = ticket_url(self.backend.base_url, remote_id)
        if raw is None:
            return PushResult(remote_id=remote_id, url=url)
        if op is not None and op.kind is OpKind.ASSIGN:
            email, assignee_id = op.payload.get("assignee"), raw.opt_ident("assignee_id")
            if isinstance(email, str) and "@" in email and assignee_id:
                known = self.backend.users.get(assignee_id)
                self.backend.users[assignee_id] = User(
                    assignee_id,
                    known.name if known else "",
                    email,
                    known.organization_id if known else None,
                )
        try:
            ticket = parse_ticket(
                {"id": remote_id, **raw.data},
                self.backend.users,
                self.backend.config,
                self.backend.base_url,
            )
        except BadPayload as exc:
            log.info("%s: ticket %s: not a whole ticket: %s", self.backend.name, remote_id, exc)
            return PushResult(remote_id=remote_id, url=url)
        people = [raw.opt_ident("requester_id"), raw.opt_ident("assignee_id")]
        complete = all(p is None or p in self.backend.users for p in people)
        return PushResult(
            remote_id=ticket.remote_id,
            version=ticket.version,
            url=ticket.url,
            ticket=bounded(ticket, self.backend.limits) if complete else None,
        )

    async def lookup(self, op: Op, taken: frozenset[str] = frozenset()) -> PushResult | None:
        """Did an unclear creation or comment happen?

        A creation is found by its ``external_id`` (search may lag a few minutes behind; the
        Idempotency-Key covers a resend within two hours). A comment (Zendesk's carry no
        marker of ours) is the closest one with its text and visibility made after the entry
        (or in the five minutes before it: clocks differ) that is not in ``taken`` (another
        entry's). Other operations are safe to resend.
        """
        if op.kind is OpKind.CREATE_TICKET:
            external = str(op.payload.get("external_id") or marker(op.idempotency_key))
            query = f'type:ticket external_id:"{external}"'
            found = Fields(
                await self.backend._json("GET", SEARCH_PATH, params={"query": query}),
                "zendesk search",
            )
            for item in found.items("results"):
                if isinstance(item, dict) and item.get("external_id") == external:
                    ticket = Fields(item, "zendesk ticket")
                    return self._from_ticket(ticket, ticket.ident("id"), op)
            return None
        if op.kind in (OpKind.REPLY, OpKind.NOTE) and op.remote_id:
            text = str(op.payload.get("body", "")).strip()
            public = op.kind is OpKind.REPLY
            since = op.created_at - timedelta(minutes=5) if op.created_at else None
            candidates = [
                comment
                for comment in await self.backend.fetch_comments(op.remote_id)
                if comment.body.strip() == text
                and comment.public == public
                and comment.remote_id not in taken
                and (since is None or comment.created_at >= since)
            ]
            if not candidates:
                return None
            made = op.created_at
            if made is None:
                return PushResult(remote_id=op.remote_id, comment=candidates[0])
            after = [c for c in candidates if c.created_at >= made]
            closest = (
                min(after, key=lambda c: c.created_at)
                if after
                else max(candidates, key=lambda c: c.created_at)
            )
            return PushResult(remote_id=op.remote_id, comment=closest)
        return None


def _location_id(response: httpx.Response) -> str | None:
    """The id of a created ticket from the answer's ``Location`` header, if it names one."""
    location = response.headers.get("location", "")
    try:
        path = httpx.URL(location).path if location else ""
    except httpx.InvalidURL:
        return None
    found = LOCATION_RE.search(path)
    return found.group(1) if found else None


def _require(value: str | None, what: str, op: Op) -> str:
    if not value:
        raise Rejected(f"zendesk: {op.kind.value} needs {what}")
    return value


def _enum(kind: type[E], value: Any, op: Op) -> E:
    try:
        return kind(value)
    except ValueError:
        shown = str(value)[:30]
        raise Rejected(f"zendesk: {op.kind.value}: {shown!r} is not a {kind.__name__}") from None


def _payload(payload: Mapping[str, Any], key: str, op: Op) -> Any:
    value = payload.get(key)
    if value is None or value == "":
        raise Rejected(f"zendesk: {op.kind.value} needs {key!r}")
    return value


__all__ = ["ZendeskWriter"]
