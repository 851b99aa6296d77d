"""The fake Zendesk's ticket writes: updates (status, priority, assignee, tags, a comment;
``safe_update`` with ``updated_stamp`` answers 409 on a conflict) and creations (replayed
for two hours under the same ``Idempotency-Key``), each recorded as an audit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import httpx

from oncall_tui.demo.fakes import Call, FakePart, json_response
from oncall_tui.demo.fakes.zendesk_shared import (
    AGENT_ID,
    IDEMPOTENCY_TTL,
    PRIORITIES,
    STATUSES,
    ZendeskHost,
    error_response,
    event_value,
    iso,
)


class TicketWrites(FakePart[ZendeskHost]):
    """Part of :class:`~oncall_tui.demo.fakes.zendesk.ZendeskFake` (its ``writes``)."""

    def audit(self, tid: int, events: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": self.fake._new_id(),
            "ticket_id": tid,
            "created_at": iso(self.fake._now()),
            "author_id": AGENT_ID,
            "metadata": {"system": {}, "custom": {}},
            "via": {"channel": "api"},
            "events": events,
        }

    def apply(
        self, ticket: dict[str, Any], fields: Mapping[str, Any], creating: bool = False
    ) -> tuple[list[dict[str, Any]], httpx.Response | None]:
        """Validate and apply ticket fields; returns audit events or an error answer."""
        events: list[dict[str, Any]] = []
        changes: dict[str, Any] = {}
        if "status" in fields:
            if fields["status"] not in STATUSES:
                return events, error_response(
                    422,
                    "RecordInvalid",
                    "Record validation errors",
                    details={"status": [{"description": "Status: is invalid"}]},
                )
            changes["status"] = fields["status"]
        if "priority" in fields:
            if fields["priority"] is not None and fields["priority"] not in PRIORITIES:
                return events, error_response(
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
                    for u in self.fake.users.values()
                    if u.get("email") == fields["assignee_email"] and u["role"] != "end-user"
                ),
                None,
            )
            if agent is None:
                return events, error_response(
                    422,
                    "RecordInvalid",
                    "Record validation errors",
                    details={"assignee": [{"description": "is not an agent"}]},
                )
            changes["assignee_id"] = agent["id"]
        if "assignee_id" in fields:
            aid = fields["assignee_id"]
            if aid is not None and (not isinstance(aid, int) or aid not in self.fake.users):
                return events, error_response(
                    422,
                    "RecordInvalid",
                    "Record validation errors",
                    details={"assignee": [{"description": "is invalid"}]},
                )
            changes["assignee_id"] = aid
        if "tags" in fields:
            tags = fields["tags"]
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                return events, error_response(
                    422, "RecordInvalid", "tags must be a list of strings"
                )
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
                return events, error_response(
                    422,
                    "RecordInvalid",
                    "Record validation errors",
                    details={"base": [{"description": "Comment: cannot be blank"}]},
                )
        elif creating:
            return events, error_response(
                422,
                "RecordInvalid",
                "Record validation errors",
                details={"base": [{"description": "Description: cannot be blank"}]},
            )
        for key, value in changes.items():
            if ticket.get(key) != value:
                events.append(
                    {
                        "id": self.fake._new_id(),
                        "type": "Change",
                        "field_name": key,
                        "value": event_value(value),
                        "previous_value": event_value(ticket.get(key)),
                    }
                )
                ticket[key] = value
        if comment is not None:
            public = bool(comment.get("public", True))
            if creating:
                ticket["description"] = str(comment["body"])
            record = self.fake._append_comment(
                ticket["id"],
                AGENT_ID if not creating else ticket["requester_id"],
                str(comment["body"]),
                public,
                iso(self.fake._now()),
            )
            events.append({**record, "type": "Comment"})
            self.fake.count("add_comment")
        return events, None

    def update(self, call: Call) -> httpx.Response:
        tid = int(call.args["id"])
        ticket = self.fake.tickets.get(tid)
        if ticket is None:
            return self.fake.not_found(call)
        fields = call.body.get("ticket") if isinstance(call.body, dict) else None
        if not isinstance(fields, dict):
            return error_response(400, "InvalidEndpoint", 'expected {"ticket": {...}}')
        if ticket["status"] == "closed":
            return error_response(422, "RecordInvalid", "Status: closed prevents ticket update")
        if fields.get("safe_update") and fields.get("updated_stamp") != ticket["updated_at"]:
            return error_response(
                409,
                "UpdateConflict",
                "Safe Update prevented the update due to "
                "outdated ticket data. Please fetch the latest ticket data and try again.",
            )
        before = dict(ticket)
        events, error = self.apply(ticket, fields)
        if error is not None:
            self.fake.tickets[tid] = before
            return error
        self.fake.count("update_ticket")
        self.fake._touch(tid)
        return json_response(200, {"ticket": ticket, "audit": self.audit(tid, events)})

    def create(self, call: Call) -> httpx.Response:
        fields = call.body.get("ticket") if isinstance(call.body, dict) else None
        if not isinstance(fields, dict):
            return error_response(400, "InvalidEndpoint", 'expected {"ticket": {...}}')
        key = call.request.headers.get("idempotency-key")
        fingerprint = json.dumps(call.body, sort_keys=True)
        now = self.fake._now()
        if key:
            seen = self.fake._idempotency.get(key)
            if seen is not None and now - seen[2] < IDEMPOTENCY_TTL:
                if seen[0] != fingerprint:
                    return error_response(
                        400,
                        "IdempotentRequestError",
                        "The idempotency key was already used with other parameters",
                    )
                ticket = self.fake.tickets[seen[1]]
                return json_response(
                    201,
                    {"ticket": ticket, "audit": self.audit(ticket["id"], [])},
                    {
                        "x-idempotency-lookup": "hit",
                        "Location": f"{call.base}/api/v2/tickets/{ticket['id']}.json",
                    },
                )
        tid = self.fake._new_id()
        requester_id = fields.get("requester_id", AGENT_ID)
        if requester_id not in self.fake.users:
            return error_response(422, "RecordInvalid", "Requester: is invalid")
        ticket = self.fake.add_ticket(
            {
                "id": tid,
                "subject": str(fields.get("subject") or ""),
                "raw_subject": str(fields.get("subject") or ""),
                "requester_id": requester_id,
                "submitter_id": AGENT_ID,
                "organization_id": self.fake.users[requester_id].get("organization_id"),
                "via": {"channel": "api"},
                "created_at": iso(now),
                "updated_at": iso(now),
            }
        )
        self.fake.comments[tid] = []  # the comment below is the first one
        events, error = self.apply(ticket, fields, creating=True)
        if error is not None:
            del self.fake.tickets[tid]
            self.fake._changed.pop(tid, None)
            return error
        self.fake._indexed_at[tid] = now + timedelta(seconds=self.fake.search_lag)
        self.fake.count("create_ticket")
        self.fake._touch(tid)
        if key:
            self.fake._idempotency[key] = (fingerprint, tid, now)
        headers = {"Location": f"{call.base}/api/v2/tickets/{tid}.json"}
        if key:
            headers["x-idempotency-lookup"] = "miss"
        return json_response(201, {"ticket": ticket, "audit": self.audit(tid, events)}, headers)


__all__ = ["TicketWrites"]
