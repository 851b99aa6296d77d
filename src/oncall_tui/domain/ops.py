"""Outbox operations: a user's intent, recorded locally and pushed by the sync engine."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from oncall_tui.domain.tickets import Source


class OpKind(StrEnum):
    """What an outbox entry asks a backend to do."""

    SET_STATUS = "set_status"  # payload: {"status": "pending"}
    SET_PRIORITY = "set_priority"  # payload: {"priority": "P1"}
    ASSIGN = "assign"  # payload: {"assignee": "alice"} (None to unassign)
    ADD_LABELS = "add_labels"  # payload: {"labels": ["~investigate"]}
    REMOVE_LABELS = "remove_labels"  # payload: {"labels": [":incoming"]}
    REPLY = "reply"  # payload: {"body": "..."} public reply / chat thread reply
    NOTE = "note"  # payload: {"body": "..."} internal note
    CREATE_ISSUE = "create_issue"  # payload: {"repo", "title", "body", "labels", "ticket_id"}
    CREATE_TICKET = "create_ticket"  # payload: {"subject", "body", "requester", ...}
    CREATE_LABEL = "create_label"  # payload: {"repo", "name", "description", "color"}
    POST_MESSAGE = "post_message"  # payload: {"channel": "C0123ABCD", "text": "..."}: a new
    # top-level message in a chat channel (the team's channel, the engineering help channel)


class OpState(StrEnum):
    """Life of an outbox entry."""

    PENDING = "pending"  # waiting to be pushed
    INFLIGHT = "inflight"  # sent, outcome not yet known (look up before resending)
    DONE = "done"  # confirmed by the backend
    FAILED = "failed"  # refused by the backend with a message the user must see
    CANCELLED = "cancelled"  # undone by the user before it was pushed


@dataclass(frozen=True, slots=True)
class Op:
    """One outbox entry.

    Attributes:
        kind: what to do.
        source: which backend it goes to.
        ticket_id: local ticket id it applies to (None for creations without a ticket).
        remote_id: the ticket's id at the backend, if it has one yet.
        payload: kind-specific arguments (JSON-serialisable).
        idempotency_key: unique per entry; sent where the API supports it.
        base_version: the ticket version the edit was made against (for conflicts).
        undo: payload that restores the local row if the user undoes the entry.
    """

    kind: OpKind
    source: Source
    payload: dict[str, Any]
    idempotency_key: str
    ticket_id: int | None = None
    remote_id: str | None = None
    base_version: str | None = None
    id: int | None = None
    state: OpState = OpState.PENDING
    attempts: int = 0
    error: str | None = None
    created_at: datetime | None = None
    undo: dict[str, Any] = field(default_factory=dict)


#: Which operations each backend can carry. Anything else is local-only metadata (e.g. the
#: priority of a chat thread, which Slack has no notion of).
SUPPORTED: dict[Source, frozenset[OpKind]] = {
    Source.HELPDESK: frozenset(
        {
            OpKind.SET_STATUS,
            OpKind.SET_PRIORITY,
            OpKind.ASSIGN,
            OpKind.ADD_LABELS,
            OpKind.REMOVE_LABELS,
            OpKind.REPLY,
            OpKind.NOTE,
            OpKind.CREATE_TICKET,
        }
    ),
    # Tracker assignees are developers' logins, not ours: assignment stays local.
    Source.TRACKER: frozenset(
        {
            OpKind.SET_STATUS,
            OpKind.ADD_LABELS,
            OpKind.REMOVE_LABELS,
            OpKind.REPLY,
            OpKind.CREATE_ISSUE,
            OpKind.CREATE_LABEL,  # a customer codename label, in a public or private repo
        }
    ),
    Source.CHAT: frozenset({OpKind.REPLY, OpKind.POST_MESSAGE}),
}


#: A chat channel id (Slack: ``C…`` public, ``G…`` private).
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,20}$")


def post_message_op(channel: str, text: str, idempotency_key: str) -> Op:
    """The outbox entry posting ``text`` as a new message in chat ``channel`` (not a thread
    reply, not tied to a ticket). Sent once: the adapter looks an unclear send up by the
    entry's key before sending again.

    Raises:
        ValueError: ``channel`` is not a channel id, or ``text`` is blank.
    """
    if not CHANNEL_ID.match(channel):
        raise ValueError(f"{channel[:40]!r} is not a chat channel id (like C0123ABCD)")
    if not text.strip():
        raise ValueError("a message needs some text")
    return Op(
        kind=OpKind.POST_MESSAGE,
        source=Source.CHAT,
        payload={"channel": channel, "text": text},
        idempotency_key=idempotency_key,
    )


def is_supported(source: Source, kind: OpKind) -> bool:
    """True if ``kind`` is pushed to ``source``'s backend (else the change stays local)."""
    return kind in SUPPORTED[source]
