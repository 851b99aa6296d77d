"""Ticket actions shared by the queue and the detail screen.

Each action is one local transaction through the store (row changed, outbox entry queued);
the app's ``store_revision`` bump makes every screen re-query.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from textual.binding import Binding

from oncall_tui.domain.ops import OpKind
from oncall_tui.domain.tickets import Priority, Source, Status, Ticket, ticket_ref, ticket_title
from oncall_tui.settings.config import Config
from oncall_tui.store import Store

if TYPE_CHECKING:  # the guard loads with the first labelling or reply, not at start
    from oncall_tui.domain import guard

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
        ticket = self.store.get_ticket(tid)
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
        watched = not self.store.is_watched(tid)
        self.store.set_watched(tid, watched)
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
                self.store.assign,
                tid,
                self.config.user,
                message=f"{self._ticket_name(tid)} assigned to {self.config.user}",
            )

    def action_set_priority(self) -> None:
        from oncall_tui.ui.screens.choice_screen import ChoiceScreen

        tid = self.current_id()
        if tid is None:
            return
        current = str(self.store.get_ticket(tid).priority)
        name = self._ticket_name(tid)

        def done(choice: str | None) -> None:
            if choice:
                self._guard(
                    self.store.set_priority,
                    tid,
                    Priority(choice),
                    message=f"{name}: priority {choice}",
                )

        self.app.push_screen(ChoiceScreen(f"Priority of {name}", PRIORITY_CHOICES, current), done)

    def action_set_status(self) -> None:
        from oncall_tui.ui.screens.choice_screen import ChoiceScreen

        tid = self.current_id()
        if tid is None:
            return
        current = str(self.store.get_ticket(tid).status)
        name = self._ticket_name(tid)

        def done(choice: str | None) -> None:
            if choice:
                self._guard(
                    self.store.set_status, tid, Status(choice), message=f"{name}: status {choice}"
                )

        self.app.push_screen(ChoiceScreen(f"Status of {name}", STATUS_CHOICES, current), done)

    # ---- the guard on public labels ------------------------------------------------------------

    def _public_hits(self, ticket: Ticket, text_by_field: dict[str, str]) -> list[guard.GuardHit]:
        """The guard's findings for labels or text about to be published on ``ticket``."""
        from oncall_tui.domain import guard

        customer = self.store.get_customer(ticket.customer_id)
        return guard.check_public(text_by_field, self.store.customers(), own=customer)

    def _guarded_labels(self, ticket: Ticket, labels: list[str], then: Any, *, name: str) -> None:
        """Run ``then()`` unless a label going on a public issue names a customer; then the
        engineer may still add it, with a reason that goes to the sync log."""
        from oncall_tui.domain import guard
        from oncall_tui.ui.screens.choice_screen import ChoiceScreen
        from oncall_tui.ui.screens.prompt_screen import PromptScreen

        if not labels or not guard.needs_guard(ticket.source, OpKind.ADD_LABELS):
            then()
            return
        hits = self._public_hits(ticket, {label: label for label in labels})
        if not hits:
            then()
            return
        named = ", ".join(dict.fromkeys(f"“{h.field_id}” names {h.customer}" for h in hits))

        def reason(text: str | None) -> None:
            if not text:
                self.notify("Label not added.", timeout=3)
                return
            self.store.log(
                "guard",
                "warning",
                f"override on {ticket_ref(ticket.source, ticket.remote_id)}: labels "
                f"{', '.join(labels)}; reason: {text}",
            )
            then()

        def choice(value: str | None) -> None:
            if value == "override":
                self.app.push_screen(
                    PromptScreen(
                        "Override the confidentiality guard",
                        hint=f"Why put {named} on a public issue? The reason is recorded in "
                        "the sync log.",
                    ),
                    reason,
                )
            else:
                self.notify("Label not added: it would name a customer in public.", timeout=4)

        self.app.push_screen(
            ChoiceScreen(
                f"{name} is public: {named}",
                [
                    ("cancel", "Don't add it (use the codename label, e.g. customer-<codename>)"),
                    ("override", "Add it anyway, with a reason"),
                ],
            ),
            choice,
        )

    def action_toggle_label(self) -> None:
        from oncall_tui.ui.screens.prompt_screen import PromptScreen

        tid = self.current_id()
        if tid is None:
            return
        ticket = self.store.get_ticket(tid)
        name = self._ticket_name(tid)

        def done(label: str | None) -> None:
            if not label:
                return
            if label in ticket.labels:
                self._guard(
                    self.store.remove_labels,
                    tid,
                    [label],
                    message=f"{name}: label removed: {label}",
                )
            else:
                self._guarded_labels(
                    ticket,
                    [label],
                    lambda: self._guard(
                        self.store.add_labels,
                        tid,
                        [label],
                        message=f"{name}: label added: {label}",
                    ),
                    name=name,
                )

        current = ", ".join(ticket.labels) or "none"
        self.app.push_screen(
            PromptScreen(
                f"Add or remove a label on {name}",
                hint=f"Now: {current}. A label already there is removed; a label starting "
                "with + pauses the SLA clock.",
                suggestions=sorted(set(COMMON_LABELS) | set(ticket.labels)),
            ),
            done,
        )

    # ---- replies and notes -------------------------------------------------------------------

    def _template_context(self, tid: int) -> dict[str, str]:
        """Values for the placeholders; what is not known here stays unfilled (and blocks)."""
        from oncall_tui.domain import guard
        from oncall_tui.domain.templates import display_name

        ticket = self.store.get_ticket(tid)
        customer = self.store.get_customer(ticket.customer_id)
        public = guard.needs_guard(ticket.source, OpKind.REPLY)
        context = {
            "ticket_id": ticket.remote_id or "",
            "ticket_url": ticket.url or "",
            "requester": display_name(ticket.requester, customer.contacts if customer else ())
            or "",
            "agent": self.config.user,
            "subject": ticket.subject,
        }
        if customer:
            if not public:  # the real name goes to the customer only, never in public
                context["customer"] = customer.name
            context["codename"] = customer.codename or ""
        links = self.store.links(tid)
        if links:
            context["issue_url"] = links[-1][0]
        return {k: v for k, v in context.items() if v}

    def _open_compose(
        self,
        tid: int,
        kind: str,
        text: str = "",
        *,
        draft_id: int | None = None,
        template: str | None = None,
    ) -> None:
        from oncall_tui.ui.screens.compose_screen import open_compose

        open_compose(
            self.app,
            self.store,
            self.store.get_ticket(tid),
            kind,
            text,
            author=self.config.user,
            clock=self.clock,
            draft_id=draft_id,
            template=template,
        )

    def _resume(self, tid: int, kind: str) -> bool:
        """Open the ticket's draft of ``kind`` if there is one (r / c resume it)."""
        draft = self.store.draft_for_ticket(kind, tid)
        if draft is None:
            return False
        what = "reply" if kind == "reply" else "note"
        from oncall_tui.ui.times import local, shown_tz

        self.notify(
            f"Resuming your {what} draft from {local(draft.updated_at, shown_tz(self))}.",
            timeout=3,
        )
        self._open_compose(tid, kind, draft.fields.get("body", ""), draft_id=draft.id)
        return True

    def action_reply(self) -> None:
        from oncall_tui.ui.screens.choice_screen import ChoiceScreen

        tid = self.current_id()
        if tid is None or self._resume(tid, "reply"):
            return
        from oncall_tui.domain.templates import render

        templates = {t.id: t for t in self.templates}
        options = [("", "Blank reply")] + [(t.id, t.title) for t in self.templates]
        name = self._ticket_name(tid)

        def chosen(template_id: str | None) -> None:
            if template_id is None:
                return
            body = ""
            if template_id:
                rendered = render(templates[template_id], self._template_context(tid))
                body = rendered.text
                if rendered.missing:
                    names = ", ".join("{" + n + "}" for n in rendered.missing)
                    self.notify(
                        f"Fill in {names}: not known for {self._ticket_name(tid, subject=False)}. "
                        "The reply cannot be sent until it is.",
                        severity="warning",
                        markup=False,
                        timeout=6,
                    )
            self._open_compose(tid, "reply", body, template=template_id or None)

        self.app.push_screen(ChoiceScreen(f"Reply on {name}: a template", options), chosen)

    def action_note(self) -> None:
        tid = self.current_id()
        if tid is None or self._resume(tid, "note"):
            return
        ticket = self.store.get_ticket(tid)
        from oncall_tui.domain.ops import is_supported

        if not is_supported(ticket.source, OpKind.NOTE):
            self.notify(
                f"{self._ticket_name(tid, subject=False)} is public: internal notes are not "
                "possible there (anything written is public). Reply with r.",
                severity="warning",
                markup=False,
            )
            return
        self._open_compose(tid, "note")

    def action_open_browser(self) -> None:
        tid = self.current_id()
        if tid is None:
            return
        url = self.store.get_ticket(tid).url
        if not url:
            self.notify(
                f"{self._ticket_name(tid)} has no web link yet (not synced).",
                severity="warning",
                markup=False,
            )
            return
        from oncall_tui.ui.browser import open_link

        open_link(self.app, url)

    def action_copy_link(self) -> None:
        tid = self.current_id()
        if tid is None:
            return
        url = self.store.get_ticket(tid).url
        if not url:
            self.notify(
                f"{self._ticket_name(tid)} has no web link yet (not synced).",
                severity="warning",
                markup=False,
            )
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
        from oncall_tui.ui.screens.choice_screen import ChoiceScreen

        tid = self.current_id()
        if tid is None:
            return
        from oncall_tui.domain import labels as escalation
        from oncall_tui.ui.screens.bug_report_data import bug_report_settings

        ticket = self.store.get_ticket(tid)
        if ticket.source is not Source.TRACKER:
            self.notify(
                f"Escalation labels go on tracker issues; {self._ticket_name(tid)} is not one. "
                "File a bug report with b.",
                severity="warning",
                markup=False,
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
        ref = self._ticket_name(tid)

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

            def relabel() -> None:
                if self._guard(
                    self._relabel, tid, change, message=f"{ref}: labels queued: {shown}"
                ):
                    if choice == "suspect":  # an investigation starts: so does its time-box
                        from oncall_tui.ui.widgets.escalation_bar import start_timebox

                        start_timebox(self, tid)

            self._guarded_labels(ticket, list(change.add), relabel, name=ref)

        self.app.push_screen(ChoiceScreen(f"Escalate {ref} (now: {stage})", options), done)

    def action_timebox(self) -> None:
        """Start (or stop) the investigation time-box on the current ticket."""
        tid = self.current_id()
        if tid is not None:
            from oncall_tui.ui.widgets.escalation_bar import toggle_timebox

            toggle_timebox(self, tid)

    def action_codename(self) -> None:
        """Pick a codename for the ticket's customer and create its labels."""
        tid = self.current_id()
        if tid is not None:
            from oncall_tui.ui.codename import ask_codename

            ask_codename(self, tid)

    def action_outage(self) -> None:
        """File a suspected-outage issue for the current ticket (and others by number)."""
        tid = self.current_id()
        if tid is not None:
            from oncall_tui.ui.outage import ask_outage

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
        if not self.store.conflicts(tid):
            self.notify(f"{name} has no conflict to resolve.", timeout=3, markup=False)
            return
        self._guard(
            lambda: self.store.resolve_conflict(tid, keep_mine=keep_mine),
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
                self.store.remove_labels(tid, list(change.remove))
            if change.add:
                self.store.add_labels(tid, list(change.add))

    def action_undo(self) -> None:
        """Take back the last change still waiting to be sent (its text back to the drafts)."""
        online = getattr(self.app, "engine", None) is not None
        now = self.clock()
        undone: list[Any] = []

        def undo() -> None:
            with self.store.db.atomic():
                op = self.store.undo_last(now if online else None)
                if op is not None and op.kind in (OpKind.REPLY, OpKind.NOTE):
                    body = str(op.payload.get("body") or "")
                    kind = "reply" if op.kind is OpKind.REPLY else "note"
                    from oncall_tui.ui.screens.compose_screen import first_line

                    self.store.create_draft(
                        kind, op.ticket_id, {"body": body, "title": first_line(body)}
                    )
                elif op is not None and op.kind is OpKind.POST_MESSAGE and op.id is not None:
                    self.store.reopen_drafts_of(op.id)  # a posted draft is a draft again
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
