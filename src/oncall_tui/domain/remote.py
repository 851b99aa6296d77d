"""Wire-independent records of what a backend holds, and a page of them.

The sync adapters make these from the backends' JSON; the store writes them (a page and its
cursor in one transaction). They live in the domain so both layers can name them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from oncall_tui.domain.tickets import Channel, Priority, Source, Status


@dataclass(frozen=True, slots=True)
class RemoteCustomer:
    """A customer organisation as a backend knows it.

    ``contacts`` lists the people of this organisation seen in the same page (not necessarily
    all of them): the store merges them with the contacts it already has.
    """

    remote_id: str
    name: str
    plan: str
    domains: tuple[str, ...] = ()
    contacts: tuple[str, ...] = ()
    codename: str | None = None


@dataclass(frozen=True, slots=True)
class RemoteTicket:
    """A ticket, chat thread or tracker issue as the backend has it now.

    ``version`` changes whenever the backend's copy changes (the help desk's ``updated_at``, the
    issue's ``updated_at``, the chat thread's latest message ts); the outbox sends it back as the
    base version of an edit.
    """

    source: Source
    remote_id: str
    subject: str
    body: str
    status: Status
    priority: Priority
    channel: Channel
    labels: tuple[str, ...]
    assignee: str | None
    requester: str | None
    customer_remote_id: str | None
    opened_at: datetime
    updated_at: datetime
    url: str | None
    version: str | None
    group: str | None = None
    """Who may see it, in the backend's terms: the help desk's group id, the tracker's
    repository, the chat channel (team mode publishes each group on its own subjects)."""


@dataclass(frozen=True, slots=True)
class RemoteComment:
    """One message of a ticket's thread; ``remote_id`` is unique within the backend.

    ``author`` is how the thread shows the writer (a name); ``author_handle`` is how tickets
    name people (``RemoteTicket.requester``: an email or id), so a reply from the requester
    is told apart from an answer (the first response) even when names are known.
    """

    source: Source
    ticket_remote_id: str
    remote_id: str
    author: str
    body: str
    public: bool
    created_at: datetime
    author_handle: str | None = None
    #: ``staff`` (an agent or admin), ``customer`` (an end user), ``automation`` (a trigger,
    #: a bot, an automatic reply) or empty: not known, which never counts as staff.
    author_role: str = ""


@dataclass(frozen=True, slots=True)
class RemoteRemoval:
    """A ticket that left what this cache is fed (team mode: moved to a group it does not
    read). ``as_of`` is the ticket's ``updated_at`` as last seen there: a cached copy newer
    than that (it arrived through another group) stays."""

    source: Source
    remote_id: str
    as_of: datetime


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A record of a page that could not be read, left out so the rest of the page applies.

    Attributes:
        kind: what it was (``ticket``, ``comment``, ``organization``, ``message``...).
        remote_id: the backend's id of the record, when the record named one.
        reason: what was wrong, naming the field (no secrets: it comes from the payload).
    """

    kind: str
    remote_id: str | None
    reason: str

    def describe(self) -> str:
        """One line for the sync log: ``skipped ticket 123: <reason>``."""
        return f"skipped {self.kind} {self.remote_id or '(no id)'}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Scope:
    """Every ticket of ``source`` a backend keeps fresh now (the agent's scope); the store
    marks the other cached ones as not refreshed."""

    source: Source
    remote_ids: frozenset[str]


@dataclass(frozen=True, slots=True)
class Page:
    """One step of an incremental pull.

    Attributes:
        tickets: tickets changed since the previous cursor (at most once each).
        comments: comments of changed tickets; may repeat ones already stored (dedupe by id).
        customers: customers referenced by these tickets.
        cursor: opaque text to pass to the next ``fetch_changes`` call; store it in the same
            transaction as the records.
        done: True when the backend has nothing more for now: the engine waits for its next
            sync interval. False means call again (after ``wait_hint``) to continue.
        wait_hint: seconds to wait before the next call to this backend (its rate budget), or
            None for no constraint.
        removed: tickets to drop from the cache (team mode only; applied before the records).
        quarantined: records of this page that could not be read (an unknown status, a bad
            date, wrong types): the store logs them in the sync log, the rest of the page is
            applied and the cursor moves on.
        notes: lines for the sync log (which pull is in use and why, the request budget).
        in_scope: when not None, every ticket the backend keeps fresh now (the agent's
            scope): the store marks its other cached tickets as not refreshed, and these as
            refreshed.
        relayed: the records come from the team's relay (team mode), which acts on them for
            the team: what a customer's message ends is mirrored, not queued again.
    """

    tickets: tuple[RemoteTicket, ...] = ()
    comments: tuple[RemoteComment, ...] = ()
    customers: tuple[RemoteCustomer, ...] = ()
    cursor: str | None = None
    done: bool = True
    wait_hint: float | None = None
    removed: tuple[RemoteRemoval, ...] = ()
    quarantined: tuple[Quarantined, ...] = ()
    notes: tuple[str, ...] = ()
    in_scope: Scope | None = None
    relayed: bool = False
