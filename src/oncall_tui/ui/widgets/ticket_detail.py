"""TicketDetail: one ticket's metadata, SLA breakdown, thread, links and runbook progress.

Customer text is data: metadata is built from ``Text`` objects (never markup strings) and the
thread goes through the Markdown widget, which renders Markdown but not Rich markup.

The parts are mounted when the first ticket is shown, not at start-up: the queue composes this
widget on every terminal size (hidden below 150 columns) and its first frame shows no ticket
in it anyway. That keeps the Markdown widget (markdown-it and Pygments: ~30 ms of imports)
and three empty widgets off the queue's first frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from oncall_tui.domain import sla as sla_rules
from oncall_tui.domain.tickets import Comment, Customer, Ticket, ticket_ref
from oncall_tui.ui.times import local, shown_tz

if TYPE_CHECKING:
    from textual.widgets import Markdown

    from oncall_tui.domain.sla_clocks import ClockReport


@dataclass(frozen=True)
class DetailData:
    """Everything the detail shows, handed over by the screen (widgets never query)."""

    ticket: Ticket
    customer: Customer | None
    comments: list[Comment]
    links: list[tuple[str, str]] = field(default_factory=list)
    runbooks: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    conflicts: dict[str, dict[str, str]] = field(default_factory=dict)
    waiting_until: datetime | None = None
    """When the ticket's last change waiting out its undo window goes out."""
    not_refreshed_since: datetime | None = None
    """When the ticket left what the sync keeps fresh (an agent's scope): the copy is older."""


def duration_text(delta: timedelta) -> str:
    """ "2d 3h 05m" style durations."""
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{sign}{days}d {hours}h {minutes:02d}m"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    return f"{sign}{minutes}m"


def quote_markdown(text: str) -> str:
    """Customer text inside our Markdown: shown as written, never as HTML."""
    return text.replace("<", "&lt;").replace(">", "&gt;")


def thread_markdown(ticket: Ticket, comments: list[Comment], tz: tzinfo = UTC) -> str:
    """The thread as Markdown: the opening message, then each comment (times in ``tz``)."""

    def when(at: datetime) -> str:
        return f"{at.astimezone(tz):%a %Y-%m-%d %H:%M %Z}"

    parts = [
        f"### {ticket.requester or 'Requester'} · {when(ticket.opened_at)}",
        "",
        quote_markdown(ticket.body) or "_(no text)_",
        "",
    ]
    for comment in comments:
        kind = "" if comment.public else " · internal note"
        pending = " · ↻ not yet sent" if comment.pending else ""
        parts += [
            f"### {comment.author}{kind}{pending} · {when(comment.created_at)}",
            "",
            quote_markdown(comment.body),
            "",
        ]
    return "\n".join(parts)


def sla_changes_at(ticket: Ticket, report: ClockReport, now: datetime) -> datetime | None:
    """The first instant after ``now`` at which the reply clocks of ``report`` (``ticket``'s,
    at ``now``) may read differently in the detail, or None when time alone never changes
    them. Not exact but never late: it may come before the text changes, never after.

    What time changes of a clock's words (:func:`~oncall_tui.domain.sla_explain.clock_outcome`):
    a running clock's time left, which shrinks by at most a second a second (business time
    never runs faster than the wall clock), so its text holds at least until the left
    reaches the next value that reads differently; a breached clock's "breached 2h 05m ago",
    on the wall clock; and the history itself, where an event still in the future (or the
    opening) comes into play in its second. Paused and fulfilled clocks read the same.
    """
    from oncall_tui.domain.calendars import from_epoch, to_epoch
    from oncall_tui.domain.sla_clocks import ClockState

    base = to_epoch(report.now)  # the whole second the clocks were evaluated at
    # An event counts from the whole second it falls in (and none before the opening).
    edges = [at for at in (to_epoch(e.at) for e in ticket.sla_events) if at > base]
    for clock in report.targeted:
        left = clock.left or 0
        if clock.state is ClockState.ACTIVE:
            edges.append(base + left - sla_rules.remaining_text_steps(left))
        elif clock.state is ClockState.BREACHED and clock.fulfilled_at is None:
            assert clock.breached_at is not None
            breached = to_epoch(clock.breached_at)
            edges.append(breached - sla_rules.remaining_text_steps(-(base - breached)))
    return from_epoch(min(edges)) if edges else None


_PARTS = ("detail-meta", "detail-sla", "detail-links")


