"""Zendesk's wire JSON read into records (pure): users, organizations as customers,
tickets, comments, the pages of both incremental exports and the audit of an update.

A record that cannot be read raises :class:`~oncall_tui.sync.base.BadPayload`; the page
readers set such a record aside (``quarantined``) and read the rest of the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from oncall_tui.domain.tickets import Channel, Priority, Source, Status
from oncall_tui.sync.base import (
    BadPayload,
    Quarantined,
    Rejected,
    RemoteComment,
    RemoteCustomer,
    RemoteTicket,
    Triage,
)
from oncall_tui.sync.fields import Fields
from oncall_tui.sync.zendesk_config import ZendeskConfig

PRIORITY_FROM_WIRE = {
    "urgent": Priority.P0,
    "high": Priority.P1,
    "normal": Priority.P2,
    "low": Priority.P3,
}
PRIORITY_TO_WIRE = {value: key for key, value in PRIORITY_FROM_WIRE.items()}
STATUS_FROM_WIRE = {status.value: status for status in Status} | {"deleted": Status.CLOSED}
#: ``via.channel`` values and the channel they mean; anything else is email.
CHANNEL_FROM_VIA = {
    "email": Channel.EMAIL,
    "web": Channel.FORM,
    "web_form": Channel.FORM,
    "web_widget": Channel.FORM,
    "chat": Channel.CHAT,
    "chat_transcript": Channel.CHAT,
    "native_messaging": Channel.CHAT,
    "messaging": Channel.CHAT,
    "slack": Channel.CHAT,
    "sunshine_conversations_api": Channel.CHAT,
}
MARKER_PREFIX = "oncall-tui:"


@dataclass(frozen=True, slots=True)
class User:
    """The parts of a Zendesk user we use."""

    id: str
    name: str
    email: str | None
    organization_id: str | None
    role: str | None = None  # end-user, agent or admin

    @property
    def handle(self) -> str:
        """How a ticket names this person: the email if known, else the id."""
        return self.email or self.id


def parse_user(payload: object) -> User:
    """One user object (sideloaded or listed)."""
    f = Fields(payload, "zendesk user")
    return User(
        id=f.ident("id"),
        name=f.opt_text("name") or "",
        email=f.opt_text("email"),
        organization_id=f.opt_ident("organization_id"),
        role=f.opt_text("role"),
    )


#: Comments made by a trigger, an automation or the system, whoever the author is.
AUTOMATIC_VIA = frozenset({"rule", "system", "automation"})


def author_role(comment: Fields, user: User | None) -> str:
    """Who wrote a comment, for the reply clocks: ``automation`` (made by a trigger or
    automation), ``staff`` (an agent or admin), ``customer`` (an end user), or empty when
    the author is not known (never staff)."""
    via = comment.opt_sub("via")
    if via is not None and (via.opt_text("channel") or "") in AUTOMATIC_VIA:
        return "automation"
    if user is None or user.role is None:
        return ""
    return "staff" if user.role in ("agent", "admin") else "customer"


def parse_users(payloads: Iterable[object], triage: Triage | None = None) -> dict[str, User]:
    """Users by id; with ``triage``, one that cannot be read is set aside instead of raising."""
    users: dict[str, User] = {}
    for payload in payloads:
        user = parse_user(payload) if triage is None else triage.read("user", payload, parse_user)
        if user is not None:
            users[user.id] = user
    return users


def _tagged(tags: Iterable[str], prefix: str) -> str | None:
    for tag in tags:
        if prefix and tag.startswith(prefix) and len(tag) > len(prefix):
            return tag[len(prefix) :]
    return None


def parse_organization(
    payload: object,
    users: Mapping[str, User] | None = None,
    config: ZendeskConfig | None = None,
) -> RemoteCustomer:
    """An organization as a customer; ``users`` in it become its contacts."""
    config = config or ZendeskConfig()
    f = Fields(payload, "zendesk organization")
    remote_id = f.ident("id")
    tags = f.texts("tags")
    custom = f.opt_sub("organization_fields")
    plan = custom.raw(config.plan_field) if custom else None
    codename = custom.raw(config.codename_field) if custom else None
    plan_text = plan.strip().lower() if isinstance(plan, str) and plan.strip() else None
    codename_text = codename.strip() if isinstance(codename, str) and codename.strip() else None
    contacts = sorted(
        user.email
        for user in (users or {}).values()
        if user.organization_id == remote_id and user.email
    )
    return RemoteCustomer(
        remote_id=remote_id,
        name=f.text("name"),
        plan=plan_text or _tagged(tags, config.plan_tag_prefix) or config.default_plan,
        domains=f.texts("domain_names"),
        contacts=tuple(contacts),
        codename=codename_text or _tagged(tags, config.codename_tag_prefix),
    )


def ticket_url(base_url: str, ticket_id: str) -> str:
    """The agent's web address of a ticket."""
    return f"{base_url.rstrip('/')}/agent/tickets/{ticket_id}"


