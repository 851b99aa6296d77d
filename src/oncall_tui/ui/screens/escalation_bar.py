"""EscalationBar: the running investigation time-boxes and outage reminders, one line.

The queue's bar also watches: once a second it looks for a time-box that is over (and nudges
with the handbook's options, each a pre-filled draft) and an outage reminder that is due (and
reminds the owner to post an update, until the issue is closed). Both are rows in the
database, so a restart keeps them; a timer is claimed with a conditional update before it
nudges, so two instances on one database nudge once. Other screens show the bar only.
"""

from __future__ import annotations

import math
import sqlite3
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import Static

from oncall_tui.domain.tickets import Source, ticket_ref

if TYPE_CHECKING:  # the escalation loop loads with the first timer, not with the queue
    from oncall_tui.domain import escalation as esc


def toggle_timebox(screen: Any, tid: int) -> None:
    """Start the ticket's investigation time-box, or stop the one running."""
    store = screen.store
    name = screen._ticket_name(tid)
    settings = screen.config.escalation
    try:
        timer = store.escalation.timebox_for(tid)
        if timer is not None:
            store.escalation.stop_timer(timer.id)
            message = f"{name}: investigation time-box stopped"
        else:
            store.escalation.start_timebox(tid, screen.clock() + settings.timebox)
            message = (
                f"{name}: investigating, time-box {settings.timebox_minutes:g} min "
                "(I again stops it)"
            )
    except (LookupError, sqlite3.Error) as exc:
        screen.notify(f"Time-box not changed: {exc}", severity="error", markup=False)
        return
    screen.app.store_revision += 1
    screen.notify(message, markup=False, timeout=3)


def start_timebox(screen: Any, tid: int) -> None:
    """Start the time-box when an investigation starts (escalation's "suspect"), quietly
    keeping one that runs already."""
    try:
        if screen.store.escalation.timebox_for(tid) is None:
            screen.store.escalation.start_timebox(
                tid, screen.clock() + screen.config.escalation.timebox
            )
    except (LookupError, sqlite3.Error):
        return


