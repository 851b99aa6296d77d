"""The escalation loop's bookkeeping: stand-up, time-box, suspected outage, link-back.

Pure functions over plain data; the calendar and "now" are parameters. The label moves
themselves are :mod:`oncall_tui.domain.labels`; this module decides *when* the handbook asks
for them and *what* the accompanying texts say. Every text is a template with ``{placeholders}``
(:func:`oncall_tui.domain.templates.fill`), configurable under ``[escalation]``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from oncall_tui.domain.escalation_settings import DEFAULT_SETTINGS as DEFAULT_SETTINGS
from oncall_tui.domain.escalation_settings import EscalationSettings as EscalationSettings
from oncall_tui.domain.escalation_settings import (
    parse_escalation_settings as parse_escalation_settings,
)
from oncall_tui.domain.labels import DEFAULT_SCHEME, LabelScheme, Stage, stage_of
from oncall_tui.domain.tickets import Customer

if TYPE_CHECKING:  # the public-text guard loads with the first escalation form, not at start
    from oncall_tui.domain.guard import GuardHit

#: Elapsed business days (fractional) from the first instant to the second.
BusinessDays = Callable[[datetime, datetime], float]


# ---- stand-up ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Affected:
    """A customer a bug hits, as the stand-up shows it (internal: real names are fine)."""

    name: str
    plan: str


@dataclass(frozen=True, slots=True)
class StandupItem:
    """One ``~investigate`` bug on the stand-up list.

    Attributes:
        ticket_id: the tracker issue's local id.
        since: when ``~investigate`` went on.
        age_days: elapsed business days since then (fractional).
        day: which business day of the investigation it is (1 = the first).
        decision_due: still there on a second business day: reproduced or not?
        acknowledged_on: the stand-up day it was last acknowledged (None: not yet).
        customers: who it hits, with their plans.
    """

    ticket_id: int
    title: str
    since: datetime
    age_days: float
    day: int
    decision_due: bool
    acknowledged_on: date | None
    customers: tuple[Affected, ...]

    def acknowledged_today(self, today: date) -> bool:
        """True when the manager acknowledged it at today's stand-up."""
        return self.acknowledged_on == today


def investigation_age(since: datetime, now: datetime, business_days: BusinessDays) -> float:
    """Business days elapsed since ``since`` (0 before it)."""
    return 0.0 if now <= since else max(0.0, business_days(since, now))


def investigation_day(age_days: float) -> int:
    """The business day of the investigation: 1 during the first full business day, 2 on the
    second, and so on."""
    return int(math.floor(age_days + 1e-9)) + 1


def standup_item(
    ticket_id: int,
    title: str,
    labels: Iterable[str],
    since: datetime,
    now: datetime,
    business_days: BusinessDays,
    *,
    customers: Iterable[Affected] = (),
    acknowledged_on: date | None = None,
    settings: EscalationSettings = DEFAULT_SETTINGS,
    scheme: LabelScheme = DEFAULT_SCHEME,
) -> StandupItem | None:
    """The stand-up line for an issue, or None when it is not under investigation."""
    labels = tuple(labels)
    if stage_of(labels, scheme) is not Stage.INVESTIGATING:
        return None
    age = investigation_age(since, now, business_days)
    return StandupItem(
        ticket_id=ticket_id,
        title=title,
        since=since,
        age_days=age,
        day=investigation_day(age),
        decision_due=now > since and age >= settings.decision_after_days,
        acknowledged_on=acknowledged_on,
        customers=tuple(dict.fromkeys(customers)),
    )


def standup_order(items: Iterable[StandupItem]) -> list[StandupItem]:
    """Decisions due first, then the oldest investigations."""
    return sorted(items, key=lambda i: (not i.decision_due, i.since, i.ticket_id))


def ack_comment(settings: EscalationSettings, item: StandupItem, today: date) -> str:
    """The support manager's acknowledgement comment for ``item``."""
    from oncall_tui.domain.templates import fill

    return fill(settings.ack_comment, {"date": today.isoformat(), "day": str(item.day)})


# ---- investigation time-box ------------------------------------------------------------------


def time_left(due_at: datetime, now: datetime) -> timedelta:
    """What is left of a time-box (negative once it is over)."""
    return due_at - now