def parse_ticket(
    payload: object,
    users: Mapping[str, User] | None = None,
    config: ZendeskConfig | None = None,
    base_url: str = "",
) -> RemoteTicket:
    """One ticket object (export, show, create, update or search result).

    ``users`` (sideloaded) turn requester and assignee ids into email addresses; without them
    the ids are used as they are.
    """
    config = config or ZendeskConfig()
    users = users or {}
    f = Fields(payload, "zendesk ticket")
    remote_id = f.ident("id")
    status_text = f.text("status")
    status = STATUS_FROM_WIRE.get(status_text)
    if status is None:
        raise BadPayload(f"zendesk ticket {remote_id}: unknown status {status_text[:30]!r}")
    priority_text = f.opt_text("priority")
    priority = PRIORITY_FROM_WIRE.get(priority_text or "low", Priority.P3)
    tags = f.texts("tags")
    via = f.opt_sub("via")
    via_channel = via.opt_text("channel") if via else None
    channel = CHANNEL_FROM_VIA.get(via_channel or "", Channel.EMAIL)
    if any(tag in config.alert_tags for tag in tags):
        channel = Channel.ALERT

    def who(key: str) -> str | None:
        user_id = f.opt_ident(key)
        if user_id is None:
            return None
        user = users.get(user_id)
        return user.handle if user else user_id

    requester_id = f.opt_ident("requester_id")
    organization_id = f.opt_ident("organization_id")
    requester = users.get(requester_id) if requester_id else None
    if organization_id is None and requester is not None:
        organization_id = requester.organization_id
    updated = f.text("updated_at")
    return RemoteTicket(
        source=Source.HELPDESK,
        remote_id=remote_id,
        subject=f.opt_text("subject") or f.opt_text("raw_subject") or "",
        body=f.opt_text("description") or "",
        status=status,
        priority=priority,
        channel=channel,
        labels=tuple(config.tags.to_label(tag) for tag in tags),
        assignee=who("assignee_id"),
        requester=who("requester_id"),
        customer_remote_id=organization_id,
        opened_at=f.instant("created_at"),
        updated_at=f.instant("updated_at"),
        url=ticket_url(base_url, remote_id) if base_url else f.opt_text("url"),
        version=updated,
        group=f.opt_ident("group_id"),
    )


def parse_comment(
    payload: object, ticket_remote_id: str, users: Mapping[str, User] | None = None
) -> RemoteComment:
    """One comment of a ticket; its author is the user's name if sideloaded."""
    f = Fields(payload, f"zendesk comment of ticket {ticket_remote_id}")
    author_id = f.opt_ident("author_id")
    user = (users or {}).get(author_id or "")
    author = (user.name or user.handle) if user else (author_id or "unknown")
    body = f.opt_text("plain_body")
    if body is None:
        body = f.opt_text("body") or ""
    return RemoteComment(
        source=Source.HELPDESK,
        ticket_remote_id=ticket_remote_id,
        remote_id=f.ident("id"),
        author=author,
        body=body,
        public=f.flag("public", default=True),
        created_at=f.instant("created_at"),
        author_handle=user.handle if user else author_id,
        author_role=author_role(f, user),
    )


class ExportPage(NamedTuple):
    """What one page of the incremental export holds."""

    tickets: tuple[RemoteTicket, ...]
    customers: tuple[RemoteCustomer, ...]
    after_cursor: str | None
    end_of_stream: bool
    users: Mapping[str, User]
    quarantined: tuple[Quarantined, ...] = ()


def parse_export_page(
    payload: object,
    config: ZendeskConfig | None = None,
    base_url: str = "",
    triage: Triage | None = None,
) -> ExportPage:
    """One incremental-export page with its sideloads, read record by record.

    A ticket changed twice shows up twice in the export; only its newest copy is kept. A
    ticket, user or organization that cannot be read is set aside (``quarantined``); a page
    whose envelope is wrong raises :class:`BadPayload`.
    """
    config = config or ZendeskConfig()
    triage = triage or Triage()
    before = len(triage.bad)
    f = Fields(payload, "zendesk export page")
    tickets, organizations = f.items("tickets"), f.items("organizations")
    after_cursor = f.opt_text("after_cursor")
    end_of_stream = f.flag("end_of_stream", default=False)
    users = parse_users(f.items("users"), triage)
    latest: dict[str, RemoteTicket] = {}
    for item in tickets:
        ticket = triage.read("ticket", item, lambda t: parse_ticket(t, users, config, base_url))
        if ticket is None:
            continue
        seen = latest.get(ticket.remote_id)
        if seen is None or ticket.updated_at >= seen.updated_at:
            latest[ticket.remote_id] = ticket
    customers = [
        triage.read("organization", o, lambda o: parse_organization(o, users, config))
        for o in organizations
    ]
    return ExportPage(
        tickets=tuple(latest.values()),
        customers=tuple(c for c in customers if c is not None),
        after_cursor=after_cursor,
        end_of_stream=end_of_stream,
        users=users,
        quarantined=tuple(triage.bad[before:]),
    )