class EscalationBar(Static):
    """One line over the key bar; hidden while nothing runs."""

    DEFAULT_CSS = "EscalationBar { height: 1; padding: 0 1; }"

    def __init__(self, *, watch: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.watching = watch
        self._offering = False
        self._offer_waiting = False
        self._announced: set[int] = set()  # time-boxes over while another screen was in front

    def on_mount(self) -> None:
        self.display = False
        self.set_interval(1.0, self.tick)
        if self.watching:
            self.watch(self.app, "store_revision", self._store_changed, init=False)
            self.call_after_refresh(self._store_changed)
        # After the first frame: the escalation store (and the ticket and draft stores it
        # brings) loads once the queue is on screen, not before it.
        self.call_after_refresh(self.tick)

    @property
    def _ctx(self) -> Any:
        return self.app.ctx  # type: ignore[attr-defined]

    def tick(self) -> None:
        ctx = self._ctx
        if self._offer_waiting and self._own_screen_active():
            self._store_changed()  # back on the queue: the update offer put off until now
        now = ctx.clock()
        try:
            timers = ctx.store.escalation.timers()
        except sqlite3.Error:
            return  # busy or damaged: the app says so elsewhere; try again next second
        parts: list[str] = []
        if timers:
            from oncall_tui.domain import escalation as esc
        for timer in timers:
            if timer.kind == "timebox":
                if self.watching and timer.due_at <= now:
                    if self._own_screen_active():
                        self._nudge(timer, now)
                        continue
                    # over another screen the options would take the keys typed there: say
                    # so once, and open them within a second of going back to the queue
                    self._announce(timer)
                    parts.append(f"⏱ {self._ref(timer.ticket_id)}: time is up")
                    continue
                ref = self._ref(timer.ticket_id)
                left = esc.format_left(esc.time_left(timer.due_at, now))
                parts.append(f"⏱ investigating {ref}: {left} left")
            elif timer.kind == "outage":
                if self.watching and timer.due_at <= now:
                    self._remind(timer, now)
                    continue
                left = esc.format_left(esc.time_left(timer.due_at, now))
                parts.append(f"⚠ {timer.title}: update in {left}")
        self.display = bool(parts)
        if parts:
            self.update(Text(" · ".join(parts), no_wrap=True, overflow="ellipsis"))

    def _ref(self, tid: int | None) -> str:
        if tid is None:
            return "?"
        try:
            ticket = self._ctx.store.tickets.get_ticket(tid)
        except LookupError:
            return "a ticket that is gone"
        return ticket_ref(ticket.source, ticket.remote_id)

    # ---- the nudge at the end of a time-box ------------------------------------------------

    def _announce(self, timer: Any) -> None:
        if timer.id in self._announced:
            return
        self._announced.add(timer.id)
        self.app.bell()
        self.notify(
            f"The time-box on {self._ref(timer.ticket_id)} is over: its options open when you "
            "are back on the queue.",
            timeout=6,
            markup=False,
        )

    def _nudge(self, timer: Any, now: datetime) -> None:
        store = self._ctx.store
        if not store.escalation.stop_timer(timer.id, "nudged"):
            return  # another instance took it
        tid = timer.ticket_id
        if tid is None:
            return
        from oncall_tui.domain import escalation as esc
        from oncall_tui.ui.screens.choice_screen import ChoiceScreen

        minutes = self._ctx.config.escalation.timebox_minutes
        options = [(str(n), label) for n, label in esc.NUDGE_LABELS.items()]
        options += [
            ("extend", f"Keep going: another {minutes:g} minutes"),
            ("stop", "Stop the time-box"),
        ]
        ref = self._ref(tid)

        def chosen(choice: str | None) -> None:
            if choice == "extend":
                store.escalation.start_timebox(tid, self._ctx.clock() + timedelta(minutes=minutes))
                self.app.store_revision += 1  # type: ignore[attr-defined]
            elif choice in {str(n) for n in esc.Nudge}:
                draft_nudge(self.app, tid, esc.Nudge(choice))

        self.app.bell()
        self.app.push_screen(
            ChoiceScreen(f"{minutes:g} minutes on {ref}: time to change tack", options),
            chosen,
        )

    # ---- the outage reminder -------------------------------------------------------------

    def _remind(self, timer: Any, now: datetime) -> None:
        store = self._ctx.store
        issue = store.escalation.outage_issue(timer)
        if issue is not None and issue.is_done:
            store.escalation.stop_timer(timer.id, "closed")
            self.notify(f"{timer.title} is closed: no more update reminders.", timeout=4)
            return
        every = timedelta(seconds=timer.interval_seconds or 3600)
        from oncall_tui.domain import escalation as esc

        following = esc.next_reminder(timer.due_at, now, every)
        if not store.escalation.reschedule_timer(timer.id, following, expected=timer.due_at):
            return  # another instance reminded
        where = ticket_ref(issue.source, issue.remote_id) if issue else "the outage issue"
        # the reminders keep their rhythm: after a night away the next may be sooner
        minutes = math.ceil((following - now).total_seconds() / 60)
        self.app.bell()
        self.notify(
            f"Suspected outage: post an update on {where} ({timer.title}). Next reminder in "
            f"{minutes} min (every {every.total_seconds() / 60:g}), until it is closed.",
            severity="warning",
            timeout=10,
            markup=False,
        )

    # ---- link-back -----------------------------------------------------------------------

    def _own_screen_active(self) -> bool:
        try:
            return self.app.screen is self.screen
        except Exception:  # noqa: BLE001 - not mounted on a screen (yet, or any more)
            return False

    def _store_changed(self, *_: object) -> None:
        """Offer link-back updates, but only while the queue is the active screen: a dialog
        over another screen (a reply being typed) would take the keys meant for it. Put off,
        the offer comes within a second of going back to the queue."""
        if self._offering:
            return
        if not self._own_screen_active():
            self._offer_waiting = True
            return
        self._offer_waiting = False
        from oncall_tui.ui.screens.linkback import offer_link_updates

        self._offering = True

        def done() -> None:
            self._offering = False

        offer_link_updates(self.app, done)


def draft_nudge(app: Any, tid: int, nudge: esc.Nudge) -> None:
    """Open the pre-filled draft for one of the time-box's options."""
    from oncall_tui.domain import escalation as esc

    ctx = app.ctx
    store = ctx.store
    settings = ctx.config.escalation
    ticket = store.tickets.get_ticket(tid)
    thread = ticket
    if nudge in (esc.Nudge.LOGS, esc.Nudge.CALL) and ticket.source is Source.TRACKER:
        linked = [
            n.ticket_id for n in store.escalation.link_notices() if n.issue and n.issue.id == tid
        ]
        if not linked:
            app.notify(
                f"{ticket_ref(ticket.source, ticket.remote_id)} has no customer ticket linked: "
                "ask on the customer's own ticket.",
                severity="warning",
                markup=False,
            )
            return
        thread = store.tickets.get_ticket(linked[0])
    context = {
        "ref": ticket_ref(ticket.source, ticket.remote_id),
        "ticket_url": ticket.url or "",
        "agent": ctx.config.user,
        "requester": (thread.requester or "").split("@")[0],
    }
    text = esc.nudge_text(nudge, settings, context)
    from oncall_tui.ui.screens.compose_screen import ComposeScreen, open_compose

    if nudge in (esc.Nudge.LOGS, esc.Nudge.CALL):  # asked of the customer, on their thread
        on, kind = thread, "reply"
        draft_id = store.escalation.queue_reply_draft(thread.id, text)
        text = _body(store, draft_id)
    else:
        from oncall_tui.domain.ops import OpKind, is_supported

        on, kind = ticket, "note"
        fields = {"body": text, "title": text.splitlines()[0]}
        if nudge is not esc.Nudge.ENGINEER or not is_supported(ticket.source, OpKind.NOTE):
            # The developer on call: a message in the engineering help channel (never a DM),
            # in the reply dialog; ctrl+s posts it through the outbox (post_message), the
            # guard first.
            kind = "channel"
            fields["channel"] = settings.help_channel
        draft_id = store.drafts.create_draft(kind, tid, fields)
        if kind == "channel":
            app.store_revision += 1
    screen = ComposeScreen(
        store, on, kind, text, author=ctx.config.user, clock=ctx.clock, draft_id=draft_id
    )
    open_compose(app, screen)


def _body(store: Any, draft_id: int) -> str:
    draft = store.drafts.get_draft(draft_id)
    return str(draft.fields.get("body", "")) if draft else ""
