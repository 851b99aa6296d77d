"""DraftsScreen (`D`, app-wide): every unfinished text, to resume or discard.

Bug reports, replies and internal notes are saved as they are typed, so this is where work
left behind (esc, a crash, a closed laptop) is picked up again, each with its ticket named
as the queue names it. A submitted bug report stays listed until the tracker confirms it
("filed"); one whose outbox entry was cancelled or refused can be reopened, and so can the
time-box's on-call message for the engineering help channel (listed until it is posted). A
reply or note leaves the list when it is queued (and comes back if it is undone).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from oncall_tui.domain.clock import Clock
from oncall_tui.domain.ops import OpState
from oncall_tui.domain.tickets import ticket_ref
from oncall_tui.settings.config import Config
from oncall_tui.settings.paths import styles_dir
from oncall_tui.store import Store
from oncall_tui.store.drafts import Draft
from oncall_tui.store.tickets import UnknownTicket
from oncall_tui.ui.screens.bug_report_data import DRAFT_KIND, bug_report_settings
from oncall_tui.ui.screens.bug_report_screen import open_bug_report
from oncall_tui.ui.screens.choice_screen import ChoiceScreen
from oncall_tui.ui.screens.compose_screen import CHANNEL_KIND, NOTE_KIND, REPLY_KIND
from oncall_tui.ui.times import local, shown_tz, zone_name
from oncall_tui.ui.widgets.ticket_detail import duration_text

KIND_NAMES = {
    DRAFT_KIND: "bug report",
    REPLY_KIND: "reply",
    NOTE_KIND: "note",
    CHANNEL_KIND: "on-call",
}


def open_drafts(app: Any) -> None:
    """Push the drafts screen unless a form or the list is already on top."""
    from oncall_tui.ui.screens.bug_report_screen import BugReportScreen

    if isinstance(app.screen, DraftsScreen):
        return
    if isinstance(app.screen, BugReportScreen):
        app.notify("The drafts list is behind this form: esc leaves it (the draft is kept).")
        return
    ctx = app.ctx
    app.push_screen(DraftsScreen(ctx.store, ctx.config, ctx.clock))


class DraftsScreen(Screen[None]):
    """Drafts, most recently edited first."""

    CSS_PATH: ClassVar = [styles_dir() / "bug_report.tcss"]  # loaded when first shown

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "resume", "Resume", id="resume-draft", priority=True),
        Binding("d", "discard", "Discard", id="discard-draft"),
        Binding("escape,q", "back", "Back", id="back"),
    ]

    def __init__(self, store: Store, config: Config, clock: Clock) -> None:
        super().__init__()
        self.store = store
        self.config = config
        self.clock = clock
        self.drafts: list[Draft] = []
        self.title_field = bug_report_settings(config).schema.title_field.id

    def compose(self) -> ComposeResult:
        yield Static(Text(" Drafts", style="bold"), id="drafts-header")
        table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True, id="drafts")
        yield table
        yield Static(
            Text(
                "No drafts. A reply (r), a note (c), a bug report (b) or the time-box's "
                "on-call message is saved here as you type, until it is sent."
            ),
            id="drafts-empty",
        )
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Kind", key="kind", width=10)
        table.add_column("Ticket", key="ticket", width=30)
        table.add_column("Title or first line", key="title", width=36)
        table.add_column("State", key="state", width=18)
        zone = zone_name(shown_tz(self), self.clock())
        table.add_column(f"Updated ({zone})", key="updated", width=20)
        self.watch(self.app, "store_revision", self.reload, init=False)
        self.reload()
        table.focus()

    def on_screen_resume(self) -> None:
        self.reload()

    # ---- data ----------------------------------------------------------------------------

    def draft_title(self, draft: Draft) -> str:
        """The draft's title field (whatever the schema calls it), else the stored title."""
        if draft.kind == DRAFT_KIND:
            title = str(draft.fields.get(self.title_field) or draft.title)
        else:
            title = str(draft.fields.get("body") or draft.title)
        return " ".join(title.split())[:200] or "(untitled)"

    def _ticket_text(self, draft: Draft) -> Text:
        if draft.ticket_id is None:
            return Text("—", style="dim")
        try:
            ticket = self.store.tickets.get_ticket(draft.ticket_id)
        except UnknownTicket:
            return Text("(ticket gone from the cache)", style="dim")
        return Text(
            f"{ticket_ref(ticket.source, ticket.remote_id)} {ticket.subject}",
            no_wrap=True,
            overflow="ellipsis",
        )

    def _state_text(self, draft: Draft) -> Text:
        if draft.state != "submitted" or draft.outbox_id is None:
            return Text(draft.state)
        op = self.store.outbox.get_op(draft.outbox_id)
        if op is None:
            return Text("submitted")
        shown = {
            OpState.PENDING: ("queued", ""),
            OpState.INFLIGHT: ("sending", ""),
            OpState.DONE: ("filed", ""),
            OpState.FAILED: ("refused", "bold red"),
            OpState.CANCELLED: ("cancelled", "yellow"),
        }[op.state]
        return Text(f"submitted, {shown[0]}", style=shown[1])

    def _updated_text(self, when: datetime) -> Text:
        ago = duration_text(self.clock() - when)
        shown = local(when, shown_tz(self), "%m-%d %H:%M")
        return Text(f"{shown} ({ago} ago)", no_wrap=True, overflow="ellipsis")

    def reload(self, *_: object) -> None:
        """Re-read the drafts, keeping the cursor on the same one."""
        table: DataTable[Text] = self.query_one(DataTable)
        current = self.current()
        self.drafts = self.store.drafts.all()
        table.clear()
        for draft in self.drafts:
            table.add_row(
                Text(KIND_NAMES.get(draft.kind, draft.kind)),
                self._ticket_text(draft),
                Text(self.draft_title(draft), no_wrap=True, overflow="ellipsis"),
                self._state_text(draft),
                self._updated_text(draft.updated_at),
                key=str(draft.id),
            )
        if current is not None:
            ids = [d.id for d in self.drafts]
            if current.id in ids:
                table.move_cursor(row=ids.index(current.id))
        table.display = bool(self.drafts)
        self.query_one("#drafts-empty").display = not self.drafts

    def current(self) -> Draft | None:
        """The highlighted draft."""
        table: DataTable[Text] = self.query_one(DataTable)
        if not self.drafts or not (0 <= table.cursor_row < len(self.drafts)):
            return None
        return self.drafts[table.cursor_row]

    # ---- actions -------------------------------------------------------------------------

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_resume()

    def action_resume(self) -> None:
        draft = self.current()
        if draft is None:
            self.notify("No draft to resume: b on a ticket starts one.", timeout=3)
            return
        if draft.kind in (REPLY_KIND, NOTE_KIND):
            self._resume_text(draft)
            return
        if draft.kind == CHANNEL_KIND:
            self._resume_channel(draft)
            return
        if draft.kind != DRAFT_KIND:
            self.notify(f"A {draft.kind} draft cannot be resumed here.", markup=False)
            return
        if draft.state == "submitted":
            op = self.store.outbox.get_op(draft.outbox_id) if draft.outbox_id is not None else None
            if op is not None and op.state in (OpState.CANCELLED, OpState.FAILED):
                self._reopen(draft, op.id, op.state, op.error)
            else:
                self.notify(
                    "Queued for filing; it cannot be edited any more (d cancels it while it "
                    "has not been sent).",
                    timeout=4,
                )
            return
        fresh = self.store.drafts.get_draft(draft.id)
        if fresh is not None:
            open_bug_report(self.app, self.store, self.config, self.clock, draft=fresh)

    def _resume_text(self, draft: Draft) -> None:
        """Open a reply or note draft in its dialog, on its ticket."""
        from oncall_tui.ui.screens.compose_screen import ComposeScreen, open_compose

        if draft.ticket_id is None:
            self.notify("This draft has no ticket any more; d discards it.", severity="warning")
            return
        try:
            ticket = self.store.tickets.get_ticket(draft.ticket_id)
        except UnknownTicket:
            self.notify(
                "Its ticket is gone from the cache; the text is kept here (d discards it).",
                severity="warning",
            )
            return
        body = str(draft.fields.get("body", ""))
        open_compose(
            self.app,
            ComposeScreen(
                self.store,
                ticket,
                draft.kind,
                body,
                author=self.config.user,
                clock=self.clock,
                draft_id=draft.id,
            ),
        )

    def _resume_channel(self, draft: Draft) -> None:
        """The on-call message: edit it again until it is queued; once queued it can be
        undone (u) while it waits, or reopened here if it was cancelled or refused."""
        if draft.state == "submitted":
            op = self.store.outbox.get_op(draft.outbox_id) if draft.outbox_id is not None else None
            if op is None or op.id is None or op.state not in (OpState.CANCELLED, OpState.FAILED):
                self.notify(
                    "Queued for the channel; it cannot be edited any more (u undoes it while "
                    "it waits, d here cancels it while it has not been sent).",
                    timeout=4,
                )
                return
            with self.store.db.atomic():
                if op.state is OpState.FAILED:
                    self.store.outbox.discard(op.id)
                self.store.escalation.reopen_drafts_of(op.id)
            fresh = self.store.drafts.get_draft(draft.id)
            if fresh is None:
                return
            draft = fresh
        self._resume_text(draft)

    def _reopen(self, draft: Draft, op_id: int | None, state: OpState, error: str | None) -> None:
        why = "was cancelled" if state is OpState.CANCELLED else f"was refused: {error}"

        def done(choice: str | None) -> None:
            if choice != "reopen":
                return
            with self.store.db.atomic():
                if state is OpState.FAILED and op_id is not None:
                    self.store.outbox.discard(op_id)
                self.store.drafts.set_draft_state(draft.id, "draft")
            fresh = self.store.drafts.get_draft(draft.id)
            if fresh is not None:
                open_bug_report(self.app, self.store, self.config, self.clock, draft=fresh)

        self.app.push_screen(
            ChoiceScreen(
                f"Filing {why}",
                [("reopen", "Reopen the draft to edit and submit again"), ("keep", "Keep it")],
            ),
            done,
        )

    def action_discard(self) -> None:
        draft = self.current()
        if draft is None:
            self.notify("No draft to discard.", timeout=3)
            return
        title = self.draft_title(draft)

        def done(choice: str | None) -> None:
            if choice == "discard":
                self.discard(draft)

        extra = " and cancel its filing" if draft.state == "submitted" else ""
        self.app.push_screen(
            ChoiceScreen(
                f"Discard “{title}”?",
                [("keep", "Keep it"), ("discard", f"Discard the draft{extra}")],
            ),
            done,
        )

    def discard(self, draft: Draft) -> bool:
        """Delete the draft (cancelling its outbox entry if not yet sent); False if too late."""
        with self.store.db.atomic():
            if draft.state == "submitted" and draft.outbox_id is not None:
                op = self.store.outbox.get_op(draft.outbox_id)
                if op is not None and op.state is OpState.INFLIGHT:
                    self.notify("Too late: it is being sent right now.", severity="warning")
                    return False
                if op is not None and op.state in (OpState.PENDING, OpState.FAILED):
                    self.store.outbox.discard(op.id)  # type: ignore[arg-type]
            self.store.drafts.delete_draft(draft.id)
        self.app.store_revision += 1  # type: ignore[attr-defined]
        self.notify(f"Discarded “{self.draft_title(draft)}”.", markup=False, timeout=3)
        return True

    def action_back(self) -> None:
        self.app.pop_screen()
