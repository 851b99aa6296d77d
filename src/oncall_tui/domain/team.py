"""Team mode's wire format: which stream subject holds a record, and the record as JSON.

The relay publishes every record on its own subject, and the stream keeps the last message
of each subject only, so the stream *is* the current state::

    oncall.<source>.<group>.ticket.<ticket id>
    oncall.<source>.<group>.comment.<ticket id>.<comment id>
    oncall.<source>.<group>.customer.<customer id>

``<group>`` is who may see the record in the backend's terms (the help desk's group id, the
tracker's repository, the chat channel); ``_`` when the backend gives none. Members read
``oncall.<source>.<group>.>`` for each group they may see, and NATS permissions on those
filters keep them to their groups. Tokens keep ``A-Z a-z 0-9 -`` and write every other byte as
``%XX`` (``acme/product`` is ``acme%2Fproduct``), so a name can never add a subject level or a
wildcard.

A message is one JSON object: ``{"v": 1, "kind": ..., "group": ..., "record": {...}}`` with
``kind`` one of ``ticket``, ``comment``, ``customer`` or ``removed`` (a ticket that left this
group: the old subject's last word, see :class:`RemoteRemoval`).

Pure functions only: no I/O, no clock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from oncall_tui.domain.remote import (
    Page,
    RemoteComment,
    RemoteCustomer,
    RemoteRemoval,
    RemoteTicket,
)
from oncall_tui.domain.tickets import Channel, Priority, Source, Status

PREFIX = "oncall"
WIRE_VERSION = 1
NO_GROUP = "_"
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")

Record = RemoteTicket | RemoteComment | RemoteCustomer | RemoteRemoval


class WireError(ValueError):
    """A message that is not a record of this wire format."""


# --------------------------------------------------------------------------------------------
# Subjects


def token(value: str) -> str:
    """One subject token for any text (see the module docstring); never empty."""
    if value and all(ch in _SAFE for ch in value):
        return value
    out = []
    for ch in value:
        if ch in _SAFE:
            out.append(ch)
        else:
            out.extend(f"%{byte:02X}" for byte in ch.encode("utf-8"))
    return "".join(out) or "%"


def untoken(text: str) -> str:
    """The inverse of :func:`token`."""
    if "%" not in text:
        return text
    raw = bytearray()
    i = 0
    while i < len(text):
        if text[i] == "%" and _is_hex(text[i + 1 : i + 3]):
            raw.append(int(text[i + 1 : i + 3], 16))
            i += 3
        else:
            raw.extend(text[i].encode("utf-8"))
            i += 1
    return raw.decode("utf-8", "replace")


def _is_hex(pair: str) -> bool:
    return len(pair) == 2 and all(ch in "0123456789ABCDEFabcdef" for ch in pair)


def group_token(group: str | None) -> str:
    """The subject token of a group (``_`` for none)."""
    return NO_GROUP if not group else token(group)


def group_of(ticket: RemoteTicket) -> str | None:
    """The ticket's group: the backend's own, else the repository or channel in its id."""
    if ticket.group:
        return ticket.group
    if ticket.source is Source.TRACKER and "#" in ticket.remote_id:
        return ticket.remote_id.rpartition("#")[0] or None
    if ticket.source is Source.CHAT and ":" in ticket.remote_id:
        return ticket.remote_id.partition(":")[0] or None
    return None


def ticket_subject(
    source: Source | str, group: str | None, remote_id: str, prefix: str = PREFIX
) -> str:
    """Where a ticket (or its removal from this group) lives."""
    return f"{prefix}.{source}.{group_token(group)}.ticket.{token(remote_id)}"


def comment_subject(
    source: Source | str,
    group: str | None,
    ticket_id: str,
    comment_id: str,
    prefix: str = PREFIX,
) -> str:
    """Where one comment lives (under its ticket, so a move can purge them together)."""
    return f"{prefix}.{source}.{group_token(group)}.comment.{token(ticket_id)}.{token(comment_id)}"


def comments_filter(
    source: Source | str, group: str | None, ticket_id: str, prefix: str = PREFIX
) -> str:
    """Every comment subject of one ticket in one group."""
    return f"{prefix}.{source}.{group_token(group)}.comment.{token(ticket_id)}.*"


def customer_subject(
    source: Source | str, group: str | None, remote_id: str, prefix: str = PREFIX
) -> str:
    """Where a customer lives, once per group whose tickets name it."""
    return f"{prefix}.{source}.{group_token(group)}.customer.{token(remote_id)}"


def group_filter(source: Source | str, group: str | None, prefix: str = PREFIX) -> str:
    """What a member of one group reads."""
    return f"{prefix}.{source}.{group_token(group)}.>"


def source_filter(source: Source | str, prefix: str = PREFIX) -> str:
    """Everything of one source (a member allowed every group)."""
    return f"{prefix}.{source}.>"


def source_of_subject(subject: str, prefix: str = PREFIX) -> Source | None:
    """The source a subject (or filter) belongs to, if it names one."""
    parts = subject.split(".")
    if len(parts) < 2 or parts[0] != prefix:
        return None
    try:
        return Source(parts[1])
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------
# Records as JSON


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_instant(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise WireError(f"{what}: expected a timestamp")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise WireError(f"{what}: expected a timestamp") from None
    if parsed.tzinfo is None:
        raise WireError(f"{what}: expected a timestamp with a zone")
    return parsed.astimezone(UTC)


def record_fields(record: Record) -> dict[str, Any]:
    """A record as plain JSON values (enums as their values, instants as ISO text)."""
    if isinstance(record, RemoteTicket):
        return {
            "source": str(record.source),
            "remote_id": record.remote_id,
            "subject": record.subject,
            "body": record.body,
            "status": str(record.status),
            "priority": str(record.priority),
            "channel": str(record.channel),
            "labels": list(record.labels),
            "assignee": record.assignee,
            "requester": record.requester,
            "customer_remote_id": record.customer_remote_id,
            "opened_at": _instant(record.opened_at),
            "updated_at": _instant(record.updated_at),
            "url": record.url,
            "version": record.version,
            "group": record.group,
        }
    if isinstance(record, RemoteComment):
        return {
            "source": str(record.source),
            "ticket_remote_id": record.ticket_remote_id,
            "remote_id": record.remote_id,
            "author": record.author,
            "body": record.body,
            "public": record.public,
            "created_at": _instant(record.created_at),
            "author_handle": record.author_handle,
            "author_role": record.author_role,  # who may fulfil an SLA clock (issue 13)
        }
    if isinstance(record, RemoteCustomer):
        return {
            "remote_id": record.remote_id,
            "name": record.name,
            "plan": record.plan,
            "domains": list(record.domains),
            "contacts": list(record.contacts),
            "codename": record.codename,
        }
    return {
        "source": str(record.source),
        "remote_id": record.remote_id,
        "as_of": _instant(record.as_of),
    }


KIND_OF: dict[type, str] = {
    RemoteTicket: "ticket",
    RemoteComment: "comment",
    RemoteCustomer: "customer",
    RemoteRemoval: "removed",
}


def encode(record: Record, group: str | None) -> bytes:
    """One stream message (compact, key-sorted JSON: equal records give equal bytes)."""
    message = {
        "v": WIRE_VERSION,
        "kind": KIND_OF[type(record)],
        "group": group,
        "record": record_fields(record),
    }
    return json.dumps(message, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def digest(subject: str, payload: bytes) -> str:
    """The message id (``Nats-Msg-Id``): equal subject and content, equal id."""
    h = hashlib.sha256(subject.encode())
    h.update(b"\0")
    h.update(payload)
    return h.hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Message:
    """A decoded stream message."""

    kind: str
    group: str | None
    record: Record


def decode(payload: bytes | str) -> Message:
    """Read one stream message.

    Raises:
        WireError: not JSON, another wire version, or a record missing a field.
    """
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        raise WireError("not a JSON message") from None
    if not isinstance(data, dict) or data.get("v") != WIRE_VERSION:
        raise WireError("not a team record of this version")
    kind = data.get("kind")
    group = data.get("group")
    fields = data.get("record")
    if not isinstance(fields, dict) or (group is not None and not isinstance(group, str)):
        raise WireError("a message without its record")
    return Message(str(kind), group, record_from_fields(str(kind), fields))


def _text(fields: Mapping[str, Any], key: str, what: str) -> str:
    value = fields.get(key)
    if not isinstance(value, str):
        raise WireError(f"{what}.{key}: expected text")
    return value


def _opt_text(fields: Mapping[str, Any], key: str, what: str) -> str | None:
    value = fields.get(key)
    if value is not None and not isinstance(value, str):
        raise WireError(f"{what}.{key}: expected text or null")
    return value


def _texts(fields: Mapping[str, Any], key: str, what: str) -> tuple[str, ...]:
    value = fields.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise WireError(f"{what}.{key}: expected a list of text")
    return tuple(value)


def record_from_fields(kind: str, fields: Mapping[str, Any]) -> Record:
    """The record a message carries."""
    try:
        if kind == "ticket":
            return RemoteTicket(
                source=Source(_text(fields, "source", kind)),
                remote_id=_text(fields, "remote_id", kind),
                subject=_text(fields, "subject", kind),
                body=_text(fields, "body", kind),
                status=Status(_text(fields, "status", kind)),
                priority=Priority(_text(fields, "priority", kind)),
                channel=Channel(_text(fields, "channel", kind)),
                labels=_texts(fields, "labels", kind),
                assignee=_opt_text(fields, "assignee", kind),
                requester=_opt_text(fields, "requester", kind),
                customer_remote_id=_opt_text(fields, "customer_remote_id", kind),
                opened_at=_parse_instant(fields.get("opened_at"), f"{kind}.opened_at"),
                updated_at=_parse_instant(fields.get("updated_at"), f"{kind}.updated_at"),
                url=_opt_text(fields, "url", kind),
                version=_opt_text(fields, "version", kind),
                group=_opt_text(fields, "group", kind),
            )
        if kind == "comment":
            public = fields.get("public")
            if not isinstance(public, bool):
                raise WireError("comment.public: expected true or false")
            return RemoteComment(
                source=Source(_text(fields, "source", kind)),
                ticket_remote_id=_text(fields, "ticket_remote_id", kind),
                remote_id=_text(fields, "remote_id", kind),
                author=_text(fields, "author", kind),
                body=_text(fields, "body", kind),
                public=public,
                created_at=_parse_instant(fields.get("created_at"), f"{kind}.created_at"),
                author_handle=_opt_text(fields, "author_handle", kind),
                # A relay older than the reply clocks sends none: not known, never staff.
                author_role=_opt_text(fields, "author_role", kind) or "",
            )
        if kind == "customer":
            return RemoteCustomer(
                remote_id=_text(fields, "remote_id", kind),
                name=_text(fields, "name", kind),
                plan=_text(fields, "plan", kind),
                domains=_texts(fields, "domains", kind),
                contacts=_texts(fields, "contacts", kind),
                codename=_opt_text(fields, "codename", kind),
            )
        if kind == "removed":
            return RemoteRemoval(
                source=Source(_text(fields, "source", kind)),
                remote_id=_text(fields, "remote_id", kind),
                as_of=_parse_instant(fields.get("as_of"), f"{kind}.as_of"),
            )
    except ValueError as exc:  # an unknown enum value
        if isinstance(exc, WireError):
            raise
        raise WireError(f"{kind}: {exc}") from None
    raise WireError(f"unknown record kind {kind[:20]!r}")


# --------------------------------------------------------------------------------------------
# What the relay's chat watcher hands the store with a page


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One customer chat message the relay saw (for the out-of-hours reply).

    Attributes:
        key: ``channel:ts`` of the message.
        thread: ``channel:thread_ts`` of its thread (its own key for a top-level message).
        author: the chat user id.
        body: the text (attachments are not carried over: only their count).
        at: when it was posted.
        files: how many attachments it had.
    """

    key: str
    thread: str
    author: str
    body: str
    at: datetime
    files: int = 0


@dataclass(frozen=True, slots=True)
class ChatPage(Page):
    """A chat page as the relay's chat watcher returns it: the page, and every message of a
    designated channel it saw (the store keeps the new ones in the page's transaction)."""

    chat: tuple[ChatMessage, ...] = ()
