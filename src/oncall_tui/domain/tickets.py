"""Tickets, customers and comments: the plain data every layer passes around.

All datetimes are timezone-aware; the store keeps them as UTC ISO-8601 text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from oncall_tui.domain.sla_events import SlaEvent


class Priority(StrEnum):
    """Impact level, P0 (emergency) to P3 (questions)."""

    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"


class Status(StrEnum):
    """Ticket status, following the help desk's vocabulary."""

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    HOLD = "hold"
    SOLVED = "solved"
    CLOSED = "closed"


#: Statuses in which the SLA clock stops (the ball is in someone else's court).
PAUSED_STATUSES = frozenset({Status.PENDING, Status.HOLD})
#: Statuses that no longer need a response.
DONE_STATUSES = frozenset({Status.SOLVED, Status.CLOSED})


class Source(StrEnum):
    """Where a ticket lives: help desk ticket, chat thread or tracker issue."""

    HELPDESK = "helpdesk"
    CHAT = "chat"
    TRACKER = "tracker"


class Channel(StrEnum):
    """How a help-desk ticket arrived; some channels carry their own targets."""

    EMAIL = "email"
    FORM = "form"  # contact form: 4 business hours
    CHAT = "chat"  # public chat thread: 24 calendar hours
    ALERT = "alert"  # on-call alert: acknowledge within 1 h in hours, 4 h outside
    TRACKER = "tracker"


def is_waiting_label(label: str) -> bool:
    """A label starting with "+" means the ball is in the customer's court."""
    return label.startswith("+")


def labels_since(
    previous: dict[str, datetime], labels: tuple[str, ...], at: datetime
) -> dict[str, datetime]:
    """When each of ``labels`` went on: kept from ``previous``, ``at`` for new ones."""
    return {label: previous.get(label, at) for label in labels}


@dataclass(frozen=True, slots=True)
class Customer:
    """A customer organisation with its plan and its public codename."""

    id: int
    name: str
    plan: str
    codename: str | None = None
    domains: tuple[str, ...] = ()
    contacts: tuple[str, ...] = ()
    remote_id: str | None = None

    @property
    def codename_label(self) -> str | None:
        """The tracker label naming this customer, e.g. ``customer-vesta``."""
        return f"customer-{self.codename}" if self.codename else None


@dataclass(frozen=True, slots=True)
class PauseInterval:
    """A span during which a ticket's SLA clock was stopped; ``end`` is None while paused."""

    start: datetime
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class Ticket:
    """One item of the support queue, whatever backend it came from."""

    id: int
    source: Source
    subject: str
    opened_at: datetime
    updated_at: datetime
    status: Status = Status.NEW
    priority: Priority = Priority.P3
    channel: Channel = Channel.EMAIL
    remote_id: str | None = None
    body: str = ""
    labels: tuple[str, ...] = ()
    assignee: str | None = None
    requester: str | None = None
    customer_id: int | None = None
    url: str | None = None
    pauses: tuple[PauseInterval, ...] = ()
    sla_due: datetime | None = None
    sla_warn_at: datetime | None = None
    sla_target: str | None = None
    version: str | None = None
    first_response_at: datetime | None = None
    pending_ops: int = 0
    conflict: bool = False
    label_since: dict[str, datetime] = field(default_factory=dict, compare=False, hash=False)
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    #: What the reply clocks replay (see ``domain/sla_clocks.py``): status, label and
    #: priority changes as observed, and each message by its author's role.
    sla_events: tuple[SlaEvent, ...] = field(default=(), compare=False, hash=False)
    #: When the status was last set, as far as we know (a local edit, the backend copy that
    #: showed it); None: not known, taken as ``updated_at``.
    status_since: datetime | None = field(default=None, compare=False, hash=False)

    @property
    def is_paused(self) -> bool:
        """True while the SLA clock is stopped by status or a "+" label."""
        return self.status in PAUSED_STATUSES or any(is_waiting_label(x) for x in self.labels)

    @property
    def is_done(self) -> bool:
        """True once the ticket is solved or closed."""
        return self.status in DONE_STATUSES


@dataclass(frozen=True, slots=True)
class Comment:
    """One message in a ticket's thread."""

    id: int
    ticket_id: int
    author: str
    body: str
    created_at: datetime
    public: bool = True
    remote_id: str | None = None
    pending: bool = False
    #: ``staff``, ``customer``, ``automation``, or empty when the author is not known.
    role: str = ""


#: How each source's backend is named to the user (the adapters: Zendesk, Slack, GitHub).
BACKEND_NAMES: dict[Source, str] = {
    Source.HELPDESK: "zendesk",
    Source.CHAT: "slack",
    Source.TRACKER: "github",
}


def ticket_ref(source: Source | str, remote_id: str | None) -> str:
    """How a ticket is named to the user: its backend and the backend's own number.

    ``zendesk #41165``, ``acme/product#1204`` (a tracker id names its repository),
    ``slack C0123ABCD thread 1700000000.000100``; a ticket the backend has not confirmed yet
    is ``new zendesk ticket``. Never the local id, which appears nowhere on screen.
    """
    src = Source(source)
    name = BACKEND_NAMES[src]
    if not remote_id:
        return f"new {name} {'issue' if src is Source.TRACKER else 'ticket'}"
    if src is Source.TRACKER:
        return remote_id
    if src is Source.CHAT:
        channel, _, ts = remote_id.partition(":")
        return f"slack {channel} thread {ts}" if ts else f"slack {channel}"
    return f"{name} #{remote_id}"


def ticket_title(source: Source | str, remote_id: str | None, subject: str, width: int = 40) -> str:
    """The reference and the start of the subject, for toasts and dialogs:
    ``zendesk #41165 “MDM enrollment profile not…”``."""
    text = " ".join(subject.split())
    if len(text) > width:
        text = text[: width - 1].rstrip() + "…"
    ref = ticket_ref(source, remote_id)
    return f"{ref} “{text}”" if text else ref
