"""The pure helpers for writing what the backends sent: no SQL, no connection.

Used by :mod:`oncall_tui.store.records` (the record writes) and :mod:`oncall_tui.store.remote`
(pages and confirmations): making a record inert, the cached form of a remote ticket, which
fields an outbox entry edits, a comment's role, and slicing ids for one statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import fields, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from oncall_tui.domain.ops import OpKind
from oncall_tui.domain.text import clean_line, clean_text, is_unsafe, is_unsafe_line
from oncall_tui.domain.tickets import Ticket

if TYPE_CHECKING:  # the sync records load with the first page applied, not at start
    from oncall_tui.domain.remote import (
        RemoteComment,
        RemoteTicket,
    )

#: Which ticket fields each kind of outbox entry edits locally.
OP_FIELDS: dict[str, tuple[str, ...]] = {
    OpKind.SET_STATUS: ("status",),
    OpKind.SET_PRIORITY: ("priority",),
    OpKind.ASSIGN: ("assignee",),
    OpKind.ADD_LABELS: ("labels",),
    OpKind.REMOVE_LABELS: ("labels",),
}
#: Fields that exist only locally for chat threads (Slack has no status or priority).
CHAT_LOCAL_FIELDS = ("status", "priority", "assignee", "labels")


def inert(record: Any) -> Any:
    """A copy of a remote record (a dataclass) whose text can no longer drive a terminal.

    ``body`` keeps its lines (:func:`clean_text`); every other string, and the strings of
    tuples (labels, domains, contacts), becomes one inert line (:func:`clean_line`). Ids are
    cleaned the same way on every page, so they still match each other.
    """
    names = _field_names(type(record))
    lines = [getattr(record, n) for n in names if n != "body"]
    texts = [v for v in lines if isinstance(v, str)]
    texts += [x for v in lines if isinstance(v, tuple) for x in v if isinstance(x, str)]
    body = getattr(record, "body", None)
    if not is_unsafe_line(" ".join(texts)) and not (isinstance(body, str) and is_unsafe(body)):
        return record  # the usual case: one look at the record's text, nothing to change
    changes: dict[str, Any] = {}
    for name in names:
        value = getattr(record, name)
        if isinstance(value, str):
            new: Any = clean_text(value) if name == "body" else clean_line(value)
        elif isinstance(value, tuple) and all(isinstance(v, str) for v in value):
            new = tuple(clean_line(v) for v in value)
        else:
            continue
        if new != value:
            changes[name] = new
    return replace(record, **changes) if changes else record


def local_ticket(
    rt: RemoteTicket,
    *,
    ticket_id: int = 0,
    customer_id: int | None,
    first_response_at: datetime | None = None,
    label_since: dict[str, datetime] | None = None,
) -> Ticket:
    """The cached form of a backend's ticket (what only we know is passed in)."""
    return Ticket(
        id=ticket_id,
        source=rt.source,
        remote_id=rt.remote_id,
        channel=rt.channel,
        subject=rt.subject,
        body=rt.body,
        status=rt.status,
        priority=rt.priority,
        labels=tuple(rt.labels),
        assignee=rt.assignee,
        requester=rt.requester,
        customer_id=customer_id,
        url=rt.url,
        opened_at=rt.opened_at,
        updated_at=rt.updated_at,
        version=rt.version,
        first_response_at=first_response_at,
        label_since=label_since or {},
        status_since=rt.updated_at,
    )


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(kind: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(kind))
    return names


def comment_role(rc: RemoteComment, requester: str | None) -> str:
    """The author's role as the backend said; the requester is the customer whatever the
    backend said; an author nobody resolved stays unknown (never staff)."""
    from oncall_tui.domain import sla_history

    if requester and requester in (rc.author, rc.author_handle):
        return sla_history.CUSTOMER
    return rc.author_role if rc.author_role in sla_history.ROLES else ""


def by_source(keys: Iterable[tuple[str, str]]) -> Iterator[tuple[str, list[str], str]]:
    """(source, a slice of its remote ids, their ``?`` marks) for (source, remote id) keys."""
    by_source: dict[str, list[str]] = {}
    for source, remote_id in keys:
        by_source.setdefault(source, []).append(remote_id)
    for source, remote_ids in by_source.items():
        for chunk in chunks(sorted(set(remote_ids))):
            yield source, chunk, ",".join("?" * len(chunk))


def chunks(values: Sequence[Any], size: int = 900) -> Iterator[list[Any]]:
    """``values`` in slices small enough for one statement's parameters."""
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def number(remote_id: str) -> tuple[int, str]:
    """Ticket numbers in numeric order (``#9`` before ``#10``)."""
    tail = remote_id.rsplit("#", 1)[-1]
    return (int(tail), remote_id) if tail.isdigit() else (2**63, remote_id)
