"""What every backend adapter shares: the `Backend` protocol, wire-independent records, errors.

Records (`RemoteTicket`, `RemoteComment`, `RemoteCustomer`) are what an adapter makes of the
backend's JSON; the engine turns them into domain objects and writes them with the store. A
`Page` is the unit of one pull step: the engine writes its records *and* its `cursor` in one
transaction, so a crash re-fetches at most one page.

The error tree (the only exceptions an adapter lets escape)::

    SyncError                       anything that stopped a pull or a push
     +-- AuthFailed                 401, revoked/expired token, missing scope: the user must sign in
     +-- RateLimited(retry_after)   429 / rate limit exhausted: wait `retry_after` seconds
     +-- BackendUnavailable         timeout, dropped connection, 5xx: try again later
     +-- BadPayload                 the backend answered with something we cannot read
     +-- Rejected(message)          a 4xx the user can fix (validation, 404, 422); do not retry

Messages name the method and path of the request and what went wrong, never a token, an
``Authorization`` header or a query string.

Bounds: :class:`Limits` caps what one backend can make us read (response size, time,
redirects: enforced by :mod:`oncall_tui.sync.http`) and keep (the length of text fields:
:func:`bounded`). A page is read record by record (:class:`Triage`): a record that cannot be
read is set aside as :class:`Quarantined` instead of failing its whole page. Payloads are
read through :class:`~oncall_tui.sync.fields.Fields`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from enum import Enum
from functools import cache
from typing import Any, Protocol, TypeVar, runtime_checkable

from oncall_tui.domain.limits import Limits as Limits  # re-exported: adapters bound by it
from oncall_tui.domain.ops import Op, OpKind
from oncall_tui.domain.remote import Page as Page  # re-exported: adapters build these
from oncall_tui.domain.remote import Quarantined as Quarantined
from oncall_tui.domain.remote import RemoteComment as RemoteComment
from oncall_tui.domain.remote import RemoteCustomer as RemoteCustomer
from oncall_tui.domain.remote import RemoteTicket as RemoteTicket
from oncall_tui.domain.text import clean_line
from oncall_tui.domain.tickets import Source

T = TypeVar("T")
R = TypeVar("R")

# --------------------------------------------------------------------------------------------
# Errors


class SyncError(Exception):
    """Base of every error an adapter raises.

    Attributes:
        message: what went wrong, ready to show to the user (no secrets).
    """

    def __init__(self, message: str) -> None:
        message = clean_line(message)  # backends' own words may carry terminal escapes
        super().__init__(message)
        self.message = message


class AuthFailed(SyncError):
    """The backend refused our credentials (401, revoked token, missing scope)."""


#: The longest wait a server can ask for (Retry-After, a rate limit's reset, a budget hint):
#: anything longer, absurd or unreadable waits this long instead (15 minutes).
MAX_SERVER_WAIT = 900.0


def clamp_wait(seconds: object, default: float = MAX_SERVER_WAIT) -> float:
    """A server-sent wait in seconds, within 0..:data:`MAX_SERVER_WAIT`.

    ``Retry-After: 1000000000000`` or ``99999999999`` waits 15 minutes, not until an
    overflow or the year 5195; a value that is not a number waits ``default``.
    """
    try:
        value = float(seconds)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return min(default, MAX_SERVER_WAIT)
    if math.isnan(value):
        return min(default, MAX_SERVER_WAIT)
    return min(max(0.0, value), MAX_SERVER_WAIT)  # infinity: the longest wait


class RateLimited(SyncError):
    """The backend asked us to slow down.

    Attributes:
        retry_after: seconds to wait before the next request to this backend.
    """

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = clamp_wait(retry_after)


class BackendUnavailable(SyncError):
    """The backend could not be reached or failed on its side (timeout, 5xx, dropped link).

    Attributes:
        retry_after: the backend's hint (``Retry-After`` on a 503), if it gave one.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = None if retry_after is None else clamp_wait(retry_after)


class BadPayload(SyncError):
    """The backend's answer is not what its API describes (bad JSON, wrong types, missing keys)."""