class TicketDetail(VerticalScroll, can_focus=True):
    """The selected ticket, in full."""

    DEFAULT_CSS = """
    TicketDetail { height: 1fr; }
    TicketDetail > Markdown { margin: 0; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.data: DetailData | None = None
        self._shown_sla: tuple[object, ...] | None = None
        self._sla_steady: tuple[tzinfo, datetime, datetime] | None = None
        """(zone, since, until): the SLA breakdown reads the same from since to until."""
        self.now: datetime | None = None
        self.settings: sla_rules.SlaSettings | None = None
        self._mounted_parts: tuple[Static, Static, Static] | None = None
        self._thread: Markdown | None = None

    def _parts(self) -> tuple[Static, Static, Static]:
        """The metadata, SLA and links parts (mounted by the first call)."""
        if self._mounted_parts is None:
            meta, sla, links = (Static(id=name) for name in _PARTS)
            self.mount(meta, sla, links)
            self._mounted_parts = (meta, sla, links)
        return self._mounted_parts

    def _set_thread(self, markdown: str) -> None:
        """Show ``markdown`` in the thread, mounting the Markdown widget the first time."""
        if self._thread is None:
            if markdown:
                from oncall_tui.ui.widgets.readable_markdown import ReadableMarkdown

                self._thread = ReadableMarkdown(markdown, id="detail-thread")
                self.mount(self._thread)
            return
        self._thread.update(markdown)

    def show(self, data: DetailData | None, now: datetime, settings: sla_rules.SlaSettings) -> None:
        """Display ``data`` (None clears)."""
        self.data, self.now, self.settings = data, now, settings
        meta, sla, links = self._parts()
        if data is None:
            meta.update(Text("No ticket selected."))
            sla.update("")
            links.update("")
            self._set_thread("")
            return
        meta.update(self._meta(data))
        self._shown_sla = self._sla_steady = None
        self.refresh_sla(now)
        links.update(self._links(data))
        self._set_thread(thread_markdown(data.ticket, data.comments, shown_tz(self)))
        self.scroll_home(animate=False)

    def refresh_sla(self, now: datetime) -> None:
        """Update the SLA breakdown for ``now`` (called by the screen's tick): nothing to do
        before the instant it may next read differently (:func:`sla_changes_at`)."""
        if self.data is None or self.settings is None:
            return
        self.now = now
        tz = shown_tz(self)
        steady = self._sla_steady
        if steady is not None and steady[0] == tz and steady[1] <= now < steady[2]:
            return
        lines, until = self._sla_lines(self.data, now, tz)
        self._sla_steady = (tz, now, until) if until is not None else None
        if lines == self._shown_sla:
            return  # the breakdown reads the same as a second ago: no re-layout
        self._shown_sla = lines
        self._parts()[1].update(self._sla(lines))

    def _sla_lines(
        self, data: DetailData, now: datetime, tz: tzinfo
    ) -> tuple[tuple[tuple[str, str, str, bool], ...], datetime | None]:
        """Every reply clock: (name, target and rule, state in words, running); and the
        first instant after ``now`` at which they may read differently (None: never)."""
        from oncall_tui.domain.sla_clocks import Metric
        from oncall_tui.domain.sla_explain import clock_outcome, target_text
        from oncall_tui.domain.sla_history import clocks_of

        settings = self.settings
        assert settings is not None
        t = data.ticket
        plan = data.customer.plan if data.customer else t.extra.get("plan")
        report = clocks_of(t, plan, settings, now)
        out = []
        for clock in report.targeted:
            assert clock.target is not None
            name = "First reply" if clock.metric is Metric.FIRST_REPLY else "Next reply"
            rule = f"{target_text(clock.target)} · {clock.target.reason}"
            state = clock_outcome(clock, now, tz)
            when = "%a %Y-%m-%d %H:%M %Z"
            if clock.fulfilled_at is not None:
                how = "answered" if clock.fulfilled_by == "reply" else clock.fulfilled_by
                state += f" · {how} {local(clock.fulfilled_at, tz, when)}"
            elif clock.breached_at is not None:
                state += f" · was due {local(clock.breached_at, tz, when)}"
            out.append((name, rule, state, clock.fulfilled_at is None))
        return tuple(out), sla_changes_at(t, report, now)

    def _meta(self, data: DetailData) -> Table:
        t = data.ticket
        title = Text(t.subject, style="bold")
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column()
        grid.add_row(Text("Ticket"), Text(ticket_ref(t.source, t.remote_id)))
        if data.customer:
            c = data.customer
            grid.add_row(
                Text("Customer"), Text(f"{c.name} · {c.codename or 'no codename'} · {c.plan}")
            )
        grid.add_row(Text("Requester"), Text(t.requester or "—"))
        grid.add_row(
            Text("Priority"),
            Text(f"{t.priority}   Status {t.status}   Assignee {t.assignee or '—'}"),
        )
        grid.add_row(Text("Labels"), Text(", ".join(t.labels) or "—"))
        if (
            data.waiting_until is not None
            and self.now is not None
            and data.waiting_until > self.now
        ):
            local = data.waiting_until.astimezone(
                self.settings.calendar.tz if self.settings else UTC
            )
            grid.add_row(
                Text("Sync"),
                Text(f"↶ waiting: sent at {local:%H:%M:%S} unless undone (u)"),
            )
        elif t.pending_ops:
            grid.add_row(Text("Sync"), Text(f"↻ {t.pending_ops} change(s) not yet confirmed"))
        if data.not_refreshed_since is not None:
            since = data.not_refreshed_since.astimezone(
                self.settings.calendar.tz if self.settings else UTC
            )
            grid.add_row(
                Text("Sync", style="bold"),
                Text(
                    f"not refreshed since {since:%Y-%m-%d %H:%M %Z}: it left what the sync "
                    "keeps fresh (your groups' open work); o opens its current state"
                ),
            )
        for failure in data.failed:
            grid.add_row(Text("Failed", style="bold"), Text(failure))
        for name, sides in data.conflicts.items():
            grid.add_row(
                Text("Conflict", style="bold"),
                Text(
                    f"{name}: yours {sides.get('mine')} · theirs {sides.get('theirs')}  "
                    "(K keep yours, T take theirs)"
                ),
            )
        outer = Table.grid()
        outer.add_row(title)
        outer.add_row(grid)
        return outer

    def _sla(self, lines: tuple[tuple[str, str, str, bool], ...]) -> Table:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column()
        if not lines:
            grid.add_row(Text("SLA"), Text("no response target"))
            return grid
        for name, rule, state, running in lines[-4:]:  # the latest clocks; all: sla explain
            grid.add_row(Text(name), Text(rule))
            grid.add_row(Text(""), Text(state, style="bold" if running else ""))
        return grid

    def _links(self, data: DetailData) -> Text:
        text = Text()
        if data.links:
            text.append("Linked issues\n", style="bold")
            for url, title in data.links:
                text.append(f"  {title}  {url}\n")
        if data.runbooks:
            text.append("Runbooks\n", style="bold")
            for line in data.runbooks:
                text.append(f"  {line}\n")
        return text