def format_left(left: timedelta) -> str:
    """``42:05`` left, ``1:00:00``, or ``over by 3:10``."""
    seconds = int(left.total_seconds())
    over = seconds < 0
    seconds = abs(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    text = f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
    return f"over by {text}" if over else text


class Nudge(StrEnum):
    """The handbook's options when an investigation's hour is up."""

    LOGS = "logs"
    CALL = "call"
    ENGINEER = "engineer"
    ONCALL = "oncall"


NUDGE_LABELS: dict[Nudge, str] = {
    Nudge.LOGS: "Ask the customer for logs (reply draft)",
    Nudge.CALL: "Offer the customer a call (reply draft)",
    Nudge.ENGINEER: "Escalate to another engineer (internal note draft)",
    Nudge.ONCALL: "Contact the developer on call (a message in the engineering help channel)",
}


def nudge_text(nudge: Nudge, settings: EscalationSettings, context: Mapping[str, str]) -> str:
    """The pre-filled draft for one option; ``context`` has ``ticket_url``, ``ref``..."""
    from oncall_tui.domain.templates import fill

    texts = {
        Nudge.LOGS: "Hi {requester},\n\nTo find the cause we need your server logs from the "
        "time this happens. Could you send them (and a debug archive from the server's CLI, "
        "if you can)?\n\nThanks,\n{agent}",
        Nudge.CALL: "Hi {requester},\n\nWould a call help us get to the bottom of this faster? "
        "Please send two or three times that suit you.\n\nThanks,\n{agent}",
        Nudge.ENGINEER: "Escalating {ref} to another engineer: investigated for {minutes} "
        "minutes, not solved yet. What I tried:\n- ",
        Nudge.ONCALL: "{alias} could you help with {ref} ({ticket_url})? "
        "Investigated for {minutes} minutes. Summary:\n- ",
    }
    values = {
        "alias": settings.oncall_alias,
        "channel": settings.help_channel,
        "minutes": f"{settings.timebox_minutes:g}",
        "requester": "there",
        **{k: v for k, v in context.items() if v},
    }
    return fill(texts[nudge], values)


def alias_pattern(alias: str) -> re.Pattern[str]:
    """The on-call alias written as a whole mention (``@oncall``, not ``@oncall-dev``)."""
    return re.compile(rf"(?<![\w@`-]){re.escape(alias)}(?![\w-])")


def channel_text(text: str, settings: EscalationSettings) -> str:
    """The on-call message as posted: with :attr:`~EscalationSettings.oncall_group_id` the
    alias becomes Slack's user-group mention (it notifies the group), else it stays as written
    (plain text in Slack: nobody is notified)."""
    if not settings.oncall_group_id or not settings.oncall_alias.strip():
        return text
    mention = f"<!subteam^{settings.oncall_group_id}>"
    return alias_pattern(settings.oncall_alias).sub(lambda _: mention, text)


# ---- suspected outage ----------------------------------------------------------------------


def outage_title(day: date) -> str:
    """``Suspected outage: 2026-12-02``."""
    return f"Suspected outage: {day.isoformat()}"


def outage_body(refs: Iterable[tuple[str, str | None]]) -> str:
    """The issue body: the affected tickets by reference and link, no subjects (they may name
    the customer)."""
    lines = [
        "Support suspects an outage. Affected tickets:",
        "",
        *(f"- {ref}" + (f" ({url})" if url else "") for ref, url in refs),
        "",
        "Updates are posted here until the root cause is found and this issue is closed.",
    ]
    return "\n".join(lines)


def outage_guard_hits(
    title: str, refs: Iterable[tuple[str, str | None]], customers: Iterable[Customer]
) -> list[GuardHit]:
    """Every customer the outage issue would name in public.

    The tracker's own repositories are not names: an affected issue's ``owner/repo#12`` and
    the ``owner/repo`` in its link are blanked before the check (so ``acme/product`` does not
    read as the customer "Acme Logistics"); help-desk links and everything else are checked
    as they will be published."""
    pairs = list(refs)
    body = outage_body(pairs)
    repos = {ref.partition("#")[0] for ref, _ in pairs if "/" in ref.partition("#")[0]}
    masked = body
    for repo in sorted(repos, key=len, reverse=True):
        masked = re.sub(
            rf"(?<![\w.-]){re.escape(repo)}(?=#\d|/issues/|/pull/|\b)",
            lambda m: " " * len(m.group(0)),
            masked,
            flags=re.IGNORECASE,
        )
    from oncall_tui.domain.guard import check_public

    return check_public({"title": title, "body": masked}, customers)


def next_reminder(due_at: datetime, now: datetime, every: timedelta) -> datetime:
    """The reminder after one that fell due at ``due_at``: a whole number of intervals on,
    strictly after ``now`` (a laptop asleep for hours reminds once, not once per hour missed)."""
    if now < due_at:
        return due_at
    steps = int((now - due_at) / every) + 1
    return due_at + every * steps


# ---- link-back -----------------------------------------------------------------------------


class IssueState(StrEnum):
    """What a customer hears about a linked issue, in order."""

    LINKED = "linked"
    REPRODUCED = "reproduced"
    CLOSED = "closed"
    RELEASED = "released"


UPDATE_TEXTS: dict[IssueState, str] = {
    IssueState.REPRODUCED: "An update on {issue_url}: our team reproduced the problem and it "
    "is now with the product team. We will let you know when a fix is planned.",
    IssueState.CLOSED: "An update on {issue_url}: the issue was closed. Please let us know if "
    "you still see the problem.",
    IssueState.RELEASED: "An update on {issue_url}: the fix has been released. Please update "
    "and let us know if you still see the problem.",
}


def issue_state(
    labels: Iterable[str],
    closed: bool,
    settings: EscalationSettings = DEFAULT_SETTINGS,
    scheme: LabelScheme = DEFAULT_SCHEME,
) -> IssueState:
    """The customer-facing state of a tracker issue: released beats closed beats reproduced."""
    labels = tuple(labels)
    if any(x.casefold() == settings.released_label.casefold() for x in labels):
        return IssueState.RELEASED
    if closed:
        return IssueState.CLOSED
    if stage_of(labels, scheme) is Stage.REPRODUCED:
        return IssueState.REPRODUCED
    return IssueState.LINKED


def link_text(state: IssueState, settings: EscalationSettings, issue_url: str) -> str:
    """The reply for a linked ticket: the link-back itself, or the update for ``state``."""
    from oncall_tui.domain.templates import fill

    template = settings.link_back if state is IssueState.LINKED else UPDATE_TEXTS[state]
    return fill(template, {"issue_url": issue_url})


def business_days_of(calendar: Any, business_day_seconds: int) -> BusinessDays:
    """Elapsed business days on ``calendar`` (a :class:`BusinessCalendar`), one day being
    ``business_day_seconds`` of open time (the SLA settings' ``business_day_seconds``)."""
    day = max(business_day_seconds, 1)

    def between(a: datetime, b: datetime) -> float:
        return float(calendar.business_seconds_between(a, b)) / day

    return between
