"""StatusBar: the top line: app name, on-call hours status, and sync status."""

from __future__ import annotations

from datetime import datetime, time, timedelta, tzinfo

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from oncall_tui.domain.sla import SlaSettings


def hours_status(
    settings: SlaSettings, now: datetime, shown: tzinfo | None = None
) -> tuple[bool, str]:
    """(open?, text) for the header: inside or outside business hours, and the next change,
    named in the ``shown`` zone (default: the calendar's)."""
    is_open, text, _until = hours_status_until(settings, now, shown)
    return is_open, text


def hours_status_until(
    settings: SlaSettings, now: datetime, shown: tzinfo | None = None
) -> tuple[bool, str, datetime | None]:
    """:func:`hours_status`, and the first instant after ``now`` at which it may read
    differently (None: look again at the next instant): the end of the open window, or
    the next opening, or a midnight (a day's intervals, "opens Mon 07:00" or "opens 07:00")."""
    calendar = settings.calendar
    tz = shown or calendar.tz
    if calendar.is_open(now):
        # find the end of the current window: the next instant the desk is closed
        for start, end in calendar.open_intervals(now.astimezone(calendar.tz).date()):
            if start <= now < end:
                until = min(end, _next_midnight(now, calendar.tz))
                text = f"in business hours · closes {end.astimezone(tz):%H:%M %Z}"
                return True, text, until
        return True, "in business hours", None
    nxt = calendar.next_opening(now).astimezone(tz)
    local = now.astimezone(tz)
    when = f"{nxt:%H:%M}" if nxt.date() == local.date() else f"{nxt:%a %H:%M}"
    until = min(nxt, _next_midnight(now, tz))
    return False, f"outside business hours · opens {when} {nxt:%Z}", until


def _next_midnight(now: datetime, tz: tzinfo) -> datetime:
    """The next local midnight in ``tz`` after ``now`` (where a change of the clocks makes
    midnight not exist, the change: the date turns then too)."""
    day = now.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=tz)


class StatusBar(Widget):
    """One line at the top of every screen."""

    DEFAULT_CSS = "StatusBar { height: 1; }"

    now: reactive[datetime | None] = reactive(None, repaint=False)
    """The instant shown; set once a second by the screen's tick."""
    hours_text: reactive[str] = reactive("")
    """Inside or outside business hours, and the next change (repaints only when it changes)."""
    sync_text: reactive[str] = reactive("local only")
    """What the sync engine says (online/offline, last sync, pending, failed)."""

    def __init__(self, settings: SlaSettings, title: str = "oncall-tui") -> None:
        super().__init__()
        self.settings = settings
        self.title = title
        self._steady: tuple[tuple[tzinfo, SlaSettings], datetime, datetime] | None = None
        """((zone, settings), since, until): the hours read the same from since to until."""

    def on_mount(self) -> None:
        if hasattr(self.app, "sync_status"):
            self.watch(self.app, "sync_status", self._sync_changed)

    def _sync_changed(self, value: str) -> None:
        self.sync_text = value

    def watch_now(self, now: datetime | None) -> None:
        if now is None:
            return
        from oncall_tui.ui.times import shown_tz

        tz = shown_tz(self)
        steady = self._steady
        if steady is not None and steady[0] == (tz, self.settings) and steady[1] <= now < steady[2]:
            return  # the same words until the desk opens or closes (or a midnight)
        is_open, hours, until = hours_status_until(self.settings, now, tz)
        self._steady = (
            ((tz, self.settings), now, until) if until is not None and until > now else None
        )
        self.set_class(not is_open, "-after-hours")
        self.hours_text = ("● " if is_open else "○ ") + hours

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" {self.title} ", style="bold")
        text.append(self.hours_text)
        text.append("   ")
        text.append(self.sync_text)
        return text