class Rejected(SyncError):
    """A request the backend refused for a reason the user can fix (validation, 404, 422).

    Retrying the same request gives the same answer: the outbox marks the entry failed and shows
    ``message``.

    Attributes:
        status: the HTTP status, if the refusal came as one.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


# --------------------------------------------------------------------------------------------
# Records (defined in the domain, so the store can take them without importing this layer)


@dataclass(frozen=True, slots=True)
class PushResult:
    """What a backend answered to a pushed operation.

    Attributes:
        remote_id: the ticket's id at the backend (for a creation: the new one); None when the
            operation is about no ticket (a GitHub label's creation).
        version: the ticket's version after the change, when the answer told it.
        url: the ticket's web address, when known.
        ticket: the ticket as the backend has it after the change, when the answer held it.
        comment: the comment a reply or note created, when the answer held it.
    """

    remote_id: str | None
    version: str | None = None
    url: str | None = None
    ticket: RemoteTicket | None = None
    comment: RemoteComment | None = None


# --------------------------------------------------------------------------------------------
# Protocols


@runtime_checkable
class Backend(Protocol):
    """One backend (help desk, tracker or chat) as the sync engine sees it."""

    name: str
    """Unique per configured backend; keys its cursor in ``sync_state``."""
    source: Source
    """Which kind of tickets it holds."""
    supported_ops: frozenset[OpKind]
    """What ``push`` accepts; other kinds raise :class:`Rejected`."""

    async def fetch_changes(self, cursor: str | None) -> Page:
        """Pull the next page of changes after ``cursor`` (None: start a first sync)."""
        ...

    async def push(self, op: Op) -> PushResult:
        """Apply one outbox operation at the backend.

        Raises:
            SyncError: any subclass; :class:`Rejected` means do not retry.
        """
        ...

    async def lookup(self, op: Op, taken: frozenset[str] = frozenset()) -> PushResult | None:
        """After an unclear outcome (timeout, dropped link), find out whether ``op`` happened.

        ``taken`` names the comments other outbox entries made: a look-up by content (two
        notes with the same text) never answers with one of them.

        Returns the result if the backend shows the operation was applied, None if it was not
        or if the operation is safe to send again (setting a status twice changes nothing).
        """
        ...


@runtime_checkable
class Searchable(Protocol):
    """A backend that can search its tickets (the bug report's "search first")."""

    async def search_issues(self, query: str) -> list[RemoteTicket]:
        """Tickets matching ``query`` (the backend's own search syntax, plain words work)."""
        ...


def unsupported(backend: str, op: Op) -> Rejected:
    """The error for an operation kind a backend cannot carry."""
    return Rejected(f"{backend}: cannot {op.kind.value.replace('_', ' ')} here")


# --------------------------------------------------------------------------------------------
# Bounds: how much a backend can make us read and keep

#: Longest id we accept (ids are keys: they are never cut, a longer one makes a bad record).
MAX_ID_CHARS = 200
#: What a cut text field ends with, so the reader sees that something is missing.
TRUNCATED = "…(truncated)"
#: Longest reason kept for a quarantined record.
MAX_REASON = 300


def cut(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else its start and :data:`TRUNCATED`."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(TRUNCATED))] + TRUNCATED


#: Fields that name things (ids, versions, groups): never cut, a cut id would be another id.
_KEYS = frozenset(
    {"source", "remote_id", "ticket_remote_id", "customer_remote_id", "version", "group"}
)


@cache
def _text_fields(kind: type) -> tuple[tuple[str, str], ...]:
    """(field, how it is bounded) for the text fields of a record class."""
    found = []
    for f in fields(kind):
        if f.name in _KEYS:
            continue
        how = {"body": "text", "url": "url"}.get(f.name, "line")
        found.append((f.name, how))
    return tuple(found)


def bounded(record: R, limits: Limits) -> R:
    """``record`` (a RemoteTicket, RemoteComment or RemoteCustomer) with its text bounded.

    A body longer than ``limits.text_chars`` and one-line text longer than
    ``limits.line_chars`` (each label, domain and contact too) are cut with a visible
    :data:`TRUNCATED`; a ticket keeps its first ``limits.labels`` labels; a URL too long to
    be real is dropped. Ids are never cut.
    """
    changes: dict[str, Any] = {}
    kind: type = type(record)
    for name, how in _text_fields(kind):
        value = getattr(record, name)
        if isinstance(value, Enum) or not isinstance(value, str | tuple):
            continue
        if isinstance(value, tuple):
            most = limits.labels if name == "labels" else len(value)
            if len(value) <= most and all(
                not isinstance(v, str) or len(v) <= limits.line_chars for v in value
            ):
                continue
            changes[name] = tuple(
                cut(v, limits.line_chars) if isinstance(v, str) else v for v in value[:most]
            )
        elif how == "text":
            if len(value) > limits.text_chars:
                changes[name] = cut(value, limits.text_chars)
        elif len(value) > limits.line_chars:
            changes[name] = None if how == "url" else cut(value, limits.line_chars)
    return replace(record, **changes) if changes else record  # type: ignore[type-var]


def bounded_page(page: Page, limits: Limits) -> Page:
    """``page`` with every record's text bounded (see :func:`bounded`)."""
    tickets = tuple(bounded(t, limits) for t in page.tickets)
    comments = tuple(bounded(c, limits) for c in page.comments)
    customers = tuple(bounded(c, limits) for c in page.customers)
    if (tickets, comments, customers) == (page.tickets, page.comments, page.customers):
        return page
    return replace(page, tickets=tickets, comments=comments, customers=customers)


def bounded_result(result: PushResult, limits: Limits) -> PushResult:
    """A push's answer with the text of its ticket and comment bounded."""
    ticket = bounded(result.ticket, limits) if result.ticket is not None else None
    comment = bounded(result.comment, limits) if result.comment is not None else None
    url = result.url if result.url is None or len(result.url) <= limits.line_chars else None
    if (ticket, comment, url) == (result.ticket, result.comment, result.url):
        return result
    return replace(result, ticket=ticket, comment=comment, url=url)


def record_id(payload: object, keys: Iterable[str] = ("id",)) -> str | None:
    """The backend's id of a raw record, for the sync log (None if it names none)."""
    if not isinstance(payload, dict):
        return None
    for key in keys:
        value = payload.get(key)
        if isinstance(value, int | str) and not isinstance(value, bool) and value != "":
            return cut(clean_line(str(value)), 60)
    return None


class Triage:
    """Reads the records of one page one by one: one that cannot be read is set aside.

    A :class:`BadPayload` from ``parse`` quarantines that record (its id and the reason are
    kept for the sync log); any other exception is a bug and propagates.

    Attributes:
        bad: the records set aside so far, in page order.
    """

    __slots__ = ("bad",)

    def __init__(self) -> None:
        self.bad: list[Quarantined] = []

    def read(
        self,
        kind: str,
        payload: object,
        parse: Callable[[object], T],
        id_keys: Iterable[str] = ("id",),
    ) -> T | None:
        """``parse(payload)``, or None after setting the record aside."""
        try:
            return parse(payload)
        except BadPayload as exc:
            self.set_aside(kind, record_id(payload, id_keys), exc.message)
            return None

    def set_aside(self, kind: str, remote_id: str | None, reason: str) -> None:
        """Quarantine one record."""
        self.bad.append(Quarantined(kind, remote_id, cut(reason, MAX_REASON)))


# --------------------------------------------------------------------------------------------
# Cursors: versioned JSON state, so an unreadable one restarts the pull instead of wedging it


@dataclass(slots=True)
class CursorState:
    """The decoded state behind an adapter's cursor text.

    Attributes:
        data: adapter-specific JSON-serialisable state.
        fresh: True when there was no usable cursor (first sync, or one we cannot read).
    """

    data: dict[str, Any] = field(default_factory=dict)
    fresh: bool = True


def decode_cursor(cursor: str | None, kind: str, version: int = 1) -> CursorState:
    """Read a cursor written by :func:`encode_cursor` for this adapter ``kind``.

    A missing cursor, one from another adapter or version, or unreadable text gives a fresh
    state: the adapter starts its initial sync again, which is slower but always correct.
    """
    if not cursor:
        return CursorState()
    try:
        data = json.loads(cursor)
    except (ValueError, RecursionError):
        return CursorState()
    if not isinstance(data, dict) or data.get("kind") != kind or data.get("v") != version:
        return CursorState()
    state = data.get("state")
    if not isinstance(state, dict):
        return CursorState()
    return CursorState(state, fresh=False)


def encode_cursor(state: Mapping[str, Any], kind: str, version: int = 1) -> str:
    """The cursor text for ``state`` (compact, key-sorted JSON)."""
    return json.dumps(
        {"kind": kind, "v": version, "state": state}, separators=(",", ":"), sort_keys=True
    )
