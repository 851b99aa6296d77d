"""Ticket actions shared by the queue and the detail screen.

The label and reply actions are thin here: their work is in ``label_actions`` and
``reply_actions``, imported with the first of them (not at start).

Each action is one local transaction through the store (row changed, outbox entry queued);
the app's ``store_revision`` bump makes every screen re-query.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from textual.binding import Binding

from oncall_tui.domain.ops import OpKind
from oncall_tui.domain.tickets import Priority, Status, ticket_ref, ticket_title
from oncall_tui.settings.config import Config
from oncall_tui.store import Store

PRIORITY_CHOICES = [
    ("P0", "P0 emergency: production down or unusable"),
    ("P1", "P1 high: badly degraded, significant business impact"),
    ("P2", "P2 medium: blocks normal operation, minor impact"),
    ("P3", "P3 low: questions, how-tos"),
]
STATUS_CHOICES = [
    ("new", "new"),
    ("open", "open"),
    ("pending", "pending: waiting on the customer (pauses the SLA)"),
    ("hold", "on hold: waiting on a third party (pauses the SLA)"),
    ("solved", "solved"),
    ("closed", "closed"),
]


TICKET_BINDINGS = [
    Binding("a", "assign_me", "Assign me", id="assign-me"),
    Binding("p", "set_priority", "Priority", id="set-priority"),
    Binding("s", "set_status", "Status", id="set-status"),
    Binding("l", "toggle_label", "Label", id="toggle-label"),
    Binding("r", "reply", "Reply", id="reply"),
    Binding("c", "note", "Note", id="note"),
    Binding("o", "open_browser", "Browser", id="open-browser"),
    Binding("y", "copy_link", "Copy link", id="copy-link"),
    Binding("u", "undo", "Undo", id="undo"),
    Binding("b", "bug_report", "Bug report", id="bug-report"),
    Binding("E", "escalate", "Escalate", id="escalate-bug"),
    Binding("I", "timebox", "Time-box", id="investigate-timebox"),
    Binding("exclamation_mark", "outage", "Outage", id="suspected-outage"),
    Binding("N", "codename", "Codename", id="customer-codename"),
    Binding("R", "runbooks", "Runbooks", id="runbooks"),
    Binding("w", "toggle_watch", "Watch", show=False, id="watch-ticket"),
    Binding("K", "keep_mine", "Keep mine", show=False, id="conflict-keep-mine"),
    Binding("T", "take_theirs", "Take theirs", show=False, id="conflict-take-theirs"),
]


class TicketActions:
    """Mixin for a Screen with ``store``, ``config``, ``templates`` and ``current_id()``.

    Every toast and dialog names the ticket as the queue and the detail show it (its backend
    and the backend's number, with the start of its subject), never by the local id.
    """

    store: Store
    config: Config
    clock: Any
    templates: list[Any]
    app: Any
    notify: Any

    def current_id(self) -> int | None:  # overridden by each screen
        raise LookupError("no current ticket")

    def _ticket_name(self, tid: int, *, subject: bool = True) -> str:
        ticket = self.store.tickets.get_ticket(tid)
        if not subject:
            return ticket_ref(ticket.source, ticket.remote_id)
        return ticket_title(ticket.source, ticket.remote_id, ticket.subject)

    def _after_edit(self, message: str) -> None:
        self.app.after_edit(message)

    def _guard(self, fn, *args, message: str) -> Any:  # type: ignore[no-untyped-def]
        """Run one local edit; a refusal or a busy database is one clear line, not a crash."""
        try:
            result = fn(*args)
        except (ValueError, LookupError) as exc:
            self.notify(str(exc), severity="error", markup=False)
            return None
        except sqlite3.OperationalError as exc:  # another instance or a long sync is writing
            self.notify(
                f"The local database is busy ({exc}): nothing was changed, try again.",
                severity="error",
                markup=False,
            )
            return None
        self._after_edit(message() if callable(message) else message)
        return result if result is not None else True

    def action_toggle_watch(self) -> None:
        """Watch the ticket (a toast, and a desktop notification if configured, when a sync
        changes it), or stop watching it."""
        tid = self.current_id()
        if tid is None:
            return
        watched = not self.store.watches.is_watched(tid)
        self.store.watches.set_watched(tid, watched)
        name = self._ticket_name(tid)
        self.notify(
            f"Watching {name}: a change from a sync is told (w stops)."
            if watched
            else f"No longer watching {name}.",
            timeout=4,
            markup=False,
        )

    def action_assign_me(self) -> None:
        tid = self.current_id()
        if tid is not None:
            self._guard(
                self.store.tickets.assign,
                tid,
                self.config.user,
                message=f"{self._ticket_name(tid)} assigned to {self.config.user}",
            )

    def action_set_priority(self) -> None:
        self._choose("priority", PRIORITY_CHOICES, self.store.tickets.set_priority, Priority)

    def action_set_status(self) -> None:
        self._choose("status", STATUS_CHOICES, self.store.tickets.set_status, Status)

    def _choose(self, what: str, choices: list[tuple[str, str]], setter: Any, value: Any) -> None:
        """Pick the ticket's ``what`` (its attribute) from ``choices``; ``setter`` stores it."""
        from oncall_tui.ui.screens.choice_screen import ChoiceScreen

        tid = self.current_id()
        if tid is None:
            return
        current = str(getattr(self.store.tickets.get_ticket(tid), what))
        name = self._ticket_name(tid)

        def done(choice: str | None) -> None:
            if choice:
                self._guard(setter, tid, value(choice), message=f"{name}: {what} {choice}")

        title = f"{what.capitalize()} of {name}"
        self.app.push_screen(ChoiceScreen(title, choices, current), done)

    # ---- labels, replies and notes: in label_actions / reply_actions, loaded on first use -----

    def action_toggle_label(self) -> None:
        from oncall_tui.ui.screens.label_actions import toggle_label

        toggle_label(self)

    def action_reply(self) -> None:
        from oncall_tui.ui.screens.reply_actions import reply

        reply(self)

    def action_note(self) -> None:
        from oncall_tui.ui.screens.reply_actions import note

        note(self)

    def _current_url(self) -> str | None:
        """The current ticket's web link; None, said in a toast, before it is synced."""
        tid = self.current_id()
        if tid is None:
            return None
        url = self.store.tickets.get_ticket(tid).url
        if not url:
            self.notify(
                f"{self._ticket_name(tid)} has no web link yet (not synced).",
                severity="warning",
                markup=False,
            )
        return url or None

    def action_open_browser(self) -> None:
        url = self._current_url()
        if url is not None:
            from oncall_tui.ui.browser import open_link

            open_link(self.app, url)

    def action_copy_link(self) -> None:
        url = self._current_url()
        if url is not None:
            self.app.copy_to_clipboard(url)
            self.notify(f"Copied {url}", markup=False, timeout=3)

    def action_bug_report(self) -> None:
        """File a bug report from the ticket (resumes its open draft if there is one)."""
        tid = self.current_id()
        if tid is not None:
            from oncall_tui.ui.screens.bug_report_screen import open_bug_report

            open_bug_report(self.app, self.store, self.config, self.clock, ticket_id=tid)

    def action_escalate(self) -> None:
        """Walk a tracker bug through the escalation labels (domain.labels)."""
        from oncall_tui.ui.screens.label_actions import escalate

        escalate(self)

    def action_timebox(self) -> None:
        """Start (or stop) the investigation time-box on the current ticket."""
        tid = self.current_id()
        if tid is not None:
            from oncall_tui.ui.screens.escalation_bar import toggle_timebox

            toggle_timebox(self, tid)

    def action_codename(self) -> None:
        """Pick a codename for the ticket's customer and create its labels."""
        tid = self.current_id()
        if tid is not None:
            from oncall_tui.ui.screens.codename import ask_codename

            ask_codename(self, tid)

    def action_outage(self) -> None:
        """File a suspected-outage issue for the current ticket (and others by number)."""
        tid = self.current_id()
        if tid is not None:
            from oncall_tui.ui.screens.outage import ask_outage

            ask_outage(self, tid)

    def action_runbooks(self) -> None:
        """Runbooks beside the current ticket."""
        tid = self.current_id()
        if tid is not None:
            from oncall_tui.ui.screens.runbook_screen import RunbookScreen

            self.app.push_screen(RunbookScreen.from_context(self.app.ctx, tid))

    def _resolve(self, keep_mine: bool) -> None:
        tid = self.current_id()
        if tid is None:
            return
        name = self._ticket_name(tid)
        if not self.store.remote.conflicts(tid):
            self.notify(f"{name} has no conflict to resolve.", timeout=3, markup=False)
            return
        self._guard(
            lambda: self.store.remote.resolve_conflict(tid, keep_mine=keep_mine),
            message=f"{name}: keeping your changes; they will be sent"
            if keep_mine
            else f"{name}: took the remote values; your unsent changes were dropped",
        )

    def action_keep_mine(self) -> None:
        """Conflict: keep the local edits (they are pushed over the remote change)."""
        self._resolve(keep_mine=True)

    def action_take_theirs(self) -> None:
        """Conflict: take the remote values and drop the unsent local edits."""
        self._resolve(keep_mine=False)

    def _relabel(self, tid: int, change: Any) -> None:
        with self.store.db.atomic():
            if change.remove:
                self.store.tickets.remove_labels(tid, list(change.remove))
            if change.add:
                self.store.tickets.add_labels(tid, list(change.add))

    def action_undo(self) -> None:
        """Take back the last change still waiting to be sent (its text back to the drafts)."""
        online = getattr(self.app, "engine", None) is not None
        now = self.clock()
        undone: list[Any] = []

        def undo() -> None:
            with self.store.db.atomic():
                op = self.store.outbox.undo_last(now if online else None)
                if op is not None and op.kind in (OpKind.REPLY, OpKind.NOTE):
                    body = str(op.payload.get("body") or "")
                    kind = "reply" if op.kind is OpKind.REPLY else "note"
                    from oncall_tui.ui.screens.compose_screen import first_line

                    self.store.drafts.create_draft(
                        kind, op.ticket_id, {"body": body, "title": first_line(body)}
                    )
                elif op is not None and op.kind is OpKind.POST_MESSAGE and op.id is not None:
                    self.store.escalation.reopen_drafts_of(op.id)  # a posted draft is a draft again
                undone.append(op)

        def message() -> str:
            op = undone[0]
            what = op.kind.replace("_", " ")
            name = self._ticket_name(op.ticket_id) if op.ticket_id is not None else "a new item"
            text = f"Undone: {what} on {name}; it will not be sent"
            if op.kind in (OpKind.REPLY, OpKind.NOTE):
                key = "r" if op.kind is OpKind.REPLY else "c"
                text += f". Its text is back in your drafts ({key} resumes it)"
            if op.kind is OpKind.POST_MESSAGE:
                where = str(op.payload.get("channel") or "the channel")
                text = (
                    f"Undone: the message for {where}; it will not be sent. Its draft is "
                    "back in Drafts (D resumes it)"
                )
            return text

        try:
            undo()
        except (ValueError, LookupError) as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        except sqlite3.OperationalError as exc:
            self.notify(
                f"The local database is busy ({exc}): nothing was undone, try again.",
                severity="error",
                markup=False,
            )
            return
        if undone[0] is None:
            seconds = self.config.undo_seconds
            if not online:
                why = "every change has already been sent"
            elif seconds:
                why = f"a change waits {seconds:g} s before it is sent, and none is waiting"
            else:
                why = "changes are sent at once (undo_seconds = 0)"
            self.notify(f"Nothing to undo: {why}.", timeout=4)
            return
        self._after_edit(message())
