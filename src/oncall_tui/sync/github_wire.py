"""GitHub's wire JSON read into records (pure), its options, and the hidden marker of the
issues and comments oncall-tui writes.

An issue or comment that cannot be read raises :class:`~oncall_tui.sync.base.BadPayload`;
the adapter sets it aside and reads the rest of the page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx

from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.domain.tickets import Channel, Priority, Source, Status
from oncall_tui.sync.base import BadPayload, Rejected, RemoteComment, RemoteTicket
from oncall_tui.sync.fields import Fields
from oncall_tui.sync.options import only_known

log = logging.getLogger(__name__)

MARKER_RE = re.compile(r"\s*<!-- oncall-tui:[^>]*-->\s*")
DONE_STATUSES = {Status.SOLVED, Status.CLOSED}
#: How far ahead of our clock an ``updated_at`` may be and still move the ``since`` mark.
CLOCK_SKEW = timedelta(days=1)


def marker(idempotency_key: str) -> str:
    """The hidden HTML comment that tags what we create with its outbox key."""
    return f"<!-- oncall-tui:{idempotency_key} -->"


def strip_marker(text: str) -> str:
    """``text`` without our hidden markers."""
    return MARKER_RE.sub("\n", text).strip() if "oncall-tui:" in text else text


# --------------------------------------------------------------------------------------------
# Configuration


@dataclass(frozen=True)
class GitHubConfig:
    """GitHub settings: ``[backends.github]`` ``repos`` and its ``options`` table."""

    repos: tuple[str, ...]
    """``owner/name`` repositories to sync; the first receives new issues by default."""
    priority_labels: Mapping[str, Priority] = field(
        default_factory=lambda: {p.value.lower(): p for p in Priority}
    )
    """Label (lower-case) → priority; an issue without one gets ``default_priority``."""
    default_priority: Priority = Priority.P3
    """Priority of issues carrying no priority label."""
    history_days: int = 90
    """How far back the first sync reaches."""
    per_page: int = 100
    """Issues per request (GitHub's maximum is 100)."""
    comment_batch: int = 10
    """Issues whose comments one page reads."""
    low_water: int = 50
    """Below this many remaining requests, pages are spread until the limit resets."""

    def __post_init__(self) -> None:
        for repo in self.repos:
            if repo.count("/") != 1 or not all(repo.split("/")):
                raise ConfigValueError("backends.github.repos", "'owner/name'", repo)

    @classmethod
    def from_options(
        cls, repos: Iterable[str], options: Mapping[str, Any], history_days: int = 90
    ) -> GitHubConfig:
        """Build from the config file's ``repos`` and ``options``; bad values raise."""
        key = "backends.github.options"
        known = {"priority_labels", "default_priority", "comment_batch", "low_water"}
        only_known(options, key, known)
        labels = options.get("priority_labels")
        mapping: dict[str, Priority] = {p.value.lower(): p for p in Priority}
        if labels is not None:
            if not isinstance(labels, Mapping):
                raise ConfigValueError(f"{key}.priority_labels", "a table of label = P0..P3")
            try:
                mapping = {str(k).lower(): Priority(v) for k, v in labels.items()}
            except ValueError:
                raise ConfigValueError(
                    f"{key}.priority_labels", "a table of label = P0..P3"
                ) from None
        try:
            default = Priority(options.get("default_priority", "P3"))
        except ValueError:
            raise ConfigValueError(f"{key}.default_priority", "P0, P1, P2 or P3") from None
        numbers = {}
        for name in ("comment_batch", "low_water"):
            value = options.get(name, getattr(cls, name))
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigValueError(f"{key}.{name}", "a positive whole number", value)
            numbers[name] = value
        return cls(
            repos=tuple(repos),
            priority_labels=mapping,
            default_priority=default,
            history_days=history_days,
            **numbers,
        )


# --------------------------------------------------------------------------------------------
# Mapping: wire JSON -> records (pure)


def is_pull_request(payload: object) -> bool:
    """GitHub lists pull requests among issues; they carry a ``pull_request`` key."""
    return isinstance(payload, dict) and payload.get("pull_request") is not None


def repo_of(f: Fields, fallback: str | None = None) -> str:
    """``owner/name`` from an issue's ``repository_url``."""
    url = f.opt_text("repository_url")
    if url:
        try:
            parts = httpx.URL(url).path.rstrip("/").split("/")
        except httpx.InvalidURL:
            raise BadPayload(f"{f.what}: repository_url is not a URL") from None
        if len(parts) >= 2 and parts[-2] and parts[-1]:
            repo = f"{parts[-2]}/{parts[-1]}"
            if len(repo) > 200:  # GitHub: owner 39, name 100 characters
                raise BadPayload(f"{f.what}: repository_url names no real repository")
            return repo
    if fallback:
        return fallback
    raise BadPayload(f"{f.what}: no repository_url to tell its repository")


def _label_names(f: Fields) -> tuple[str, ...]:
    names = []
    for i, label in enumerate(f.items("labels")):
        if isinstance(label, str):
            names.append(label)
        else:  # GitHub's description makes a label object's name optional: one without is none
            name = Fields(label, f"{f.what}.labels[{i}]").opt_text("name")
            if name:
                names.append(name)
    return tuple(names)


def _login(f: Fields, key: str) -> str | None:
    user = f.opt_sub(key)
    return user.text("login") if user else None


def parse_issue(
    payload: object, config: GitHubConfig | None = None, repo: str | None = None
) -> RemoteTicket:
    """One issue (list, get, create, update or search item) as a tracker ticket."""
    config = config or GitHubConfig(repos=())
    f = Fields(payload, "github issue")
    number = f.integer("number")
    repo = repo_of(f, repo)
    labels = _label_names(f)
    priority = next(
        (config.priority_labels[x.lower()] for x in labels if x.lower() in config.priority_labels),
        config.default_priority,
    )
    state = f.text("state")
    if state not in ("open", "closed"):
        raise BadPayload(f"github issue {repo}#{number}: unknown state {state[:20]!r}")
    updated = f.text("updated_at")
    return RemoteTicket(
        source=Source.TRACKER,
        remote_id=f"{repo}#{number}",
        subject=f.text("title"),
        body=strip_marker(f.opt_text("body") or ""),
        status=Status.OPEN if state == "open" else Status.CLOSED,
        priority=priority,
        channel=Channel.TRACKER,
        labels=labels,
        assignee=_login(f, "assignee"),
        requester=_login(f, "user"),
        customer_remote_id=None,
        opened_at=f.instant("created_at"),
        updated_at=f.instant("updated_at"),
        url=f.opt_text("html_url"),
        version=updated,
    )


def parse_comment(payload: object, ticket_remote_id: str) -> RemoteComment:
    """One issue comment (always public: the tracker has no internal notes)."""
    f = Fields(payload, f"github comment on {ticket_remote_id}")
    return RemoteComment(
        source=Source.TRACKER,
        ticket_remote_id=ticket_remote_id,
        remote_id=f.ident("id"),
        author=_login(f, "user") or "ghost",
        body=strip_marker(f.opt_text("body") or ""),
        public=True,
        created_at=f.instant("created_at"),
        author_role=_comment_role(f),
    )


#: ``author_association`` values of people who work on the repository: our staff.
STAFF_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})


def _comment_role(f: Fields) -> str:
    user = f.opt_sub("user")
    if user is not None and user.opt_text("type") == "Bot":
        return "automation"
    association = f.opt_text("author_association")
    if association is None:
        return ""
    return "staff" if association in STAFF_ASSOCIATIONS else "customer"


def split_remote_id(remote_id: str) -> tuple[str, int]:
    """``owner/repo#12`` → (``owner/repo``, 12)."""
    repo, _, number = remote_id.rpartition("#")
    if repo.count("/") != 1 or not number.isdigit():
        raise Rejected(f"github: {remote_id[:60]!r} is not an issue id (owner/repo#number)")
    return repo, int(number)


def repo_path(repo: str) -> str:
    owner, name = repo.split("/")
    return f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"


__all__ = [
    "GitHubConfig",
    "is_pull_request",
    "marker",
    "parse_comment",
    "parse_issue",
    "repo_of",
    "split_remote_id",
    "strip_marker",
]
