"""ComposeScreen: write a reply or an internal note, kept as a draft while it is written.

Like a bug report, what is typed is saved to the store at most ``AUTOSAVE_SECONDS`` after a
change (one atomic statement per save), so a killed process loses under a second of typing.
Esc leaves and keeps the draft (and says so); `r` / `c` on the same ticket resumes it, and
`D` lists it with every other draft.

Sending (ctrl+s) is refused, with the reason on the dialog, while a known placeholder is
left (``{issue_url}``), and, for text the public or other customers will read (a comment on
a tracker issue, a message into a shared chat channel), while the confidentiality guard
finds a customer's name that no override covers (F4 records a reason). ``@mentions`` and
``#123`` references in public text are made inert unless the writer keeps them. The reply
and the draft's removal are one transaction.
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static, TextArea

from oncall_tui.domain import guard
from oncall_tui.domain.escalation import EscalationSettings
from oncall_tui.domain.ops import OpKind
from oncall_tui.domain.templates import unfilled
from oncall_tui.domain.tickets import Ticket, ticket_title
from oncall_tui.store import Store
from oncall_tui.ui.screens.drafting import (
    Autosave,
    ask_override,
    override_from_meta,
    override_to_meta,
    write_draft,
)
from oncall_tui.ui.widgets.guard_panel import hit_text

#: ``drafts.kind`` of a public reply and of an internal note.
REPLY_KIND = "reply"
NOTE_KIND = "note"
#: ``drafts.kind`` of a message for the engineering help channel (the time-box's on-call nudge):
#: posted as a new message in that channel (``post_message``), never a direct message.
CHANNEL_KIND = "channel"


@dataclass(frozen=True)
class Sent:
    """What the dialog queued (it dismisses with this, or None when left)."""

    ticket_id: int
    kind: str
    text: str


def compose_title(kind: str, ticket: Ticket, channel: str = "the channel") -> str:
    """The dialog's title: what is written, on which ticket (named as the queue shows it)."""
    name = ticket_title(ticket.source, ticket.remote_id, ticket.subject)
    if kind == CHANNEL_KIND:
        return f"Message in {channel} about {name} (in the channel, not a DM)"
    if kind == NOTE_KIND:
        return f"Internal note on {name}"
    return f"Reply on {name}" + (
        " (public)" if guard.needs_guard(ticket.source, OpKind.REPLY) else ""
    )


