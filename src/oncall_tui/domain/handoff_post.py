"""Where the handoff summary is posted, and the outbox entry that posts it.

``[handoff]`` in the config::

    [handoff]
    post_to = "github:acme/support-handoffs"   # a new tracker issue in that repository
    # post_to = "slack:C0123ABCD"                     # a new message in the team's channel
    # post_to = "slack:C0123ABCD:1733150000.000100"   # a reply in the team's handoff thread
    breach_threshold = 2        # more projected breaches than this: arrange a replacement
    offline_hours = 8           # the breach forecast's default
    next_shift_hours = 4        # running clocks due this soon are on the watch list

The post goes through the outbox like every other write (so it is sent once, survives a crash
and waits offline), after the confidentiality guard (:func:`guard_hits`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.domain.ops import CHANNEL_ID, Op, OpKind, post_message_op
from oncall_tui.domain.tickets import Customer, Source

if TYPE_CHECKING:  # the guard loads with the first post checked, not with the config
    from oncall_tui.domain.guard import GuardHit

_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")
_THREAD = re.compile(r"^[CG][A-Z0-9]{2,20}:\d{9,11}\.\d{6}$")
POST_TO_EXPECTED = '"github:OWNER/REPO", "slack:CHANNEL" or "slack:CHANNEL:THREAD_TS"'
KNOWN_KEYS = ("post_to", "breach_threshold", "offline_hours", "next_shift_hours")


@dataclass(frozen=True, slots=True)
class Destination:
    """A tracker repository (a new issue each week), a chat channel (a new message) or a
    chat thread (a reply); ``target`` is ``OWNER/REPO``, ``CHANNEL`` or ``CHANNEL:TS``."""

    source: Source
    target: str

    def describe(self) -> str:
        """For the screen: ``a new issue in acme/x`` or ``slack C0123 thread 17…``."""
        if self.source is Source.TRACKER:
            return f"a new issue in {self.target}"
        channel, _, ts = self.target.partition(":")
        return f"slack {channel} thread {ts}" if ts else f"a new message in slack {channel}"


@dataclass(frozen=True, slots=True)
class HandoffSettings:
    """The ``[handoff]`` table."""

    post_to: Destination | None = None
    breach_threshold: int = 2
    offline_hours: float = 8.0
    next_shift_hours: int = 4


def parse_destination(text: str, key: str = "handoff.post_to") -> Destination:
    """``github:OWNER/REPO``, ``slack:CHANNEL`` or ``slack:CHANNEL:THREAD_TS``.

    Raises:
        ConfigValueError: anything else.
    """
    kind, _, rest = text.partition(":")
    if kind == "github" and _REPO.match(rest):
        return Destination(Source.TRACKER, rest)
    if kind == "slack" and (_THREAD.match(rest) or CHANNEL_ID.match(rest)):
        return Destination(Source.CHAT, rest)
    raise ConfigValueError(key, POST_TO_EXPECTED, text)


def _int(value: object, key: str, lo: int, hi: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ConfigValueError(key, f"a whole number from {lo} to {hi}", value)
    return value


def handoff_settings_from_dict(d: Mapping[str, Any]) -> HandoffSettings:
    """Parse ``[handoff]``.

    Raises:
        ConfigValueError: naming the key and what was expected.
    """
    for k in d:
        if k not in KNOWN_KEYS:
            raise ConfigValueError(f"handoff.{k}", f"a known key ({', '.join(KNOWN_KEYS)})")
    post_to = None
    if "post_to" in d:
        if not isinstance(d["post_to"], str):
            raise ConfigValueError("handoff.post_to", POST_TO_EXPECTED, d["post_to"])
        post_to = parse_destination(d["post_to"])
    hours = d.get("offline_hours", 8)
    if not isinstance(hours, int | float) or isinstance(hours, bool) or not 0 < hours <= 336:
        raise ConfigValueError("handoff.offline_hours", "a number of hours, up to 336", hours)
    return HandoffSettings(
        post_to,
        _int(d.get("breach_threshold", 2), "handoff.breach_threshold", 0, 10_000),
        float(hours),
        _int(d.get("next_shift_hours", 4), "handoff.next_shift_hours", 1, 72),
    )


def default_start(last_posted: datetime | None, now: datetime, days: int = 7) -> datetime:
    """The window's default start: the last handoff posted (if within a month and before
    ``now``), else ``days`` back."""
    if last_posted is not None and now - timedelta(days=31) <= last_posted < now:
        return last_posted
    return now - timedelta(days=days)


def guard_hits(text: str, customers: Iterable[Customer]) -> list[GuardHit]:
    """Every known customer's name, domain or people named in the post (codenames are fine).

    Issue references (``owner/repo#123``) name our own repositories and are blanked first,
    so a repository that shares a word with a customer ("acme/product", "Acme Logistics")
    is not a leak; the rest of the text is checked as it will be published.
    """
    from oncall_tui.domain.guard import check_public, references

    masked = list(text)
    for ref in references(text):
        if "/" in ref.text and "#" in ref.text:
            masked[ref.start : ref.end] = " " * (ref.end - ref.start)
    return check_public({"body": "".join(masked)}, customers)


def post_title(end: datetime) -> str:
    """The issue title of the week's post."""
    return f"On-call handoff, week ending {end:%Y-%m-%d}"


def handoff_op(dest: Destination, title: str, body: str, idempotency_key: str) -> Op:
    """The outbox entry posting ``body`` to ``dest``."""
    if dest.source is Source.TRACKER:
        return Op(
            kind=OpKind.CREATE_ISSUE,
            source=Source.TRACKER,
            payload={"repo": dest.target, "title": title, "body": body, "labels": []},
            idempotency_key=idempotency_key,
        )
    text = f"*{title}*\n\n{body}"
    if ":" not in dest.target:  # the channel itself: a new message
        return post_message_op(dest.target, text, idempotency_key)
    return Op(
        kind=OpKind.REPLY,
        source=Source.CHAT,
        payload={"body": text},
        idempotency_key=idempotency_key,
        remote_id=dest.target,
    )
