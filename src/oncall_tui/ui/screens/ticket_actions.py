"""Ticket actions shared by the queue and the detail screen.

Each action is one local transaction through the store (row changed, outbox entry queued);
the app's ``store_revision`` bump makes every screen re-query.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from textual.binding import Binding

from oncall_tui.config import Config
from oncall_tui.domain.tickets import Priority, Status
from oncall_tui.store import Store
from oncall_tui.ui.screens.choice_screen import ChoiceScreen
from oncall_tui.ui.screens.prompt_screen import PromptScreen

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
COMMON_LABELS = [
    "+more info please",
    "+waiting on logs",
    "bug",
    "~investigate",
    ":help-customers",
    ":reproduce",
    ":incoming",
    ":product",
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
    Binding("R", "runbooks", "Runbooks", id="runbooks"),
    Binding("K", "keep_mine", "Keep mine", show=False, id="conflict-keep-mine"),
    Binding("T", "take_theirs", "Take theirs", show=False, id="conflict-take-theirs"),
]


class TicketActions:
    """Mixin for a Screen with ``store``, ``config``, ``templates`` and ``current_id()``."""

    store: Store
    config: Config
    clock: Any
    templates: list[Any]
    app: Any
    notify: Any

    def current_id(self) -> int | None:  # overridden by each screen
        raise LookupError("no current ticket")

    def _after_edit(self, message: str) -> None:
        self.app.store_revision += 1
        self.app.request_push()  # type: ignore[attr-defined]
        self.notify(message, markup=False, timeout=3)

    def _guard(self, fn, *args, message: str) -> None:  # type: ignore[no-untyped-def]
        try:
            fn(*args)
        except (ValueError, LookupError) as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        except sqlite3.OperationalError as exc:  # another instance or a long sync is writing
            self.notify(
                f"The local database is busy ({exc}): nothing was changed, try again.",
                severity="error",
                markup=False,
            )
            return
        self._after_edit(message)

    def action_assign_me(self) -> None:
        tid = self.current_id()
        if tid is not None:
            self._guard(
                self.store.assign,
                tid,
                self.config.user,
                message=f"#{tid} assigned to {self.config.user}",
            )

    def action_set_priority(self) -> None:
        tid = self.current_id()
        if tid is None:
            return
        current = str(self.store.get_ticket(tid).priority)

        def done(choice: str | None) -> None:
            if choice:
                self._guard(
                    self.store.set_priority,
                    tid,
                    Priority(choice),
                    message=f"#{tid} priority {choice}",
                )

        self.app.push_screen(ChoiceScreen("Set priority", PRIORITY_CHOICES, current), done)

    def action_set_status(self) -> None:
        tid = self.current_id()
        if tid is None:
            return
        current = str(self.store.get_ticket(tid).status)

        def done(choice: str | None) -> None:
            if choice:
                self._guard(
                    self.store.set_status, tid, Status(choice), message=f"#{tid} status {choice}"
                )

        self.app.push_screen(ChoiceScreen("Set status", STATUS_CHOICES, current), done)

    def action_toggle_label(self) -> None:
        tid = self.current_id()
        if tid is None:
            return
        ticket = self.store.get_ticket(tid)

        def done(label: str | None) -> None:
            if not label:
                return
            if label in ticket.labels:
                self._guard(
                    self.store.remove_labels, tid, [label], message=f"#{tid} label removed: {label}"
                )
            else:
                self._guard(
                    self.store.add_labels, tid, [label], message=f"#{tid} label added: {label}"
                )

        current = ", ".join(ticket.labels) or "none"
        self.app.push_screen(
            PromptScreen(
                "Add or remove a label",
                hint=f"Now: {current}. A label already there is removed; a label starting "
                "with + pauses the SLA clock.",
                suggestions=sorted(set(COMMON_LABELS) | set(ticket.labels)),
            ),
            done,
        )

    def _template_context(self, tid: int) -> dict[str, str]:
        ticket = self.store.get_ticket(tid)
        customer = self.store.get_customer(ticket.customer_id)
        context = {
            "ticket_id": ticket.remote_id or str(ticket.id),
            "ticket_url": ticket.url or "",
            "requester": (ticket.requester or "").split("@")[0] or "there",
            "agent": self.config.user,
            "subject": ticket.subject,
        }
        if customer:
            context["customer"] = customer.name
            context["codename"] = customer.codename or ""
        links = self.store.links(tid)
        if links:
            context["issue_url"] = links[-1][0]
        return {k: v for k, v in context.items() if v}

    def action_reply(self) -> None:
        tid = self.current_id()
        if tid is None:
            return
        from oncall_tui.domain.templates import fill
        from oncall_tui.ui.screens.compose_screen import ComposeScreen  # TextArea: off start-up

        templates = {t.id: t for t in self.templates}
        options = [("", "Blank reply")] + [(t.id, t.title) for t in self.templates]

        def write(text: str | None) -> None:
            if text:
                self._guard(self._reply, tid, text, message=f"#{tid} reply queued")

        def chosen(template_id: str | None) -> None:
            if template_id is None:
                return
            body = ""
            if template_id:
                body = fill(templates[template_id], self._template_context(tid))
            self.app.push_screen(ComposeScreen(f"Reply to #{tid}", body), write)

        self.app.push_screen(ChoiceScreen("Reply with a template", options), chosen)

    def action_note(self) -> None:
        tid = self.current_id()
        if tid is None:
            return
        from oncall_tui.ui.screens.compose_screen import ComposeScreen  # TextArea: off start-up

        def write(text: str | None) -> None:
            if text:
                self._guard(self._note, tid, text, message=f"#{tid} internal note queued")

        self.app.push_screen(ComposeScreen(f"Internal note on #{tid}"), write)

    def _reply(self, tid: int, text: str) -> None:
        self.store.add_comment(tid, text, public=True, author=self.config.user)

    def _note(self, tid: int, text: str) -> None:
        self.store.add_comment(tid, text, public=False, author=self.config.user)

    def action_open_browser(self) -> None:
        tid = self.current_id()
        if tid is None:
            return
        url = self.store.get_ticket(tid).url
        if not url:
            self.notify("This ticket has no web link yet (not synced).", severity="warning")
            return
        self.app.open_url(url)

    def action_copy_link(self) -> None:
        tid = self.current_id()
        if tid is None:
            return
        url = self.store.get_ticket(tid).url
        if not url:
            self.notify("This ticket has no web link yet (not synced).", severity="warning")
            return
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
        tid = self.current_id()
        if tid is None:
            return
        from oncall_tui.domain import labels as escalation
        from oncall_tui.domain.tickets import Source
        from oncall_tui.ui.screens.bug_report_screen import bug_report_settings

        ticket = self.store.get_ticket(tid)
        if ticket.source is not Source.TRACKER:
            self.notify(
                "Escalation labels go on tracker issues; this is not one. File a bug report "
                "with b.",
                severity="warning",
            )
            return
        scheme = bug_report_settings(self.config).scheme
        s = scheme
        options = [
            (
                "suspect",
                f"Suspected customer impact: +{s.investigate} +{s.help_customers}, "
                f"-{s.incoming} -{s.reproduce}",
            ),
            ("reproduced", f"Reproduced: to the product board, +{s.product} -{s.investigate}"),
            (
                "not_reproduced",
                f"Not reproduced: back to QA, +{s.incoming} +{s.reproduce} -{s.investigate}",
            ),
        ]
        transitions = {
            "suspect": escalation.suspect_customer_impact,
            "reproduced": escalation.mark_reproduced,
            "not_reproduced": escalation.mark_not_reproduced,
        }
        stage = escalation.stage_of(ticket.labels, scheme).value.replace("_", " ")
        ref = ticket.remote_id or f"#{tid}"

        def done(choice: str | None) -> None:
            if choice not in transitions:
                return
            try:
                change = transitions[choice](self.store.get_ticket(tid).labels, scheme)
            except escalation.TransitionError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            if not change:
                self.notify("Nothing to change: the labels are already there.", timeout=3)
                return
            shown = " ".join([*(f"+{x}" for x in change.add), *(f"-{x}" for x in change.remove)])
            self._guard(self._relabel, tid, change, message=f"{ref} labels queued: {shown}")

        self.app.push_screen(ChoiceScreen(f"Escalate {ref} (now: {stage})", options), done)

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
        if not self.store.conflicts(tid):
            self.notify("This ticket has no conflict to resolve.", timeout=3)
            return
        self.store.resolve_conflict(tid, keep_mine=keep_mine)
        self._after_edit(
            f"#{tid}: keeping your changes; they will be sent"
            if keep_mine
            else f"#{tid}: took the remote values; your unsent changes were dropped"
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
                self.store.remove_labels(tid, list(change.remove))
            if change.add:
                self.store.add_labels(tid, list(change.add))

    def action_undo(self) -> None:
        op = self.store.undo_last()
        if op is None:
            self.notify("Nothing to undo: every change has already been sent.", timeout=3)
            return
        self._after_edit(f"Undone: {op.kind.replace('_', ' ')} on #{op.ticket_id}")