class EventsPage(NamedTuple):
    """What one page of the incremental ticket event export holds (for us: comments)."""

    comments: tuple[RemoteComment, ...]
    end_time: int | None
    end_of_stream: bool
    quarantined: tuple[Quarantined, ...] = ()


def parse_events_page(
    payload: object, users: Mapping[str, User] | None = None, triage: Triage | None = None
) -> EventsPage:
    """One page of ``/api/v2/incremental/ticket_events`` with ``include=comment_events``.

    Each event is one update of a ticket; its ``child_events`` hold what changed, a comment
    among them. The comment of the update that created a ticket is the ticket's description
    (stored as its body), so it is left out, as the comments endpoint's first one is. An event
    or comment that cannot be read is set aside (``quarantined``).
    """
    known = users or {}
    triage = triage or Triage()
    before = len(triage.bad)
    f = Fields(payload, "zendesk ticket events page")
    events = f.items("ticket_events")
    end_time = f.opt_integer("end_time")
    end_of_stream = f.flag("end_of_stream", default=False)
    comments: list[RemoteComment] = []
    for item in events:
        found = triage.read(
            "ticket event", item, lambda e: _event_comments(e, known, triage), ("id", "ticket_id")
        )
        comments.extend(found or ())
    return EventsPage(
        comments=tuple(comments),
        end_time=end_time,
        end_of_stream=end_of_stream,
        quarantined=tuple(triage.bad[before:]),
    )


def _event_kind(child: object) -> object:
    if not isinstance(child, dict):
        return None
    return child.get("event_type") or child.get("type")


def _event_comments(
    payload: object, users: Mapping[str, User], triage: Triage
) -> list[RemoteComment]:
    """The comments of one ticket event (none for the update that created the ticket)."""
    event = Fields(payload, "zendesk ticket event")
    ticket_id = event.ident("ticket_id")
    children = event.items("child_events")
    kinds = [_event_kind(c) for c in children]
    if "Create" in kinds:
        return []

    def comment(child: object) -> RemoteComment:
        c = Fields(child, f"zendesk comment of ticket {ticket_id}")
        author_id = c.opt_ident("author_id") or event.opt_ident("updater_id")
        user = users.get(author_id or "")
        body = c.opt_text("plain_body")
        return RemoteComment(
            source=Source.HELPDESK,
            ticket_remote_id=ticket_id,
            remote_id=c.ident("id"),
            author=(user.name or user.handle) if user else (author_id or "unknown"),
            body=body if body is not None else c.opt_text("body") or "",
            public=c.flag("public", default=True),
            created_at=c.opt_instant("created_at") or event.instant("created_at"),
            author_handle=user.handle if user else author_id,
            author_role=author_role(c, user),
        )

    found = (
        triage.read("comment", child, comment)
        for child, kind in zip(children, kinds, strict=True)
        if kind == "Comment"
    )
    return [c for c in found if c is not None]


def comment_from_audit(
    payload: object, ticket_remote_id: str, when: datetime | None = None
) -> RemoteComment | None:
    """The comment an update created, read from the response's audit events.

    Zendesk's description makes every part of the answer optional: without an audit, a
    comment event or its id there is no comment (None); without the audit's ``created_at``
    the comment is dated ``when`` (None if that is not given either).
    """
    f = Fields(payload, "zendesk update")
    audit = f.opt_sub("audit")
    if audit is None:
        return None
    for event in audit.objects("events"):
        if event.opt_text("type") == "Comment":
            comment_id = event.opt_ident("id")
            created = audit.opt_instant("created_at") or when
            if comment_id is None or created is None:
                return None
            author = event.opt_ident("author_id") or audit.opt_ident("author_id") or "me"
            return RemoteComment(
                source=Source.HELPDESK,
                ticket_remote_id=ticket_remote_id,
                remote_id=comment_id,
                author=author,
                body=event.opt_text("plain_body") or event.opt_text("body") or "",
                public=event.flag("public", default=True),
                created_at=created,
                author_role="staff",  # the answer to our own change: ours
            )
    return None


def marker(idempotency_key: str) -> str:
    """The ``external_id`` a creation carries so a later lookup can find it."""
    return MARKER_PREFIX + idempotency_key


def numeric_id(ticket_id: str) -> str:
    """A ticket id as sent in a path; anything but digits is refused."""
    if not ticket_id.isdigit():
        raise Rejected(f"zendesk: {ticket_id[:40]!r} is not a ticket id")
    return ticket_id


__all__ = [
    "CHANNEL_FROM_VIA",
    "EventsPage",
    "ExportPage",
    "PRIORITY_FROM_WIRE",
    "PRIORITY_TO_WIRE",
    "STATUS_FROM_WIRE",
    "User",
    "author_role",
    "comment_from_audit",
    "marker",
    "numeric_id",
    "parse_comment",
    "parse_events_page",
    "parse_export_page",
    "parse_organization",
    "parse_ticket",
    "parse_user",
    "parse_users",
    "ticket_url",
]
