"""Ticket actions shared by the queue and the detail screen.

Each action is one local transaction through the store (row changed, outbox entry queued);
the app's ``store_revision`` bump makes every screen re-query.
"""

from __future__ import annotations

from typing import Any

from textual.binding import Binding

from oncall_tui.config import Config
from oncall_tui.domain.tickets import Priority, Status
from oncall_tui.store import Store
from oncall_tui.ui.screens.choice_screen import ChoiceScreen
from oncall_tui.ui.screens.compose_screen import ComposeScreen
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
]


class TicketActions:
    """Mixin for a Screen with ``store``, ``config``, ``templates`` and ``current_id()``."""

    store: Store
    config: Config
    templates: list[Any]
    app: Any
    notify: Any

    def current_id(self) -> int | None:  # overridden by each screen
        raise LookupError("no current ticket")

    def _after_edit(self, message: str) -> None:
        self.app.store_revision += 1  # type: ignore[attr-defined]
        self.notify(message, markup=False, timeout=3)

    def _guard(self, fn, *args, message: str) -> None:  # type: ignore[no-untyped-def]
        try:
            fn(*args)
        except (ValueError, LookupError) as exc:
            self.notify(str(exc), severity="error", markup=False)
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

    def action_undo(self) -> None:
        op = self.store.undo_last()
        if op is None:
            self.notify("Nothing to undo: every change has already been sent.", timeout=3)
            return
        self._after_edit(f"Undone: {op.kind.replace('_', ' ')} on #{op.ticket_id}")
