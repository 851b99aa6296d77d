"""The ``[escalation]`` settings: time-box, stand-up, outage, link-back (the config's table).

Apart from :mod:`oncall_tui.domain.escalation` so that reading the config at start-up does
not load the escalation loop's functions (and the label scheme behind them).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any

from oncall_tui.domain.errors import ConfigValueError


@dataclass(frozen=True, slots=True)
class EscalationSettings:
    """The ``[escalation]`` table; defaults follow the support handbook."""

    timebox_minutes: float = 60.0
    """How long one investigation stretch lasts before the nudge (the handbook: one hour)."""
    decision_after_days: float = 1.0
    """Business days under ``~investigate`` after which the stand-up asks for the decision."""
    ack_comment: str = (
        "Reviewed at the support stand-up on {date} (business day {day} of the "
        "investigation): acknowledged, support keeps investigating."
    )
    """The support manager's acknowledgement, posted on the tracker issue (public)."""
    oncall_alias: str = "@oncall"
    """The developer on-call alias to mention."""
    help_channel: str = "#help-engineering"
    """The engineering help channel's name, as shown (where the on-call is contacted, never in a
    direct message)."""
    help_channel_id: str | None = None
    """The help channel's Slack id (``C0123ABCD``): the on-call message is posted there. None:
    the draft is kept and cannot be sent until it is set."""
    oncall_group_id: str | None = None
    """The on-call user group's Slack id (``S0123ABCD``): the alias is sent as the group's
    mention (``<!subteam^S0123ABCD>``), which notifies it. None: the alias is plain text."""
    outage_labels: tuple[str, ...] = ("#outage", "#g-cx", ":release")
    """Labels of a suspected-outage issue."""
    outage_reminder_minutes: float = 60.0
    """How often the owner of an open suspected-outage issue is reminded to post an update."""
    released_label: str = ":released"
    """The label that says a fix shipped (a linked ticket's "released" update)."""
    private_repo: str | None = None
    """The private repository (``owner/name``) that maps codenames to customers: its
    ``customer-<codename>`` label's description holds the real name. None: no private label."""
    link_back: str = (
        "We are tracking this in {issue_url}. We will post updates in this thread as it progresses."
    )
    """The reply queued into the customer's thread after filing or linking an issue."""

    @property
    def timebox(self) -> timedelta:
        """:attr:`timebox_minutes` as a duration."""
        return timedelta(minutes=self.timebox_minutes)

    @property
    def outage_reminder(self) -> timedelta:
        """:attr:`outage_reminder_minutes` as a duration."""
        return timedelta(minutes=self.outage_reminder_minutes)


DEFAULT_SETTINGS = EscalationSettings()
_NUMBERS = {
    "timebox_minutes": (1.0, 24 * 60.0),
    "decision_after_days": (0.1, 30.0),
    "outage_reminder_minutes": (5.0, 7 * 24 * 60.0),
}

_SLACK_IDS = {
    "help_channel_id": (
        re.compile(r"^[CG][A-Z0-9]{2,20}$"),
        "a Slack channel id like C0123ABCD (in Slack: the channel's details, at the bottom of "
        "About; not its #name, which is help_channel)",
    ),
    "oncall_group_id": (
        re.compile(r"^S[A-Z0-9]{2,20}$"),
        "a Slack user group id like S0123ABCD (not the @handle, which is oncall_alias)",
    ),
}


def parse_escalation_settings(d: Mapping[str, Any], key: str = "escalation") -> EscalationSettings:
    """Build :class:`EscalationSettings` from a config table; missing keys keep their defaults.

    Raises:
        ConfigValueError: an unknown key or a bad value (naming the dotted key).
    """
    known = {f.name for f in fields(EscalationSettings)}
    values: dict[str, Any] = {}
    for name, value in d.items():
        path = f"{key}.{name}"
        if name not in known:
            raise ConfigValueError(path, f"one of {', '.join(sorted(known))}")
        if name in _NUMBERS:
            lo, hi = _NUMBERS[name]
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not ok or not math.isfinite(value) or not lo <= value <= hi:
                raise ConfigValueError(path, f"a number from {lo:g} to {hi:g}", value)
            values[name] = float(value)
        elif name == "outage_labels":
            if not isinstance(value, list) or not all(
                isinstance(x, str) and x.strip() == x and x for x in value
            ):
                raise ConfigValueError(path, "a list of label names", value)
            values[name] = tuple(value)
        elif name in _SLACK_IDS:
            pattern, expected = _SLACK_IDS[name]
            if not isinstance(value, str) or not pattern.match(value):
                raise ConfigValueError(path, expected, value)
            values[name] = value
        elif name == "private_repo":
            if not isinstance(value, str) or value.count("/") != 1 or value != value.strip():
                raise ConfigValueError(path, "a repository 'owner/name'", value)
            values[name] = value
        else:
            if not isinstance(value, str) or not value.strip():
                raise ConfigValueError(path, "a non-empty string", value)
            values[name] = value
    return EscalationSettings(**values)
