"""Zendesk Support: tickets, their comments and the customers' organizations.

Pull
    The cursor-based incremental ticket export
    (``GET /api/v2/incremental/tickets/cursor.json?start_time=…`` then ``?cursor=…`` until
    ``end_of_stream``), sideloading ``users`` and ``organizations`` so requesters and their
    customers arrive with the tickets. Then the comments, from the time-based incremental
    ticket event export with its ``comment_events`` sideload
    (``GET /api/v2/incremental/ticket_events.json?start_time=…&include=comment_events``):
    a thousand events a page, every comment of every ticket, instead of one request per
    changed ticket (100,000 requests for a first sync of 100,000 tickets). A round reads
    ticket pages to the end of their stream, then event pages to the end of theirs; the store
    keeps a comment whose ticket it has not seen yet until the ticket arrives. Each export
    allows ~10 requests a minute and never returns the last minute's changes:
    ``Page.wait_hint`` carries that budget to the engine, and a change made in the last minute
    arrives with the next pass.

Agents
    Both exports are admin-only. The first sync asks ``GET /api/v2/users/me`` for the token's
    role (``access = "auto"``); an agent's token, or a 403 from an export later, pulls through
    the search export instead (:mod:`oncall_tui.sync.zendesk_agent`). The cursor's ``path``
    and ``why`` say which; ``ZendeskBackend.access`` too. Every request counts against
    :class:`~oncall_tui.sync.budget.SharedBudget` (``budget_share`` of the account's limit).

Push
    ``PUT /api/v2/tickets/{id}.json`` for status, priority, assignee, tags and comments (a
    public reply or an internal note is ``comment: {body, public}``); ``POST
    /api/v2/tickets.json`` with an ``Idempotency-Key`` header (Zendesk replays the first answer
    for two hours) and ``external_id = "oncall-tui:<key>"`` for creations, so `lookup` can
    find one later by search. The cut API has no ``additional_tags``/``remove_tags``: label
    changes read the ticket and write the whole tag list with ``safe_update`` so a concurrent
    edit is retried instead of overwritten.

Labels and tags
    Zendesk tags are lower-case words without spaces, so labels map onto tags through
    :class:`TagMap`: an explicit ``tag -> label`` table first (``options.tag_labels``), then the
    waiting rule: a tag ``waiting_more_info_please`` is the label ``+more info please`` and
    back ("+" labels mean the ball is in the customer's court); any other label is its tag
    (lower-cased, spaces as ``_``).

Hostile or partial answers
    A page is read record by record: a ticket, user, organization or comment that cannot be
    read (an unknown status, a bad date, wrong types) is set aside (``Page.quarantined``, the
    sync log names it) and the rest of the page is applied; only a page that is unreadable as a
    whole (not JSON, not the export's envelope) fails the pull. A push's answer is read as
    Zendesk's API description allows it, where only ``requester_id`` is required: a missing
    ticket, id, ``updated_at`` or audit is filled in by re-reading the ticket, by the
    ``Location`` header of a creation, or by looking the comment or creation up, and the entry
    is settled.

Customers
    An organization is a customer: its plan is ``organization_fields.plan`` or a ``plan_<name>``
    tag (else ``free``); its codename ``organization_fields.codename`` or a ``codename_<name>``
    tag. Field names and tag prefixes are options.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple, TypeVar

import httpx

from oncall_tui.domain.clock import Clock
from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.domain.ops import Op, OpKind
from oncall_tui.domain.remote import Scope
from oncall_tui.domain.tickets import Channel, Priority, Source, Status
from oncall_tui.sync.adapter import HttpAdapter, paginate
from oncall_tui.sync.agent_options import AGENT_OPTIONS, agent_options
from oncall_tui.sync.base import (
    AuthFailed,
    BackendUnavailable,
    BadPayload,
    Fields,
    Page,
    PushResult,
    Quarantined,
    Rejected,
    RemoteComment,
    RemoteCustomer,
    RemoteTicket,
    SyncError,
    Triage,
    bounded,
    bounded_page,
    bounded_result,
    decode_cursor,
    encode_cursor,
    unsupported,
)
from oncall_tui.sync.budget import SharedBudget
from oncall_tui.sync.http import response_json
from oncall_tui.sync.zendesk_agent import ADMIN_WHY, AGENT_WHY, FORBIDDEN_WHY, AgentPath

E = TypeVar("E", bound=StrEnum)
log = logging.getLogger(__name__)

EXPORT_PATH = "/api/v2/incremental/tickets/cursor.json"
EVENTS_PATH = "/api/v2/incremental/ticket_events.json"
TICKETS_PATH = "/api/v2/tickets.json"
SEARCH_PATH = "/api/v2/search.json"
USERS_PATH = "/api/v2/users.json"
#: Seconds before an unknown comment author makes the adapter read the staff list again.
STAFF_REFRESH = 3600.0

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
#: Zendesk's minimum distance between ``start_time`` and now.
EXPORT_LAG = 60
#: The ``Location`` of a created ticket: ``…/api/v2/tickets/35436.json``.
LOCATION_RE = re.compile(r"/api/v2/tickets/(\d{1,20})(?:\.json)?/?\Z")


# --------------------------------------------------------------------------------------------
# Configuration


@dataclass(frozen=True)
class TagMap:
    """How labels (ours) and tags (Zendesk's) translate, in both directions.

    Attributes:
        explicit: ``tag -> label`` pairs that win over every rule, e.g.
            ``{"pending_customer": "+more info please"}``.
        waiting_prefix: tags starting with it are "+" labels: ``waiting_more_info`` is
            ``+more info``. Empty disables the rule.
    """

    explicit: Mapping[str, str] = field(default_factory=dict)
    waiting_prefix: str = "waiting_"

    def to_label(self, tag: str) -> str:
        """The label a tag shows as."""
        if tag in self.explicit:
            return self.explicit[tag]
        prefix = self.waiting_prefix
        if prefix and tag.startswith(prefix) and len(tag) > len(prefix):
            return "+" + tag[len(prefix) :].replace("_", " ")
        return tag

    def to_tag(self, label: str) -> str:
        """The tag a label is stored as (Zendesk lower-cases tags and splits them at spaces)."""
        for tag, mapped in self.explicit.items():
            if mapped == label:
                return tag
        word = "_".join(label.strip().split()).lower()
        if word.startswith("+") and self.waiting_prefix:
            return self.waiting_prefix + word[1:].lstrip("_")
        return word


@dataclass(frozen=True)
class ZendeskConfig:
    """Zendesk options (``[backends.zendesk.options]``) with their defaults."""

    tags: TagMap = field(default_factory=TagMap)
    """Label ↔ tag translation."""
    plan_field: str = "plan"
    """Organization field holding the support plan."""
    plan_tag_prefix: str = "plan_"
    """Organization tag prefix naming the plan when the field is empty (``plan_premium``)."""
    codename_field: str = "codename"
    """Organization field holding the customer's public codename."""
    codename_tag_prefix: str = "codename_"
    """Organization tag prefix naming the codename (``codename_vesta``)."""
    default_plan: str = "free"
    """Plan of organizations that name none."""
    alert_tags: tuple[str, ...] = ("alert",)
    """Tickets carrying one of these tags are on-call alerts (Channel.ALERT)."""
    history_days: int = 90
    """How far back the first sync reaches."""
    export_requests_per_minute: float = 10.0
    """Each incremental export's budget (30 with Zendesk's High Volume add-on)."""
    access: str = "auto"
    """How to pull: ``auto`` (by the token's role), ``admin`` (the incremental exports) or
    ``agent`` (the search export, see :mod:`oncall_tui.sync.zendesk_agent`)."""
    agent_statuses: tuple[str, ...] = ("new", "open", "pending", "hold")
    """Agent path: the statuses of the tickets kept fresh."""
    agent_groups: tuple[str, ...] = ()
    """Agent path: the groups whose tickets are kept fresh (empty: the user's own groups)."""
    agent_solved_days: int = 7
    """Agent path: solved tickets of the last this many days are kept fresh too (0: none)."""
    search_overlap_seconds: int = 300
    """Agent path: how far each pass reaches back before the previous one (search lags)."""
    scope_sweep_minutes: int = 60
    """Agent path: how often the whole scope is listed, to mark tickets that left it."""
    budget_share: float = 0.2
    """The fraction of the account's per-minute request limit oncall-tui may use."""

    @classmethod
    def from_options(cls, options: Mapping[str, Any], history_days: int = 90) -> ZendeskConfig:
        """Build from the config file's ``options`` table; bad values raise ConfigValueError."""
        key = "backends.zendesk.options"
        known = {
            "tag_labels",
            "waiting_tag_prefix",
            "plan_field",
            "plan_tag_prefix",
            "codename_field",
            "codename_tag_prefix",
            "default_plan",
            "alert_tags",
            "export_requests_per_minute",
            *AGENT_OPTIONS,
        }
        for name in options:
            if name not in known:
                raise ConfigValueError(f"{key}.{name}", f"one of {', '.join(sorted(known))}")
        tag_labels = options.get("tag_labels", {})
        if not isinstance(tag_labels, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and " " not in k
            for k, v in tag_labels.items()
        ):
            raise ConfigValueError(f"{key}.tag_labels", "a table of tag = label (tags: no spaces)")
        strings = {}
        for name in ("waiting_tag_prefix", "plan_field", "plan_tag_prefix", "codename_field"):
            value = options.get(name)
            if value is not None and not isinstance(value, str):
                raise ConfigValueError(f"{key}.{name}", "a string", value)
            strings[name] = value
        alert_tags = options.get("alert_tags", cls.alert_tags)
        if not isinstance(alert_tags, list | tuple) or not all(
            isinstance(t, str) for t in alert_tags
        ):
            raise ConfigValueError(f"{key}.alert_tags", "a list of tags", alert_tags)
        rate = options.get("export_requests_per_minute", cls.export_requests_per_minute)
        if isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0:
            raise ConfigValueError(f"{key}.export_requests_per_minute", "a positive number", rate)
        return cls(
            tags=TagMap(
                explicit=dict(tag_labels),
                waiting_prefix=strings["waiting_tag_prefix"] or TagMap.waiting_prefix,
            ),
            plan_field=strings["plan_field"] or cls.plan_field,
            plan_tag_prefix=strings["plan_tag_prefix"] or cls.plan_tag_prefix,
            codename_field=strings["codename_field"] or cls.codename_field,
            codename_tag_prefix=str(options.get("codename_tag_prefix", cls.codename_tag_prefix)),
            default_plan=str(options.get("default_plan", cls.default_plan)),
            alert_tags=tuple(alert_tags),
            history_days=history_days,
            export_requests_per_minute=float(rate),
            **agent_options(options, key),
        )


# --------------------------------------------------------------------------------------------
# Mapping: wire JSON -> records (pure)


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


# --------------------------------------------------------------------------------------------
# The adapter


class ZendeskBackend(HttpAdapter):
    """The help desk, over Zendesk's REST API.

    Args:
        client: from :func:`oncall_tui.sync.http.build_client` with the account's URL
            (``https://acme.zendesk.com``) and an OAuth token (or Basic ``email/token:KEY``).
        config: options; see :class:`ZendeskConfig`.
        clock: the wall clock (export start times, Retry-After dates).
        name: the backend's name in ``sync_state``.
    """

    source = Source.HELPDESK
    supported_ops = frozenset(
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
    )
    #: Attempts of a tag read-modify-write when others edit the ticket at the same moment.
    TAG_ATTEMPTS = 3

    def __init__(
        self,
        client: httpx.AsyncClient,
        config: ZendeskConfig | None = None,
        *,
        clock: Clock | None = None,
        name: str = "zendesk",
    ) -> None:
        super().__init__(client, clock=clock, name=name)
        self.config = config or ZendeskConfig()
        self.base_url = str(client.base_url).rstrip("/")
        #: Users seen in sideloads, so push answers (which carry bare ids) map like pulls.
        self.users: dict[str, User] = {}
        self._staff_loaded_at: float | None = None
        #: Lines for the sync log, carried by the next page.
        self._notes: list[str] = []
        #: oncall-tui's share of the account's per-minute limit (every request counts).
        self.budget = SharedBudget(self.config.budget_share, self._now_ts)
        #: Organizations already read (the agent path looks up only new ones).
        self.known_orgs: set[str] = set()
        self.agent = AgentPath(self)
        #: Which pull is in use (``admin`` or ``agent``) and why, once known.
        self.access: tuple[str, str] | None = None

    def __repr__(self) -> str:
        return f"ZendeskBackend(name={self.name!r}, base_url={self.base_url!r})"

    # -- plumbing (the hooks of HttpAdapter._call): every request counts against the shared
    # budget, whose headers each answer updates; records set aside outside a page (staff list,
    # search, look-ups) go to the sync log with the next page.

    def _before_send(self, resource: str) -> None:
        self.budget.note()

    def _after_send(self, response: httpx.Response, resource: str) -> None:
        self.budget.observe(response.headers)

    # -- pull

    @property
    def export_interval(self) -> float:
        """Seconds between two export requests that keep within the budget."""
        return 60.0 / self.config.export_requests_per_minute

    async def fetch_changes(self, cursor: str | None) -> Page:
        """One step: a ticket export page, or once those reached the end, a comment events page.

        Cursor state: ``export`` (Zendesk's ``after_cursor``), ``eos`` (the last ticket page
        ended that stream), ``events`` (the event export's next ``start_time``), ``phase``
        (``events`` once this round's ticket pages are read) and ``last_export`` /
        ``last_events`` (when each export was last asked, for its budget). A cursor of an
        older version (which read comments ticket by ticket) goes on with the event stream
        from the start of the history window: comments already stored are not duplicated.
        """
        state = decode_cursor(cursor, "zendesk").data
        if state.get("path") not in ("admin", "agent"):
            if state:  # a cursor of an older version was reading the exports: go on
                state.update(path="admin", why=ADMIN_WHY)
            else:
                path, why = await self.choose_access()
                state = {"path": path, "why": why}
                export = "search" if path == "agent" else "incremental"
                self._notes.append(f"pulling with the {export} export ({why})")
        self.access = (str(state["path"]), str(state.get("why") or ""))
        if state["path"] == "agent":
            return await self.agent.step(state)
        try:
            return await self._admin_step(state)
        except ExportForbidden:
            if self.config.access == "admin":
                raise
            self.access = ("agent", FORBIDDEN_WHY)
            self._notes.append(f"switching to the search export ({FORBIDDEN_WHY})")
            return await self.agent.step({"path": "agent", "why": FORBIDDEN_WHY})

    async def choose_access(self) -> tuple[str, str]:
        """The pull this token may use, and why (``oncall-tui doctor`` shows it too)."""
        if self.config.access == "admin":
            return "admin", "configured: access = admin"
        if self.config.access == "agent":
            return "agent", "configured: access = agent (search export)"
        role = await self.agent.role()
        return ("admin", ADMIN_WHY) if role == "admin" else ("agent", AGENT_WHY)

    async def _admin_step(self, state: dict[str, Any]) -> Page:
        state.pop("todo", None)
        if state.get("phase") == "events":
            return await self._events_step(state)
        params: dict[str, Any] = {"include": "users,organizations"}
        after = state.get("export")
        if isinstance(after, str) and after:
            params["cursor"] = after
        else:
            params["start_time"] = self._start_time()
        state["last_export"] = self._now_ts()
        answer = await self._json("GET", EXPORT_PATH, params=params, on_error=_export_error)
        page = parse_export_page(answer, self.config, self.base_url)
        self.users.update(page.users)
        if page.after_cursor:
            state["export"] = page.after_cursor
        state["eos"] = page.end_of_stream
        if page.end_of_stream:
            state["phase"] = "events"
        return self._page(
            state,
            done=False,
            tickets=page.tickets,
            customers=page.customers,
            quarantined=page.quarantined,
        )

    async def _events_step(self, state: dict[str, Any]) -> Page:
        start = state.get("events")
        latest = int(self._now_ts()) - EXPORT_LAG
        if isinstance(start, bool) or not isinstance(start, int) or start < 0:
            start = self._start_time()
        start = min(start, latest)  # Zendesk refuses a start_time in the last minute
        state["last_events"] = self._now_ts()
        answer = await self._json(
            "GET",
            EVENTS_PATH,
            params={"start_time": start, "include": "comment_events"},
            on_error=_export_error,
        )
        page = parse_events_page(answer, self.users)
        strangers = {c.author_handle for c in page.comments if c.author_handle not in self.users}
        if strangers and self._staff_due():
            # Comment events carry bare author ids; agents are rarely sideloaded with the
            # tickets (only requesters and assignees are): read the staff list, then map again.
            await self._load_staff()
            page = parse_events_page(answer, self.users)
        end = page.end_time if page.end_time is not None else start
        if end <= start and not page.end_of_stream:
            # A full page within one second (Zendesk stretches a page over a whole second, so
            # nothing of that second is left behind): step past it instead of asking again.
            end = start + 1
        state["events"] = max(start, end)
        done = page.end_of_stream
        if done:
            state["phase"] = "tickets"
        return self._page(state, done=done, comments=page.comments, quarantined=page.quarantined)

    def _staff_due(self) -> bool:
        last = self._staff_loaded_at
        return last is None or self._now_ts() - last >= STAFF_REFRESH

    async def _load_staff(self) -> None:
        """Every agent and admin (a few pages), so comment authors get their names."""
        self._staff_loaded_at = self._now_ts()
        for role in ("agent", "admin"):
            query = {"role": role, "per_page": 100}
            # A safety bound: 10,000 staff.
            async for f in self.pages(USERS_PATH, query, "zendesk users", max_pages=100):
                self.users.update(parse_users(f.items("users"), self.triage))

    async def pages(
        self, url: str, params: Mapping[str, Any], what: str, *, max_pages: int
    ) -> AsyncIterator[Fields]:
        """Each page of a list whose answers carry the next page's URL in ``next_page``
        (offset pagination), at most ``max_pages`` (a safety bound)."""

        async def fetch(next_url: str | None) -> tuple[list[Fields], str | None]:
            page_url, page_params = self.page_request(next_url, url, params)
            f = Fields(await self._json("GET", page_url, params=page_params), what)
            return [f], f.opt_text("next_page") or None

        async for f in paginate(fetch, max_pages=max_pages):
            yield f

    def _start_time(self) -> int:
        now = self.clock()
        start = now - timedelta(days=self.config.history_days)
        return max(0, min(int(start.timestamp()), int(now.timestamp()) - EXPORT_LAG))

    def _page(
        self,
        state: dict[str, Any],
        *,
        done: bool,
        tickets: tuple[RemoteTicket, ...] = (),
        comments: tuple[RemoteComment, ...] = (),
        customers: tuple[RemoteCustomer, ...] = (),
        quarantined: tuple[Quarantined, ...] = (),
        notes: tuple[str, ...] = (),
        in_scope: Scope | None = None,
    ) -> Page:
        wait = 0.0
        if state.get("path") != "agent":
            # The next call asks one of the two exports: keep within that one's budget.
            last = state.get("last_events" if state.get("phase") == "events" else "last_export")
            elapsed = self._now_ts() - last if isinstance(last, int | float) else math.inf
            wait = max(0.0, self.export_interval - elapsed)
        wait = max(wait, self.budget.wait())
        aside, self.triage.bad = self.triage.bad, []
        notes = (*self._notes, *notes)
        self._notes = []
        if notes or wait >= 1:
            notes = (*notes, self.budget.describe())
        page = Page(
            tickets=tickets,
            comments=comments,
            customers=customers,
            cursor=encode_cursor(state, "zendesk"),
            done=done,
            wait_hint=wait,
            quarantined=(*aside, *quarantined),
            notes=notes,
            in_scope=in_scope,
        )
        return bounded_page(page, self.limits)

    async def fetch_comments(self, ticket_id: str) -> list[RemoteComment]:
        """All comments of one ticket but the first (it is the ticket's description).

        A ticket deleted meanwhile (404) has none.
        """
        first = f"/api/v2/tickets/{_numeric(ticket_id)}/comments.json"
        gone = False

        async def fetch(next_url: str | None) -> tuple[list[RemoteComment], str | None]:
            nonlocal gone
            url, params = self.page_request(next_url, first, {"include": "users"})
            response = await self._call("GET", url, params=params, ok=(404,))
            if response.status_code == 404:
                gone = True
                return [], None
            f = Fields(response_json(response, self.name), "zendesk comments")
            users = parse_users(f.items("users"), self.triage)
            self.users.update(users)
            read = (
                self.triage.read("comment", item, _comment_parser(ticket_id, users))
                for item in f.items("comments")
            )
            page = [bounded(c, self.limits) for c in read if c is not None]
            return page, f.opt_text("next_page") or None

        # A safety bound: 100 pages of 100 comments.
        comments = [c async for c in paginate(fetch, max_pages=100)]
        if gone:
            return []
        comments.sort(key=lambda c: c.created_at)
        return comments[1:]

    # -- push

    async def push(self, op: Op) -> PushResult:
        """Apply one outbox operation (see the module docstring for the requests)."""
        if op.kind not in self.supported_ops:
            raise unsupported(self.name, op)
        if op.kind is OpKind.CREATE_TICKET:
            return await self._create(op)
        ticket_id = _numeric(_require(op.remote_id, "the ticket's Zendesk id", op))
        if op.kind in (OpKind.ADD_LABELS, OpKind.REMOVE_LABELS):
            return await self._change_tags(op, ticket_id)
        body = self.update_body(op)
        response = await self._call("PUT", f"/api/v2/tickets/{ticket_id}.json", json=body)
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
                    f"{self.name}: assign needs an agent's email or Zendesk user id, "
                    f"got {str(assignee)[:40]!r}"
                )
        elif op.kind in (OpKind.REPLY, OpKind.NOTE):
            text = _payload(p, "body", op)
            ticket = {"comment": {"body": text, "public": op.kind is OpKind.REPLY}}
        else:  # pragma: no cover - guarded by supported_ops
            raise unsupported(self.name, op)
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
            ticket["tags"] = [self.config.tags.to_tag(str(label)) for label in labels]
        return {"ticket": ticket}

    async def _create(self, op: Op) -> PushResult:
        response = await self._call(
            "POST",
            TICKETS_PATH,
            json=self.create_body(op),
            headers={"Idempotency-Key": op.idempotency_key},
        )
        return await self._settled(response, op, None)

    async def _change_tags(self, op: Op, ticket_id: str) -> PushResult:
        labels = op.payload.get("labels")
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise Rejected(f"{self.name}: {op.kind.value} needs a list of labels")
        wanted = [self.config.tags.to_tag(label) for label in labels]
        url = f"/api/v2/tickets/{ticket_id}.json"
        for _ in range(self.TAG_ATTEMPTS):
            current = Fields(await self._json("GET", url), "zendesk ticket").opt_sub("ticket")
            if current is None or current.raw("tags") is None:
                # Writing the whole list over tags we were not told would drop them.
                raise Rejected(
                    f"{self.name}: ticket {ticket_id}: the answer lists no tags; "
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
            response = await self._call("PUT", url, json={"ticket": change}, ok=(409,))
            if response.status_code == 409:  # someone else changed it meanwhile: re-read
                continue
            return await self._settled(response, op, ticket_id)
        raise BackendUnavailable(f"{self.name}: ticket {ticket_id} kept changing; will retry")

    async def _settled(self, response: httpx.Response, op: Op, ticket_id: str | None) -> PushResult:
        """The result of a push Zendesk accepted, read as leniently as its description allows.

        Every key of the answer is optional there. The ticket's id is the one we sent, else
        the answer's, else the ``Location`` of a creation, else a creation is looked up by its
        ``external_id`` (and stays unclear if it cannot be found yet). A ticket copy that
        lacks what a record needs (``updated_at``...) is read again with a GET; a reply or
        note whose comment the audit does not show is looked up among the comments.
        """
        payload = response_json(response, self.name)
        f = Fields(payload, "zendesk answer")
        raw = f.opt_sub("ticket")
        answered_id = raw.opt_ident("id") if raw is not None else None
        remote_id = ticket_id or answered_id or _location_id(response)
        if remote_id is None:
            found = await self.lookup(op)
            if found is not None:
                return found
            raise BadPayload(f"{self.name}: the new ticket's answer names no id; will look it up")
        if answered_id is not None and answered_id != remote_id:
            raw = None  # an answer about another ticket tells nothing about ours
        result = self._from_ticket(raw, remote_id, op)
        if result.version is None:
            reread = await self._reread(remote_id, op)
            if reread is not None:
                result = reread
        updated = result.ticket.updated_at if result.ticket is not None else None
        comment = comment_from_audit(payload, remote_id, updated or self.clock())
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
            self.limits,
        )

    async def _reread(self, ticket_id: str, op: Op) -> PushResult | None:
        """The ticket as Zendesk has it now, after an answer that did not show it whole.

        The change is applied already: a failure here only costs the fresh copy (the next
        pull brings it), so it is logged and the entry still settles.
        """
        try:
            answer = await self._json("GET", f"/api/v2/tickets/{ticket_id}.json")
            raw = Fields(answer, "zendesk ticket").opt_sub("ticket")
        except SyncError as exc:
            log.info("%s: re-reading ticket %s after a push failed: %s", self.name, ticket_id, exc)
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
            log.info("%s: looking up the comment of a push failed: %s", self.name, exc)
            return None
        return found.comment if found is not None else None

    def _from_ticket(self, raw: Fields | None, remote_id: str, op: Op | None) -> PushResult:
        """A result from a ticket copy (search, show, create or update answer), read leniently.

        The copy names people by id only: it is returned whole when every id maps to someone
        seen in a pull, so it never overwrites emails with bare ids. A copy that is not a
        whole record gives only the id and URL.
        """
        url = ticket_url(self.base_url, remote_id)
        if raw is None:
            return PushResult(remote_id=remote_id, url=url)
        if op is not None and op.kind is OpKind.ASSIGN:
            email, assignee_id = op.payload.get("assignee"), raw.opt_ident("assignee_id")
            if isinstance(email, str) and "@" in email and assignee_id:
                known = self.users.get(assignee_id)
                self.users[assignee_id] = User(
                    assignee_id,
                    known.name if known else "",
                    email,
                    known.organization_id if known else None,
                )
        try:
            ticket = parse_ticket(
                {"id": remote_id, **raw.data}, self.users, self.config, self.base_url
            )
        except BadPayload as exc:
            log.info("%s: ticket %s: not a whole ticket: %s", self.name, remote_id, exc)
            return PushResult(remote_id=remote_id, url=url)
        people = [raw.opt_ident("requester_id"), raw.opt_ident("assignee_id")]
        complete = all(p is None or p in self.users for p in people)
        return PushResult(
            remote_id=ticket.remote_id,
            version=ticket.version,
            url=ticket.url,
            ticket=bounded(ticket, self.limits) if complete else None,
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
                await self._json("GET", SEARCH_PATH, params={"query": query}), "zendesk search"
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
                for comment in await self.fetch_comments(op.remote_id)
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

    async def search_issues(self, query: str) -> list[RemoteTicket]:
        """Tickets matching ``query`` (Zendesk search syntax; plain words work).

        A result that cannot be read is left out (and shows in the sync log).
        """
        found = Fields(
            await self._json("GET", SEARCH_PATH, params={"query": f"type:ticket {query}"}),
            "zendesk search",
        )
        tickets = (
            self.triage.read(
                "ticket", item, lambda t: parse_ticket(t, {}, self.config, self.base_url)
            )
            for item in found.items("results")
            if isinstance(item, dict) and item.get("result_type", "ticket") == "ticket"
        )
        return [bounded(t, self.limits) for t in tickets if t is not None]


class ExportForbidden(AuthFailed):
    """The incremental export refused the token (403: not an admin's)."""


def _export_error(response: httpx.Response, what: str) -> None:
    if response.status_code == 403:
        raise ExportForbidden(f"{what}: the incremental export needs a Zendesk admin's token (403)")


def _comment_parser(ticket_id: str, users: Mapping[str, User]) -> Callable[[object], RemoteComment]:
    return lambda payload: parse_comment(payload, ticket_id, users)


def _location_id(response: httpx.Response) -> str | None:
    """The id of a created ticket from the answer's ``Location`` header, if it names one."""
    location = response.headers.get("location", "")
    try:
        path = httpx.URL(location).path if location else ""
    except httpx.InvalidURL:
        return None
    found = LOCATION_RE.search(path)
    return found.group(1) if found else None


def marker(idempotency_key: str) -> str:
    """The ``external_id`` a creation carries so a later lookup can find it."""
    return MARKER_PREFIX + idempotency_key


def _numeric(ticket_id: str) -> str:
    if not ticket_id.isdigit():
        raise Rejected(f"zendesk: {ticket_id[:40]!r} is not a ticket id")
    return ticket_id


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


__all__ = [
    "ExportPage",
    "TagMap",
    "User",
    "ZendeskBackend",
    "ZendeskConfig",
    "comment_from_audit",
    "marker",
    "parse_comment",
    "parse_export_page",
    "parse_organization",
    "parse_ticket",
    "parse_user",
    "parse_users",
]
