"""The one time zone every time on screen is shown in.

Config ``timezone`` (an IANA name), by default the SLA calendar's zone: the header's
business hours, the status line's last sync, the detail's due time, first response and
thread, the sync log, drafts and the bug-report form all read their zone here, so no time on
screen is in the machine's zone or in UTC unannounced. Instants come from the injected clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Protocol


class InApp(Protocol):
    """A widget or screen, or a mixin of theirs (what has the running app)."""

    @property
    def app(self) -> object: ...


def shown_tz(node: InApp) -> tzinfo:
    """The zone times are shown in, for a widget or screen of the app."""
    ctx = getattr(node.app, "ctx", None)
    return ctx.config.tz if ctx is not None else UTC


def local(at: datetime, tz: tzinfo, fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
    """``at`` in ``tz`` (``%Z`` names the zone: PST, CET)."""
    return at.astimezone(tz).strftime(fmt)


def zone_name(tz: tzinfo, at: datetime) -> str:
    """The zone's short name at ``at`` (PST or PDT, by the date)."""
    return at.astimezone(tz).strftime("%Z")