class ComposeScreen(ModalScreen[Sent | None]):
    """A text editor in a dialog; ctrl+s queues the text, escape leaves (draft kept)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Queue it", id="send", priority=True),
        Binding("f4", "override_guard", "Override guard", id="override-guard-reply"),
        Binding("escape", "leave", "Leave (draft kept)", id="leave-reply"),
    ]

    def __init__(
        self,
        store: Store,
        ticket: Ticket,
        kind: str,
        text: str = "",
        *,
        author: str,
        clock: Any,
        draft_id: int | None = None,
        template: str | None = None,
        escalation: EscalationSettings | None = None,
    ) -> None:
        super().__init__()
        self.escalation = escalation or EscalationSettings()
        self.store = store
        self.ticket = ticket
        self.kind = kind
        self.initial = text
        self.author = author
        self.clock = clock
        self.draft_id = draft_id
        self.template = template
        self.override: guard.GuardOverride | None = None
        self.autosave = Autosave(self, self.save)
        if draft_id is not None:
            draft = store.drafts.get_draft(draft_id)
            if draft is not None:
                self.override = override_from_meta(draft.meta.get("override"))

    @property
    def public(self) -> bool:
        """True when what is written here is public (or read by other customers)."""
        if self.kind == CHANNEL_KIND:
            return True  # a shared channel: the guard applies
        kind = OpKind.NOTE if self.kind == NOTE_KIND else OpKind.REPLY
        return guard.needs_guard(self.ticket.source, kind)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide"):
            title = compose_title(self.kind, self.ticket, self.escalation.help_channel)
            yield Label(Text(title), classes="dialog--title")
            yield TextArea(self.initial, id="compose-text", soft_wrap=True, show_line_numbers=False)
            yield Static(id="compose-problems")
            if self.kind == CHANNEL_KIND:
                hint = "ctrl+s queue · esc leave (the draft is kept; D resumes it)"
            else:
                hint = (
                    "ctrl+s queue · esc leave (the draft is kept; "
                    f"{'c' if self.kind == NOTE_KIND else 'r'} resumes it, D lists drafts)"
                )
            yield Label(
                Text(hint + (" · F4 override the guard" if self.public else "")),
                classes="dialog--hint",
            )
            if self.kind == CHANNEL_KIND:
                yield Label(Text(self._channel_hint()), classes="dialog--hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#compose-problems", Static).display = False
        area = self.query_one(TextArea)
        area.focus()
        if self.draft_id is not None:
            area.cursor_location = area.document.end

    def _channel_hint(self) -> str:
        esc = self.escalation
        where = (
            f"Posted in {esc.help_channel} ({esc.help_channel_id})"
            if esc.help_channel_id
            else f"Not sendable yet: set [escalation] help_channel_id (the Slack id of "
            f"{esc.help_channel})"
        )
        if esc.oncall_group_id:
            return f"{where}; {esc.oncall_alias} is sent as a mention of its user group."
        return (
            f"{where}; {esc.oncall_alias} is plain text there ([escalation] oncall_group_id "
            "makes it notify the group)."
        )

    # ---- the draft -------------------------------------------------------------------------

    @property
    def text(self) -> str:
        return self.query_one(TextArea).text

    @on(TextArea.Changed)
    def _changed(self, _: TextArea.Changed) -> None:
        if self.text == self.initial and self.draft_id is None:
            return  # the template as it was: nothing typed yet
        self.autosave.changed()

    def _meta(self) -> dict[str, Any]:
        return {"template": self.template, "override": override_to_meta(self.override)}

    def save(self) -> None:
        """Write the draft now (creating it on the first save): one atomic statement."""
        self.draft_id = write_draft(
            self.store,
            self.draft_id,
            self.kind,
            self.ticket.id,
            self._fields(self.text),
            self._meta(),
        )
        self.autosave.saved()

    def _fields(self, text: str) -> dict[str, str]:
        fields = {"body": text, "title": first_line(text)}
        if self.kind == CHANNEL_KIND:
            fields["channel"] = self.escalation.help_channel
        return fields

    def on_unmount(self) -> None:
        self.autosave.flush()

    def action_leave(self) -> None:
        self.autosave.stop()
        if self.autosave.dirty or (
            self.draft_id is None and self.text.strip() != self.initial.strip()
        ):
            try:
                self.save()
            except sqlite3.Error as exc:
                self.notify(f"Could not save the draft: {exc}", severity="error", markup=False)
                return
        what = "note" if self.kind == NOTE_KIND else "reply"
        key = "c" if self.kind == NOTE_KIND else "r"
        if self.draft_id is not None and self.kind == CHANNEL_KIND:
            self.notify(
                f"Message for {self.escalation.help_channel} kept in Drafts: D resumes it.",
                markup=False,
                timeout=4,
            )
        elif self.draft_id is not None:
            self.notify(
                f"Draft {what} kept: {key} on this ticket resumes it; D lists your drafts.",
                timeout=4,
            )
        else:
            self.notify(f"Nothing typed: no {what} draft kept.", timeout=3)
        self.dismiss(None)

    # ---- sending ---------------------------------------------------------------------------

    def _problems(self, lines: list[Text]) -> None:
        box = self.query_one("#compose-problems", Static)
        text = Text()
        for i, line in enumerate(lines):
            if i:
                text.append("\n")
            text.append_text(line)
        box.update(text)
        box.display = bool(lines)

    def hits(self, text: str) -> list[guard.GuardHit]:
        """The guard's findings in ``text`` (public text only)."""
        if not self.public:
            return []
        customer = self.store.tickets.get_customer(self.ticket.customer_id)
        from oncall_tui.domain.tickets import Source

        chat = self.ticket.source is Source.CHAT and self.kind != CHANNEL_KIND
        audience = customer if chat else None
        return guard.check_public(
            {"body": text}, self.store.tickets.customers(), own=customer, audience=audience
        )

    def action_send(self) -> None:
        text = self.text.strip()
        if not text:
            self.notify("Nothing to send: the text is empty.", severity="warning")
            return
        left = unfilled(text)
        if left:
            names = ", ".join("{" + n + "}" for n in left)
            self._problems([Text(f"Fill in {names} before sending: it was not known here.")])
            self.notify(f"Not sent: {names} is still to be filled in.", severity="error")
            return
        blocking = guard.unresolved(self.hits(text), self.override)
        if blocking:
            self._problems(
                [Text("Not sent: this is public and names a customer.", style="bold")]
                + [hit_text(h, "the text", False) for h in blocking]
                + [Text("Use the codename, or F4 to override with a reason.", style="italic")]
            )
            self.notify(
                "Not sent: the text would name a customer in public (F4 overrides with a reason).",
                severity="error",
            )
            return
        refs = guard.references(text) if self.public else []
        keep: list[str] = []
        if self.kind == CHANNEL_KIND:
            # Posted in Slack: a plain @name or #123 notifies and links nothing there; only
            # Slack's own <@U1>, <!here>, <!subteam^S1> do. The alias is meant to be there.
            keep = [r.text for r in refs if not r.text.startswith("<")]
            refs = [r for r in refs if r.text.startswith("<")]
        if not refs:
            self._queue(text)
            return
        shown = ", ".join(dict.fromkeys(r.text for r in refs))

        def decided(choice: str | None) -> None:
            if choice == "inert":
                self._queue(guard.neutralise(text, keep))
            elif choice == "live":
                self._queue(text)

        from oncall_tui.ui.screens.choice_screen import ChoiceScreen

        self.app.push_screen(
            ChoiceScreen(
                f"Public text with {shown}",
                [
                    ("inert", "Send them as plain text (nobody is notified, nothing linked)"),
                    ("live", "Keep them live: notify those people and link those issues"),
                ],
            ),
            decided,
        )

    def _post(self, text: str) -> None:
        """Queue the channel message: the draft and its ``post_message`` entry, one
        transaction; without the channel's id the draft is kept and the dialog says why."""
        settings = self.escalation
        if not settings.help_channel_id:
            try:
                self.save()
            except sqlite3.Error as exc:
                self.notify(f"Could not save the draft: {exc}", severity="error", markup=False)
                return
            why = (
                f"Not sent: set [escalation] help_channel_id to the Slack id of "
                f"{settings.help_channel} (like C0123ABCD) in the config. The draft is kept "
                "(D resumes it)."
            )
            self._problems([Text(why, style="bold")])
            self.notify(why, severity="error", markup=False, timeout=8)
            return
        from oncall_tui.domain.escalation import channel_text
        from oncall_tui.domain.ops import post_message_op

        op = post_message_op(
            settings.help_channel_id, channel_text(text, settings), str(uuid.uuid4())
        )
        try:
            self.draft_id, _ = self.store.escalation.queue_channel_post(
                self.draft_id, self.ticket.id, self._fields(text), op
            )
        except sqlite3.OperationalError as exc:
            self._busy(exc)
            return
        self._sent(text)

    def _busy(self, exc: sqlite3.OperationalError) -> None:
        self.notify(
            f"The local database is busy ({exc}): nothing was queued, try again.",
            severity="error",
            markup=False,
        )

    def _sent(self, text: str) -> None:
        if self.override is not None:
            self.store.sync_state.log(
                "guard",
                "warning",
                f"override on {ticket_title(self.ticket.source, self.ticket.remote_id, '')}: "
                f"{', '.join(self.override.terms)}; reason: {self.override.reason}",
            )
        self.autosave.stop()
        self.autosave.saved()
        self.draft_id = None
        self.dismiss(Sent(self.ticket.id, self.kind, text))

    def _queue(self, text: str) -> None:
        if self.kind == CHANNEL_KIND:
            self._post(text)
            return
        public = self.kind != NOTE_KIND
        try:
            with self.store.db.atomic():
                self.store.tickets.add_comment(
                    self.ticket.id, text, public=public, author=self.author
                )
                if self.draft_id is not None:
                    self.store.drafts.delete_draft(self.draft_id)
        except (ValueError, LookupError) as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        except sqlite3.OperationalError as exc:
            self._busy(exc)
            return
        self._sent(text)

    def action_override_guard(self) -> None:
        if not self.public:
            self.notify("A help-desk reply or note is private: the guard does not apply.")
            return
        hits = self.hits(self.text)
        blocking = guard.unresolved(hits, self.override)
        if not blocking:
            self.notify("The guard found nothing to override.", timeout=3)
            return

        def overridden() -> None:
            self.autosave.save_now()
            self._problems([])

        why = "Why publish {terms}? The reason is recorded in the sync log."
        ask_override(self, hits, blocking, why, overridden)


def first_line(text: str, width: int = 60) -> str:
    """The draft's title in lists: its first non-blank line, cut to ``width``."""
    line = next((x.strip() for x in text.splitlines() if x.strip()), "")
    return line if len(line) <= width else line[: width - 1] + "…"


def open_compose(app: Any, screen: ComposeScreen) -> None:
    """Open the reply / note dialog (a new one, or a draft resumed); a sent text is an edit."""
    ticket = screen.ticket

    def done(sent: Sent | None) -> None:
        if sent is None:
            app.store_revision += 1  # the drafts list changed
            return
        name = ticket_title(ticket.source, ticket.remote_id, ticket.subject)
        if sent.kind == "channel":
            channel = app.ctx.config.escalation.help_channel
            app.after_edit(
                f"Message for {channel} about {name} queued: it is posted in the channel on "
                "the next sync (u undoes it while it waits)"
            )
            return
        what = "reply" if sent.kind == "reply" else "internal note"
        app.after_edit(f"{name}: {what} queued")

    if screen.kind == CHANNEL_KIND:
        screen.escalation = app.ctx.config.escalation
    app.push_screen(screen, done)
